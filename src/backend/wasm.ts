import { ConfigError } from '../errors.js';
import type { FloatArray } from '../tensor.js';
import type { AdamOptions, Backend, Conv2dGeometry, IndexArray, Labels, Pool2dGeometry, SgdOptions } from './backend.js';
import { batchNormRunningOnHost } from './ref.js';
import { WasmHeap } from './wasm-heap.js';
import { type KernelExports, type KernelVariant, type ThreadedKernel, instantiateKernels, loadKernels, threadedKernels } from './wasm-kernels.js';
import { Staging } from './wasm-staging.js';
import { type WasmPaths, kernelBytes } from './wasm-files.js';
import type { Platform } from './platform.js';
import { platform as hostPlatform } from '#platform';
import { type Piece, ThreadPool } from './wasm-threads.js';

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

/** The module's static data (math tables) lies below this; the host's heap starts here. */
const HEAP_BASE = 65536;
/** 16 i32s of conv/pool geometry, written before each conv or pool kernel (in the reserved low region). */
const GEOMETRY = HEAP_BASE - 256;
/** 16 i32s more: how Winograd sees the convolution (assembly/winograd.ts View). */
const VIEW = GEOMETRY + 64;
/** Below this many multiply-adds a kernel runs on the calling thread: waking workers would cost more. */
const PARALLEL_MIN_MACS = 1 << 18;
/** The same for memory-bound kernels (pooling, element-wise), in elements touched. */
const PARALLEL_MIN_ELEMENTS = 1 << 15;
const MR = 4, NR = 8;
/** Pieces per thread for batch and element splits: more lets threads balance when one runs late. */
const PIECES_PER_THREAD = 4;
/** Most compute threads: a job's pieces (threads × PIECES_PER_THREAD) must stay within the pool's MAX_PIECES. */
export const MAX_THREADS = 64;

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
/** Memory for per-range partial weight gradients, beyond one per thread. */
const PARTIALS_BYTES = 8 << 20;
/** Work of a GEMM piece at least, in multiply-adds: each piece re-packs the operand it shares. */
const GEMM_PIECE_MACS = 1 << 22;
/** Rows (filters, or input channels for the input gradient) from which convolutions run as GEMMs (convgemm.ts). */
const CONV_GEMM_MIN_ROWS = 32;
/** Source channels (the GEMMs' K) from which 3×3 stride-1 convolutions run by Winograd. */
const WINOGRAD_MIN_CHANNELS = 32;
/** The same for 5×5 (K = 4 × channels). */
const WINOGRAD5_MIN_CHANNELS = 16;
/**
 * And outputs over the batch for 5×5: its weight transform writes 4× the weights, paid back
 * only over enough tiles (measured: 13×13 at batch 1 and 8×8 at batch 8 run slower than the
 * GEMM, 27×27 at batch 1 and 14×14 at batch 4 as fast or faster).
 */
const WINOGRAD5_MIN_OUTPUTS = 729;
/** Tiles over the batch (the weight-gradient GEMMs' reduction) from which 3×3 weight gradients run by Winograd. */
const WINOGRAD_GRAD_MIN_TILES = 64;
/** At most this much memory for the weight gradient's transformed input and dy (16 values per tile each); larger layers take the GEMM route. */
const WINOGRAD_GRAD_MAX_BYTES = 256 << 20;
/** Memory for Winograd-transformed weights kept between calls (with a copy of the weights each came from). */
const TRANSFORMED_BYTES = 256 << 20;
const kernelIndex = (name: ThreadedKernel) => threadedKernels.indexOf(name);

interface Block { ptr: number; bytes: number }

/**
 * Every kernel in WebAssembly SIMD (AssemblyScript sources in assembly/). Tensors from
 * alloc() are views into the kernels' own linear memory, so kernels get pointers and nothing
 * is copied; arrays from elsewhere are copied through scratch memory (wasm-staging.ts),
 * correct but slower. Kernels above a size threshold are split across worker threads
 * (wasm-threads.ts): GEMMs by blocks of rows or columns, convolutions by images, pooling and
 * batch norm by planes or channels, element-wise kernels by ranges.
 *
 * Blocks are freed when their views are garbage collected: keep the array alloc() returned
 * alive for as long as any subarray of it is in use.
 */
export class WasmBackend implements Backend {
  readonly name = 'wasm';
  readonly dtype = 'float32' as const;
  private readonly geometry: Int32Array;
  /** Per-thread scratch: GEMM packing, im2col columns, padded inputs, packed filters. */
  private readonly scratch: Block[] = [];
  private partialBlock: Block | null = null;
  /** Conv weights packed for the GEMM micro-kernel (convgemm.ts), shared by all threads of one call. */
  private packedBlock: Block | null = null;
  /** Other shared scratch blocks by name (Winograd's transformed weights and input). */
  private readonly blocks = new Map<string, Block>();
  /**
   * Winograd-transformed weights kept per weights array, direction and shape, with a copy of
   * the weights they were made from: inference reuses them while the weights stay bit-for-bit
   * the same (checked on every call, so a weight written any way at all is seen).
   */
  private readonly transformed = new Map<string, { U: Block; copy: Block }>();
  /** The Winograd view record (assembly/winograd.ts), next to the geometry. */
  private readonly view: Int32Array;
  /** Pointers for each call's arrays, copying those from outside wasm memory. */
  private readonly io: Staging;
  private readonly gemmBytes: number;

  private constructor(
    private readonly k: KernelExports,
    private readonly heap: WasmHeap,
    private pool: ThreadPool | null,
    /** Which build runs: 'relaxed' (FMA) or 'simd'. */
    readonly variant: KernelVariant,
  ) {
    this.geometry = heap.i32(GEOMETRY, 16);
    this.view = heap.i32(VIEW, 16);
    this.io = new Staging(heap);
    this.gemmBytes = k.gemmWorkspaceBytes();
    if (k.dataEnd() > GEOMETRY) throw new Error('internal error: wasm backend: kernel static data overlaps the host region');
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
      } catch { /* shared memory unavailable: fall back to a fixed-size plain memory */ }
    }
    const shared = memory !== null;
    memory ??= new WebAssembly.Memory({ initial: Math.min(maxPages, Math.ceil((options.initialMemoryMiB ?? 512) * 16)) });
    const { module, variant } = await loadKernels((file) => kernelBytes(file, options.wasmPaths, platform.readUrl), shared, options.relaxedSimd ?? true);
    const k = instantiateKernels(module, memory);
    const pool = threads > 1 && shared && platform.spawnWorker
      ? await ThreadPool.start(threads, module, memory, k, platform.spawnWorker) : null;
    return new WasmBackend(k, new WasmHeap(memory, shared, HEAP_BASE), pool, variant);
  }

  /** Compute threads in use (1 = no workers). */
  get threads(): number {
    return this.pool?.threads ?? 1;
  }

  /** Stops the worker threads. The backend stays usable, single-threaded. */
  dispose(): void {
    this.pool?.close();
    this.pool = null;
  }

  alloc(n: number): FloatArray {
    return this.heap.allocF32(n);
  }

  // Kernels read and write the host's views of the heap directly: nothing to move.
  upload(_a: FloatArray | IndexArray): void {}
  download(_arrays: readonly (FloatArray | IndexArray)[]): Promise<void> {
    return Promise.resolve();
  }

  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number,
    alpha: number, A: FloatArray, B: FloatArray, beta: number, C: FloatArray): void {
    this.io.begin();
    const a = this.io.input(A, M * K, 'A'), b = this.io.input(B, K * N, 'B');
    const c = beta === 0 ? this.io.output(C, M * N, 'C') : this.io.inout(C, M * N, 'C');
    this.gemmPtr(transA, transB, M, N, K, alpha, a, transA ? M : K, b, transB ? K : N, beta, c, N);
    this.io.finish();
  }

  conv2dForward(g: Conv2dGeometry, x: FloatArray, w: FloatArray, bias: FloatArray | null, y: FloatArray): void {
    this.io.begin();
    const gp = this.convGeometry(g);
    const xp = this.io.input(x, g.N * g.C * g.H * g.W, 'x'), wp = this.io.input(w, convWeights(g), 'w');
    const bp = bias ? this.io.input(bias, g.O, 'bias') : 0;
    const yp = this.io.output(y, g.N * g.O * g.OH * g.OW, 'y');
    if (useWinograd(g, false)) {
      this.winograd(g, false, xp, wp, bp, yp);
    } else if (useConvGemm(g, 'forward')) {
      const packed = this.packWeights(gp, false, wp);
      this.convGemmSplit(g, g.OH * g.OW, (n0, n1, j0, j1) => [gp, 0, n0, n1, j0, j1, xp, packed, bp, yp, 0]);
    } else {
      const packed = this.directPacked(gp, false, wp);
      this.convSplit(g, 'conv2dForward', (n0, n1) => [gp, n0, n1, xp, wp, bp, yp, 0, packed], 1 << 7);
    }
    this.io.finish();
  }

  conv2dBackwardInput(g: Conv2dGeometry, dy: FloatArray, w: FloatArray, dx: FloatArray): void {
    this.io.begin();
    const gp = this.convGeometry(g);
    const dyp = this.io.input(dy, g.N * g.O * g.OH * g.OW, 'dy'), wp = this.io.input(w, convWeights(g), 'w');
    const dxp = this.io.output(dx, g.N * g.C * g.H * g.W, 'dx');
    if (useWinograd(g, true)) {
      this.winograd(g, true, dyp, wp, 0, dxp);
    } else if (useConvGemm(g, 'input')) {
      const packed = this.packWeights(gp, true, wp);
      this.convGemmSplit(g, g.H * g.W, (n0, n1, j0, j1) => [gp, 1, n0, n1, j0, j1, dyp, packed, 0, dxp, 0]);
    } else {
      const packed = this.directPacked(gp, true, wp);
      this.convSplit(g, 'conv2dBackwardInput', (n0, n1) => [gp, n0, n1, dyp, wp, dxp, 0, packed], 1 << 6);
    }
    this.io.finish();
  }

  conv2dBackwardWeights(g: Conv2dGeometry, x: FloatArray, dy: FloatArray, dw: FloatArray, dbias: FloatArray | null): void {
    this.io.begin();
    const gp = this.convGeometry(g);
    const xp = this.io.input(x, g.N * g.C * g.H * g.W, 'x'), dyp = this.io.input(dy, g.N * g.O * g.OH * g.OW, 'dy');
    const wn = convWeights(g);
    const dwp = this.io.output(dw, wn, 'dw');
    const dbp = dbias ? this.io.output(dbias, g.O, 'dbias') : 0;
    const workBytes = this.k.convWorkspaceBytes(gp);
    if (useWinogradWeights(g)) {
      this.winogradWeightGradient(g, xp, dyp, dwp, dbp);
      this.io.finish();
      return;
    }
    if (useConvGemm(g, 'weights')) {
      // dy packed once (in parallel) and shared; pieces split groups, then the gradient's columns
      // (taps): no partial sums, the same bits on any thread count.
      const G = g.groups, R = (g.C / G) * g.KH * g.KW;
      const macs = g.N * g.O * g.OH * g.OW * R;
      const packedFloats = this.k.convPackedGradientFloats(gp);
      const pdy = this.block('convDy', packedFloats * 4);
      const strips = G * Math.ceil(g.O / G / MR);
      this.split('convPackGradient', strips, packedFloats, (q0, q1) => [gp, q0, q1, dyp, pdy]);
      const pieces: Piece[] = [];
      if (!this.pool || macs < PARALLEL_MIN_MACS) {
        pieces.push({ args: [gp, 0, G, 0, R, xp, dyp, pdy, dwp, dbp, 0], workMask: 1 << 10 });
      } else {
        const perGroup = Math.ceil(this.pool.threads * PIECES_PER_THREAD / G);
        for (let gi = 0; gi < G; gi++) {
          for (const [j0, j1] of ranges(R, perGroup, NR)) pieces.push({ args: [gp, gi, gi + 1, j0, j1, xp, dyp, pdy, dwp, dbp, 0], workMask: 1 << 10 });
        }
      }
      this.runPieces('convGemmWeights', pieces, workBytes);
      this.io.finish();
      return;
    }
    if (!this.pool || !this.worthSplitting(g)) {
      this.k.conv2dBackwardWeights(gp, 0, g.N, xp, dyp, dwp, dbp, this.workspace(0, workBytes));
      this.io.finish();
      return;
    }
    // Image ranges, each into its own partial gradient, summed here in range order: the result
    // does not depend on which thread ran which range (reproducible training). A few ranges per
    // thread balance the load, as memory for the partials allows.
    const stride = (wn + g.O) * 4;
    const count = Math.max(this.pool.threads, Math.min(this.pool.threads * PIECES_PER_THREAD, Math.floor(PARTIALS_BYTES / stride)));
    const parts = ranges(g.N, Math.min(g.N, count), 1);
    const partials = this.partials(parts.length * stride);
    const pieces = parts.map(([n0, n1], i) => {
      const p = partials + i * stride;
      return { args: [gp, n0, n1, xp, dyp, p, dbp ? p + wn * 4 : 0, 0], workMask: 1 << 7 };
    });
    this.pool.run(kernelIndex('conv2dBackwardWeights'), pieces, this.workspaces(workBytes));
    this.heap.f32(dwp, wn).set(this.heap.f32(partials, wn));
    if (dbp) this.heap.f32(dbp, g.O).set(this.heap.f32(partials + wn * 4, g.O));
    for (let i = 1; i < parts.length; i++) {
      this.k.add(dwp, partials + i * stride, dwp, wn);
      if (dbp) this.k.add(dbp, partials + i * stride + wn * 4, dbp, g.O);
    }
    this.io.finish();
  }

  maxPool2dForward(g: Pool2dGeometry, x: FloatArray, y: FloatArray, argmax: IndexArray): void {
    this.io.begin();
    const gp = this.poolGeometry(g);
    const n = g.N * g.C * g.OH * g.OW;
    const xp = this.io.input(x, g.N * g.C * g.H * g.W, 'x'), yp = this.io.output(y, n, 'y'), ap = this.io.output(argmax, n, 'argmax');
    this.split('maxPool2dForward', g.N * g.C, g.N * g.C * g.H * g.W, (p0, p1) => [gp, p0, p1, xp, yp, ap]);
    this.io.finish();
  }

  maxPool2dBackward(g: Pool2dGeometry, dy: FloatArray, argmax: IndexArray, dx: FloatArray): void {
    this.io.begin();
    const gp = this.poolGeometry(g);
    const n = g.N * g.C * g.OH * g.OW;
    const dyp = this.io.input(dy, n, 'dy'), ap = this.io.input(argmax, n, 'argmax'), dxp = this.io.output(dx, g.N * g.C * g.H * g.W, 'dx');
    this.split('maxPool2dBackward', g.N * g.C, g.N * g.C * g.H * g.W, (p0, p1) => [gp, p0, p1, dyp, ap, dxp]);
    this.io.finish();
  }

  avgPool2dForward(g: Pool2dGeometry, x: FloatArray, y: FloatArray, countPad: boolean): void {
    this.io.begin();
    const gp = this.poolGeometry(g);
    const xp = this.io.input(x, g.N * g.C * g.H * g.W, 'x'), yp = this.io.output(y, g.N * g.C * g.OH * g.OW, 'y');
    this.split('avgPool2dForward', g.N * g.C, g.N * g.C * g.H * g.W, (p0, p1) => [gp, p0, p1, xp, yp, +countPad]);
    this.io.finish();
  }

  avgPool2dBackward(g: Pool2dGeometry, dy: FloatArray, dx: FloatArray, countPad: boolean): void {
    this.io.begin();
    const gp = this.poolGeometry(g);
    const dyp = this.io.input(dy, g.N * g.C * g.OH * g.OW, 'dy'), dxp = this.io.output(dx, g.N * g.C * g.H * g.W, 'dx');
    this.split('avgPool2dBackward', g.N * g.C, g.N * g.C * g.H * g.W, (p0, p1) => [gp, p0, p1, dyp, dxp, +countPad]);
    this.io.finish();
  }

  adaptiveAvgPool2dForward(g: Pool2dGeometry, x: FloatArray, y: FloatArray): void {
    this.io.begin();
    const gp = this.poolGeometry(g);
    const xp = this.io.input(x, g.N * g.C * g.H * g.W, 'x'), yp = this.io.output(y, g.N * g.C * g.OH * g.OW, 'y');
    this.split('adaptiveAvgPool2dForward', g.N * g.C, g.N * g.C * g.H * g.W, (p0, p1) => [gp, p0, p1, xp, yp]);
    this.io.finish();
  }

  adaptiveAvgPool2dBackward(g: Pool2dGeometry, dy: FloatArray, dx: FloatArray): void {
    this.io.begin();
    const gp = this.poolGeometry(g);
    const dyp = this.io.input(dy, g.N * g.C * g.OH * g.OW, 'dy'), dxp = this.io.output(dx, g.N * g.C * g.H * g.W, 'dx');
    this.split('adaptiveAvgPool2dBackward', g.N * g.C, g.N * g.C * g.H * g.W, (p0, p1) => [gp, p0, p1, dyp, dxp]);
    this.io.finish();
  }

  batchNormStats(N: number, C: number, HW: number, x: FloatArray, mean: FloatArray, variance: FloatArray): void {
    this.io.begin();
    const xp = this.io.input(x, N * C * HW, 'x'), mp = this.io.output(mean, C, 'mean'), vp = this.io.output(variance, C, 'variance');
    this.split('batchNormStats', C, N * C * HW, (c0, c1) => [N, C, HW, c0, c1, xp, mp, vp]);
    this.io.finish();
  }

  // C values per call: plain JavaScript on the heap views costs less than a kernel call.
  batchNormRunning(C: number, mean: FloatArray, variance: FloatArray, eps: number, momentum: number, unbias: number,
    runningMean: FloatArray, runningVar: FloatArray, invStd: FloatArray): void {
    batchNormRunningOnHost(C, mean, variance, eps, momentum, unbias, runningMean, runningVar, invStd);
  }

  batchNormApply(N: number, C: number, HW: number, x: FloatArray, mean: FloatArray, invStd: FloatArray,
    gamma: FloatArray, beta: FloatArray, y: FloatArray): void {
    this.io.begin();
    const xp = this.io.input(x, N * C * HW, 'x'), mp = this.io.input(mean, C, 'mean'), sp = this.io.input(invStd, C, 'invStd');
    const gp = this.io.input(gamma, C, 'gamma'), bp = this.io.input(beta, C, 'beta'), yp = this.io.output(y, N * C * HW, 'y');
    this.split('batchNormApply', N * C, N * C * HW, (p0, p1) => [C, HW, p0, p1, xp, mp, sp, gp, bp, yp]);
    this.io.finish();
  }

  batchNormBackward(N: number, C: number, HW: number, x: FloatArray, dy: FloatArray, mean: FloatArray, invStd: FloatArray,
    gamma: FloatArray, dx: FloatArray, dgamma: FloatArray, dbeta: FloatArray, batchStatistics: boolean): void {
    this.io.begin();
    const n = N * C * HW;
    const xp = this.io.input(x, n, 'x'), dyp = this.io.input(dy, n, 'dy'), mp = this.io.input(mean, C, 'mean');
    const sp = this.io.input(invStd, C, 'invStd'), gp = this.io.input(gamma, C, 'gamma');
    const dxp = this.io.output(dx, n, 'dx'), dgp = this.io.output(dgamma, C, 'dgamma'), dbp = this.io.output(dbeta, C, 'dbeta');
    this.split('batchNormBackward', C, n, (c0, c1) => [N, C, HW, c0, c1, xp, dyp, mp, sp, gp, dxp, dgp, dbp, +batchStatistics]);
    this.io.finish();
  }

  lrnForward(N: number, C: number, HW: number, size: number, alpha: number, beta: number, k: number,
    x: FloatArray, scale: FloatArray, y: FloatArray, before = Math.floor(size / 2)): void {
    this.io.begin();
    const n = N * C * HW;
    const xp = this.io.input(x, n, 'x'), sp = this.io.output(scale, n, 'scale'), yp = this.io.output(y, n, 'y');
    this.split('lrnForward', N * C, n * size, (p0, p1) => [C, HW, p0, p1, size, before, alpha, beta, k, xp, sp, yp]);
    this.io.finish();
  }

  lrnBackward(N: number, C: number, HW: number, size: number, alpha: number, beta: number, _k: number,
    x: FloatArray, y: FloatArray, scale: FloatArray, dy: FloatArray, dx: FloatArray, before = Math.floor(size / 2)): void {
    this.io.begin();
    const n = N * C * HW;
    const xp = this.io.input(x, n, 'x'), yp = this.io.input(y, n, 'y'), sp = this.io.input(scale, n, 'scale');
    const dyp = this.io.input(dy, n, 'dy'), dxp = this.io.output(dx, n, 'dx');
    this.split('lrnBackward', N * C, n * size, (p0, p1) => [C, HW, p0, p1, size, before, alpha, beta, xp, yp, sp, dyp, dxp]);
    this.io.finish();
  }

  leakyRelu(x: FloatArray, y: FloatArray, slope: number, cap: number): void {
    this.io.begin();
    const n = y.length;
    const xp = this.io.input(x, n, 'x'), yp = this.io.output(y, n, 'y');
    this.elementwise('leakyRelu', n, (i, m) => [xp + i * 4, yp + i * 4, m, slope, cap]);
    this.io.finish();
  }

  leakyReluBackward(x: FloatArray, dy: FloatArray, dx: FloatArray, slope: number, cap: number): void {
    this.io.begin();
    const n = dx.length;
    const xp = this.io.input(x, n, 'x'), dyp = this.io.input(dy, n, 'dy'), dxp = this.io.output(dx, n, 'dx');
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
    const xp = this.io.input(x, n, 'x'), yp = this.io.inout(y, n, 'y');
    this.elementwise('axpy', n, (i, m) => [alpha, xp + i * 4, yp + i * 4, m]);
    this.io.finish();
  }

  copyBlocks(N: number, src: FloatArray, srcStride: number, srcOffset: number,
    dst: FloatArray, dstStride: number, dstOffset: number, block: number): void {
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
    const xp = this.io.input(x, n, 'x'), yp = this.io.output(y, n, 'y');
    this.elementwise('hardSigmoid', n, (i, m) => [xp + i * 4, yp + i * 4, m, alpha, beta]);
    this.io.finish();
  }

  hardSigmoidBackward(x: FloatArray, dy: FloatArray, dx: FloatArray, alpha: number, beta: number): void {
    this.io.begin();
    const n = dx.length;
    const xp = this.io.input(x, n, 'x'), dyp = this.io.input(dy, n, 'dy'), dxp = this.io.output(dx, n, 'dx');
    this.elementwise('hardSigmoidBackward', n, (i, m) => [xp + i * 4, dyp + i * 4, dxp + i * 4, m, alpha, beta]);
    this.io.finish();
  }

  channelScale(P: number, HW: number, x: FloatArray, s: FloatArray, y: FloatArray): void {
    this.io.begin();
    const n = P * HW;
    const xp = this.io.input(x, n, 'x'), sp = this.io.input(s, P, 's'), yp = this.io.output(y, n, 'y');
    this.split('channelScale', P, n, (p0, p1) => [HW, p0, p1, xp, sp, yp]);
    this.io.finish();
  }

  channelScaleBackward(P: number, HW: number, x: FloatArray, s: FloatArray, dy: FloatArray, dx: FloatArray, ds: FloatArray): void {
    this.io.begin();
    const n = P * HW;
    const xp = this.io.input(x, n, 'x'), sp = this.io.input(s, P, 's'), dyp = this.io.input(dy, n, 'dy');
    const dxp = this.io.output(dx, n, 'dx'), dsp = this.io.output(ds, P, 'ds');
    this.split('channelScaleBackward', P, n, (p0, p1) => [HW, p0, p1, xp, sp, dyp, dxp, dsp]);
    this.io.finish();
  }

  // ---- Layer norm over channels and GELU (ConvNeXt); kernels in assembly/layernorm.ts ----

  layerNormForward(N: number, C: number, HW: number, x: FloatArray, gamma: FloatArray, beta: FloatArray, eps: number,
    mean: FloatArray, invStd: FloatArray, y: FloatArray): void {
    this.io.begin();
    const n = N * C * HW, P = N * HW;
    const xp = this.io.input(x, n, 'x'), gp = this.io.input(gamma, C, 'gamma'), bp = this.io.input(beta, C, 'beta');
    const mp = this.io.output(mean, P, 'mean'), sp = this.io.output(invStd, P, 'invStd'), yp = this.io.output(y, n, 'y');
    this.split('layerNormForward', P, n, (p0, p1) => [C, HW, p0, p1, xp, gp, bp, eps, mp, sp, yp]);
    this.io.finish();
  }

  layerNormBackward(N: number, C: number, HW: number, x: FloatArray, dy: FloatArray, mean: FloatArray, invStd: FloatArray,
    gamma: FloatArray, dx: FloatArray, dgamma: FloatArray, dbeta: FloatArray): void {
    this.io.begin();
    const n = N * C * HW, P = N * HW;
    const xp = this.io.input(x, n, 'x'), dyp = this.io.input(dy, n, 'dy'), mp = this.io.input(mean, P, 'mean');
    const sp = this.io.input(invStd, P, 'invStd'), gp = this.io.input(gamma, C, 'gamma');
    const dxp = this.io.output(dx, n, 'dx'), dgp = this.io.output(dgamma, C, 'dgamma'), dbp = this.io.output(dbeta, C, 'dbeta');
    this.split('layerNormBackward', P, n, (p0, p1) => [C, HW, p0, p1, xp, dyp, mp, sp, gp, dxp]);
    this.split('layerNormParamGrads', C, n, (c0, c1) => [N, C, HW, c0, c1, xp, dyp, mp, sp, dgp, dbp]);
    this.io.finish();
  }

  gelu(x: FloatArray, y: FloatArray): void {
    this.io.begin();
    const n = y.length;
    const xp = this.io.input(x, n, 'x'), yp = this.io.output(y, n, 'y');
    this.elementwise('gelu', n, (i, m) => [xp + i * 4, yp + i * 4, m]);
    this.io.finish();
  }

  geluBackward(x: FloatArray, dy: FloatArray, dx: FloatArray): void {
    this.io.begin();
    const n = dx.length;
    const xp = this.io.input(x, n, 'x'), dyp = this.io.input(dy, n, 'dy'), dxp = this.io.output(dx, n, 'dx');
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

  softmaxCrossEntropy(N: number, K: number, logits: FloatArray, labels: Labels,
    probs: FloatArray, dlogits: FloatArray, lossOut: FloatArray): void {
    this.io.begin();
    for (let n = 0; n < N; n++) {
      const label = labels[n];
      if (!(label >= 0 && label < K)) throw new RangeError(`internal error: wasm backend: label ${label} at ${n} is not a class index below ${K}`);
    }
    const loss = this.k.softmaxCrossEntropy(N, K, this.io.input(logits, N * K, 'logits'), this.io.input(labels, N, 'labels'),
      this.io.output(probs, N * K, 'probs'), this.io.output(dlogits, N * K, 'dlogits'));
    this.io.finish();
    lossOut[0] = loss;
  }

  sgdStep(w: FloatArray, g: FloatArray, v: FloatArray, o: SgdOptions): void {
    this.io.begin();
    const n = w.length;
    const wp = this.io.inout(w, n, 'w'), gp = this.io.input(g, n, 'g'), vp = this.io.inout(v, n, 'v');
    // Element-wise and memory-bound: ranges across threads for large parameters.
    this.elementwise('sgdStep', n, (i, m) => [wp + i * 4, gp + i * 4, vp + i * 4, m, o.lr, o.momentum, o.weightDecay, +o.nesterov]);
    this.io.finish();
  }

  adamStep(w: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, o: AdamOptions): void {
    this.io.begin();
    const n = w.length;
    const c1 = 1 - Math.pow(o.beta1, o.step), c2 = 1 - Math.pow(o.beta2, o.step);
    const wp = this.io.inout(w, n, 'w'), gp = this.io.input(g, n, 'g'), mp = this.io.inout(m, n, 'm'), vp = this.io.inout(v, n, 'v');
    this.elementwise('adamStep', n, (i, k) => [wp + i * 4, gp + i * 4, mp + i * 4, vp + i * 4, k,
      o.lr, o.beta1, o.beta2, o.eps, o.weightDecay, +o.decoupled, c1, c2]);
    this.io.finish();
  }

  // ---- threading ----

  /** C = alpha·op(A)·op(B) + beta·C on pointers, split over rows or columns of C across threads when large. */
  private gemmPtr(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number): void {
    const tA = +transA, tB = +transB;
    const pool = this.pool;
    // Split the larger side of C in whole micro-tiles: each block packs all of the other
    // operand, so that redundant packing falls on the smaller one.
    const byRows = M >= N;
    const tile = byRows ? MR : NR, side = byRows ? M : N;
    const macs = M * N * K;
    if (!pool || macs < PARALLEL_MIN_MACS || side <= tile) {
      this.k.gemm(tA, tB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, this.workspace(0, this.gemmBytes));
      return;
    }
    if (byRows) {
      // B packed once, in parallel, and shared: each block of rows packs only its own A.
      const strips = Math.ceil(N / NR);
      const pb = this.block('gemmB', strips * NR * K * 4);
      this.split('gemmPackB', strips, N * K, (s0, s1) => [tB, K, N, b, ldb, s0, s1, pb]);
      const rowParts = Math.min(Math.ceil(M / MR), pool.threads * PIECES_PER_THREAD);
      this.runPieces('gemmPacked', ranges(M, rowParts, MR).map(([r0, r1]) => ({
        args: [tA, r1 - r0, N, K, alpha, a + (transA ? r0 : r0 * lda) * 4, lda, pb, beta, c + r0 * ldc * 4, ldc, 0],
        workMask: 1 << 11,
      })), this.gemmBytes);
      return;
    }
    // One block per thread, or up to PIECES_PER_THREAD when large (balance beats packing then).
    const parts = Math.min(Math.ceil(side / tile), Math.max(pool.threads, Math.min(pool.threads * PIECES_PER_THREAD, Math.floor(macs / GEMM_PIECE_MACS))));
    const chunk = Math.ceil(side / tile / parts) * tile;
    const pieces: Piece[] = [];
    for (let s0 = 0; s0 < side; s0 += chunk) {
      const n = Math.min(side, s0 + chunk) - s0;
      pieces.push({
        args: byRows
          ? [tA, tB, n, N, K, alpha, a + (transA ? s0 : s0 * lda) * 4, lda, b, ldb, beta, c + s0 * ldc * 4, ldc, 0]
          : [tA, tB, M, n, K, alpha, a, lda, b + (transB ? s0 * ldb : s0) * 4, ldb, beta, c + s0 * 4, ldc, 0],
        workMask: 1 << 13,
      });
    }
    pool!.run(kernelIndex('gemm'), pieces, this.workspaces(this.gemmBytes));
  }

  /** Whether a convolution has enough work to split across threads. */
  private worthSplitting(g: Conv2dGeometry): boolean {
    return g.N > 1 && g.N * g.O * g.OH * g.OW * (g.C / g.groups) * g.KH * g.KW >= PARALLEL_MIN_MACS;
  }

  /**
   * Runs a conv kernel over the batch: here, or in image ranges spread over the threads
   * (a few per thread, so that a late thread leaves its share to the others). `args` gives a
   * range's arguments; bits of `workMask` mark offsets into the running thread's workspace.
   */
  private convSplit(g: Conv2dGeometry, kernel: ThreadedKernel, args: (n0: number, n1: number) => number[], workMask: number): void {
    const bytes = this.k.convWorkspaceBytes(GEOMETRY);
    if (!this.pool || !this.worthSplitting(g)) {
      const a = args(0, g.N);
      const work = this.workspace(0, bytes);
      for (let k = 0; k < a.length; k++) if ((workMask >> k) & 1) a[k] += work;
      (this.k[kernel] as (...a: number[]) => void)(...a);
      return;
    }
    const pieces = ranges(g.N, Math.min(g.N, this.pool.threads * PIECES_PER_THREAD), 1)
      .map(([n0, n1]) => ({ args: args(n0, n1), workMask }));
    this.pool.run(kernelIndex(kernel), pieces, this.workspaces(bytes));
  }

  /**
   * Runs convGemmForward over the batch: image ranges when the batch has enough images for
   * every thread, otherwise each image's output positions in column ranges (batch 1 uses all
   * threads too). Every output element is computed whole by one piece, so the split does not
   * change the result.
   */
  private convGemmSplit(g: Conv2dGeometry, P: number, args: (n0: number, n1: number, j0: number, j1: number) => number[]): void {
    const macs = g.N * g.O * g.OH * g.OW * (g.C / g.groups) * g.KH * g.KW;
    const bytes = this.k.convWorkspaceBytes(GEOMETRY);
    const pool = this.pool;
    const parts: [number, number, number, number][] = [];
    if (!pool || macs < PARALLEL_MIN_MACS) {
      parts.push([0, g.N, 0, P]);
    } else {
      const want = pool.threads * PIECES_PER_THREAD;
      if (g.N >= want) {
        for (const [n0, n1] of ranges(g.N, want, 1)) parts.push([n0, n1, 0, P]);
      } else {
        const cols = ranges(P, Math.ceil(want / g.N), NR);
        for (let n = 0; n < g.N; n++) for (const [j0, j1] of cols) parts.push([n, n + 1, j0, j1]);
      }
    }
    this.runPieces('convGemmForward', parts.map(([n0, n1, j0, j1]) => ({ args: args(n0, n1, j0, j1), workMask: 1 << 10 })), bytes);
  }

  /** Runs pieces here when there is one (or no pool), else across the threads; workMask bits are workspace offsets. */
  private runPieces(kernel: ThreadedKernel, pieces: Piece[], workBytes: number): void {
    if (!this.pool || pieces.length === 1) {
      const work = this.workspace(0, workBytes);
      const fn = this.k[kernel] as (...a: number[]) => void;
      for (const { args, workMask = 0 } of pieces) fn(...Array.from(args, (v, k) => ((workMask >> k) & 1 ? v + work : v)));
      return;
    }
    this.pool.run(kernelIndex(kernel), pieces, this.workspaces(workBytes));
  }

  /**
   * A stride-1 convolution (or its input gradient, `flip`) by Winograd, in three parallel
   * steps: transformed weights U and input V in shared blocks, then products and output tiles
   * by blocks of rows and tile columns. 3×3 kernels by F(2×2, 3×3) (assembly/winograd.ts),
   * 5×5 by F(3×3, 3×3) on four 3×3 sub-kernels sharing one input transform
   * (assembly/winograd5.ts). The convolution's geometry is already written (convGeometry).
   */
  private winograd(g: Conv2dGeometry, flip: boolean, src: number, wp: number, bias: number, dst: number): void {
    const five = g.KH === 5;
    const G = g.groups, Cg = g.C / G, Og = g.O / G;
    const Cs = flip ? Og : Cg, rows = flip ? Cg : Og;
    const OH = flip ? g.H : g.OH, OW = flip ? g.W : g.OW, srcC = flip ? g.O : g.C;
    // Output tiles m×m; F(2×2) keeps a multiple of 4 tiles per tile row, F(3×3) a separate,
    // one tile larger grid of transformed input (twv per row, Tv per image).
    const m = five ? 3 : 2, xi = five ? 25 : 16, K = five ? 4 * Cs : Cs, pad = g.KH - 1;
    const th = Math.ceil(OH / m), tw = five ? Math.ceil(OW / m) : roundUp(Math.ceil(OW / m), 4);
    const T = th * tw, J = roundUp(g.N * T, NR), twv = roundUp(tw + 1, 4), Tv = (th + 1) * twv;
    this.view.set([Cs, flip ? g.OH : g.H, flip ? g.OW : g.W, flip ? pad - g.padH : g.padH, flip ? pad - g.padW : g.padW,
      OH, OW, rows, srcC, flip ? g.C : g.O, th, tw, T, J, twv, Tv]);
    const gp = GEOMETRY, vp = VIEW, f = +flip;
    const rowStrips = roundUp(rows, MR) / MR;
    const kept = this.keptTransform(`${flip ? 'input gradient' : 'forward'} ${g.KH} ${G} ${Cg} ${Og} @${wp}`, wp,
      convWeights(g) * 4, G * xi * rowStrips * MR * K * 4);
    const U = kept.U;
    const V = this.block('winogradV', G * xi * Cs * (five ? g.N * Tv : J) * 4);
    const pool = this.pool;
    const parallel = pool !== null && g.N * g.O * g.OH * g.OW * Cg * g.KH * g.KW >= PARALLEL_MIN_MACS;
    const want = parallel ? pool.threads * PIECES_PER_THREAD : 1;
    const [weights, input, multiply] = five
      ? ['winograd5Weights', 'winograd5Input', 'winograd5Multiply'] as const
      : ['winogradWeights', 'winogradInput', 'winogradMultiply'] as const;
    // 1. Weights (memory-bound; kept from an earlier call when unchanged), 2. input planes.
    if (!kept.current) {
      this.split(weights, G * rowStrips, G * xi * rowStrips * MR * K, (q0, q1) => [gp, f, q0, q1, wp, U, vp]);
      kept.remember();
    }
    const planeBytes = five ? this.k.winograd5InputBytes(vp) : this.k.winogradInputBytes(vp);
    const planes = g.N * srcC;
    this.runPieces(input, ranges(planes, Math.min(planes, want), 1)
      .map(([p0, p1]) => ({ args: [gp, p0, p1, src, V, 0, vp], workMask: 1 << 5 })), planeBytes);
    // 3. Products and output tiles: split tile columns when there are enough for every piece,
    // else rows (each piece then reads only its rows of U).
    const strips = J / NR, perGroup = Math.ceil(want / G);
    const colParts = strips >= perGroup ? perGroup : 1;
    const rowParts = Math.min(rowStrips, Math.ceil(perGroup / colParts));
    const pieces: Piece[] = [];
    for (let gi = 0; gi < G; gi++) {
      for (const [r0, r1] of ranges(rows, rowParts, MR)) {
        for (const [s0, s1] of ranges(strips, colParts, 1)) {
          pieces.push({ args: [gp, gi, r0, r1, s0, s1, U, V, bias, dst, 0, vp], workMask: 1 << 10 });
        }
      }
    }
    this.runPieces(multiply, pieces, five ? this.k.winograd5ProductsBytes(vp) : this.k.winogradProductsBytes());
  }

  /**
   * The weight gradient of a 3×3 stride-1 convolution by Winograd F(2×2, 3×3)
   * (assembly/winogradgrad.ts), in four parallel steps: input transform V and dy transform D
   * by planes, the 16 × groups GEMMs over the tiles, then dw = Gᵀ dU G (and dbias) by filters.
   * Every output element is one piece's sum in a fixed order: the same bits on any thread count.
   */
  private winogradWeightGradient(g: Conv2dGeometry, xp: number, dyp: number, dwp: number, dbp: number): void {
    const G = g.groups, Cg = g.C / G, Og = g.O / G;
    const th = Math.ceil(g.OH / 2), tw = roundUp(Math.ceil(g.OW / 2), 4), T = th * tw, K = g.N * T;
    this.view.set([Cg, g.H, g.W, g.padH, g.padW, g.OH, g.OW, Og, g.C, g.O, th, tw, T, roundUp(K, NR), 0, 0]);
    const gp = GEOMETRY, vp = VIEW;
    const V = this.block('winogradGradV', G * 16 * Cg * K * 4);
    const D = this.block('winogradGradD', G * 16 * Og * K * 4);
    const dU = this.block('winogradGradU', G * 16 * Og * Cg * 4);
    const want = this.pool ? this.pool.threads * PIECES_PER_THREAD : 1;
    const planes = (count: number) => ranges(count, Math.min(count, want), 1);
    this.runPieces('winogradGradInput', planes(g.N * g.C).map(([p0, p1]) => ({ args: [gp, p0, p1, xp, V, 0, vp], workMask: 1 << 5 })),
      this.k.winogradInputBytes(vp));
    this.runPieces('winogradGradOutput', planes(g.N * g.O).map(([p0, p1]) => ({ args: [gp, p0, p1, dyp, D, 0, vp], workMask: 1 << 5 })),
      this.k.winogradGradOutputBytes(vp));
    this.runPieces('winogradGradProducts', ranges(16 * G, Math.min(16 * G, want), 1)
      .map(([q0, q1]) => ({ args: [gp, q0, q1, D, V, dU, 0, vp], workMask: 1 << 6 })), this.gemmBytes);
    this.split('winogradGradWeights', g.O, g.O * Cg * 16, (o0, o1) => [gp, o0, o1, dU, dyp, dwp, dbp, vp]);
  }

  /**
   * Where the transformed weights (uBytes) of the weights at wp (wBytes) go: a block kept for
   * `key`, `current` when it already holds the transform of exactly these weights; otherwise
   * the caller fills it and calls remember() to keep a copy of the weights it came from. The
   * oldest entries make room for new ones; one too large for the budget uses shared scratch.
   */
  private keptTransform(key: string, wp: number, wBytes: number, uBytes: number): { U: number; current: boolean; remember: () => void } {
    let entry = this.transformed.get(key);
    const fits = entry !== undefined && entry.U.bytes === uBytes && entry.copy.bytes === wBytes;
    const current = fits && this.k.sameBytes(entry!.copy.ptr, wp, wBytes) !== 0;
    if (fits) {
      // Most recently used last, so eviction takes the least recently used.
      this.transformed.delete(key);
      this.transformed.set(key, entry!);
    } else {
      if (entry) this.forget(key);
      if (uBytes + wBytes > TRANSFORMED_BYTES) return { U: this.block('winogradU', uBytes), current: false, remember: () => {} };
      let used = uBytes + wBytes;
      for (const e of this.transformed.values()) used += e.U.bytes + e.copy.bytes;
      for (const k of this.transformed.keys()) {
        if (used <= TRANSFORMED_BYTES) break;
        const e = this.transformed.get(k)!;
        used -= e.U.bytes + e.copy.bytes;
        this.forget(k);
      }
      entry = { U: { ptr: this.heap.allocBytes(uBytes), bytes: uBytes }, copy: { ptr: this.heap.allocBytes(wBytes), bytes: wBytes } };
      this.transformed.set(key, entry);
    }
    const copy = entry!.copy.ptr;
    return { U: entry!.U.ptr, current, remember: () => this.heap.f32(copy, wBytes / 4).set(this.heap.f32(wp, wBytes / 4)) };
  }

  private forget(key: string): void {
    const e = this.transformed.get(key);
    if (!e) return;
    this.heap.release(e.U.ptr);
    this.heap.release(e.copy.ptr);
    this.transformed.delete(key);
  }

  /** A named scratch block shared by all threads of one call, grown (never shrunk) to at least `bytes`. */
  private block(name: string, bytes: number): number {
    const b = this.blocks.get(name);
    if (b && b.bytes >= bytes) return b.ptr;
    if (b) this.heap.release(b.ptr);
    const grown = { ptr: this.heap.allocBytes(bytes), bytes };
    this.blocks.set(name, grown);
    return grown.ptr;
  }

  /**
   * The direct kernel's filters (flipped for the input gradient) packed once into a shared
   * block for all image ranges of a call, or 0 when the call does not take the direct route.
   */
  private directPacked(gp: number, flip: boolean, wp: number): number {
    if (!this.k.usesDirect(gp, +flip)) return 0;
    const ptr = this.block('directFilters', this.k.directPackedBytes(gp, +flip));
    this.k.directPack(gp, +flip, wp, ptr);
    return ptr;
  }

  /** Packs conv weights (flipped for the input gradient) into the shared packed-weights block, grown as needed. */
  private packWeights(gp: number, flip: boolean, wp: number): number {
    const bytes = this.k.convPackedWeightsFloats(gp, +flip) * 4;
    let p = this.packedBlock;
    if (!p || p.bytes < bytes) {
      if (p) this.heap.release(p.ptr);
      p = this.packedBlock = { ptr: this.heap.allocBytes(bytes), bytes };
    }
    const strips = this.k.convPackedStrips(gp, +flip);
    // Memory-bound: split across threads when large (a strip is MR rows of all taps).
    this.split('convPackWeights', strips, bytes / 4, (q0, q1) => [gp, +flip, q0, q1, wp, p.ptr]);
    return p.ptr;
  }

  /** Runs a kernel over [0, count) (planes, elements), split across threads when `work` elements are many. */
  private split(kernel: ThreadedKernel, count: number, work: number, args: (start: number, end: number) => number[], align = 1): void {
    const pool = this.pool;
    if (!pool || work < PARALLEL_MIN_ELEMENTS || count < 2 * align) {
      (this.k[kernel] as (...a: number[]) => void)(...args(0, count));
      return;
    }
    const pieces = ranges(count, pool.threads * PIECES_PER_THREAD, align).map(([a, b]) => ({ args: args(a, b) }));
    pool.run(kernelIndex(kernel), pieces);
  }

  /** Thread t's workspace, grown (never shrunk) to at least `bytes`. */
  private workspace(t: number, bytes: number): number {
    const w = this.scratch[t];
    if (w && w.bytes >= bytes) return w.ptr;
    if (w) this.heap.release(w.ptr);
    const grown = { ptr: this.heap.allocBytes(bytes), bytes };
    this.scratch[t] = grown;
    return grown.ptr;
  }

  /** Scratch for per-piece partial results (weight gradients), grown to at least `bytes`. */
  private partials(bytes: number): number {
    const p = this.partialBlock;
    if (p && p.bytes >= bytes) return p.ptr;
    if (p) this.heap.release(p.ptr);
    this.partialBlock = { ptr: this.heap.allocBytes(bytes), bytes };
    return this.partialBlock.ptr;
  }

  /** Every thread's workspace, each at least `bytes`. */
  private workspaces(bytes: number): number[] {
    const out: number[] = [];
    for (let t = 0; t < this.threads; t++) out.push(this.workspace(t, bytes));
    return out;
  }

  // ---- geometry ----

  private convGeometry(g: Conv2dGeometry): number {
    const v = this.geometry;
    v[0] = g.N; v[1] = g.C; v[2] = g.H; v[3] = g.W;
    v[4] = g.O; v[5] = g.KH; v[6] = g.KW;
    v[7] = g.strideH; v[8] = g.strideW; v[9] = g.padH; v[10] = g.padW;
    v[11] = g.OH; v[12] = g.OW; v[13] = g.groups;
    v[14] = g.dilationH; v[15] = g.dilationW;
    return GEOMETRY;
  }

  private poolGeometry(g: Pool2dGeometry): number {
    const v = this.geometry;
    v[0] = g.N; v[1] = g.C; v[2] = g.H; v[3] = g.W;
    v[4] = g.KH; v[5] = g.KW; v[6] = g.strideH; v[7] = g.strideW;
    v[8] = g.padH; v[9] = g.padW; v[10] = g.OH; v[11] = g.OW;
    return GEOMETRY;
  }

  // ---- element-wise helpers ----

  private unary(kernel: 'relu' | 'tanh' | 'sigmoid', x: FloatArray, y: FloatArray): void {
    this.io.begin();
    const n = y.length;
    const xp = this.io.input(x, n, 'x'), yp = this.io.output(y, n, 'y');
    this.elementwise(kernel, n, (i, m) => [xp + i * 4, yp + i * 4, m]);
    this.io.finish();
  }

  private binary(kernel: 'add' | 'mul' | 'reluBackward' | 'tanhBackward' | 'sigmoidBackward', a: FloatArray, b: FloatArray, out: FloatArray): void {
    this.io.begin();
    const n = out.length;
    const ap = this.io.input(a, n, 'input'), bp = this.io.input(b, n, 'input'), op = this.io.output(out, n, 'output');
    this.elementwise(kernel, n, (i, m) => [ap + i * 4, bp + i * 4, op + i * 4, m]);
    this.io.finish();
  }

  /** An element-wise kernel over n elements, in ranges of whole cache lines across threads when long. */
  private elementwise(kernel: ThreadedKernel, n: number, args: (start: number, count: number) => number[]): void {
    this.split(kernel, n, n, (start, end) => args(start, end - start), 16);
  }
}

/**
 * Whether a convolution runs as a GEMM with the image packed straight into the micro-kernel's
 * panels (convgemm.ts) rather than the direct kernel or im2col (conv.ts). The GEMM's rows are
 * filters (forward, weight gradient) or input channels (input gradient): each packed panel of
 * the image serves all of them, so few rows (LeNet's 6 or 16 filters, one input channel) waste
 * most of the 4-row tiles and repack the image for little work; the direct kernel wins there.
 * The input gradient runs as a stride-1 convolution of dy, so only for stride 1.
 */
function useConvGemm(g: Conv2dGeometry, kernel: 'forward' | 'input' | 'weights'): boolean {
  if (dilated(g)) return false; // its image packing gathers adjacent taps
  const Cg = g.C / g.groups, Og = g.O / g.groups;
  if (kernel === 'input') {
    return g.strideH === 1 && g.strideW === 1 && g.padH < g.KH && g.padW < g.KW && Cg >= CONV_GEMM_MIN_ROWS && Og * g.KH * g.KW >= MR;
  }
  return Og >= CONV_GEMM_MIN_ROWS && Cg * g.KH * g.KW >= MR;
}

/**
 * Whether a convolution (or its input gradient, `inputGradient`) runs by Winograd: stride 1,
 * 3×3 (F(2×2, 3×3), 2.25× fewer multiplications than the GEMM) or 5×5 (F(3×3, 3×3) on four
 * sub-kernels, 2.25× fewer too), padding up to the kernel size − 1, and enough rows and
 * channels for its GEMMs (K = source channels, × 4 for 5×5) and, for 5×5, enough outputs.
 */
function useWinograd(g: Conv2dGeometry, inputGradient: boolean): boolean {
  const k = g.KH;
  if (dilated(g)) return false;
  if ((k !== 3 && k !== 5) || g.KW !== k || g.strideH !== 1 || g.strideW !== 1 || g.padH > k - 1 || g.padW > k - 1) return false;
  const Cg = g.C / g.groups, Og = g.O / g.groups;
  const rows = inputGradient ? Cg : Og, Cs = inputGradient ? Og : Cg;
  if (k === 5 && g.N * (inputGradient ? g.H * g.W : g.OH * g.OW) < WINOGRAD5_MIN_OUTPUTS) return false;
  return rows >= CONV_GEMM_MIN_ROWS && Cs >= (k === 5 ? WINOGRAD5_MIN_CHANNELS : WINOGRAD_MIN_CHANNELS);
}

/**
 * Whether a 3×3 convolution's weight gradient runs by Winograd (winogradgrad.ts): the forward's
 * conditions, enough tiles over the batch for the GEMMs' reduction, and not so many that the
 * transformed input and dy would take more memory than the budget.
 */
function useWinogradWeights(g: Conv2dGeometry): boolean {
  if (g.KH !== 3 || !useWinograd(g, false)) return false;
  const tiles = g.N * Math.ceil(g.OH / 2) * roundUp(Math.ceil(g.OW / 2), 4);
  return tiles >= WINOGRAD_GRAD_MIN_TILES && 16 * (g.C + g.O) * tiles * 4 <= WINOGRAD_GRAD_MAX_BYTES;
}

/** Whether the kernel's taps are spread out: only the im2col route handles that (assembly/conv.ts). */
function dilated(g: Conv2dGeometry): boolean {
  return g.dilationH !== 1 || g.dilationW !== 1;
}

function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/** [start, end) ranges splitting [0, count) into at most `parts`, ends multiples of `align` (but the last). */
function ranges(count: number, parts: number, align: number): [number, number][] {
  const per = Math.ceil(count / align / parts) * align;
  const out: [number, number][] = [];
  for (let start = 0; start < count; start += per) out.push([start, Math.min(count, start + per)]);
  return out;
}

function convWeights(g: Conv2dGeometry): number {
  return g.O * (g.C / g.groups) * g.KH * g.KW;
}

