import type { Backend } from '../backend/backend.js';
import { ConfigError, ShapeError, specKeys } from '../errors.js';
import type { Rng } from '../rng.js';
import { type Shape, Tensor, shapeSize, shapeToString } from '../tensor.js';
import { Layer, type Param, type RunContext, type StateTensor, finiteNumber } from './layer.js';

export interface BatchNormSpec {
  type: 'batchnorm2d';
  /** Weight of the newest batch in the running statistics (PyTorch's convention). */
  momentum?: number;
  eps?: number;
  /** Learnable per-channel scale γ and shift β (default true); false fixes γ = 1, β = 0 (PyTorch's affine=False). */
  affine?: boolean;
}

export const batchNormKeys = specKeys<BatchNormSpec>({ type: true, momentum: true, eps: true, affine: true });

/**
 * Batch normalisation over channels (Ioffe & Szegedy 2015), for [C, H, W] or flat [C] inputs.
 * Training normalises with the batch's own mean and biased variance and updates running
 * statistics (unbiased variance, as PyTorch); evaluation uses the running statistics. Without
 * `affine` the layer has no parameters: γ = 1 and β = 0 are constants.
 */
export class BatchNorm extends Layer {
  readonly type = 'batchnorm2d';
  override readonly keepsPositions = true;
  readonly momentum: number;
  readonly eps: number;
  readonly affine: boolean;
  /** γ and β; without affine, constant ones and zeros that are neither trained nor saved. */
  gamma!: Param;
  beta!: Param;
  runningMean!: StateTensor;
  runningVar!: StateTensor;
  private mean!: Tensor;
  private variance!: Tensor;
  private invStd!: Tensor;
  private input!: Tensor;
  /** The statistics the last forward pass normalised with: the batch's (training) or the running ones. */
  private usedBatchStatistics = true;

  constructor(
    private spec: BatchNormSpec,
    name: string,
  ) {
    super();
    this.name = name;
    this.momentum = finiteNumber(spec.momentum, 0.1, 'momentum', name, (x) => x >= 0 && x <= 1, 'in [0, 1]');
    this.eps = finiteNumber(spec.eps, 1e-5, 'eps', name, (x) => x > 0, 'a positive number');
    if (spec.affine !== undefined && typeof spec.affine !== 'boolean')
      throw new ConfigError(`layer "${name}": affine must be true or false, got ${JSON.stringify(spec.affine)}`);
    this.affine = spec.affine ?? true;
  }

  config(): Record<string, unknown> {
    return { ...this.spec };
  }

  protected computeOutputShape([input]: Shape[]): Shape {
    if (input.length !== 3 && input.length !== 1) throw new ShapeError(`${this.describe()}: expects [C, H, W] or [C] input, got ${shapeToString(input)}`);
    return input;
  }

  protected override allocateParams(backend: Backend): void {
    const C = this.inputShapes[0][0];
    if (this.affine) {
      this.gamma = this.newParam('weight', [C], backend, false);
      this.beta = this.newParam('bias', [C], backend, false);
    }
    this.runningMean = { name: 'running_mean', value: new Tensor([C], backend.alloc(C)) };
    this.runningVar = { name: 'running_var', value: new Tensor([C], backend.alloc(C)) };
    this.mean = new Tensor([C], backend.alloc(C));
    this.variance = new Tensor([C], backend.alloc(C));
    this.invStd = new Tensor([C], backend.alloc(C));
  }

  override params(): Param[] {
    return this.affine ? [this.gamma, this.beta] : [];
  }

  override state(): StateTensor[] {
    return [this.runningMean, this.runningVar];
  }

  override initParams(_rng: Rng): void {
    if (this.affine) {
      this.gamma.value.data.fill(1);
      this.beta.value.data.fill(0);
    }
    this.runningMean.value.data.fill(0);
    this.runningVar.value.data.fill(1);
  }

  /**
   * Without affine: γ = 1 and β = 0, and buffers for the γ and β gradients that the backward
   * kernel writes and nobody reads. Made on first use, like activations, so that building a
   * model (from a file) allocates no more than its stored tensors can back.
   */
  private constants(backend: Backend): void {
    if (this.gamma) return;
    const C = this.inputShapes[0][0];
    const constant = (name: string, value: number): Param => {
      const p = { name, value: new Tensor([C], backend.alloc(C)), grad: new Tensor([C], backend.alloc(C)), decay: false };
      p.value.data.fill(value);
      backend.upload(p.value.data);
      return p;
    };
    this.gamma = constant('weight', 1);
    this.beta = constant('bias', 0);
  }

  forward(inputs: Tensor[], ctx: RunContext): Tensor {
    const N = this.checkInputs(inputs);
    if (!this.affine) this.constants(ctx.backend);
    const x = (this.input = inputs[0]);
    const C = this.inputShapes[0][0],
      HW = shapeSize(this.inputShapes[0]) / C;
    const b = ctx.backend;
    const inv = this.invStd.data;
    let mean = this.mean.data;
    if (ctx.training) {
      if (N * HW < 2) throw new ShapeError(`${this.describe()}: training needs more than one value per channel (batch ${N})`);
      b.batchNormStats(N, C, HW, x.data, mean, this.variance.data);
      b.batchNormRunning(
        C,
        mean,
        this.variance.data,
        this.eps,
        this.momentum,
        (N * HW) / (N * HW - 1),
        this.runningMean.value.data,
        this.runningVar.value.data,
        inv,
      );
    } else {
      // Momentum 0 leaves the running statistics alone (the batch buffers stand in as their outputs).
      mean = this.runningMean.value.data;
      b.batchNormRunning(C, mean, this.runningVar.value.data, this.eps, 0, 1, this.mean.data, this.variance.data, inv);
    }
    this.usedBatchStatistics = ctx.training;
    const y = this.buffer('y', x.shape, b);
    b.batchNormApply(N, C, HW, x.data, mean, inv, this.gamma.value.data, this.beta.value.data, y.data);
    return y;
  }

  backward(dy: Tensor, ctx: RunContext): Tensor[] {
    const N = dy.shape[0],
      C = this.inputShapes[0][0],
      HW = shapeSize(this.inputShapes[0]) / C;
    const dx = this.buffer('dx', dy.shape, ctx.backend);
    // Follows the forward pass's statistics, whatever this context says: evaluation-mode
    // statistics are constants (fine-tuning with frozen statistics), yet γ and β still get gradients.
    const mean = this.usedBatchStatistics ? this.mean : this.runningMean.value;
    ctx.backend.batchNormBackward(
      N,
      C,
      HW,
      this.input.data,
      dy.data,
      mean.data,
      this.invStd.data,
      this.gamma.value.data,
      dx.data,
      this.gamma.grad.data,
      this.beta.grad.data,
      this.usedBatchStatistics,
    );
    return [dx];
  }
}

export interface LrnSpec {
  type: 'lrn';
  size?: number;
  alpha?: number;
  beta?: number;
  k?: number;
  /**
   * Channels before c in its window [c − before, c − before + size − 1]. Default ⌊size/2⌋ as in
   * PyTorch and Caffe; ONNX's LRN uses ⌊(size−1)/2⌋ (the two differ for even sizes).
   */
  before?: number;
}

export const lrnKeys = specKeys<LrnSpec>({ type: true, size: true, alpha: true, beta: true, k: true, before: true });

/**
 * Local response normalisation across channels (Krizhevsky et al. 2012):
 * b_c = a_c / (k + α/n · Σ a_j²)^β over n neighbouring channels. Defaults are the paper's
 * n = 5, α = 1e-4, β = 0.75, k = 2 (Caffe's reference model uses k = 1).
 */
export class Lrn extends Layer {
  readonly type = 'lrn';
  override readonly keepsPositions = true;
  readonly size: number;
  readonly alpha: number;
  readonly beta: number;
  readonly k: number;
  readonly before: number;
  private input!: Tensor;
  private output!: Tensor;
  private scale!: Tensor;

  constructor(spec: LrnSpec, name: string) {
    super();
    this.name = name;
    this.size = spec.size ?? 5;
    // α ≥ 0 and k > 0 keep the base k + α/n·Σa² positive, so its power is finite for any β.
    this.alpha = finiteNumber(spec.alpha, 1e-4, 'alpha', name, (x) => x >= 0, 'a number ≥ 0');
    this.beta = finiteNumber(spec.beta, 0.75, 'beta', name);
    this.k = finiteNumber(spec.k, 2, 'k', name, (x) => x > 0, 'a positive number');
    if (!Number.isInteger(this.size) || this.size < 1) throw new ConfigError(`layer "${name}": size must be a positive integer`);
    this.before = spec.before ?? Math.floor(this.size / 2);
    if (!Number.isInteger(this.before) || this.before < 0 || this.before >= this.size) {
      throw new ConfigError(`layer "${name}": before must be an integer from 0 to size − 1 (${this.size - 1}), got ${JSON.stringify(spec.before)}`);
    }
  }

  config(): Record<string, unknown> {
    // The default window is left out, so that files stay as they were.
    return {
      type: this.type,
      size: this.size,
      alpha: this.alpha,
      beta: this.beta,
      k: this.k,
      ...(this.before !== Math.floor(this.size / 2) ? { before: this.before } : {}),
    };
  }

  protected computeOutputShape([input]: Shape[]): Shape {
    if (input.length !== 3) throw new ShapeError(`${this.describe()}: expects [C, H, W] input, got ${shapeToString(input)}`);
    return input;
  }

  forward(inputs: Tensor[], ctx: RunContext): Tensor {
    const N = this.checkInputs(inputs);
    const [C, H, W] = this.inputShapes[0];
    this.input = inputs[0];
    this.scale = this.buffer('scale', this.input.shape, ctx.backend);
    this.output = this.buffer('y', this.input.shape, ctx.backend);
    ctx.backend.lrnForward(N, C, H * W, this.size, this.alpha, this.beta, this.k, this.input.data, this.scale.data, this.output.data, this.before);
    return this.output;
  }

  backward(dy: Tensor, ctx: RunContext): Tensor[] {
    const [C, H, W] = this.inputShapes[0];
    const dx = this.buffer('dx', dy.shape, ctx.backend);
    ctx.backend.lrnBackward(
      dy.shape[0],
      C,
      H * W,
      this.size,
      this.alpha,
      this.beta,
      this.k,
      this.input.data,
      this.output.data,
      this.scale.data,
      dy.data,
      dx.data,
      this.before,
    );
    return [dx];
  }
}

export interface LayerNormSpec {
  type: 'layernorm2d';
  eps?: number;
}

export const layerNormKeys = specKeys<LayerNormSpec>({ type: true, eps: true });

/**
 * Layer normalisation over channels (ConvNeXt's LayerNorm2d): each position's C values are
 * normalised by their own mean and biased variance, then scaled and shifted per channel by the
 * learnable γ and β. For [C, H, W] or flat [C] inputs; the same in training and evaluation.
 */
export class LayerNorm2d extends Layer {
  readonly type = 'layernorm2d';
  override readonly keepsPositions = true;
  readonly eps: number;
  gamma!: Param;
  beta!: Param;
  private input!: Tensor;
  private mean!: Tensor;
  private invStd!: Tensor;

  constructor(spec: LayerNormSpec, name: string) {
    super();
    this.name = name;
    this.eps = spec.eps ?? 1e-5;
    if (!(typeof this.eps === 'number' && this.eps > 0 && Number.isFinite(this.eps))) {
      throw new ConfigError(`layer "${name}": eps must be a positive number, got ${JSON.stringify(spec.eps)}`);
    }
  }

  config(): Record<string, unknown> {
    return { type: this.type, eps: this.eps };
  }

  protected computeOutputShape([input]: Shape[]): Shape {
    if (input.length !== 3 && input.length !== 1) throw new ShapeError(`${this.describe()}: expects [C, H, W] or [C] input, got ${shapeToString(input)}`);
    return input;
  }

  protected override allocateParams(backend: Backend): void {
    const C = this.inputShapes[0][0];
    this.gamma = this.newParam('weight', [C], backend, false);
    this.beta = this.newParam('bias', [C], backend, false);
  }

  override params(): Param[] {
    return [this.gamma, this.beta];
  }

  override initParams(_rng: Rng): void {
    this.gamma.value.data.fill(1);
    this.beta.value.data.fill(0);
  }

  forward(inputs: Tensor[], ctx: RunContext): Tensor {
    const N = this.checkInputs(inputs);
    const x = (this.input = inputs[0]);
    const C = this.inputShapes[0][0],
      HW = shapeSize(this.inputShapes[0]) / C;
    this.mean = this.buffer('mean', [N, HW], ctx.backend);
    this.invStd = this.buffer('invStd', [N, HW], ctx.backend);
    const y = this.buffer('y', x.shape, ctx.backend);
    ctx.backend.layerNormForward(N, C, HW, x.data, this.gamma.value.data, this.beta.value.data, this.eps, this.mean.data, this.invStd.data, y.data);
    return y;
  }

  backward(dy: Tensor, ctx: RunContext): Tensor[] {
    const N = dy.shape[0],
      C = this.inputShapes[0][0],
      HW = shapeSize(this.inputShapes[0]) / C;
    const dx = this.buffer('dx', dy.shape, ctx.backend);
    ctx.backend.layerNormBackward(
      N,
      C,
      HW,
      this.input.data,
      dy.data,
      this.mean.data,
      this.invStd.data,
      this.gamma.value.data,
      dx.data,
      this.gamma.grad.data,
      this.beta.grad.data,
    );
    return [dx];
  }
}
