/**
 * A pool of worker threads sharing the backend's WebAssembly.Memory. The Backend API is
 * synchronous, so a parallel kernel is a job of pieces (image ranges, row blocks) in a shared
 * table: the calling thread publishes the job, wakes the workers, and then claims and runs
 * pieces itself like any worker until none are left, and finally waits for pieces still running
 * elsewhere. Claiming is dynamic, so a worker the OS has not scheduled (a busy machine) simply
 * gets fewer pieces: a job never waits for a thread that has not started.
 *
 * Pieces name kernels by index in threadedKernels. Arguments flagged in a piece's mask are
 * offsets into the running thread's own scratch workspace (GEMM packing, im2col columns),
 * since any thread may run any piece.
 *
 * The job protocol. Control words: JOB = generation << 11 | index of the next unclaimed piece,
 * COUNT (pieces of the current job), DONE (pieces finished). A claim reads JOB, then COUNT,
 * then JOB again (so COUNT was read while JOB held that value), and takes piece `index` by a
 * compare-and-swap of JOB to index + 1 if index < COUNT. The calling thread, in run():
 *   1. closes the previous job: JOB's index becomes CLOSED (2047, never below a count), so no
 *      claim can succeed whatever COUNT a claimer reads next — a thread still in its claim loop
 *      from the previous job cannot take a piece of the next one under the old generation;
 *   2. only then writes the piece table, the workspaces, COUNT and DONE = 0;
 *   3. opens the job: JOB = (generation + 1) << 11, and wakes the workers.
 * Hence whenever JOB is open its COUNT, table and workspaces are its own; within a generation
 * the index only grows, so a JOB value read twice is the same job (unless 2^21 whole jobs ran in
 * between), and the compare-and-swap hands each piece to exactly one thread. Every claimed
 * piece adds 1 to DONE after running, and the caller returns only when DONE = COUNT: no piece of
 * a job still runs, and no late DONE increment can arrive, once the next job starts.
 *
 * Platform-neutral: the host supplies `spawn` (worker_threads in Node, Web Workers in a
 * browser; see src/node/platform.ts). The calling thread must be allowed to block, which in a browser
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

/** Slots of one piece: kernel index, workspace-argument mask, then up to 14 arguments. */
const PIECE = 16;
export const MAX_ARGS = PIECE - 2;
/** Pieces per job at most (the claim counter has 11 bits, and its top value means closed). */
export const MAX_PIECES = 2047;
// Control words (Int32Array indices), a cache line apart: the job word is gen << 11 | next piece.
const JOB = 0,
  COUNT = 16,
  DONE = 32,
  STOP = 48,
  FAILED = 64,
  WORK = 80;
const GEN_MASK = 0x1fffff;
/** The job word's index of a closed job: at least any COUNT, so no claim succeeds. */
const CLOSED = 2047;
/**
 * How long a worker busy-waits for the next job before sleeping. A training step issues
 * parallel kernels with serial work between them, and waking a sleeping thread costs tens of
 * microseconds; spinning longer only burns a core that a busy machine needs elsewhere.
 */
const WORKER_SPIN_MS = 0.05;
/** Busy-wait iterations of the calling thread before it sleeps on pieces running elsewhere. */
const CALLER_SPIN = 2000;

/**
 * The worker's whole program, plain JS so it runs unchanged from source (tsx), from dist/,
 * and in a browser Worker (Blob URL). It talks through `port`, which the platform's
 * spawnWorker defines in front of it (`self` in a Web Worker, worker_threads' parentPort in
 * Node), so no Node API is named in code that browsers load.
 */
export const workerSource = `
const listen = (f) => { if (port.on) port.on('message', f); else port.onmessage = (e) => f(e.data); };
listen((init) => {
  const { module, memory, control, pieces, index, names } = init;
  const exports = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('internal error: wasm backend: kernel aborted'); } } }).exports;
  const fns = names.map((n) => exports[n]);
  const ctl = new Int32Array(control);
  const table = new Float64Array(pieces);
  const a = new Float64Array(${MAX_ARGS});
  let gen = Atomics.load(ctl, ${JOB}) >>> 11;
  port.postMessage('ready');
  for (;;) {
    let spins = 0, deadline = 0, job;
    while ((job = Atomics.load(ctl, ${JOB})) >>> 11 === gen) {
      if ((++spins & 255) !== 0) continue;
      if (Atomics.load(ctl, ${STOP})) return;
      const now = performance.now();
      if (deadline === 0) deadline = now + ${WORKER_SPIN_MS};
      // Bounded sleeps: a terminating worker only notices once it runs JS again.
      else if (now > deadline) Atomics.wait(ctl, ${JOB}, job, 50);
    }
    if (Atomics.load(ctl, ${STOP})) return;
    gen = job >>> 11;
    for (;;) {
      const c = Atomics.load(ctl, ${JOB});
      if (c >>> 11 !== gen) break;
      const count = Atomics.load(ctl, ${COUNT});
      if (Atomics.load(ctl, ${JOB}) !== c) continue;
      const i = c & 2047;
      if (i >= count) break;
      if (Atomics.compareExchange(ctl, ${JOB}, c, c + 1) !== c) continue;
      const base = i * ${PIECE}, mask = table[base + 1], work = Atomics.load(ctl, ${WORK} + index);
      for (let k = 0; k < ${MAX_ARGS}; k++) a[k] = table[base + 2 + k] + ((mask >> k) & 1 ? work : 0);
      try { fns[table[base]](a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13]); }
      catch (e) { Atomics.store(ctl, ${FAILED}, 1); }
      if (Atomics.add(ctl, ${DONE}, 1) + 1 === count) Atomics.notify(ctl, ${DONE});
    }
  }
});
`;

type KernelFn = (...args: number[]) => unknown;

/** One piece of a job: a kernel's arguments, and which of them are offsets into the thread's workspace. */
export interface Piece {
  args: ArrayLike<number>;
  /** Bit k set: args[k] is an offset into the running thread's workspace. */
  workMask?: number;
}

export class ThreadPool {
  private readonly control: Int32Array;
  private readonly pieces: Float64Array;
  private readonly workers: WorkerPort[] = [];
  private readonly fns: KernelFn[];
  private readonly args = new Array<number>(MAX_ARGS).fill(0);
  private gen = 0;
  private canBlock = true;

  /** threads counts the calling thread too: threads - 1 workers are started. */
  private constructor(
    readonly threads: number,
    exports: object,
  ) {
    this.control = new Int32Array(new SharedArrayBuffer((WORK + threads) * 4));
    this.pieces = new Float64Array(new SharedArrayBuffer(MAX_PIECES * PIECE * 8));
    this.fns = threadedKernels.map((name) => (exports as Record<string, KernelFn>)[name]);
    this.control[JOB] = CLOSED;
  }

  /** Starts threads - 1 workers, each instantiating `module` over the shared `memory`. */
  static async start(threads: number, module: WebAssembly.Module, memory: WebAssembly.Memory, exports: object, spawn: SpawnWorker): Promise<ThreadPool> {
    const pool = new ThreadPool(threads, exports);
    const started: Promise<void>[] = [];
    for (let index = 1; index < threads; index++) {
      const worker = spawn(workerSource);
      pool.workers.push(worker);
      started.push(
        new Promise<void>((resolve, reject) => {
          worker.onMessage((m) => {
            if (m === 'ready') resolve();
          });
          worker.onError(reject);
        }),
      );
      worker.postMessage({
        module,
        memory,
        control: pool.control.buffer,
        pieces: pool.pieces.buffer,
        index,
        names: [...threadedKernels],
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
   * Runs kernel threadedKernels[kernel] once per piece, pieces spread over all threads.
   * `workspaces[t]` is thread t's scratch pointer (for args flagged in a piece's mask).
   */
  run(kernel: number, pieces: Piece[], workspaces: readonly number[] = []): void {
    const c = this.control,
      count = pieces.length;
    if (count > MAX_PIECES) throw new RangeError(`internal error: wasm backend: ${count} pieces in one job (at most ${MAX_PIECES})`);
    // 1. Close the previous job before anything a claimer reads changes (protocol in the header).
    Atomics.store(c, JOB, (this.gen << 11) | CLOSED);
    // 2. The new job's table, workspaces and counters.
    for (let i = 0; i < count; i++) {
      const base = i * PIECE,
        { args, workMask = 0 } = pieces[i];
      this.pieces[base] = kernel;
      this.pieces[base + 1] = workMask;
      for (let k = 0; k < args.length; k++) this.pieces[base + 2 + k] = args[k];
    }
    for (let t = 0; t < this.threads; t++) c[WORK + t] = workspaces[t] ?? 0;
    Atomics.store(c, COUNT, count);
    Atomics.store(c, DONE, 0);
    // 3. Open it under a new generation.
    this.gen = (this.gen + 1) & GEN_MASK;
    Atomics.store(c, JOB, this.gen << 11);
    Atomics.notify(c, JOB);
    // Claim pieces like a worker until none are left.
    const fn = this.fns[kernel],
      a = this.args,
      work = workspaces[0] ?? 0;
    for (;;) {
      const job = Atomics.load(c, JOB);
      const i = job & 2047;
      if (i >= count) break;
      if (Atomics.compareExchange(c, JOB, job, job + 1) !== job) continue;
      const base = i * PIECE,
        mask = this.pieces[base + 1];
      for (let k = 0; k < MAX_ARGS; k++) a[k] = this.pieces[base + 2 + k] + ((mask >> k) & 1 ? work : 0);
      fn(...a);
      Atomics.add(c, DONE, 1);
    }
    this.join(count);
  }

  close(): void {
    Atomics.store(this.control, STOP, 1);
    this.gen = (this.gen + 1) & GEN_MASK;
    Atomics.store(this.control, JOB, (this.gen << 11) | CLOSED);
    Atomics.notify(this.control, JOB);
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }

  /** Waits until all `count` pieces are done (some may still run on workers). */
  private join(count: number): void {
    const c = this.control;
    let spins = CALLER_SPIN;
    for (;;) {
      const done = Atomics.load(c, DONE);
      if (done === count) break;
      // Cannot happen by the protocol; were it broken, an error beats waiting forever.
      if (done > count) throw new Error(`internal error: wasm backend: thread pool finished ${done} pieces of a job of ${count}`);
      if (--spins < 0 && this.canBlock) {
        try {
          Atomics.wait(c, DONE, done, 50);
        } catch {
          this.canBlock = false;
        } // browser main thread: spin only
      }
    }
    if (Atomics.load(c, FAILED)) {
      Atomics.store(c, FAILED, 0);
      throw new Error('internal error: wasm backend: a kernel failed in a worker thread');
    }
  }
}
