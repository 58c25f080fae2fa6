/**
 * Running kernels split across the thread pool (wasm-threads.ts): by ranges of planes,
 * channels or elements (split), or as a job of pieces built by the caller (runPieces). A
 * piece's workspace arguments (type `work` in wasm-interface.ts) are offsets into the running
 * thread's own workspace: the mask that tells the pool which they are comes from the table.
 */

import type { Piece, ThreadPool } from './wasm-threads.js';
import { type KernelExports, type ThreadedKernel, threadedKernels, workspaceMask } from './wasm-kernels.js';
import type { Scratch } from './wasm-scratch.js';
import { PARALLEL_MIN_ELEMENTS, PIECES_PER_THREAD } from './wasm-tuning.js';

type KernelFn = (...args: number[]) => unknown;

export class KernelRunner {
  private readonly masks = new Map<ThreadedKernel, number>();

  constructor(
    readonly k: KernelExports,
    readonly scratch: Scratch,
    private pool: ThreadPool | null,
  ) {}

  /** Compute threads in use (1 = no workers). */
  get threads(): number {
    return this.pool?.threads ?? 1;
  }

  /** Whether work is split across threads at all. */
  get parallel(): boolean {
    return this.pool !== null;
  }

  /** Pieces a job aims for: a few per thread, so that a late thread leaves its share to the others. */
  get wantPieces(): number {
    return this.pool ? this.pool.threads * PIECES_PER_THREAD : 1;
  }

  /** Stops the worker threads; kernels run on the calling thread from then on. */
  close(): void {
    this.pool?.close();
    this.pool = null;
  }

  /** Runs a kernel over [0, count) (planes, elements), split across threads when `work` elements are many. */
  split(kernel: ThreadedKernel, count: number, work: number, args: (start: number, end: number) => number[], align = 1): void {
    const pool = this.pool;
    if (!pool || work < PARALLEL_MIN_ELEMENTS || count < 2 * align) {
      (this.k[kernel] as KernelFn)(...args(0, count));
      return;
    }
    const pieces = ranges(count, pool.threads * PIECES_PER_THREAD, align).map(([a, b]) => ({ args: args(a, b) }));
    pool.run(threadedKernels.indexOf(kernel), pieces);
  }

  /**
   * Runs one call of `kernel` per argument list: here when there is one (or no pool), else
   * across the threads, each with `workBytes` of workspace. The lists are the caller's to give
   * away (workspace arguments are turned into pointers in place).
   */
  runPieces(kernel: ThreadedKernel, argLists: number[][], workBytes: number): void {
    const workMask = this.mask(kernel);
    if (!this.pool || argLists.length === 1) {
      const work = this.scratch.workspace(0, workBytes);
      const fn = this.k[kernel] as KernelFn;
      for (const args of argLists) {
        for (let k = 0; k < args.length; k++) if ((workMask >> k) & 1) args[k] += work;
        fn(...args);
      }
      return;
    }
    const pieces: Piece[] = argLists.map((args) => ({ args, workMask }));
    this.pool.run(threadedKernels.indexOf(kernel), pieces, this.scratch.workspaces(this.pool.threads, workBytes));
  }

  private mask(kernel: ThreadedKernel): number {
    let m = this.masks.get(kernel);
    if (m === undefined) this.masks.set(kernel, (m = workspaceMask(kernel)));
    return m;
  }
}

/** [start, end) ranges splitting [0, count) into at most `parts`, ends multiples of `align` (but the last). */
export function ranges(count: number, parts: number, align: number): [number, number][] {
  const per = Math.ceil(count / align / parts) * align;
  const out: [number, number][] = [];
  for (let start = 0; start < count; start += per) out.push([start, Math.min(count, start + per)]);
  return out;
}

export function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}
