import { ConfigError } from '../errors.js';
import type { FloatArray } from '../tensor.js';
import type { AdamOptions, Backend, Conv2dGeometry, IndexArray, Labels, Pool2dGeometry, SgdOptions } from './backend.js';
import { batchNormRunningOnHost } from './ref.js';
import type { WasmContext } from './wasm-context.js';
import { ConvOrchestrator } from './wasm-conv.js';
import { gemmOnPointers } from './wasm-gemm.js';
import { WasmHeap } from './wasm-heap.js';
import { type KernelExports, type KernelVariant, type ThreadedKernel, instantiateKernels, loadKernels } from './wasm-kernels.js';
import { HEAP_BASE, RECORDS, RecordWriter } from './wasm-records.js';
import { Scratch } from './wasm-scratch.js';
import { KernelRunner } from './wasm-split.js';
import { Staging } from './wasm-staging.js';
import { type WasmPaths, kernelBytes } from './wasm-files.js';
import { MAX_THREADS } from './wasm-tuning.js';
import { convWeights } from './wasm-winograd.js';
import type { Platform } from './platform.js';
import { platform as hostPlatform } from '#platform';
import { ThreadPool } from './wasm-threads.js';

export { MAX_THREADS };

export interface WasmBackendOptions {
  /** Compute threads including the calling one; default: all cores. 1 = no workers. */
  threads?: number;
  /** Use the relaxed-SIMD (FMA) build when the engine supports it; default true. */
  relaxedSimd?: boolean;
  /** Upper bound of the (growable, shared) heap; default 4096 MiB, the wasm32 limit. */
  maximumMemoryMiB?: number;
  /** Heap size when SharedArrayBuffer is unavailable: such a heap cannot grow; default 512 MiB. */
  initialMemoryMiB?: number;
  /** false forces a plain, non-shared memory (single-threaded, fixed size), as without SharedArrayBuffer. */
  sharedMemory?: boolean;
  /**
   * Where to read the kernel builds (the package's dist-wasm/*.wasm files) from, for pages that
   * serve them themselves (a CDN); by default they come bundled with the package's JavaScript.
   */
  wasmPaths?: WasmPaths;
}

/**
 * The thread counts a machine can use: 1 up to its cores (more only compete for them and cost a
 * worker and its workspace each), and never beyond MAX_THREADS.
 */
export function maxThreads(cores: number): number {
  return Math.max(1, Math.min(MAX_THREADS, Math.floor(cores)));
}

/** Refuses a thread count outside 1..maxThreads(cores) before any worker is started. */
export function checkThreads(threads: number, cores: number): number {
  const max = maxThreads(cores);
  if (!Number.isInteger(threads) || threads < 1 || threads > max) {
    throw new ConfigError(`threads must be an integer from 1 to ${max} (this machine has ${cores} cores; at most ${MAX_THREADS}), got ${threads}`);
  }
  return threads;
}

/**
 * Every kernel in WebAssembly SIMD (AssemblyScript sources in assembly/, their interface in
 * wasm-interface.ts). Tensors from alloc() are views into the kernels' own linear memory, so
 * kernels get pointers and nothing is copied; arrays from elsewhere are copied through scratch
 * memory (wasm-staging.ts), correct but slower. This class adapts the Backend methods to the
 * kernels; kernels above a size threshold are split across worker threads (wasm-split.ts,
 * wasm-threads.ts): GEMMs by blocks of rows or columns (wasm-gemm.ts), convolutions by their
 * route (wasm-conv.ts, wasm-winograd.ts), pooling and batch norm by planes or channels,
 * element-wise kernels by ranges.
 *
 * Blocks are freed when their views are garbage collected: keep the array alloc() returned
 * alive for as long as any subarray of it is in use.
 */
export class WasmBackend implements Backend {
  readonly name = 'wasm';
  readonly dtype = 'float32' as const;
  /** Pointers for each call's arrays, copying those from outside wasm memory. */
  private readonly io: Staging;
  private readonly records: RecordWriter;
  private readonly run: KernelRunner;
  private readonly conv: ConvOrchestrator;
  private readonly ctx: WasmContext;

  private constructor(
    private readonly k: KernelExports,
    private readonly heap: WasmHeap,
    pool: ThreadPool | null,
    /** Which build runs: 'relaxed' (FMA) or 'simd'. */
    readonly variant: KernelVariant,
  ) {
    if (k.dataEnd() > RECORDS) throw new Error('internal error: wasm backend: kernel static data overlaps the host region');
    this.io = new Staging(heap);
    this.records = new RecordWriter(heap);
    this.run = new KernelRunner(k, new Scratch(heap), pool);
    this.ctx = { k, heap, records: this.records, scratch: this.run.scratch, run: this.run, gemmBytes: k.gemmWorkspaceBytes() };
    this.conv = new ConvOrchestrator(this.ctx);
  }

  /** Compiles the kernels and starts the threads; `platform` defaults to the one this code runs on. */
  static async create(options: WasmBackendOptions = {}, platform: Platform = hostPlatform): Promise<WasmBackend> {
    // Before the memory and the workers: a wrong count costs nothing.
    const threads = options.threads === undefined ? maxThreads(platform.cores) : checkThreads(options.threads, platform.cores);
    const maxPages = Math.min(65536, Math.floor((options.maximumMemoryMiB ?? 4096) * 16));
    let memory: WebAssembly.Memory | null = null;
    if (typeof SharedArrayBuffer !== 'undefined' && options.sharedMemory !== false) {
      try {
        memory = new WebAssembly.Memory({ initial: 256, maximum: maxPages, shared: true });
      } catch {
        /* shared memory unavailable: fall back to a fixed-size plain memory */
      }
    }
    const shared = memory !== null;
    memory ??= new WebAssembly.Memory({ initial: Math.min(maxPages, Math.ceil((options.initialMemoryMiB ?? 512) * 16)) });
    const { module, variant } = await loadKernels((file) => kernelBytes(file, options.wasmPaths, platform.readUrl), shared, options.relaxedSimd ?? true);
    const k = instantiateKernels(module, memory);
    const pool = threads > 1 && shared && platform.spawnWorker ? await ThreadPool.start(threads, module, memory, k, platform.spawnWorker) : null;
    return new WasmBackend(k, new WasmHeap(memory, shared, HEAP_BASE, maxPages * 65536), pool, variant);
  }

  /** Compute threads in use (1 = no workers). */
  get threads(): number {
    return this.run.threads;
  }

  /** Stops the worker threads. The backend stays usable, single-threaded. */
  dispose(): void {
    this.run.close();
  }

  alloc(n: number): FloatArray {
    return this.heap.allocF32(n);
  }

  // Kernels read and write the host's views of the heap directly: nothing to move.
  upload(_a: FloatArray | IndexArray): void {}
  download(_arrays: readonly (FloatArray | IndexArray)[]): Promise<void> {
    return Promise.resolve();
  }

  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number, A: FloatArray, B: FloatArray, beta: number, C: FloatArray): void {
    this.io.begin();
    const a = this.io.input(A, M * K, 'A'),
      b = this.io.input(B, K * N, 'B');
    const c = beta === 0 ? this.io.output(C, M * N, 'C') : this.io.inout(C, M * N, 'C');
    gemmOnPointers(this.ctx, transA, transB, M, N, K, alpha, a, transA ? M : K, b, transB ? K : N, beta, c, N);
    this.io.finish();
  }

  conv2dForward(g: Conv2dGeometry, x: FloatArray, w: FloatArray, bias: FloatArray | null, y: FloatArray): void {
    this.io.begin();
    const xp = this.io.input(x, g.N * g.C * g.H * g.W, 'x'),
      wp = this.io.input(w, convWeights(g), 'w');
    const bp = bias ? this.io.input(bias, g.O, 'bias') : 0;
    this.conv.forward(g, xp, wp, bp, this.io.output(y, g.N * g.O * g.OH * g.OW, 'y'));
    this.io.finish();
  }

  conv2dBackwardInput(g: Conv2dGeometry, dy: FloatArray, w: FloatArray, dx: FloatArray): void {
    this.io.begin();
    const dyp = this.io.input(dy, g.N * g.O * g.OH * g.OW, 'dy'),
      wp = this.io.input(w, convWeights(g), 'w');
    this.conv.backwardInput(g, dyp, wp, this.io.output(dx, g.N * g.C * g.H * g.W, 'dx'));
    this.io.finish();
  }

  conv2dBackwardWeights(g: Conv2dGeometry, x: FloatArray, dy: FloatArray, dw: FloatArray, dbias: FloatArray | null): void {
    this.io.begin();
    const xp = this.io.input(x, g.N * g.C * g.H * g.W, 'x'),
      dyp = this.io.input(dy, g.N * g.O * g.OH * g.OW, 'dy');
    const dwp = this.io.output(dw, convWeights(g), 'dw');
    const dbp = dbias ? this.io.output(dbias, g.O, 'dbias') : 0;
    this.conv.backwardWeights(g, xp, dyp, dwp, dbp);
    this.io.finish();
  }

  maxPool2dForward(g: Pool2dGeometry, x: FloatArray, y: FloatArray, argmax: IndexArray): void {
    this.io.begin();
    const gp = this.records.pool(g);
    const n = g.N * g.C * g.OH * g.OW;
    const xp = this.io.input(x, g.N * g.C * g.H * g.W, 'x'),
      yp = this.io.output(y, n, 'y'),
      ap = this.io.output(argmax, n, 'argmax');
    this.run.split('maxPool2dForward', g.N * g.C, g.N * g.C * g.H * g.W, (p0, p1) => [gp, p0, p1, xp, yp, ap]);
    this.io.finish();
  }

  maxPool2dBackward(g: Pool2dGeometry, dy: FloatArray, argmax: IndexArray, dx: FloatArray): void {
    this.io.begin();
    const gp = this.records.pool(g);
    const n = g.N * g.C * g.OH * g.OW;
    const dyp = this.io.input(dy, n, 'dy'),
      ap = this.io.input(argmax, n, 'argmax'),
      dxp = this.io.output(dx, g.N * g.C * g.H * g.W, 'dx');
    this.run.split('maxPool2dBackward', g.N * g.C, g.N * g.C * g.H * g.W, (p0, p1) => [gp, p0, p1, dyp, ap, dxp]);
    this.io.finish();
  }

  avgPool2dForward(g: Pool2dGeometry, x: FloatArray, y: FloatArray, countPad: boolean): void {
    this.io.begin();
    const gp = this.records.pool(g);
    const xp = this.io.input(x, g.N * g.C * g.H * g.W, 'x'),
      yp = this.io.output(y, g.N * g.C * g.OH * g.OW, 'y');
    this.run.split('avgPool2dForward', g.N * g.C, g.N * g.C * g.H * g.W, (p0, p1) => [gp, p0, p1, xp, yp, +countPad]);
    this.io.finish();
  }

  avgPool2dBackward(g: Pool2dGeometry, dy: FloatArray, dx: FloatArray, countPad: boolean): void {
    this.io.begin();
    const gp = this.records.pool(g);
    const dyp = this.io.input(dy, g.N * g.C * g.OH * g.OW, 'dy'),
      dxp = this.io.output(dx, g.N * g.C * g.H * g.W, 'dx');
    this.run.split('avgPool2dBackward', g.N * g.C, g.N * g.C * g.H * g.W, (p0, p1) => [gp, p0, p1, dyp, dxp, +countPad]);
    this.io.finish();
  }

  adaptiveAvgPool2dForward(g: Pool2dGeometry, x: FloatArray, y: FloatArray): void {
    this.io.begin();
    const gp = this.records.pool(g);
    const xp = this.io.input(x, g.N * g.C * g.H * g.W, 'x'),
      yp = this.io.output(y, g.N * g.C * g.OH * g.OW, 'y');
    this.run.split('adaptiveAvgPool2dForward', g.N * g.C, g.N * g.C * g.H * g.W, (p0, p1) => [gp, p0, p1, xp, yp]);
    this.io.finish();
  }

  adaptiveAvgPool2dBackward(g: Pool2dGeometry, dy: FloatArray, dx: FloatArray): void {
    this.io.begin();
    const gp = this.records.pool(g);
    const dyp = this.io.input(dy, g.N * g.C * g.OH * g.OW, 'dy'),
      dxp = this.io.output(dx, g.N * g.C * g.H * g.W, 'dx');
    this.run.split('adaptiveAvgPool2dBackward', g.N * g.C, g.N * g.C * g.H * g.W, (p0, p1) => [gp, p0, p1, dyp, dxp]);
    this.io.finish();
  }

  batchNormStats(N: number, C: number, HW: number, x: FloatArray, mean: FloatArray, variance: FloatArray): void {
    this.io.begin();
    const xp = this.io.input(x, N * C * HW, 'x'),
      mp = this.io.output(mean, C, 'mean'),
      vp = this.io.output(variance, C, 'variance');
    const shape = this.records.write('batchNorm', { N, C, HW, batchStatistics: 1 });
    this.run.split('batchNormStats', C, N * C * HW, (c0, c1) => [shape, c0, c1, xp, mp, vp]);
    this.io.finish();
  }

  // C values per call: plain JavaScript on the heap views costs less than a kernel call.
  batchNormRunning(
    C: number,
    mean: FloatArray,
    variance: FloatArray,
    eps: number,
    momentum: number,
    unbias: number,
    runningMean: FloatArray,
    runningVar: FloatArray,
    invStd: FloatArray,
  ): void {
    batchNormRunningOnHost(C, mean, variance, eps, momentum, unbias, runningMean, runningVar, invStd);
  }

  batchNormApply(
    N: number,
    C: number,
    HW: number,
    x: FloatArray,
    mean: FloatArray,
    invStd: FloatArray,
    gamma: FloatArray,
    beta: FloatArray,
    y: FloatArray,
  ): void {
    this.io.begin();
    const xp = this.io.input(x, N * C * HW, 'x'),
      mp = this.io.input(mean, C, 'mean'),
      sp = this.io.input(invStd, C, 'invStd');
    const gp = this.io.input(gamma, C, 'gamma'),
      bp = this.io.input(beta, C, 'beta'),
      yp = this.io.output(y, N * C * HW, 'y');
    const shape = this.records.write('batchNorm', { N, C, HW, batchStatistics: 0 });
    this.run.split('batchNormApply', N * C, N * C * HW, (p0, p1) => [shape, p0, p1, xp, mp, sp, gp, bp, yp]);
    this.io.finish();
  }

  batchNormBackward(
    N: number,
    C: number,
    HW: number,
    x: FloatArray,
    dy: FloatArray,
    mean: FloatArray,
    invStd: FloatArray,
    gamma: FloatArray,
    dx: FloatArray,
    dgamma: FloatArray,
    dbeta: FloatArray,
    batchStatistics: boolean,
  ): void {
    this.io.begin();
    const n = N * C * HW;
    const xp = this.io.input(x, n, 'x'),
      dyp = this.io.input(dy, n, 'dy'),
      mp = this.io.input(mean, C, 'mean');
    const sp = this.io.input(invStd, C, 'invStd'),
      gp = this.io.input(gamma, C, 'gamma');
    const dxp = this.io.output(dx, n, 'dx'),
      dgp = this.io.output(dgamma, C, 'dgamma'),
      dbp = this.io.output(dbeta, C, 'dbeta');
    const shape = this.records.write('batchNorm', { N, C, HW, batchStatistics: +batchStatistics });
    this.run.split('batchNormBackward', C, n, (c0, c1) => [shape, c0, c1, xp, dyp, mp, sp, gp, dxp, dgp, dbp]);
    this.io.finish();
  }

  lrnForward(
    N: number,
    C: number,
    HW: number,
    size: number,
    alpha: number,
    beta: number,
    k: number,
    x: FloatArray,
    scale: FloatArray,
    y: FloatArray,
    before = Math.floor(size / 2),
  ): void {
    this.io.begin();
    const n = N * C * HW;
    const xp = this.io.input(x, n, 'x'),
      sp = this.io.output(scale, n, 'scale'),
      yp = this.io.output(y, n, 'y');
    const params = this.records.write('lrn', { C, HW, size, before, alpha, beta, k });
    this.run.split('lrnForward', N * C, n * size, (p0, p1) => [params, p0, p1, xp, sp, yp]);
    this.io.finish();
  }

  lrnBackward(
    N: number,
    C: number,
    HW: number,
    size: number,
    alpha: number,
    beta: number,
    _k: number,
    x: FloatArray,
    y: FloatArray,
    scale: FloatArray,
    dy: FloatArray,
    dx: FloatArray,
    before = Math.floor(size / 2),
  ): void {
    this.io.begin();
    const n = N * C * HW;
    const xp = this.io.input(x, n, 'x'),
      yp = this.io.input(y, n, 'y'),
      sp = this.io.input(scale, n, 'scale');
    const dyp = this.io.input(dy, n, 'dy'),
      dxp = this.io.output(dx, n, 'dx');
    const params = this.records.write('lrn', { C, HW, size, before, alpha, beta, k: 0 });
    this.run.split('lrnBackward', N * C, n * size, (p0, p1) => [params, p0, p1, xp, yp, sp, dyp, dxp]);
    this.io.finish();
  }

  leakyRelu(x: FloatArray, y: FloatArray, slope: number, cap: number): void {
    this.io.begin();
    const n = y.length;
    const xp = this.io.input(x, n, 'x'),
      yp = this.io.output(y, n, 'y');
    this.elementwise('leakyRelu', n, (i, m) => [xp + i * 4, yp + i * 4, m, slope, cap]);
    this.io.finish();
  }

  leakyReluBackward(x: FloatArray, dy: FloatArray, dx: FloatArray, slope: number, cap: number): void {
    this.io.begin();
    const n = dx.length;
    const xp = this.io.input(x, n, 'x'),
      dyp = this.io.input(dy, n, 'dy'),
      dxp = this.io.output(dx, n, 'dx');
    this.elementwise('leakyReluBackward', n, (i, m) => [xp + i * 4, dyp + i * 4, dxp + i * 4, m, slope, cap]);
    this.io.finish();
  }

  addBias(rows: number, cols: number, x: FloatArray, b: FloatArray, y: FloatArray): void {
    this.io.begin();
    this.k.addBias(rows, cols, this.io.input(x, rows * cols, 'x'), this.io.input(b, cols, 'b'), this.io.output(y, rows * cols, 'y'));
    this.io.finish();
  }

  sumRows(rows: number, cols: number, dy: FloatArray, db: FloatArray): void {
    this.io.begin();
    this.k.sumRows(rows, cols, this.io.input(dy, rows * cols, 'dy'), this.io.output(db, cols, 'db'));
    this.io.finish();
  }

  add(a: FloatArray, b: FloatArray, out: FloatArray): void {
    this.binary('add', a, b, out);
  }

  mul(a: FloatArray, b: FloatArray, out: FloatArray): void {
    this.binary('mul', a, b, out);
  }

  axpy(alpha: number, x: FloatArray, y: FloatArray): void {
    this.io.begin();
    const n = y.length;
    const xp = this.io.input(x, n, 'x'),
      yp = this.io.inout(y, n, 'y');
    this.elementwise('axpy', n, (i, m) => [alpha, xp + i * 4, yp + i * 4, m]);
    this.io.finish();
  }

  copyBlocks(N: number, src: FloatArray, srcStride: number, srcOffset: number, dst: FloatArray, dstStride: number, dstOffset: number, block: number): void {
    // TypedArray.set is a native memmove (overlap-safe within one buffer): no kernel needed.
    for (let n = 0; n < N; n++) {
      const from = n * srcStride + srcOffset;
      dst.set(src.subarray(from, from + block), n * dstStride + dstOffset);
    }
  }

  relu(x: FloatArray, y: FloatArray): void {
    this.unary('relu', x, y);
  }

  reluBackward(x: FloatArray, dy: FloatArray, dx: FloatArray): void {
    this.binary('reluBackward', x, dy, dx);
  }

  tanh(x: FloatArray, y: FloatArray): void {
    this.unary('tanh', x, y);
  }

  tanhBackward(y: FloatArray, dy: FloatArray, dx: FloatArray): void {
    this.binary('tanhBackward', y, dy, dx);
  }

  sigmoid(x: FloatArray, y: FloatArray): void {
    this.unary('sigmoid', x, y);
  }

  sigmoidBackward(y: FloatArray, dy: FloatArray, dx: FloatArray): void {
    this.binary('sigmoidBackward', y, dy, dx);
  }

  hardSigmoid(x: FloatArray, y: FloatArray, alpha: number, beta: number): void {
    this.io.begin();
    const n = y.length;
    const xp = this.io.input(x, n, 'x'),
      yp = this.io.output(y, n, 'y');
    this.elementwise('hardSigmoid', n, (i, m) => [xp + i * 4, yp + i * 4, m, alpha, beta]);
    this.io.finish();
  }

  hardSigmoidBackward(x: FloatArray, dy: FloatArray, dx: FloatArray, alpha: number, beta: number): void {
    this.io.begin();
    const n = dx.length;
    const xp = this.io.input(x, n, 'x'),
      dyp = this.io.input(dy, n, 'dy'),
      dxp = this.io.output(dx, n, 'dx');
    this.elementwise('hardSigmoidBackward', n, (i, m) => [xp + i * 4, dyp + i * 4, dxp + i * 4, m, alpha, beta]);
    this.io.finish();
  }

  channelScale(P: number, HW: number, x: FloatArray, s: FloatArray, y: FloatArray): void {
    this.io.begin();
    const n = P * HW;
    const xp = this.io.input(x, n, 'x'),
      sp = this.io.input(s, P, 's'),
      yp = this.io.output(y, n, 'y');
    this.run.split('channelScale', P, n, (p0, p1) => [HW, p0, p1, xp, sp, yp]);
    this.io.finish();
  }

  channelScaleBackward(P: number, HW: number, x: FloatArray, s: FloatArray, dy: FloatArray, dx: FloatArray, ds: FloatArray): void {
    this.io.begin();
    const n = P * HW;
    const xp = this.io.input(x, n, 'x'),
      sp = this.io.input(s, P, 's'),
      dyp = this.io.input(dy, n, 'dy');
    const dxp = this.io.output(dx, n, 'dx'),
      dsp = this.io.output(ds, P, 'ds');
    this.run.split('channelScaleBackward', P, n, (p0, p1) => [HW, p0, p1, xp, sp, dyp, dxp, dsp]);
    this.io.finish();
  }

  // ---- Layer norm over channels and GELU (ConvNeXt); kernels in assembly/layernorm.ts ----

  layerNormForward(
    N: number,
    C: number,
    HW: number,
    x: FloatArray,
    gamma: FloatArray,
    beta: FloatArray,
    eps: number,
    mean: FloatArray,
    invStd: FloatArray,
    y: FloatArray,
  ): void {
    this.io.begin();
    const n = N * C * HW,
      P = N * HW;
    const xp = this.io.input(x, n, 'x'),
      gp = this.io.input(gamma, C, 'gamma'),
      bp = this.io.input(beta, C, 'beta');
    const mp = this.io.output(mean, P, 'mean'),
      sp = this.io.output(invStd, P, 'invStd'),
      yp = this.io.output(y, n, 'y');
    this.run.split('layerNormForward', P, n, (p0, p1) => [C, HW, p0, p1, xp, gp, bp, eps, mp, sp, yp]);
    this.io.finish();
  }

  layerNormBackward(
    N: number,
    C: number,
    HW: number,
    x: FloatArray,
    dy: FloatArray,
    mean: FloatArray,
    invStd: FloatArray,
    gamma: FloatArray,
    dx: FloatArray,
    dgamma: FloatArray,
    dbeta: FloatArray,
  ): void {
    this.io.begin();
    const n = N * C * HW,
      P = N * HW;
    const xp = this.io.input(x, n, 'x'),
      dyp = this.io.input(dy, n, 'dy'),
      mp = this.io.input(mean, P, 'mean');
    const sp = this.io.input(invStd, P, 'invStd'),
      gp = this.io.input(gamma, C, 'gamma');
    const dxp = this.io.output(dx, n, 'dx'),
      dgp = this.io.output(dgamma, C, 'dgamma'),
      dbp = this.io.output(dbeta, C, 'dbeta');
    this.run.split('layerNormBackward', P, n, (p0, p1) => [C, HW, p0, p1, xp, dyp, mp, sp, gp, dxp]);
    this.run.split('layerNormParamGrads', C, n, (c0, c1) => [N, C, HW, c0, c1, xp, dyp, mp, sp, dgp, dbp]);
    this.io.finish();
  }

  gelu(x: FloatArray, y: FloatArray): void {
    this.io.begin();
    const n = y.length;
    const xp = this.io.input(x, n, 'x'),
      yp = this.io.output(y, n, 'y');
    this.elementwise('gelu', n, (i, m) => [xp + i * 4, yp + i * 4, m]);
    this.io.finish();
  }

  geluBackward(x: FloatArray, dy: FloatArray, dx: FloatArray): void {
    this.io.begin();
    const n = dx.length;
    const xp = this.io.input(x, n, 'x'),
      dyp = this.io.input(dy, n, 'dy'),
      dxp = this.io.output(dx, n, 'dx');
    this.elementwise('geluBackward', n, (i, m) => [xp + i * 4, dyp + i * 4, dxp + i * 4, m]);
    this.io.finish();
  }

  // ---- end of layer norm and GELU ----

  softmax(N: number, K: number, x: FloatArray, y: FloatArray): void {
    this.io.begin();
    this.k.softmax(N, K, this.io.input(x, N * K, 'x'), this.io.output(y, N * K, 'y'));
    this.io.finish();
  }

  softmaxBackward(N: number, K: number, y: FloatArray, dy: FloatArray, dx: FloatArray): void {
    this.io.begin();
    this.k.softmaxBackward(N, K, this.io.input(y, N * K, 'y'), this.io.input(dy, N * K, 'dy'), this.io.output(dx, N * K, 'dx'));
    this.io.finish();
  }

  sumOfSquares(x: FloatArray, out: FloatArray, index: number): void {
    this.io.begin();
    const sum = this.k.sumOfSquares(this.io.input(x, x.length, 'x'), x.length);
    this.io.finish();
    out[index] = sum;
  }

  softmaxCrossEntropy(N: number, K: number, logits: FloatArray, labels: Labels, probs: FloatArray, dlogits: FloatArray, lossOut: FloatArray): void {
    this.io.begin();
    for (let n = 0; n < N; n++) {
      const label = labels[n];
      if (!(label >= 0 && label < K)) throw new RangeError(`wasm backend: label ${label} at ${n} is not a class index below ${K}`);
    }
    const loss = this.k.softmaxCrossEntropy(
      N,
      K,
      this.io.input(logits, N * K, 'logits'),
      this.io.input(labels, N, 'labels'),
      this.io.output(probs, N * K, 'probs'),
      this.io.output(dlogits, N * K, 'dlogits'),
    );
    this.io.finish();
    lossOut[0] = loss;
  }

  sgdStep(w: FloatArray, g: FloatArray, v: FloatArray, o: SgdOptions): void {
    this.io.begin();
    const n = w.length;
    const wp = this.io.inout(w, n, 'w'),
      gp = this.io.input(g, n, 'g'),
      vp = this.io.inout(v, n, 'v');
    // Element-wise and memory-bound: ranges across threads for large parameters.
    this.elementwise('sgdStep', n, (i, m) => [wp + i * 4, gp + i * 4, vp + i * 4, m, o.lr, o.momentum, o.weightDecay, +o.nesterov]);
    this.io.finish();
  }

  adamStep(w: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, o: AdamOptions): void {
    this.io.begin();
    const n = w.length;
    const c1 = 1 - Math.pow(o.beta1, o.step),
      c2 = 1 - Math.pow(o.beta2, o.step);
    const wp = this.io.inout(w, n, 'w'),
      gp = this.io.input(g, n, 'g'),
      mp = this.io.inout(m, n, 'm'),
      vp = this.io.inout(v, n, 'v');
    this.elementwise('adamStep', n, (i, k) => [
      wp + i * 4,
      gp + i * 4,
      mp + i * 4,
      vp + i * 4,
      k,
      o.lr,
      o.beta1,
      o.beta2,
      o.eps,
      o.weightDecay,
      +o.decoupled,
      c1,
      c2,
    ]);
    this.io.finish();
  }

  // ---- element-wise helpers ----

  private unary(kernel: 'relu' | 'tanh' | 'sigmoid', x: FloatArray, y: FloatArray): void {
    this.io.begin();
    const n = y.length;
    const xp = this.io.input(x, n, 'x'),
      yp = this.io.output(y, n, 'y');
    this.elementwise(kernel, n, (i, m) => [xp + i * 4, yp + i * 4, m]);
    this.io.finish();
  }

  private binary(kernel: 'add' | 'mul' | 'reluBackward' | 'tanhBackward' | 'sigmoidBackward', a: FloatArray, b: FloatArray, out: FloatArray): void {
    this.io.begin();
    const n = out.length;
    const ap = this.io.input(a, n, 'input'),
      bp = this.io.input(b, n, 'input'),
      op = this.io.output(out, n, 'output');
    this.elementwise(kernel, n, (i, m) => [ap + i * 4, bp + i * 4, op + i * 4, m]);
    this.io.finish();
  }

  /** An element-wise kernel over n elements, in ranges of whole cache lines across threads when long. */
  private elementwise(kernel: ThreadedKernel, n: number, args: (start: number, count: number) => number[]): void {
    this.run.split(kernel, n, n, (start, end) => args(start, end - start), 16);
  }
}
