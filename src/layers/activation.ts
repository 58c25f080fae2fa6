import { ConfigError, specKeys } from '../errors.js';
import type { Shape, Tensor } from '../tensor.js';
import { Layer, type RunContext, finiteNumber } from './layer.js';

export interface ActivationSpec {
  type: 'relu' | 'tanh' | 'sigmoid' | 'softmax' | 'leakyrelu' | 'relu6' | 'hardsigmoid' | 'gelu';
  /** leakyrelu: slope for negative inputs (default 0.01). */
  slope?: number;
  /** hardsigmoid: y = clamp(alpha·x + beta, 0, 1); defaults PyTorch's alpha 1/6, beta 1/2 (ONNX's are 0.2, 0.5). */
  alpha?: number;
  beta?: number;
}

/** The keys each activation takes (the spec type holds every activation's settings together). */
export const activationKeys: Record<ActivationSpec['type'], readonly string[]> = {
  relu: ['type'],
  tanh: ['type'],
  sigmoid: ['type'],
  softmax: ['type'],
  relu6: ['type'],
  gelu: ['type'],
  leakyrelu: ['type', 'slope'],
  hardsigmoid: ['type', 'alpha', 'beta'],
};
// Every key of the spec belongs to some activation.
specKeys<ActivationSpec>({ type: true, slope: true, alpha: true, beta: true });

/**
 * Element-wise activations; GELU is the exact one, x·Φ(x) (erf, not the tanh approximation). ReLU's derivative at exactly 0 is taken as 0 (a valid
 * subgradient, the choice PyTorch and TensorFlow make). Softmax is over the last axis; for
 * training use the fused softmax-cross-entropy loss instead, which is stabler and cheaper.
 */
export class Activation extends Layer {
  readonly type: ActivationSpec['type'];
  /** Softmax normalises over the last axis, mixing positions along it; the others are element-wise. */
  override readonly keepsPositions: boolean;
  /** leakyrelu / relu6 parameters: negative slope and upper cap. */
  readonly slope: number;
  readonly cap: number;
  /** hardsigmoid parameters. */
  readonly alpha: number;
  readonly beta: number;
  private input!: Tensor;
  private output!: Tensor;

  constructor(spec: ActivationSpec, name: string) {
    super();
    this.type = spec.type;
    this.keepsPositions = spec.type !== 'softmax';
    this.name = name;
    this.slope = spec.type === 'leakyrelu' ? finiteNumber(spec.slope, 0.01, 'slope', name) : 0;
    this.cap = spec.type === 'relu6' ? 6 : Infinity;
    this.alpha = spec.type === 'hardsigmoid' ? (spec.alpha ?? 1 / 6) : 0;
    this.beta = spec.type === 'hardsigmoid' ? (spec.beta ?? 0.5) : 0;
    if (spec.type === 'hardsigmoid' && !(Number.isFinite(this.alpha) && Number.isFinite(this.beta))) {
      throw new ConfigError(`layer "${name}": hardsigmoid alpha and beta must be finite numbers`);
    }
  }

  config(): Record<string, unknown> {
    if (this.type === 'hardsigmoid') return { type: this.type, alpha: this.alpha, beta: this.beta };
    return this.type === 'leakyrelu' ? { type: this.type, slope: this.slope } : { type: this.type };
  }

  protected computeOutputShape([input]: Shape[]): Shape {
    return input;
  }

  forward(inputs: Tensor[], ctx: RunContext): Tensor {
    const N = this.checkInputs(inputs);
    const x = (this.input = inputs[0]);
    const y = (this.output = this.buffer('y', x.shape, ctx.backend));
    const b = ctx.backend;
    switch (this.type) {
      case 'relu':
        b.relu(x.data, y.data);
        break;
      case 'tanh':
        b.tanh(x.data, y.data);
        break;
      case 'sigmoid':
        b.sigmoid(x.data, y.data);
        break;
      case 'hardsigmoid':
        b.hardSigmoid(x.data, y.data, this.alpha, this.beta);
        break;
      case 'softmax':
        b.softmax(N, x.size / N, x.data, y.data);
        break;
      case 'gelu':
        b.gelu(x.data, y.data);
        break;
      case 'leakyrelu':
      case 'relu6':
        b.leakyRelu(x.data, y.data, this.slope, this.cap);
        break;
    }
    return y;
  }

  backward(dy: Tensor, ctx: RunContext): Tensor[] {
    const dx = this.buffer('dx', dy.shape, ctx.backend);
    const b = ctx.backend;
    const rule = ctx.reluRule ?? 'gradient';
    if (rule !== 'gradient' && this.isReluType()) return [this.visualisationBackward(dy, dx, rule, ctx)];
    switch (this.type) {
      case 'relu':
        b.reluBackward(this.input.data, dy.data, dx.data);
        break;
      case 'tanh':
        b.tanhBackward(this.output.data, dy.data, dx.data);
        break;
      case 'sigmoid':
        b.sigmoidBackward(this.output.data, dy.data, dx.data);
        break;
      case 'hardsigmoid':
        b.hardSigmoidBackward(this.input.data, dy.data, dx.data, this.alpha, this.beta);
        break;
      case 'gelu':
        b.geluBackward(this.input.data, dy.data, dx.data);
        break;
      case 'softmax':
        b.softmaxBackward(dy.shape[0], dy.size / dy.shape[0], this.output.data, dy.data, dx.data);
        break;
      case 'leakyrelu':
      case 'relu6':
        b.leakyReluBackward(this.input.data, dy.data, dx.data, this.slope, this.cap);
        break;
    }
    return [dx];
  }

  private isReluType(): boolean {
    return this.type === 'relu' || this.type === 'leakyrelu' || this.type === 'relu6';
  }

  /** Guided backpropagation and deconvnet: the ReLU's backward rule applied to max(dy, 0). */
  private visualisationBackward(dy: Tensor, dx: Tensor, rule: 'guided' | 'deconvnet', ctx: RunContext): Tensor {
    const b = ctx.backend;
    if (rule === 'deconvnet') {
      b.relu(dy.data, dx.data);
      return dx;
    }
    const positive = this.buffer('positiveDy', dy.shape, b);
    b.relu(dy.data, positive.data);
    if (this.type === 'relu') b.reluBackward(this.input.data, positive.data, dx.data);
    else b.leakyReluBackward(this.input.data, positive.data, dx.data, this.slope, this.cap);
    return dx;
  }
}
