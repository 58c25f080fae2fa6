import type { WasmHeap } from './wasm-heap.js';

interface Block {
  ptr: number;
  bytes: number;
}

/**
 * Scratch memory of the wasm backend: blocks (per-thread workspaces, and named ones for packed
 * operands, transformed inputs, partial sums), each grown (never shrunk) to the largest size
 * asked for, and reused by every later call.
 */
export class Scratch {
  private readonly named = new Map<string, Block>();
  /** Thread t's workspace; looked up on every kernel call, so kept by index. */
  private readonly perThread: Block[] = [];

  constructor(private readonly heap: WasmHeap) {}

  /** The block `name`, at least `bytes` long; `what` names its use in the error when it cannot fit. */
  block(name: string, bytes: number, what = `scratch block "${name}"`): number {
    const b = this.named.get(name);
    if (b && b.bytes >= bytes) return b.ptr;
    this.heap.checkFits(bytes, what);
    const grown = this.grow(b, bytes);
    this.named.set(name, grown);
    return grown.ptr;
  }

  /** Thread t's workspace (GEMM packing, im2col columns, padded inputs), at least `bytes`. */
  workspace(t: number, bytes: number): number {
    const b = this.perThread[t];
    if (b && b.bytes >= bytes) return b.ptr;
    this.heap.checkFits(bytes, `thread ${t}'s workspace`);
    return (this.perThread[t] = this.grow(b, bytes)).ptr;
  }

  /** The workspaces of threads 0 .. threads − 1, each at least `bytes`. */
  workspaces(threads: number, bytes: number): number[] {
    this.heap.checkFits(threads * bytes, `the workspaces of ${threads} threads`);
    const out: number[] = [];
    for (let t = 0; t < threads; t++) out.push(this.workspace(t, bytes));
    return out;
  }

  private grow(old: Block | undefined, bytes: number): Block {
    if (old) this.heap.release(old.ptr);
    return { ptr: this.heap.allocBytes(bytes), bytes };
  }
}
