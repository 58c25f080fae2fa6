import type { WasmHeap } from './wasm-heap.js';

export type AnyArray = Float32Array | Float64Array | Int32Array | Uint8Array;

interface Block {
  ptr: number;
  bytes: number;
}

/**
 * Turns a kernel call's array arguments into pointers. An array allocated by the backend
 * (a view into its wasm memory) is passed as is; any other array (a label Uint8Array, a
 * pooling layer's argmax Int32Array, a plain Float32Array) is copied into a reusable scratch
 * slot, and outputs are copied back by finish(). Also checks every array's length, since a
 * kernel writing past a short view would corrupt its neighbours in wasm memory.
 */
export class Staging {
  private readonly slots: Block[] = [];
  private used = 0;
  private readonly copyBacks: { staged: Float32Array | Int32Array; target: AnyArray }[] = [];

  constructor(private readonly heap: WasmHeap) {}

  /** Starts a kernel call: forgets the slots of a call that threw before finish(). */
  begin(): void {
    this.copyBacks.length = 0;
    this.used = 0;
  }

  /** Pointer to n readable elements of a. */
  input(a: AnyArray, n: number, what: string): number {
    const p = this.direct(a, n, what);
    if (p >= 0) return p;
    const staged = this.stage(a, n);
    staged.set(a.subarray(0, n));
    return staged.byteOffset;
  }

  /** Pointer to n writable elements of a. */
  output(a: AnyArray, n: number, what: string): number {
    const p = this.direct(a, n, what);
    if (p >= 0) return p;
    const staged = this.stage(a, n);
    this.copyBacks.push({ staged, target: a });
    return staged.byteOffset;
  }

  /** Pointer to n elements of a that the kernel reads and updates. */
  inout(a: AnyArray, n: number, what: string): number {
    const p = this.direct(a, n, what);
    if (p >= 0) return p;
    const staged = this.stage(a, n);
    staged.set(a.subarray(0, n));
    this.copyBacks.push({ staged, target: a });
    return staged.byteOffset;
  }

  /** Copies staged outputs back to their arrays and frees the call's slots. */
  finish(): void {
    for (const { staged, target } of this.copyBacks) target.set(staged);
    this.copyBacks.length = 0;
    this.used = 0;
  }

  /** a's own pointer when it is a 4-byte-element view into the heap, else -1. */
  private direct(a: AnyArray, n: number, what: string): number {
    if (a.length < n) throw new RangeError(`internal error: wasm backend: ${what} has ${a.length} elements, the kernel needs ${n}`);
    return (a instanceof Float32Array || a instanceof Int32Array) && this.heap.owns(a) ? a.byteOffset : -1;
  }

  /** A scratch view for a foreign array: float data as f32, integer data (labels, argmax) as i32. */
  private stage(a: AnyArray, n: number): Float32Array | Int32Array {
    const i = this.used++;
    const bytes = Math.max(n, 1) * 4;
    let block = this.slots[i];
    if (!block || block.bytes < bytes) {
      if (block) this.heap.release(block.ptr);
      block = { ptr: this.heap.allocBytes(bytes), bytes };
      this.slots[i] = block;
    }
    const isFloat = a instanceof Float32Array || a instanceof Float64Array;
    return isFloat ? this.heap.f32(block.ptr, n) : this.heap.i32(block.ptr, n);
  }
}
