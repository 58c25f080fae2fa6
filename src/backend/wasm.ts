import type { FloatArray } from '../tensor.js';
import type { AdamOptions, Backend, Conv2dGeometry, Labels, Pool2dGeometry, SgdOptions } from './backend.js';
import { WasmHeap } from './wasm-heap.js';
import { type KernelExports, type KernelVariant, type ThreadedKernel, instantiateKernels, loadKernels, threadedKernels } from './wasm-kernels.js';
import { type SpawnWorker, ThreadPool } from './wasm-threads.js';

/** What the host environment provides: the kernel files, and worker threads if it has them. */
export interface WasmPlatform {
  /** Bytes of a file of dist-wasm/ (see assembly/build.mjs). */
  readWasm(file: string): Promise<Uint8Array<ArrayBuffer>>;
  /** Logical CPU cores: the default thread count. */
  cores: number;
  spawnWorker?: SpawnWorker;
}

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
}

const PAGE = 65536;
/** The module's static data (math tables) lies below this; the host's heap starts here. */
const HEAP_BASE = 65536;
/** 16 i32s of conv/pool geometry, written before each conv or pool kernel (in the reserved low region). */
const GEOMETRY = HEAP_BASE - 256;
/** Below this many multiply-adds a kernel runs on the calling thread: waking workers would cost more. */
const PARALLEL_MIN_MACS = 1 << 18;
/** The same for memory-bound kernels (pooling, element-wise), in elements touched. */
const PARALLEL_MIN_ELEMENTS = 1 << 15;
const MR = 4, NR = 8;
const kernelIndex = (name: ThreadedKernel) => threadedKernels.indexOf(name);

type AnyArray = Float32Array | Float64Array | Int32Array | Uint8Array;
type GemmArgs = Parameters<KernelExports['gemm']>;

interface Block { ptr: number; bytes: number }

/**
 * Every kernel in WebAssembly SIMD (AssemblyScript sources in assembly/). Tensors from
 * alloc() are views into the kernels' own linear memory, so kernels get pointers and nothing
 * is copied; arrays from elsewhere (a label Uint8Array, a pooling layer's argmax Int32Array,
 * a plain Float32Array) are copied through scratch memory, correct but slower. GEMM and
 * im2col convolutions above a size threshold are split across worker threads.
 *
 * Blocks are freed when their views are garbage collected: keep the array alloc() returned
 * alive for as long as any subarray of it is in use.
 */
export class WasmBackend implements Backend {
  readonly name = 'wasm';
  readonly dtype = 'float32' as const;
  private readonly geometry: Int32Array;
  /** Per-thread scratch: GEMM packing, im2col columns, partial weight gradients. */
  private readonly workspaces: Block[] = [];
  /** Scratch copies of foreign arrays for the current call. */
  private readonly staging: Block[] = [];
  private stagingUsed = 0;
  private readonly copyBacks: { staged: Float32Array | Int32Array; target: AnyArray }[] = [];
  private readonly gemmBytes: number;

  private constructor(
    private readonly k: KernelExports,
    private readonly heap: WasmHeap,
    private pool: ThreadPool | null,
    /** Which build runs: 'relaxed' (FMA) or 'simd'. */
    readonly variant: KernelVariant,
  ) {
    this.geometry = heap.i32(GEOMETRY, 16);
    this.gemmBytes = k.gemmWorkspaceBytes();
    if (k.dataEnd() > GEOMETRY) throw new Error('wasm backend: kernel static data overlaps the host region');
  }

  static async create(platform: WasmPlatform, options: WasmBackendOptions = {}): Promise<WasmBackend> {
    const maxPages = Math.min(65536, Math.floor((options.maximumMemoryMiB ?? 4096) * 16));
    let memory: WebAssembly.Memory | null = null;
    if (typeof SharedArrayBuffer !== 'undefined' && options.sharedMemory !== false) {
      try {
        memory = new WebAssembly.Memory({ initial: 256, maximum: maxPages, shared: true });
      } catch { /* shared memory unavailable: fall back to a fixed-size plain memory */ }
    }
    const shared = memory !== null;
    memory ??= new WebAssembly.Memory({ initial: Math.min(maxPages, Math.ceil((options.initialMemoryMiB ?? 512) * 16)) });
    const { module, variant } = await loadKernels(platform.readWasm, shared, options.relaxedSimd ?? true);
    const k = instantiateKernels(module, memory);
    const threads = Math.max(1, Math.floor(options.threads ?? platform.cores));
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

  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number,
    alpha: number, A: FloatArray, B: FloatArray, beta: number, C: FloatArray): void {
    const a = this.input(A, M * K, 'A'), b = this.input(B, K * N, 'B');
    const c = beta === 0 ? this.output(C, M * N, 'C') : this.inout(C, M * N, 'C');
    this.gemmPtr(transA, transB, M, N, K, alpha, a, transA ? M : K, b, transB ? K : N, beta, c, N);
    this.finish();
  }

  conv2dForward(g: Conv2dGeometry, x: FloatArray, w: FloatArray, bias: FloatArray | null, y: FloatArray): void {
    const gp = this.convGeometry(g);
    const xp = this.input(x, g.N * g.C * g.H * g.W, 'x'), wp = this.input(w, convWeights(g), 'w');
    const bp = bias ? this.input(bias, g.O, 'bias') : 0;
    const yp = this.output(y, g.N * g.O * g.OH * g.OW, 'y');
    this.convSplit(g, 'conv2dForward', (t, n0, n1, work) => [gp, n0, n1, xp, wp, bp, yp, work]);
    this.finish();
  }

  conv2dBackwardInput(g: Conv2dGeometry, dy: FloatArray, w: FloatArray, dx: FloatArray): void {
    const gp = this.convGeometry(g);
    const dyp = this.input(dy, g.N * g.O * g.OH * g.OW, 'dy'), wp = this.input(w, convWeights(g), 'w');
    const dxp = this.output(dx, g.N * g.C * g.H * g.W, 'dx');
    this.convSplit(g, 'conv2dBackwardInput', (t, n0, n1, work) => [gp, n0, n1, dyp, wp, dxp, work]);
    this.finish();
  }

  conv2dBackwardWeights(g: Conv2dGeometry, x: FloatArray, dy: FloatArray, dw: FloatArray, dbias: FloatArray | null): void {
    const gp = this.convGeometry(g);
    const xp = this.input(x, g.N * g.C * g.H * g.W, 'x'), dyp = this.input(dy, g.N * g.O * g.OH * g.OW, 'dy');
    const wn = convWeights(g);
    const dwp = this.output(dw, wn, 'dw');
    const dbp = dbias ? this.output(dbias, g.O, 'dbias') : 0;
    const convBytes = this.k.convWorkspaceBytes(gp);
    // Threads other than the caller sum their images into partial gradients after their workspace.
    const partial = (work: number) => work + convBytes;
    const threads = this.convSplit(g, 'conv2dBackwardWeights', (t, n0, n1, work) => t === 0
      ? [gp, n0, n1, xp, dyp, dwp, dbp, work]
      : [gp, n0, n1, xp, dyp, partial(work), dbp ? partial(work) + wn * 4 : 0, work],
    (wn + g.O) * 4);
    for (let t = 1; t < threads; t++) {
      const p = partial(this.workspaces[t].ptr);
      this.k.add(dwp, p, dwp, wn);
      if (dbp) this.k.add(dbp, p + wn * 4, dbp, g.O);
    }
    this.finish();
  }

  maxPool2dForward(g: Pool2dGeometry, x: FloatArray, y: FloatArray, argmax: Int32Array): void {
    const gp = this.poolGeometry(g);
    const n = g.N * g.C * g.OH * g.OW;
    const xp = this.input(x, g.N * g.C * g.H * g.W, 'x'), yp = this.output(y, n, 'y'), ap = this.output(argmax, n, 'argmax');
    this.split('maxPool2dForward', g.N * g.C, g.N * g.C * g.H * g.W, (p0, p1) => [gp, p0, p1, xp, yp, ap]);
    this.finish();
  }

  maxPool2dBackward(g: Pool2dGeometry, dy: FloatArray, argmax: Int32Array, dx: FloatArray): void {
    const gp = this.poolGeometry(g);
    const n = g.N * g.C * g.OH * g.OW;
    const dyp = this.input(dy, n, 'dy'), ap = this.input(argmax, n, 'argmax'), dxp = this.output(dx, g.N * g.C * g.H * g.W, 'dx');
    this.split('maxPool2dBackward', g.N * g.C, g.N * g.C * g.H * g.W, (p0, p1) => [gp, p0, p1, dyp, ap, dxp]);
    this.finish();
  }

  avgPool2dForward(g: Pool2dGeometry, x: FloatArray, y: FloatArray, countPad: boolean): void {
    const gp = this.poolGeometry(g);
    const xp = this.input(x, g.N * g.C * g.H * g.W, 'x'), yp = this.output(y, g.N * g.C * g.OH * g.OW, 'y');
    this.split('avgPool2dForward', g.N * g.C, g.N * g.C * g.H * g.W, (p0, p1) => [gp, p0, p1, xp, yp, +countPad]);
    this.finish();
  }

  avgPool2dBackward(g: Pool2dGeometry, dy: FloatArray, dx: FloatArray, countPad: boolean): void {
    const gp = this.poolGeometry(g);
    const dyp = this.input(dy, g.N * g.C * g.OH * g.OW, 'dy'), dxp = this.output(dx, g.N * g.C * g.H * g.W, 'dx');
    this.split('avgPool2dBackward', g.N * g.C, g.N * g.C * g.H * g.W, (p0, p1) => [gp, p0, p1, dyp, dxp, +countPad]);
    this.finish();
  }

  addBias(rows: number, cols: number, x: FloatArray, b: FloatArray, y: FloatArray): void {
    this.k.addBias(rows, cols, this.input(x, rows * cols, 'x'), this.input(b, cols, 'b'), this.output(y, rows * cols, 'y'));
    this.finish();
  }

  sumRows(rows: number, cols: number, dy: FloatArray, db: FloatArray): void {
    this.k.sumRows(rows, cols, this.input(dy, rows * cols, 'dy'), this.output(db, cols, 'db'));
    this.finish();
  }

  add(a: FloatArray, b: FloatArray, out: FloatArray): void {
    this.binary('add', a, b, out);
  }

  mul(a: FloatArray, b: FloatArray, out: FloatArray): void {
    this.binary('mul', a, b, out);
  }

  axpy(alpha: number, x: FloatArray, y: FloatArray): void {
    const n = y.length;
    const xp = this.input(x, n, 'x'), yp = this.inout(y, n, 'y');
    this.elementwise('axpy', n, (i, m) => [alpha, xp + i * 4, yp + i * 4, m]);
    this.finish();
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

  softmax(N: number, K: number, x: FloatArray, y: FloatArray): void {
    this.k.softmax(N, K, this.input(x, N * K, 'x'), this.output(y, N * K, 'y'));
    this.finish();
  }

  softmaxCrossEntropy(N: number, K: number, logits: FloatArray, labels: Labels,
    probs: FloatArray, dlogits: FloatArray): number {
    for (let n = 0; n < N; n++) {
      const label = labels[n];
      if (!(label >= 0 && label < K)) throw new RangeError(`wasm backend: label ${label} at ${n} is not a class index below ${K}`);
    }
    const loss = this.k.softmaxCrossEntropy(N, K, this.input(logits, N * K, 'logits'), this.input(labels, N, 'labels'),
      this.output(probs, N * K, 'probs'), this.output(dlogits, N * K, 'dlogits'));
    this.finish();
    return loss;
  }

  sgdStep(w: FloatArray, g: FloatArray, v: FloatArray, o: SgdOptions): void {
    const n = w.length;
    this.k.sgdStep(this.inout(w, n, 'w'), this.input(g, n, 'g'), this.inout(v, n, 'v'), n,
      o.lr, o.momentum, o.weightDecay, +o.nesterov);
    this.finish();
  }

  adamStep(w: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, o: AdamOptions): void {
    const n = w.length;
    const c1 = 1 - Math.pow(o.beta1, o.step), c2 = 1 - Math.pow(o.beta2, o.step);
    this.k.adamStep(this.inout(w, n, 'w'), this.input(g, n, 'g'), this.inout(m, n, 'm'), this.inout(v, n, 'v'), n,
      o.lr, o.beta1, o.beta2, o.eps, o.weightDecay, +o.decoupled, c1, c2);
    this.finish();
  }

  // ---- threading ----

  /** C = alpha·op(A)·op(B) + beta·C on pointers, split over rows or columns of C across threads when large. */
  private gemmPtr(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number): void {
    const tA = +transA, tB = +transB;
    const pool = this.pool;
    // Split the larger side of C in whole micro-tiles: each thread packs all of the other
    // operand, so that redundant packing falls on the smaller one.
    const byRows = M >= N;
    const tile = byRows ? MR : NR, side = byRows ? M : N;
    const threads = pool && M * N * K >= PARALLEL_MIN_MACS ? Math.min(pool.threads, Math.ceil(side / tile)) : 1;
    if (threads <= 1) {
      this.k.gemm(tA, tB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, this.workspace(0, this.gemmBytes));
      return;
    }
    const chunk = Math.ceil(side / tile / threads) * tile;
    const pieces: GemmArgs[] = [];
    for (let s0 = 0, t = 0; s0 < side; s0 += chunk, t++) {
      const n = Math.min(side, s0 + chunk) - s0;
      const work = this.workspace(t, this.gemmBytes);
      pieces.push(byRows
        ? [tA, tB, n, N, K, alpha, a + (transA ? s0 : s0 * lda) * 4, lda, b, ldb, beta, c + s0 * ldc * 4, ldc, work]
        : [tA, tB, M, n, K, alpha, a, lda, b + (transB ? s0 * ldb : s0) * 4, ldb, beta, c + s0 * 4, ldc, work]);
    }
    pool!.run(kernelIndex('gemm'), pieces);
  }

  /**
   * Runs a conv kernel over the batch, split into contiguous image ranges across threads when
   * the batch is large enough; `args` gives thread t's arguments. Returns the threads used.
   */
  private convSplit(g: Conv2dGeometry, kernel: ThreadedKernel,
    args: (t: number, n0: number, n1: number, work: number) => number[], extraBytes = 0): number {
    const bytes = this.k.convWorkspaceBytes(GEOMETRY) + extraBytes;
    const macs = g.N * g.O * g.OH * g.OW * (g.C / g.groups) * g.KH * g.KW;
    return this.parallel(kernel, g.N, macs >= PARALLEL_MIN_MACS, (t, n0, n1) => args(t, n0, n1, this.workspace(t, bytes)));
  }

  /** Runs a kernel over [0, count) (planes, elements), split across threads when `work` elements are many. */
  private split(kernel: ThreadedKernel, count: number, work: number, args: (start: number, end: number) => number[], align = 1): void {
    this.parallel(kernel, count, work >= PARALLEL_MIN_ELEMENTS, (t, start, end) => args(start, end), align);
  }

  /**
   * Runs `kernel` on [0, count) on this thread, or, when `worthIt`, on one contiguous range per
   * thread (range ends multiples of `align`). Returns the number of ranges.
   */
  private parallel(kernel: ThreadedKernel, count: number, worthIt: boolean,
    args: (t: number, start: number, end: number) => number[], align = 1): number {
    const threads = this.pool && worthIt ? Math.min(this.pool.threads, Math.ceil(count / align)) : 1;
    if (threads <= 1) {
      (this.k[kernel] as (...a: number[]) => void)(...args(0, 0, count));
      return 1;
    }
    const pieces: number[][] = [];
    const per = Math.ceil(count / align / threads) * align;
    for (let t = 0; t * per < count; t++) pieces.push(args(t, t * per, Math.min(count, (t + 1) * per)));
    this.pool!.run(kernelIndex(kernel), pieces);
    return pieces.length;
  }

  /** Thread t's workspace, grown (never shrunk) to at least `bytes`. */
  private workspace(t: number, bytes: number): number {
    const w = this.workspaces[t];
    if (w && w.bytes >= bytes) return w.ptr;
    if (w) this.heap.release(w.ptr);
    const grown = { ptr: this.heap.allocBytes(bytes), bytes };
    this.workspaces[t] = grown;
    return grown.ptr;
  }

  // ---- geometry ----

  private convGeometry(g: Conv2dGeometry): number {
    const v = this.geometry;
    v[0] = g.N; v[1] = g.C; v[2] = g.H; v[3] = g.W;
    v[4] = g.O; v[5] = g.KH; v[6] = g.KW;
    v[7] = g.strideH; v[8] = g.strideW; v[9] = g.padH; v[10] = g.padW;
    v[11] = g.OH; v[12] = g.OW; v[13] = g.groups;
    return GEOMETRY;
  }

  private poolGeometry(g: Pool2dGeometry): number {
    const v = this.geometry;
    v[0] = g.N; v[1] = g.C; v[2] = g.H; v[3] = g.W;
    v[4] = g.KH; v[5] = g.KW; v[6] = g.strideH; v[7] = g.strideW;
    v[8] = g.padH; v[9] = g.padW; v[10] = g.OH; v[11] = g.OW;
    return GEOMETRY;
  }

  // ---- pointers and staging ----

  private unary(kernel: 'relu' | 'tanh' | 'sigmoid', x: FloatArray, y: FloatArray): void {
    const n = y.length;
    const xp = this.input(x, n, 'x'), yp = this.output(y, n, 'y');
    this.elementwise(kernel, n, (i, m) => [xp + i * 4, yp + i * 4, m]);
    this.finish();
  }

  private binary(kernel: 'add' | 'mul' | 'reluBackward' | 'tanhBackward' | 'sigmoidBackward', a: FloatArray, b: FloatArray, out: FloatArray): void {
    const n = out.length;
    const ap = this.input(a, n, 'input'), bp = this.input(b, n, 'input'), op = this.output(out, n, 'output');
    this.elementwise(kernel, n, (i, m) => [ap + i * 4, bp + i * 4, op + i * 4, m]);
    this.finish();
  }

  /** An element-wise kernel over n elements, in ranges of whole cache lines across threads when long. */
  private elementwise(kernel: ThreadedKernel, n: number, args: (start: number, count: number) => number[]): void {
    this.split(kernel, n, n, (start, end) => args(start, end - start), 16);
  }

  /** Pointer to n readable elements of a: a itself if it lives in wasm memory, else a scratch copy. */
  private input(a: AnyArray, n: number, what: string): number {
    const p = this.direct(a, n, what);
    if (p >= 0) return p;
    const staged = this.stage(a, n);
    staged.set(a.subarray(0, n));
    return staged.byteOffset;
  }

  /** Pointer to n writable elements of a; a scratch block is copied back into a by finish(). */
  private output(a: AnyArray, n: number, what: string): number {
    const p = this.direct(a, n, what);
    if (p >= 0) return p;
    const staged = this.stage(a, n);
    this.copyBacks.push({ staged, target: a });
    return staged.byteOffset;
  }

  private inout(a: AnyArray, n: number, what: string): number {
    const p = this.direct(a, n, what);
    if (p >= 0) return p;
    const staged = this.stage(a, n);
    staged.set(a.subarray(0, n));
    this.copyBacks.push({ staged, target: a });
    return staged.byteOffset;
  }

  /** a's own pointer when it is a 4-byte-element view into our memory, else -1. Checks the length. */
  private direct(a: AnyArray, n: number, what: string): number {
    if (a.length < n) throw new RangeError(`wasm backend: ${what} has ${a.length} elements, the kernel needs ${n}`);
    return (a instanceof Float32Array || a instanceof Int32Array) && this.heap.owns(a) ? a.byteOffset : -1;
  }

  /** A scratch view for a foreign array: float data as f32, integer data (labels, argmax) as i32. */
  private stage(a: AnyArray, n: number): Float32Array | Int32Array {
    const i = this.stagingUsed++;
    const bytes = Math.max(n, 1) * 4;
    let block = this.staging[i];
    if (!block || block.bytes < bytes) {
      if (block) this.heap.release(block.ptr);
      block = { ptr: this.heap.allocBytes(bytes), bytes };
      this.staging[i] = block;
    }
    const isFloat = a instanceof Float32Array || a instanceof Float64Array;
    return isFloat ? this.heap.f32(block.ptr, n) : this.heap.i32(block.ptr, n);
  }

  /** Copies staged outputs back to their arrays and frees the call's scratch slots. */
  private finish(): void {
    for (const { staged, target } of this.copyBacks) target.set(staged);
    this.copyBacks.length = 0;
    this.stagingUsed = 0;
  }
}

function convWeights(g: Conv2dGeometry): number {
  return g.O * (g.C / g.groups) * g.KH * g.KW;
}

