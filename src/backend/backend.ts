import type { FloatArray } from '../tensor.js';

/**
 * Geometry of a 2-D convolution on NCHW tensors. Weights are [O, C/groups, KH, KW].
 * Like every DL framework, "convolution" here is cross-correlation: the kernel is not flipped.
 * Tap (kh, kw) of output (oh, ow) reads input (oh·strideH − padH + kh·dilationH, ow·strideW −
 * padW + kw·dilationW); OH = ⌊(H + 2·padH − dilationH·(KH − 1) − 1)/strideH⌋ + 1, likewise OW.
 */
export interface Conv2dGeometry {
  N: number;
  C: number;
  H: number;
  W: number;
  O: number;
  KH: number;
  KW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  OH: number;
  OW: number;
  groups: number;
  dilationH: number;
  dilationW: number;
}

/** Geometry of a 2-D pooling window on NCHW tensors. OH/OW may include ceil-mode windows. */
export interface Pool2dGeometry {
  N: number;
  C: number;
  H: number;
  W: number;
  KH: number;
  KW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  OH: number;
  OW: number;
}

export interface SgdOptions {
  lr: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
}

export interface AdamOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW-style decoupled decay instead of L2 added to the gradient. */
  decoupled: boolean;
  /** 1-based step count, for bias correction. */
  step: number;
}

/** One parameter's share of a fused optimizer step (see Backend.sgdSteps / adamSteps). */
export interface ParamUpdate {
  w: FloatArray;
  g: FloatArray;
  /** The optimizer's state for this parameter: [velocity] for SGD, [m, v] for Adam. */
  state: readonly FloatArray[];
  /** This parameter's learning rate (its group's scale applied) and weight decay (0 where it does not apply). */
  lr: number;
  weightDecay: number;
}

export type Labels = Uint8Array | Int32Array;

/** Integer arrays a kernel may keep on its device (max-pooling's argmax). */
export type IndexArray = Int32Array;

/**
 * Every numeric kernel convkit needs. Layers call only these, so a new backend (WASM SIMD,
 * WebGPU) plugs in without touching layers. All arrays are row-major; "write" kernels
 * overwrite their output, "accumulate" kernels add into it, as each comment says.
 * Storage comes from `alloc`, so a backend can place tensors in its own memory.
 *
 * Residency: kernels may run on a device (a GPU) that keeps its own copy of each array and
 * runs them later, in order. Whoever writes an array on the host (initialisation, a loaded
 * file, an input batch, a dropout mask) calls `upload` afterwards; whoever reads one on the
 * host (loss, probabilities, weights to save) first awaits `download`. CPU backends share
 * the host memory, so for them both are free. Label arrays are plain host arrays: kernels
 * that take labels read them at call time.
 */
export interface Backend {
  readonly name: string;
  readonly dtype: 'float32' | 'float64';

  /** Releases what the backend holds outside the heap (worker threads, a GPU device); optional. */
  dispose?(): void;

  /**
   * Device loss, for backends that can lose their device (WebGPU; absent on CPU backends):
   * resolves, with the reason in words, once the device is gone for good — a driver reset, the
   * GPU unplugged, the browser reclaiming it. Its arrays are then lost and every later call
   * throws; continue from host copies of the weights on a new backend. Not resolved by dispose().
   */
  readonly lost?: Promise<string>;
  /**
   * The error that stopped this backend (device lost, a kernel that did not compile, a failed
   * command), or undefined while it works: after a call threw, was it the backend?
   */
  failure?(): Error | undefined;
  /** The device in words, for display (a GPU adapter's name, e.g. "google swiftshader"); optional. */
  readonly description?: string;
  /** Runs on a device emulated on the CPU (a software GPU adapter): correct, but far slower than it looks. */
  readonly emulated?: boolean;

  /** A zero-filled array of n elements owned by this backend. */
  alloc(n: number): FloatArray;

  /** The host wrote into `a` (allocated here, or an index array a kernel took): make the device copy current. */
  upload(a: FloatArray | IndexArray): void;
  /** Makes the host copies of these arrays current, once every kernel queued before has run. */
  download(arrays: readonly (FloatArray | IndexArray)[]): Promise<void>;

  /** C = alpha * op(A) * op(B) + beta * C; op(A) is M×K, op(B) is K×N, row-major. */
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number, A: FloatArray, B: FloatArray, beta: number, C: FloatArray): void;

  /** y = conv(x, w) + bias (write). */
  conv2dForward(g: Conv2dGeometry, x: FloatArray, w: FloatArray, bias: FloatArray | null, y: FloatArray): void;
  /** dx = dL/dx given dy (write). */
  conv2dBackwardInput(g: Conv2dGeometry, dy: FloatArray, w: FloatArray, dx: FloatArray): void;
  /** dw = dL/dw, dbias = dL/dbias (write). */
  conv2dBackwardWeights(g: Conv2dGeometry, x: FloatArray, dy: FloatArray, dw: FloatArray, dbias: FloatArray | null): void;

  /** Max pooling; argmax[i] is the flat input index chosen for output i (-1 if the window is all padding). */
  maxPool2dForward(g: Pool2dGeometry, x: FloatArray, y: FloatArray, argmax: IndexArray): void;
  /** dx (write) from dy and the forward argmax. */
  maxPool2dBackward(g: Pool2dGeometry, dy: FloatArray, argmax: IndexArray, dx: FloatArray): void;
  /** Average pooling; the divisor counts padded positions when countPad is true (never positions past the padding). */
  avgPool2dForward(g: Pool2dGeometry, x: FloatArray, y: FloatArray, countPad: boolean): void;
  avgPool2dBackward(g: Pool2dGeometry, dy: FloatArray, dx: FloatArray, countPad: boolean): void;

  /** y[r, c] = x[r, c] + b[c] (x may equal y). */
  addBias(rows: number, cols: number, x: FloatArray, b: FloatArray, y: FloatArray): void;
  /** db[c] = sum_r dy[r, c] (write). */
  sumRows(rows: number, cols: number, dy: FloatArray, db: FloatArray): void;

  /** out = a + b (out may alias a or b). */
  add(a: FloatArray, b: FloatArray, out: FloatArray): void;
  /** out = a * b element-wise. */
  mul(a: FloatArray, b: FloatArray, out: FloatArray): void;
  /** y += alpha * x. */
  axpy(alpha: number, x: FloatArray, y: FloatArray): void;
  /** Copy rows of a channel-blocked tensor: dst[n, dstOffset + i] = src[n, i] for i < srcBlock; used by concat and its gradient. */
  copyBlocks(N: number, src: FloatArray, srcStride: number, srcOffset: number, dst: FloatArray, dstStride: number, dstOffset: number, block: number): void;

  /** Adaptive average pooling (PyTorch's): output cell i covers rows [⌊i·H/OH⌋, ⌈(i+1)·H/OH⌉), likewise columns. */
  adaptiveAvgPool2dForward(g: Pool2dGeometry, x: FloatArray, y: FloatArray): void;
  adaptiveAvgPool2dBackward(g: Pool2dGeometry, dy: FloatArray, dx: FloatArray): void;

  /** Per-channel mean and biased variance over N and the HW positions of [N, C, HW] (write). */
  batchNormStats(N: number, C: number, HW: number, x: FloatArray, mean: FloatArray, variance: FloatArray): void;
  /** y = gamma[c]·(x − mean[c])·invStd[c] + beta[c]. */
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
  ): void;
  /**
   * After batchNormStats: invStd[c] = 1/√(variance[c] + eps) and the running statistics move
   * towards the batch's: running = (1 − momentum)·running + momentum·batch, the variance
   * scaled by `unbias` (n/(n−1)). With momentum 0 and the running statistics passed as mean
   * and variance, it only computes invStd from them (evaluation mode).
   */
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
  ): void;
  /**
   * Backward of batch norm: dx, dgamma = Σ dy·x̂, dbeta = Σ dy (all written). With
   * `batchStatistics` (training) the mean and invStd were the batch's own, so dx carries their
   * dependence on x; without (evaluation: running statistics, constants) dx = dy·gamma·invStd.
   */
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
  ): void;

  /**
   * Local response normalisation across channels (AlexNet): scale = k + (alpha/size)·Σ x² over
   * channels [c − before, c − before + size − 1]; y = x · scale^(−beta). `scale` is written for the
   * backward pass. `before` defaults to ⌊size/2⌋ (PyTorch, Caffe); ONNX's LRN uses ⌊(size−1)/2⌋.
   */
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
    before?: number,
  ): void;
  lrnBackward(
    N: number,
    C: number,
    HW: number,
    size: number,
    alpha: number,
    beta: number,
    k: number,
    x: FloatArray,
    y: FloatArray,
    scale: FloatArray,
    dy: FloatArray,
    dx: FloatArray,
    before?: number,
  ): void;

  /** y = clamp(alpha·x + beta, 0, 1): ONNX HardSigmoid (PyTorch's hardsigmoid is alpha 1/6, beta 1/2). */
  hardSigmoid(x: FloatArray, y: FloatArray, alpha: number, beta: number): void;
  /** dx = alpha·dy where 0 < alpha·x + beta < 1, 0 elsewhere. */
  hardSigmoidBackward(x: FloatArray, dy: FloatArray, dx: FloatArray, alpha: number, beta: number): void;
  /** y[p, i] = x[p, i]·s[p] over P planes of HW values: a per-image, per-channel scale (squeeze-excitation). */
  channelScale(P: number, HW: number, x: FloatArray, s: FloatArray, y: FloatArray): void;
  /** dx[p, i] = dy[p, i]·s[p] and ds[p] = Σ_i dy[p, i]·x[p, i]. */
  channelScaleBackward(P: number, HW: number, x: FloatArray, s: FloatArray, dy: FloatArray, dx: FloatArray, ds: FloatArray): void;

  /**
   * Layer norm over channels of [N, C, HW] (each of the N·HW positions normalised over its C
   * values, biased variance): y = gamma[c]·(x − mean[p])·invStd[p] + beta[c], with
   * invStd = 1/√(variance + eps); mean and invStd (N·HW values each) are written for the backward pass.
   */
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
  ): void;
  /** dx, dgamma = Σ dy·x̂, dbeta = Σ dy over N and HW (all written), from the forward's mean and invStd. */
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
  ): void;
  /** y = x·Φ(x) = x·(1 + erf(x/√2))/2: exact GELU. */
  gelu(x: FloatArray, y: FloatArray): void;
  /** dx = dy·(Φ(x) + x·φ(x)), φ the standard normal density. */
  geluBackward(x: FloatArray, dy: FloatArray, dx: FloatArray): void;

  /** y = x for x > 0, slope·x otherwise, then capped at `cap` (ReLU: slope 0, cap ∞; ReLU6: cap 6). */
  leakyRelu(x: FloatArray, y: FloatArray, slope: number, cap: number): void;
  /** dx = dy·(1 where 0 < x < cap, slope where x ≤ 0, 0 where x ≥ cap). */
  leakyReluBackward(x: FloatArray, dy: FloatArray, dx: FloatArray, slope: number, cap: number): void;

  /** y = max(x, 0). */
  relu(x: FloatArray, y: FloatArray): void;
  /** dx = dy where x > 0, else 0 (the subgradient at 0 is 0). */
  reluBackward(x: FloatArray, dy: FloatArray, dx: FloatArray): void;
  tanh(x: FloatArray, y: FloatArray): void;
  /** dx = dy * (1 - y²), using the forward output y. */
  tanhBackward(y: FloatArray, dy: FloatArray, dx: FloatArray): void;
  sigmoid(x: FloatArray, y: FloatArray): void;
  /** dx = dy * y * (1 - y), using the forward output y. */
  sigmoidBackward(y: FloatArray, dy: FloatArray, dx: FloatArray): void;

  /** Row-wise softmax of an N×K matrix. */
  softmax(N: number, K: number, x: FloatArray, y: FloatArray): void;
  /** dx = y ⊙ (dy − Σ_k dy·y) per row, using the forward output y (write). */
  softmaxBackward(N: number, K: number, y: FloatArray, dy: FloatArray, dx: FloatArray): void;
  /**
   * Mean cross-entropy of softmax(logits) against integer labels, numerically stable
   * (log-sum-exp), written to loss[0]. Writes probabilities and the fused gradient
   * dlogits = (p - onehot) / N.
   */
  softmaxCrossEntropy(N: number, K: number, logits: FloatArray, labels: Labels, probs: FloatArray, dlogits: FloatArray, loss: FloatArray): void;
  /** out[index] = Σ x² (write): gradient norms without reading gradients back to the host. */
  sumOfSquares(x: FloatArray, out: FloatArray, index: number): void;
  /**
   * Optional: out[i] = Σ xs[i]² for every array at once (a GPU does them in two dispatches per
   * group instead of one or two each). Results equal sumOfSquares(xs[i], out, i) for each i.
   */
  sumsOfSquares?(xs: readonly FloatArray[], out: FloatArray): void;

  /** In-place SGD step: v = momentum * v + (g + wd * w); w -= lr * (nesterov ? g' + momentum * v : v). */
  sgdStep(w: FloatArray, g: FloatArray, v: FloatArray, o: SgdOptions): void;
  /** In-place Adam/AdamW step. */
  adamStep(w: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, o: AdamOptions): void;

  /**
   * Optional: sgdStep for every parameter in one go (a GPU updates them in a few dispatches
   * instead of one each), each with its own lr and weight decay. Results equal calling sgdStep
   * per parameter in order; backends without it get exactly that loop.
   */
  sgdSteps?(updates: readonly ParamUpdate[], o: Omit<SgdOptions, 'lr' | 'weightDecay'>): void;
  /** Optional: adamStep for every parameter in one go (as sgdSteps). */
  adamSteps?(updates: readonly ParamUpdate[], o: Omit<AdamOptions, 'lr' | 'weightDecay'>): void;

  /**
   * Optional non-blocking download: starts copying these arrays back after every kernel queued
   * so far and resolves (in call order) when their host copies are current; the caller may queue
   * the next step's kernels meanwhile. Until it resolves the host copies must not be read or
   * written. Backends without it use download (on CPU backends both are free).
   */
  downloadLater?(arrays: readonly (FloatArray | IndexArray)[]): Promise<void>;
}
