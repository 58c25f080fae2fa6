/**
 * A pool of worker threads sharing the backend's WebAssembly.Memory. The Backend API is
 * synchronous, so a parallel kernel is: post one piece of work per worker into a shared
 * table, run piece 0 on the calling thread, then collect the others.
 *
 * Collecting steals: a piece that its worker has not picked up yet (the OS has not scheduled
 * it, e.g. on a busy machine) is run by the caller instead, so a late worker never makes a
 * kernel slower than running it on one thread. Workers spin briefly before sleeping
 * (Atomics.wait), since a training step issues kernels microseconds apart.
 *
 * Platform-neutral: the host supplies `spawn` (worker_threads in Node, Web Workers in a
 * browser; see wasm-node.ts). The calling thread must be allowed to block, which in a browser
 * means running the backend inside a Worker (it falls back to spinning otherwise).
 */

import { threadedKernels } from './wasm-kernels.js';

/** A started worker, as the host platform provides it. */
export interface WorkerPort {
  postMessage(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  onError(listener: (error: unknown) => void): void;
  /** Called once the worker is ready: it must no longer keep the host process alive (Node's unref). */
  release?(): void;
  terminate(): void;
}

export type SpawnWorker = (source: string) => WorkerPort;

/** Slots of one piece: kernel index, then up to 15 arguments. */
const PIECE = 16;
/** One control word per worker, a cache line apart (Int32Array index = worker * STRIDE). */
const STRIDE = 16;
// Piece states.
const IDLE = 0, POSTED = 1, TAKEN = 2, DONE = 3, STOLEN = 4, STOP = 5;
/** Control word (of slot 0, which no worker uses) set when a kernel threw in a worker. */
const FAILED = 0;
/**
 * How long a worker busy-waits for its next piece before sleeping. A training step issues
 * parallel kernels with serial work between them (pooling, activations, the optimizer) and
 * waking a sleeping thread costs tens of microseconds, often more on a busy machine, so workers
 * stay hot between kernels and sleep only when the backend is idle.
 */
const WORKER_SPIN_MS = 0.05;
/** Busy-wait iterations of the calling thread before it sleeps on a running piece. */
const CALLER_SPIN = 100_000;

/**
 * The worker's whole program, plain JS so it runs unchanged from source (tsx), from dist/,
 * and in a browser Worker (Blob URL). Node's eval'd workers are CommonJS, so `require` exists.
 */
export const workerSource = `'use strict';
const port = typeof require === 'function' ? require('node:worker_threads').parentPort : self;
const listen = (f) => { if (port.on) port.on('message', f); else port.onmessage = (e) => f(e.data); };
listen((init) => {
  const { module, memory, control, pieces, index, names } = init;
  const exports = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('kernel aborted'); } } }).exports;
  const fns = names.map((n) => exports[n]);
  const ctl = new Int32Array(control);
  const p = new Float64Array(pieces, index * ${PIECE} * 8, ${PIECE});
  const s = index * ${STRIDE};
  port.postMessage('ready');
  for (;;) {
    let spins = 0, deadline = 0, state;
    while ((state = Atomics.load(ctl, s)) !== ${POSTED} && state !== ${STOP}) {
      if ((++spins & 255) !== 0) continue;
      const now = performance.now();
      if (deadline === 0) deadline = now + ${WORKER_SPIN_MS};
      // Bounded sleeps: a terminating worker only notices once it runs JS again.
      else if (now > deadline) Atomics.wait(ctl, s, state, 50);
    }
    if (state === ${STOP}) return;
    if (Atomics.compareExchange(ctl, s, ${POSTED}, ${TAKEN}) !== ${POSTED}) continue; // stolen by the caller
    try { fns[p[0]](p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15]); }
    catch (e) { Atomics.store(ctl, ${FAILED}, 1); }
    Atomics.store(ctl, s, ${DONE});
    Atomics.notify(ctl, s);
  }
});
`;

type KernelFn = (...args: number[]) => unknown;

export class ThreadPool {
  private readonly control: Int32Array;
  private readonly pieces: Float64Array;
  private readonly workers: WorkerPort[] = [];
  private readonly fns: KernelFn[];
  private canBlock = true;

  /** threads counts the calling thread too: threads - 1 workers are started. */
  private constructor(readonly threads: number, exports: object) {
    this.control = new Int32Array(new SharedArrayBuffer(threads * STRIDE * 4));
    this.pieces = new Float64Array(new SharedArrayBuffer(threads * PIECE * 8));
    this.fns = threadedKernels.map((name) => (exports as Record<string, KernelFn>)[name]);
  }

  /** Starts threads - 1 workers, each instantiating `module` over the shared `memory`. */
  static async start(threads: number, module: WebAssembly.Module, memory: WebAssembly.Memory,
    exports: object, spawn: SpawnWorker): Promise<ThreadPool> {
    const pool = new ThreadPool(threads, exports);
    const started: Promise<void>[] = [];
    for (let index = 1; index < threads; index++) {
      const worker = spawn(workerSource);
      pool.workers.push(worker);
      started.push(new Promise<void>((resolve, reject) => {
        worker.onMessage((m) => { if (m === 'ready') resolve(); });
        worker.onError(reject);
      }));
      worker.postMessage({
        module, memory, control: pool.control.buffer, pieces: pool.pieces.buffer, index, names: [...threadedKernels],
      });
    }
    try {
      await Promise.all(started);
    } catch (e) {
      pool.close();
      throw e;
    }
    for (const w of pool.workers) w.release?.();
    return pool;
  }

  /**
   * Runs kernel threadedKernels[kernel] once per argument list, in parallel: list 0 on the
   * calling thread, list t on worker t (or on the caller, if worker t has not started it).
   * At most `threads` lists.
   */
  run(kernel: number, argLists: ArrayLike<number>[]): void {
    const n = Math.min(argLists.length, this.threads);
    for (let t = 1; t < n; t++) this.post(t, kernel, argLists[t]);
    this.fns[kernel](...Array.from(argLists[0]));
    for (let t = 1; t < n; t++) this.collect(t);
    if (Atomics.load(this.control, FAILED)) {
      Atomics.store(this.control, FAILED, 0);
      throw new Error('wasm backend: a kernel failed in a worker thread');
    }
  }

  close(): void {
    for (let t = 1; t < this.threads; t++) {
      Atomics.store(this.control, t * STRIDE, STOP);
      Atomics.notify(this.control, t * STRIDE);
    }
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }

  private post(t: number, kernel: number, args: ArrayLike<number>): void {
    const base = t * PIECE;
    this.pieces[base] = kernel;
    for (let i = 0; i < args.length; i++) this.pieces[base + 1 + i] = args[i];
    Atomics.store(this.control, t * STRIDE, POSTED);
    Atomics.notify(this.control, t * STRIDE);
  }

  /** Waits for worker t's piece, or runs it here if the worker has not taken it yet. */
  private collect(t: number): void {
    const c = this.control, s = t * STRIDE;
    if (Atomics.compareExchange(c, s, POSTED, STOLEN) === POSTED) {
      const p = this.pieces.subarray(t * PIECE, (t + 1) * PIECE);
      this.fns[p[0]](...Array.from(p.subarray(1)));
      return;
    }
    let spins = CALLER_SPIN;
    for (;;) {
      const state = Atomics.load(c, s);
      if (state === DONE) break;
      if (--spins < 0 && this.canBlock) {
        try { Atomics.wait(c, s, state, 50); } catch { this.canBlock = false; } // browser main thread: spin only
      }
    }
    Atomics.store(c, s, IDLE);
  }
}
