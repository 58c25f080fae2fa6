/**
 * The WASM kernel module (assembly/kernels.ts, built by assembly/build.mjs into dist-wasm/):
 * its exports' signatures, and picking the best build the engine accepts.
 * Pointers are byte offsets into the imported memory; booleans are 0/1.
 */

import { ConvkitError } from '../errors.js';

type Ptr = number;
type Flag = number;

export interface KernelExports {
  dataEnd(): number;
  gemmWorkspaceBytes(): number;
  convWorkspaceBytes(geometry: Ptr): number;
  gemm(transA: Flag, transB: Flag, M: number, N: number, K: number, alpha: number,
    A: Ptr, lda: number, B: Ptr, ldb: number, beta: number, C: Ptr, ldc: number, work: Ptr): void;
  /** Packs strips [s0, s1) (NR columns, all of K) of op(B) for gemmPacked. */
  gemmPackB(transB: Flag, K: number, N: number, B: Ptr, ldb: number, s0: number, s1: number, packed: Ptr): void;
  /** gemm on a block of rows with B packed whole by gemmPackB. */
  gemmPacked(transA: Flag, M: number, N: number, K: number, alpha: number, A: Ptr, lda: number, packedB: Ptr,
    beta: number, C: Ptr, ldc: number, work: Ptr): void;
  /** `packed`: the filters packed by directPack when usesDirect, else 0. */
  conv2dForward(geometry: Ptr, n0: number, n1: number, x: Ptr, w: Ptr, bias: Ptr, y: Ptr, work: Ptr, packed: Ptr): void;
  conv2dBackwardInput(geometry: Ptr, n0: number, n1: number, dy: Ptr, w: Ptr, dx: Ptr, work: Ptr, packed: Ptr): void;
  /** Whether the forward (or input gradient, `flip`) runs by the direct kernel, whose filters the host packs once per call. */
  usesDirect(geometry: Ptr, flip: Flag): number;
  directPackedBytes(geometry: Ptr, flip: Flag): number;
  directPack(geometry: Ptr, flip: Flag, w: Ptr, packed: Ptr): void;
  conv2dBackwardWeights(geometry: Ptr, n0: number, n1: number, x: Ptr, dy: Ptr, dw: Ptr, dbias: Ptr, work: Ptr): void;
  /** Floats convPackWeights writes: rows are filters, or input channels when `flip` (input gradient). */
  convPackedWeightsFloats(geometry: Ptr, flip: Flag): number;
  /** Strips (of MR rows, over all groups) that convPackWeights packs; it covers strips [q0, q1). */
  convPackedStrips(geometry: Ptr, flip: Flag): number;
  convPackWeights(geometry: Ptr, flip: Flag, q0: number, q1: number, w: Ptr, packed: Ptr): void;
  /** Convolution as GEMM (assembly/convgemm.ts): images [n0, n1), output positions [j0, j1) of each. */
  convGemmForward(geometry: Ptr, flip: Flag, n0: number, n1: number, j0: number, j1: number,
    src: Ptr, packed: Ptr, bias: Ptr, dst: Ptr, work: Ptr): void;
  /** Winograd F(2×2, 3×3) (assembly/winograd.ts); `view` is the host-written View record. */
  winogradWeights(geometry: Ptr, flip: Flag, q0: number, q1: number, w: Ptr, U: Ptr, view: Ptr): void;
  winogradInput(geometry: Ptr, p0: number, p1: number, src: Ptr, V: Ptr, work: Ptr, view: Ptr): void;
  winogradMultiply(geometry: Ptr, group: number, r0: number, r1: number, s0: number, s1: number,
    U: Ptr, V: Ptr, bias: Ptr, dst: Ptr, work: Ptr, view: Ptr): void;
  winogradProductsBytes(): number;
  /** Bytes of per-thread workspace for winogradInput and winogradGradInput: a zero-bordered plane. */
  winogradInputBytes(view: Ptr): number;
  /** Winograd weight gradient of 3×3 convolutions (assembly/winogradgrad.ts and winograd.ts winogradGradInput). */
  winogradGradInput(geometry: Ptr, p0: number, p1: number, x: Ptr, V: Ptr, work: Ptr, view: Ptr): void;
  winogradGradOutput(geometry: Ptr, p0: number, p1: number, dy: Ptr, D: Ptr, work: Ptr, view: Ptr): void;
  winogradGradOutputBytes(view: Ptr): number;
  winogradGradProducts(geometry: Ptr, q0: number, q1: number, D: Ptr, V: Ptr, dU: Ptr, work: Ptr, view: Ptr): void;
  winogradGradWeights(geometry: Ptr, o0: number, o1: number, dU: Ptr, dy: Ptr, dw: Ptr, dbias: Ptr, view: Ptr): void;
  /** Winograd for 5×5 kernels from F(3×3, 3×3) on four sub-kernels (assembly/winograd5.ts); same arguments as above. */
  winograd5Weights(geometry: Ptr, flip: Flag, q0: number, q1: number, w: Ptr, U: Ptr, view: Ptr): void;
  winograd5Input(geometry: Ptr, p0: number, p1: number, src: Ptr, V: Ptr, work: Ptr, view: Ptr): void;
  winograd5Multiply(geometry: Ptr, group: number, r0: number, r1: number, s0: number, s1: number,
    U: Ptr, V: Ptr, bias: Ptr, dst: Ptr, work: Ptr, view: Ptr): void;
  winograd5ProductsBytes(view: Ptr): number;
  winograd5InputBytes(view: Ptr): number;
  /** Weight gradient columns (taps) [j0, j1) of groups [g0, g1) over the whole batch, from dy packed by convPackGradient; their dbias from the piece with j0 = 0. */
  convGemmWeights(geometry: Ptr, g0: number, g1: number, j0: number, j1: number, x: Ptr, dy: Ptr, packedDy: Ptr,
    dw: Ptr, dbias: Ptr, work: Ptr): void;
  convPackedGradientFloats(geometry: Ptr): number;
  /** Packs strips [q0, q1) (MR rows of a group, group-major) of dy for convGemmWeights. */
  convPackGradient(geometry: Ptr, q0: number, q1: number, dy: Ptr, packed: Ptr): void;
  /** Pooling kernels cover planes (n, c) in [p0, p1). */
  maxPool2dForward(geometry: Ptr, p0: number, p1: number, x: Ptr, y: Ptr, argmax: Ptr): void;
  maxPool2dBackward(geometry: Ptr, p0: number, p1: number, dy: Ptr, argmax: Ptr, dx: Ptr): void;
  avgPool2dForward(geometry: Ptr, p0: number, p1: number, x: Ptr, y: Ptr, countPad: Flag): void;
  avgPool2dBackward(geometry: Ptr, p0: number, p1: number, dy: Ptr, dx: Ptr, countPad: Flag): void;
  adaptiveAvgPool2dForward(geometry: Ptr, p0: number, p1: number, x: Ptr, y: Ptr): void;
  adaptiveAvgPool2dBackward(geometry: Ptr, p0: number, p1: number, dy: Ptr, dx: Ptr): void;
  /** Batch-norm statistics and backward cover channels [c0, c1); apply covers planes (n, c) in [p0, p1). */
  batchNormStats(N: number, C: number, HW: number, c0: number, c1: number, x: Ptr, mean: Ptr, variance: Ptr): void;
  batchNormApply(C: number, HW: number, p0: number, p1: number, x: Ptr, mean: Ptr, invStd: Ptr, gamma: Ptr, beta: Ptr, y: Ptr): void;
  batchNormBackward(N: number, C: number, HW: number, c0: number, c1: number, x: Ptr, dy: Ptr, mean: Ptr, invStd: Ptr,
    gamma: Ptr, dx: Ptr, dgamma: Ptr, dbeta: Ptr, batchStatistics: number): void;
  /** LRN kernels cover planes (n, c) in [p0, p1); the window is [c − before, c − before + size − 1]. */
  lrnForward(C: number, HW: number, p0: number, p1: number, size: number, before: number, alpha: number, beta: number, k: number,
    x: Ptr, scale: Ptr, y: Ptr): void;
  lrnBackward(C: number, HW: number, p0: number, p1: number, size: number, before: number, alpha: number, beta: number,
    x: Ptr, y: Ptr, scale: Ptr, dy: Ptr, dx: Ptr): void;
  add(a: Ptr, b: Ptr, out: Ptr, n: number): void;
  mul(a: Ptr, b: Ptr, out: Ptr, n: number): void;
  axpy(alpha: number, x: Ptr, y: Ptr, n: number): void;
  addBias(rows: number, cols: number, x: Ptr, b: Ptr, y: Ptr): void;
  sumRows(rows: number, cols: number, dy: Ptr, db: Ptr): void;
  relu(x: Ptr, y: Ptr, n: number): void;
  reluBackward(x: Ptr, dy: Ptr, dx: Ptr, n: number): void;
  leakyRelu(x: Ptr, y: Ptr, n: number, slope: number, cap: number): void;
  leakyReluBackward(x: Ptr, dy: Ptr, dx: Ptr, n: number, slope: number, cap: number): void;
  tanh(x: Ptr, y: Ptr, n: number): void;
  tanhBackward(y: Ptr, dy: Ptr, dx: Ptr, n: number): void;
  sigmoid(x: Ptr, y: Ptr, n: number): void;
  sigmoidBackward(y: Ptr, dy: Ptr, dx: Ptr, n: number): void;
  hardSigmoid(x: Ptr, y: Ptr, n: number, alpha: number, beta: number): void;
  hardSigmoidBackward(x: Ptr, dy: Ptr, dx: Ptr, n: number, alpha: number, beta: number): void;
  /** Per-plane scale kernels cover planes [p0, p1). */
  channelScale(HW: number, p0: number, p1: number, x: Ptr, s: Ptr, y: Ptr): void;
  channelScaleBackward(HW: number, p0: number, p1: number, x: Ptr, s: Ptr, dy: Ptr, dx: Ptr, ds: Ptr): void;
  /** Layer norm over channels (assembly/layernorm.ts): forward and dx cover positions (n·HW + i) in [p0, p1), the parameter gradients channels [c0, c1). */
  layerNormForward(C: number, HW: number, p0: number, p1: number, x: Ptr, gamma: Ptr, beta: Ptr, eps: number, mean: Ptr, invStd: Ptr, y: Ptr): void;
  layerNormBackward(C: number, HW: number, p0: number, p1: number, x: Ptr, dy: Ptr, mean: Ptr, invStd: Ptr, gamma: Ptr, dx: Ptr): void;
  layerNormParamGrads(N: number, C: number, HW: number, c0: number, c1: number, x: Ptr, dy: Ptr, mean: Ptr, invStd: Ptr, dgamma: Ptr, dbeta: Ptr): void;
  gelu(x: Ptr, y: Ptr, n: number): void;
  geluBackward(x: Ptr, dy: Ptr, dx: Ptr, n: number): void;
  softmax(N: number, K: number, x: Ptr, y: Ptr): void;
  softmaxBackward(N: number, K: number, y: Ptr, dy: Ptr, dx: Ptr): void;
  /** Σ x² in double precision. */
  sumOfSquares(x: Ptr, n: number): number;
  /** Whether `bytes` bytes at a and b are bit-for-bit equal. */
  sameBytes(a: Ptr, b: Ptr, bytes: number): number;
  softmaxCrossEntropy(N: number, K: number, logits: Ptr, labels: Ptr, probs: Ptr, dlogits: Ptr): number;
  sgdStep(w: Ptr, g: Ptr, v: Ptr, n: number, lr: number, momentum: number, weightDecay: number, nesterov: Flag): void;
  adamStep(w: Ptr, g: Ptr, m: Ptr, v: Ptr, n: number, lr: number, beta1: number, beta2: number, eps: number,
    weightDecay: number, decoupled: Flag, c1: number, c2: number): void;
}

/** Names of the exports worker threads may be asked to run (index = task id). */
export const threadedKernels = ['gemm', 'conv2dForward', 'conv2dBackwardInput', 'conv2dBackwardWeights',
  'maxPool2dForward', 'maxPool2dBackward', 'avgPool2dForward', 'avgPool2dBackward',
  'adaptiveAvgPool2dForward', 'adaptiveAvgPool2dBackward', 'batchNormStats', 'batchNormApply', 'batchNormBackward',
  'lrnForward', 'lrnBackward', 'add', 'mul', 'axpy', 'relu', 'reluBackward', 'leakyRelu', 'leakyReluBackward',
  'tanh', 'tanhBackward', 'sigmoid', 'sigmoidBackward', 'convGemmForward', 'convGemmWeights', 'convPackWeights',
  'winogradWeights', 'winogradInput', 'winogradMultiply', 'winogradGradInput', 'winogradGradOutput', 'winogradGradProducts', 'winogradGradWeights', 'gemmPackB', 'gemmPacked', 'sgdStep', 'adamStep', 'convPackGradient',
  'winograd5Weights', 'winograd5Input', 'winograd5Multiply',
  'hardSigmoid', 'hardSigmoidBackward', 'channelScale', 'channelScaleBackward',
  'layerNormForward', 'layerNormBackward', 'layerNormParamGrads', 'gelu', 'geluBackward'] as const;
export type ThreadedKernel = typeof threadedKernels[number];

export type KernelVariant = 'relaxed' | 'simd';

export interface LoadedKernels {
  module: WebAssembly.Module;
  variant: KernelVariant;
}

/** File name of a build in dist-wasm/. */
export function kernelFile(variant: KernelVariant, shared: boolean): string {
  return `kernels-${variant}${shared ? '' : '-unshared'}.wasm`;
}

/**
 * Compiles the fastest build the engine supports: relaxed SIMD (fused multiply-add) first,
 * unless `relaxed` is false, then plain SIMD. Relaxed SIMD needs Chromium or a flag on Node 20.
 */
export async function loadKernels(read: (file: string) => Promise<Uint8Array<ArrayBuffer>>, shared: boolean,
  relaxed = true): Promise<LoadedKernels> {
  const variants: KernelVariant[] = relaxed === false ? ['simd'] : ['relaxed', 'simd'];
  const failures: string[] = [];
  for (const variant of variants) {
    const file = kernelFile(variant, shared);
    try {
      const bytes = await read(file);
      if (!WebAssembly.validate(bytes)) { failures.push(`${file}: not supported by this engine`); continue; }
      return { module: await WebAssembly.compile(bytes), variant };
    } catch (e) {
      failures.push((e as Error).message);
    }
  }
  throw new ConvkitError(`wasm backend: no usable kernel build (${failures.join('; ')}); WebAssembly SIMD is required`);
}

export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  const instance = new WebAssembly.Instance(module, { env: { memory, abort: wasmAbort } });
  return instance.exports as unknown as KernelExports;
}

function wasmAbort(): never {
  throw new Error('internal error: wasm backend: kernel aborted');
}
