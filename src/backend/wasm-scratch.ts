import type { WasmHeap } from './wasm-heap.js';

/**
 * Scratch memory of the wasm backend: named blocks (per-thread workspaces, packed operands,
 * transformed inputs, partial sums), each grown (never shrunk) to the largest size asked for,
 * and reused by every later call.
 */
export class Scratch {
  private readonly blocks = new Map<string, { ptr: number; bytes: number }>();
  /** Block names of the threads' workspaces, made once (a workspace is looked up on every kernel call). */
  private readonly workspaceNames: string[] = [];

  constructor(private readonly heap: WasmHeap) {}

  /** The block `name`, at least `bytes` long. */
  block(name: string, bytes: number): number {
    const b = this.blocks.get(name);
    if (b && b.bytes >= bytes) return b.ptr;
    if (b) this.heap.release(b.ptr);
    const grown = { ptr: this.heap.allocBytes(bytes), bytes };
    this.blocks.set(name, grown);
    return grown.ptr;
  }

  /** Thread t's workspace (GEMM packing, im2col columns, padded inputs), at least `bytes`. */
  workspace(t: number, bytes: number): number {
    return this.block(this.workspaceNames[t] ??= `workspace ${t}`, bytes);
  }

  /** The workspaces of threads 0 .. threads − 1, each at least `bytes`. */
  workspaces(threads: number, bytes: number): number[] {
    const out: number[] = [];
    for (let t = 0; t < threads; t++) out.push(this.workspace(t, bytes));
    return out;
  }
}
