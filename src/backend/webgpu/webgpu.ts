/// <reference types="@webgpu/types" />
import { ConvkitError } from '../../errors.js';
import type { FloatArray } from '../../tensor.js';
import type { AdamOptions, Backend, Conv2dGeometry, IndexArray, Labels, ParamUpdate, Pool2dGeometry, SgdOptions } from '../backend.js';
import { type WebGpuBackendOptions, type WebGpuInfo, openDevice } from './device.js';
import { type DispatchStats, type KernelTimes, Dispatcher, emptyStats } from './dispatch.js';
import * as conv from './kernels-conv.js';
import { type EwOp, copyBlocks, ops, runElementwise } from './kernels-elementwise.js';
import { type GemmKernel, type ImplicitGemm, gemmSpec, runGemm } from './kernels-gemm.js';
import * as loss from './kernels-loss.js';
import * as layerNorm from './kernels-layernorm.js';
import * as norm from './kernels-norm.js';
import { type FusedKind, type FusedParam, optimOps, runFused } from './kernels-optim.js';
import * as pool from './kernels-pool.js';
import * as scale from './kernels-scale.js';
import { type Resident, Residency } from './residency.js';

export type { WebGpuBackendOptions, WebGpuInfo } from './device.js';
export type { DispatchStats, KernelTimes } from './dispatch.js';

const gemmSpecs: ImplicitGemm[] = [gemmSpec(false, false), gemmSpec(false, true), gemmSpec(true, false), gemmSpec(true, true)];

/**
 * Every kernel as WebGPU compute shaders (WGSL). Arrays from `alloc` are host mirrors of GPU
 * buffers (residency.ts): kernels are recorded into one command encoder and run when the
 * queue needs them (dispatch.ts); `upload` publishes host writes, `download` fetches results.
 * Kernel families: kernels-gemm.ts (tiled GEMM, also the implicit-GEMM convolutions of
 * kernels-conv.ts), kernels-pool.ts, kernels-elementwise.ts (activations, arithmetic, bias),
 * kernels-norm.ts, kernels-loss.ts (softmax, cross-entropy, reductions), kernels-optim.ts.
 */
export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  readonly dtype = 'float32' as const;
  private readonly d: Dispatcher;
  private readonly residency: Residency;
  private disposed = false;

  private constructor(
    readonly device: GPUDevice,
    readonly info: WebGpuInfo,
    readonly gemmKernel: GemmKernel,
    debug: boolean,
  ) {
    this.d = new Dispatcher(device, gemmKernel, debug);
    this.residency = new Residency(this.d, Math.min(info.maxStorageBufferBindingSize, info.maxBufferSize));
    device.addEventListener('uncapturederror', (e) => {
      this.d.fail(new ConvkitError(`webgpu backend: a GPU command failed: ${(e as GPUUncapturedErrorEvent).error.message}`));
    });
    this.lost = new Promise((resolve) => {
      void device.lost.then((lost) => {
        if (this.disposed) return;
        const why = `the GPU device was lost (${lost.reason}${lost.message ? `: ${lost.message.trim()}` : ''})`;
        this.d.fail(new ConvkitError(`webgpu backend: ${why}; its arrays are gone. Recreate the backend, or run with --backend wasm.`));
        resolve(why);
      });
    });
  }

  /** Resolves with the reason once the device is lost (see Backend.lost). */
  readonly lost: Promise<string>;

  failure(): Error | undefined {
    return this.d.failure ?? undefined;
  }

  /** The adapter in words, as WebGPU reports it ("google swiftshader"). */
  get description(): string {
    const { vendor, architecture, device, description } = this.info;
    return [vendor, architecture, device, description].filter((s) => s).join(' ') || 'unnamed adapter';
  }

  get emulated(): boolean {
    return this.info.software;
  }

  /** Destroys the device as a driver reset would (tests of recovery): `lost` resolves. */
  loseDevice(): void {
    this.device.destroy();
  }

  /** Opens a WebGPU device: navigator.gpu in browsers, Dawn (the `webgpu` package) in Node. */
  static async create(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
    const { device, info } = await openDevice(options);
    return new WebGpuBackend(device, info, options.gemmKernel ?? (info.software ? 'registers' : 'auto'), options.debug ?? false);
  }

  /**
   * What was asked of the GPU since the last resetStats(): dispatches, submits, copies, uploads,
   * blocking read-backs (download) and non-blocking ones (downloadLater), bytes read back.
   * Reset at the start of a step and read at its end for per-step counts.
   */
  stats(): DispatchStats {
    return { ...this.d.stats };
  }

  resetStats(): void {
    this.d.stats = emptyStats();
  }

  /** Staging buffers the non-blocking read-back ring has created (constant in steady state). */
  get readbackRingSize(): number {
    return this.d.stagingCreated;
  }

  /**
   * Starts (true) or stops timing each kernel; see kernelTimes(). `timestamps: false` times
   * submissions on the host even where the device has timestamp queries.
   */
  profile(on: boolean, { timestamps = true }: { timestamps?: boolean } = {}): void {
    this.d.check();
    this.d.profile(on, timestamps);
  }

  /** Per kernel: dispatches and milliseconds since profile(true) — GPU timestamps where the device has them. */
  kernelTimes(): Promise<KernelTimes> {
    return this.d.kernelTimes();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.d.fail(new ConvkitError('webgpu backend: used after dispose()'));
    this.device.destroy();
  }

  alloc(n: number): FloatArray {
    this.d.check();
    return this.residency.alloc(n);
  }

  upload(a: FloatArray | IndexArray): void {
    this.d.check();
    this.residency.upload(a);
  }

  download(arrays: readonly (FloatArray | IndexArray)[]): Promise<void> {
    return this.residency.download(arrays);
  }

  /**
   * Non-blocking download: the copies of these arrays go into the current submission (which is
   * submitted now) and the host copies are filled in when the GPU has run it; recording the next
   * step does not wait. Resolves in call order. Until it resolves the host copies hold older
   * values; do not write them (or upload them) meanwhile.
   */
  downloadLater(arrays: readonly (FloatArray | IndexArray)[]): Promise<void> {
    return this.residency.downloadLater(arrays);
  }

  /** Submits the kernels recorded so far (download does this too). */
  flush(): void {
    this.d.check();
    this.d.flush();
  }

  /** Waits until every kernel recorded so far has run (for timing). */
  async finish(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.d.check();
  }

  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number, A: FloatArray, B: FloatArray, beta: number, C: FloatArray): void {
    const a = this.res(A, M * K, 'A'),
      b = this.res(B, K * N, 'B'),
      c = this.res(C, M * N, 'C');
    this.exclusive([c], [a, b], ([out]) =>
      runGemm(this.d, gemmSpecs[(transA ? 2 : 0) + (transB ? 1 : 0)], M, N, K, 1, [a.buffer, b.buffer, out], [alpha, beta], {
        layout: { aAlongK: !transA, bAlongN: !transB },
        A: a.buffer,
        B: b.buffer,
      }),
    );
  }

  conv2dForward(g: Conv2dGeometry, x: FloatArray, w: FloatArray, bias: FloatArray | null, y: FloatArray): void {
    checkConv(g);
    const xr = this.res(x, g.N * g.C * g.H * g.W, 'x'),
      wr = this.res(w, convWeights(g), 'w');
    const br = bias ? this.res(bias, g.O, 'bias') : null,
      yr = this.res(y, g.N * g.O * g.OH * g.OW, 'y');
    this.exclusive([yr], br ? [xr, wr, br] : [xr, wr], ([out]) => conv.conv2dForward(this.d, g, xr.buffer, wr.buffer, br?.buffer ?? null, out));
  }

  conv2dBackwardInput(g: Conv2dGeometry, dy: FloatArray, w: FloatArray, dx: FloatArray): void {
    checkConv(g);
    const dyr = this.res(dy, g.N * g.O * g.OH * g.OW, 'dy'),
      wr = this.res(w, convWeights(g), 'w');
    const dxr = this.res(dx, g.N * g.C * g.H * g.W, 'dx');
    this.exclusive([dxr], [dyr, wr], ([out]) => conv.conv2dBackwardInput(this.d, g, dyr.buffer, wr.buffer, out));
  }

  conv2dBackwardWeights(g: Conv2dGeometry, x: FloatArray, dy: FloatArray, dw: FloatArray, dbias: FloatArray | null): void {
    checkConv(g);
    const xr = this.res(x, g.N * g.C * g.H * g.W, 'x'),
      dyr = this.res(dy, g.N * g.O * g.OH * g.OW, 'dy');
    const dwr = this.res(dw, convWeights(g), 'dw'),
      dbr = dbias ? this.res(dbias, g.O, 'dbias') : null;
    this.exclusive(dbr ? [dwr, dbr] : [dwr], [xr, dyr], ([dwOut, dbOut]) => conv.conv2dBackwardWeights(this.d, g, xr.buffer, dyr.buffer, dwOut, dbOut ?? null));
  }

  maxPool2dForward(g: Pool2dGeometry, x: FloatArray, y: FloatArray, argmax: IndexArray): void {
    const xr = this.res(x, g.N * g.C * g.H * g.W, 'x'),
      yr = this.res(y, poolOutputs(g), 'y');
    const ar = this.res(argmax, poolOutputs(g), 'argmax');
    this.exclusive([yr, ar], [xr], ([yOut, aOut]) => pool.maxPool2dForward(this.d, g, xr.buffer, yOut, aOut));
  }

  maxPool2dBackward(g: Pool2dGeometry, dy: FloatArray, argmax: IndexArray, dx: FloatArray): void {
    const dyr = this.res(dy, poolOutputs(g), 'dy'),
      ar = this.res(argmax, poolOutputs(g), 'argmax');
    const dxr = this.res(dx, g.N * g.C * g.H * g.W, 'dx');
    this.exclusive([dxr], [dyr, ar], ([out]) => pool.maxPool2dBackward(this.d, g, dyr.buffer, ar.buffer, out));
  }

  avgPool2dForward(g: Pool2dGeometry, x: FloatArray, y: FloatArray, countPad: boolean): void {
    const xr = this.res(x, g.N * g.C * g.H * g.W, 'x'),
      yr = this.res(y, poolOutputs(g), 'y');
    this.exclusive([yr], [xr], ([out]) => pool.avgPool2dForward(this.d, g, xr.buffer, out, countPad));
  }

  avgPool2dBackward(g: Pool2dGeometry, dy: FloatArray, dx: FloatArray, countPad: boolean): void {
    const dyr = this.res(dy, poolOutputs(g), 'dy'),
      dxr = this.res(dx, g.N * g.C * g.H * g.W, 'dx');
    this.exclusive([dxr], [dyr], ([out]) => pool.avgPool2dBackward(this.d, g, dyr.buffer, out, countPad));
  }

  adaptiveAvgPool2dForward(g: Pool2dGeometry, x: FloatArray, y: FloatArray): void {
    const xr = this.res(x, g.N * g.C * g.H * g.W, 'x'),
      yr = this.res(y, poolOutputs(g), 'y');
    this.exclusive([yr], [xr], ([out]) => pool.adaptiveAvgPool2dForward(this.d, g, xr.buffer, out));
  }

  adaptiveAvgPool2dBackward(g: Pool2dGeometry, dy: FloatArray, dx: FloatArray): void {
    const dyr = this.res(dy, poolOutputs(g), 'dy'),
      dxr = this.res(dx, g.N * g.C * g.H * g.W, 'dx');
    this.exclusive([dxr], [dyr], ([out]) => pool.adaptiveAvgPool2dBackward(this.d, g, dyr.buffer, out));
  }

  addBias(rows: number, cols: number, x: FloatArray, b: FloatArray, y: FloatArray): void {
    this.ew(ops.addBias, [this.res(x, rows * cols, 'x'), this.res(b, cols, 'b'), this.res(y, rows * cols, 'y')], [cols], rows * cols);
  }

  sumRows(rows: number, cols: number, dy: FloatArray, db: FloatArray): void {
    const dyr = this.res(dy, rows * cols, 'dy'),
      dbr = this.res(db, cols, 'db');
    this.exclusive([dbr], [dyr], ([out]) => loss.sumRows(this.d, rows, cols, dyr.buffer, out));
  }

  add(a: FloatArray, b: FloatArray, out: FloatArray): void {
    const n = out.length;
    this.ew(ops.add, [this.res(a, n, 'a'), this.res(b, n, 'b'), this.res(out, n, 'out')], [], n);
  }

  mul(a: FloatArray, b: FloatArray, out: FloatArray): void {
    const n = out.length;
    this.ew(ops.mul, [this.res(a, n, 'a'), this.res(b, n, 'b'), this.res(out, n, 'out')], [], n);
  }

  axpy(alpha: number, x: FloatArray, y: FloatArray): void {
    const n = y.length;
    this.ew(ops.axpy, [this.res(x, n, 'x'), this.res(y, n, 'y')], [alpha], n);
  }

  copyBlocks(N: number, src: FloatArray, srcStride: number, srcOffset: number, dst: FloatArray, dstStride: number, dstOffset: number, block: number): void {
    if (N === 0 || block === 0) {
      this.d.check();
      return;
    }
    const s = this.res(src, (N - 1) * srcStride + srcOffset + block, 'src');
    const t = this.res(dst, (N - 1) * dstStride + dstOffset + block, 'dst');
    this.exclusive([t], [s], ([out]) => copyBlocks(this.d, N, s.buffer, srcStride, srcOffset, out, dstStride, dstOffset, block));
  }

  batchNormStats(N: number, C: number, HW: number, x: FloatArray, mean: FloatArray, variance: FloatArray): void {
    const xr = this.res(x, N * C * HW, 'x'),
      mr = this.res(mean, C, 'mean'),
      vr = this.res(variance, C, 'variance');
    this.exclusive([mr, vr], [xr], ([mOut, vOut]) => norm.batchNormStats(this.d, N, C, HW, xr.buffer, mOut, vOut));
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
    const n = N * C * HW;
    this.ew(
      norm.normOps.batchNormApply,
      [
        this.res(x, n, 'x'),
        this.res(mean, C, 'mean'),
        this.res(invStd, C, 'invStd'),
        this.res(gamma, C, 'gamma'),
        this.res(beta, C, 'beta'),
        this.res(y, n, 'y'),
      ],
      [C, HW],
      n,
    );
  }

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
    if (momentum === 0) {
      this.ew(norm.normOps.batchNormInvStd, [this.res(variance, C, 'variance'), this.res(invStd, C, 'invStd')], [eps], C);
      return;
    }
    this.ew(
      norm.normOps.batchNormRunning,
      [
        this.res(mean, C, 'mean'),
        this.res(variance, C, 'variance'),
        this.res(runningMean, C, 'runningMean'),
        this.res(runningVar, C, 'runningVar'),
        this.res(invStd, C, 'invStd'),
      ],
      [eps, momentum, 1 - momentum, unbias],
      C,
    );
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
    const n = N * C * HW;
    const ins = [this.res(x, n, 'x'), this.res(dy, n, 'dy'), this.res(mean, C, 'mean'), this.res(invStd, C, 'invStd'), this.res(gamma, C, 'gamma')];
    const outs = [this.res(dx, n, 'dx'), this.res(dgamma, C, 'dgamma'), this.res(dbeta, C, 'dbeta')];
    this.exclusive(outs, ins, ([dxOut, dgOut, dbOut]) =>
      norm.batchNormBackward(this.d, N, C, HW, ins[0].buffer, ins[1].buffer, ins[2].buffer, ins[3].buffer, ins[4].buffer, dxOut, dgOut, dbOut, batchStatistics),
    );
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
    const n = N * C * HW;
    const xr = this.res(x, n, 'x'),
      sr = this.res(scale, n, 'scale'),
      yr = this.res(y, n, 'y');
    this.exclusive([sr, yr], [xr], ([sOut, yOut]) => norm.lrnForward(this.d, N, C, HW, size, before, alpha, beta, k, xr.buffer, sOut, yOut));
  }

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
    before = Math.floor(size / 2),
  ): void {
    const n = N * C * HW;
    const ins = [this.res(x, n, 'x'), this.res(y, n, 'y'), this.res(scale, n, 'scale'), this.res(dy, n, 'dy')];
    const dxr = this.res(dx, n, 'dx');
    this.exclusive([dxr], ins, ([out]) =>
      norm.lrnBackward(this.d, N, C, HW, size, before, alpha, beta, k, ins[0].buffer, ins[1].buffer, ins[2].buffer, ins[3].buffer, out),
    );
  }

  leakyRelu(x: FloatArray, y: FloatArray, slope: number, cap: number): void {
    const n = y.length;
    this.ew(ops.leakyRelu, [this.res(x, n, 'x'), this.res(y, n, 'y')], [slope, cap], n);
  }

  leakyReluBackward(x: FloatArray, dy: FloatArray, dx: FloatArray, slope: number, cap: number): void {
    const n = dx.length;
    this.ew(ops.leakyReluBackward, [this.res(x, n, 'x'), this.res(dy, n, 'dy'), this.res(dx, n, 'dx')], [slope, cap], n);
  }

  hardSigmoid(x: FloatArray, y: FloatArray, alpha: number, beta: number): void {
    const n = y.length;
    this.ew(ops.hardSigmoid, [this.res(x, n, 'x'), this.res(y, n, 'y')], [alpha, beta], n);
  }

  hardSigmoidBackward(x: FloatArray, dy: FloatArray, dx: FloatArray, alpha: number, beta: number): void {
    const n = dx.length;
    this.ew(ops.hardSigmoidBackward, [this.res(x, n, 'x'), this.res(dy, n, 'dy'), this.res(dx, n, 'dx')], [alpha, beta], n);
  }

  channelScale(P: number, HW: number, x: FloatArray, s: FloatArray, y: FloatArray): void {
    const n = P * HW;
    const xr = this.res(x, n, 'x'),
      sr = this.res(s, P, 's'),
      yr = this.res(y, n, 'y');
    this.exclusive([yr], [xr, sr], ([out]) => scale.channelScale(this.d, P, HW, xr.buffer, sr.buffer, out));
  }

  channelScaleBackward(P: number, HW: number, x: FloatArray, s: FloatArray, dy: FloatArray, dx: FloatArray, ds: FloatArray): void {
    const n = P * HW;
    const ins = [this.res(x, n, 'x'), this.res(s, P, 's'), this.res(dy, n, 'dy')];
    const outs = [this.res(dx, n, 'dx'), this.res(ds, P, 'ds')];
    this.exclusive(outs, ins, ([dxOut, dsOut]) => scale.channelScaleBackward(this.d, P, HW, ins[0].buffer, ins[1].buffer, ins[2].buffer, dxOut, dsOut));
  }

  // ---- Layer norm over channels and GELU (ConvNeXt); kernels in kernels-layernorm.ts ----

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
    const n = N * C * HW,
      P = N * HW;
    const ins = [this.res(x, n, 'x'), this.res(gamma, C, 'gamma'), this.res(beta, C, 'beta')];
    const outs = [this.res(mean, P, 'mean'), this.res(invStd, P, 'invStd'), this.res(y, n, 'y')];
    this.exclusive(outs, ins, ([mOut, sOut, yOut]) =>
      layerNorm.layerNormForward(this.d, N, C, HW, eps, ins[0].buffer, ins[1].buffer, ins[2].buffer, mOut, sOut, yOut),
    );
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
    const n = N * C * HW,
      P = N * HW;
    const ins = [this.res(x, n, 'x'), this.res(dy, n, 'dy'), this.res(mean, P, 'mean'), this.res(invStd, P, 'invStd'), this.res(gamma, C, 'gamma')];
    const outs = [this.res(dx, n, 'dx'), this.res(dgamma, C, 'dgamma'), this.res(dbeta, C, 'dbeta')];
    this.exclusive(outs, ins, ([dxOut, dgOut, dbOut]) =>
      layerNorm.layerNormBackward(this.d, N, C, HW, ins[0].buffer, ins[1].buffer, ins[2].buffer, ins[3].buffer, ins[4].buffer, dxOut, dgOut, dbOut),
    );
  }

  gelu(x: FloatArray, y: FloatArray): void {
    this.unary(layerNorm.geluOps.gelu, x, y);
  }

  geluBackward(x: FloatArray, dy: FloatArray, dx: FloatArray): void {
    this.binary(layerNorm.geluOps.geluBackward, x, dy, dx);
  }

  // ---- end of layer norm and GELU ----

  relu(x: FloatArray, y: FloatArray): void {
    this.unary(ops.relu, x, y);
  }

  reluBackward(x: FloatArray, dy: FloatArray, dx: FloatArray): void {
    this.binary(ops.reluBackward, x, dy, dx);
  }

  tanh(x: FloatArray, y: FloatArray): void {
    this.unary(ops.tanh, x, y);
  }

  tanhBackward(y: FloatArray, dy: FloatArray, dx: FloatArray): void {
    this.binary(ops.tanhBackward, y, dy, dx);
  }

  sigmoid(x: FloatArray, y: FloatArray): void {
    this.unary(ops.sigmoid, x, y);
  }

  sigmoidBackward(y: FloatArray, dy: FloatArray, dx: FloatArray): void {
    this.binary(ops.sigmoidBackward, y, dy, dx);
  }

  softmax(N: number, K: number, x: FloatArray, y: FloatArray): void {
    const xr = this.res(x, N * K, 'x'),
      yr = this.res(y, N * K, 'y');
    this.exclusive([yr], [xr], ([out]) => loss.softmax(this.d, N, K, xr.buffer, out));
  }

  softmaxBackward(N: number, K: number, y: FloatArray, dy: FloatArray, dx: FloatArray): void {
    const yr = this.res(y, N * K, 'y'),
      dyr = this.res(dy, N * K, 'dy'),
      dxr = this.res(dx, N * K, 'dx');
    this.exclusive([dxr], [yr, dyr], ([out]) => loss.softmaxBackward(this.d, N, K, yr.buffer, dyr.buffer, out));
  }

  softmaxCrossEntropy(N: number, K: number, logits: FloatArray, labels: Labels, probs: FloatArray, dlogits: FloatArray, lossOut: FloatArray): void {
    const lr = this.res(logits, N * K, 'logits'),
      pr = this.res(probs, N * K, 'probs'),
      dr = this.res(dlogits, N * K, 'dlogits');
    const outLoss = this.res(lossOut, 1, 'loss');
    if (labels.length < N) throw new RangeError(`internal error: webgpu backend: labels has ${labels.length} elements, the kernel needs ${N}`);
    // Labels are host arrays read at call time: checked here, then copied to the device with this call.
    const classes = new Uint32Array(N);
    for (let n = 0; n < N; n++) {
      const label = labels[n];
      if (!(label >= 0 && label < K)) throw new RangeError(`internal error: webgpu backend: label ${label} at ${n} is not a class index below ${K}`);
      classes[n] = label;
    }
    this.exclusive([pr, dr, outLoss], [lr], ([pOut, dOut, lOut]) => loss.softmaxCrossEntropy(this.d, N, K, lr.buffer, classes, pOut, dOut, lOut));
  }

  sumOfSquares(x: FloatArray, out: FloatArray, index: number): void {
    if (!(Number.isInteger(index) && index >= 0)) throw new RangeError(`internal error: webgpu backend: sumOfSquares index ${index}`);
    const xr = this.res(x, 0, 'x'),
      or = this.res(out, index + 1, 'out');
    this.exclusive([or], [xr], ([o]) => loss.reduceSum(this.d, xr.buffer, x.length, true, o, index, 1));
  }

  sumsOfSquares(xs: readonly FloatArray[], out: FloatArray): void {
    const or = this.res(out, xs.length, 'out');
    const sources = xs.map((x, i) => this.res(x, 0, `array ${i}`));
    // Summing the output array itself depends on the order of the writes: one call each, in order.
    if (sources.some((r) => r.buffer === or.buffer)) {
      xs.forEach((x, i) => this.sumOfSquares(x, out, i));
      return;
    }
    loss.sumsOfSquares(
      this.d,
      sources.map((r) => r.buffer),
      xs.map((x) => x.length),
      or.buffer,
      xs.map((_, i) => i),
      this.info.maxStorageBuffersPerShaderStage,
    );
  }

  sgdStep(w: FloatArray, g: FloatArray, v: FloatArray, o: SgdOptions): void {
    const n = w.length;
    this.ew(optimOps.sgd, [this.res(w, n, 'w'), this.res(g, n, 'g'), this.res(v, n, 'v')], [o.lr, o.weightDecay, o.momentum, +o.nesterov], n);
  }

  sgdSteps(updates: readonly ParamUpdate[], o: Omit<SgdOptions, 'lr' | 'weightDecay'>): void {
    this.fusedSteps('sgd', updates, [o.momentum, +o.nesterov], (u) => this.sgdStep(u.w, u.g, u.state[0], { ...o, lr: u.lr, weightDecay: u.weightDecay }));
  }

  adamSteps(updates: readonly ParamUpdate[], o: Omit<AdamOptions, 'lr' | 'weightDecay'>): void {
    const c1 = 1 - Math.pow(o.beta1, o.step),
      c2 = 1 - Math.pow(o.beta2, o.step);
    this.fusedSteps('adam', updates, [o.beta1, 1 - o.beta1, o.beta2, 1 - o.beta2, c1, c2, o.eps, +o.decoupled], (u) =>
      this.adamStep(u.w, u.g, u.state[0], u.state[1], { ...o, lr: u.lr, weightDecay: u.weightDecay }),
    );
  }

  adamStep(w: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, o: AdamOptions): void {
    const n = w.length;
    const c1 = 1 - Math.pow(o.beta1, o.step),
      c2 = 1 - Math.pow(o.beta2, o.step);
    this.ew(
      optimOps.adam,
      [this.res(w, n, 'w'), this.res(g, n, 'g'), this.res(m, n, 'm'), this.res(v, n, 'v')],
      [o.lr, o.weightDecay, o.beta1, 1 - o.beta1, o.beta2, 1 - o.beta2, c1, c2, o.eps, +o.decoupled],
      n,
    );
  }

  /**
   * Parameters whose buffers are all distinct go into fused dispatches; one that shares a buffer
   * (the same array given twice) is updated alone, in order, by `single`.
   */
  private fusedSteps(kind: FusedKind, updates: readonly ParamUpdate[], shared: number[], single: (u: ParamUpdate) => void): void {
    const states = kind === 'sgd' ? 1 : 2;
    const fused: FusedParam[] = [];
    const used = new Set<GPUBuffer>();
    const emit = () => {
      runFused(this.d, kind, fused.splice(0), shared, this.info.maxStorageBuffersPerShaderStage);
      used.clear();
    };
    for (const u of updates) {
      const n = u.w.length;
      if (u.state.length !== states) throw new RangeError(`webgpu backend: a ${kind} update takes ${states} state array(s), got ${u.state.length}`);
      const rs = [this.res(u.w, n, 'w'), this.res(u.g, n, 'g'), ...u.state.map((a, i) => this.res(a, n, `state ${i}`))];
      const buffers = rs.map((r) => r.buffer);
      if (new Set(buffers).size < buffers.length || buffers.some((b) => used.has(b))) {
        emit();
        single(u);
        continue;
      }
      buffers.forEach((b) => used.add(b));
      fused.push({ w: buffers[0], g: buffers[1], state: buffers.slice(2), n, lr: u.lr, wd: u.weightDecay });
    }
    emit();
  }

  /** The device copy of an argument (checks the backend is usable, the length, and that the array is ours). */
  private res(a: FloatArray | IndexArray, need: number, what: string): Resident {
    this.d.check();
    return this.residency.resolve(a, need, what);
  }

  private ew(op: EwOp, args: Resident[], uniforms: number[], n: number): void {
    runElementwise(
      this.d,
      op,
      args.map((r) => r.buffer),
      uniforms,
      n,
    );
  }

  private unary(op: EwOp, x: FloatArray, y: FloatArray): void {
    const n = y.length;
    this.ew(op, [this.res(x, n, 'x'), this.res(y, n, 'y')], [], n);
  }

  private binary(op: EwOp, a: FloatArray, b: FloatArray, out: FloatArray): void {
    const n = out.length;
    this.ew(op, [this.res(a, n, 'input'), this.res(b, n, 'dy'), this.res(out, n, 'dx')], [], n);
  }

  /**
   * Runs kernels whose outputs must not share a buffer with an input or another output (WebGPU
   * forbids binding a written buffer twice): an output that does gets a scratch copy, written
   * back after the kernels.
   */
  private exclusive(outs: Resident[], ins: Resident[], run: (outs: GPUBuffer[]) => void): void {
    const buffers = outs.map((o) => o.buffer);
    const clashes = buffers.map((b, i) => ins.some((r) => r.buffer === b) || buffers.some((c, j) => j !== i && c === b));
    if (!clashes.some(Boolean)) {
      run(buffers);
      return;
    }
    const swapped = buffers.map((b, i) => {
      if (!clashes[i]) return b;
      const t = this.d.temp(b.size);
      this.d.copy(b, 0, t, 0, b.size);
      return t;
    });
    run(swapped);
    swapped.forEach((t, i) => {
      if (clashes[i]) this.d.copy(t, 0, buffers[i], 0, buffers[i].size);
    });
  }
}

function checkConv(g: Conv2dGeometry): void {
  if (!(g.groups >= 1 && g.C % g.groups === 0 && g.O % g.groups === 0)) {
    throw new RangeError(`internal error: webgpu backend: ${g.C} channels and ${g.O} filters do not split into ${g.groups} groups`);
  }
}

function convWeights(g: Conv2dGeometry): number {
  return g.O * (g.C / g.groups) * g.KH * g.KW;
}

function poolOutputs(g: Pool2dGeometry): number {
  return g.N * g.C * g.OH * g.OW;
}
