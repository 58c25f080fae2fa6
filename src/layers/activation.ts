import { specKeys } from '../errors.js';
import type { Shape, Tensor } from '../tensor.js';
import { Layer, type RunContext } from './layer.js';

export interface ActivationSpec {
  type: 'relu' | 'tanh' | 'sigmoid' | 'softmax' | 'leakyrelu' | 'relu6';
  /** leakyrelu: slope for negative inputs (default 0.01). */
  slope?: number;
}

/** Only leakyrelu takes a setting. */
export const activationKeys: Record<ActivationSpec['type'], readonly string[]> = {
  relu: ['type'], tanh: ['type'], sigmoid: ['type'], softmax: ['type'], relu6: ['type'],
  leakyrelu: specKeys<ActivationSpec>({ type: true, slope: true }),
};

/**
 * Element-wise activations. ReLU's derivative at exactly 0 is taken as 0 (a valid
 * subgradient, the choice PyTorch and TensorFlow make). Softmax is over the last axis; for
 * training use the fused softmax-cross-entropy loss instead, which is stabler and cheaper.
 */
export class Activation extends Layer {
  readonly type: ActivationSpec['type'];
  /** leakyrelu / relu6 parameters: negative slope and upper cap. */
  readonly slope: number;
  readonly cap: number;
  private input!: Tensor;
  private output!: Tensor;

  constructor(spec: ActivationSpec, name: string) {
    super();
    this.type = spec.type;
    this.name = name;
    this.slope = spec.type === 'leakyrelu' ? spec.slope ?? 0.01 : 0;
    this.cap = spec.type === 'relu6' ? 6 : Infinity;
  }

  config(): Record<string, unknown> {
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
      case 'relu': b.relu(x.data, y.data); break;
      case 'tanh': b.tanh(x.data, y.data); break;
      case 'sigmoid': b.sigmoid(x.data, y.data); break;
      case 'softmax': b.softmax(N, x.size / N, x.data, y.data); break;
      case 'leakyrelu':
      case 'relu6': b.leakyRelu(x.data, y.data, this.slope, this.cap); break;
    }
    return y;
  }

  backward(dy: Tensor, ctx: RunContext): Tensor[] {
    const dx = this.buffer('dx', dy.shape, ctx.backend);
    const b = ctx.backend;
    switch (this.type) {
      case 'relu': b.reluBackward(this.input.data, dy.data, dx.data); break;
      case 'tanh': b.tanhBackward(this.output.data, dy.data, dx.data); break;
      case 'sigmoid': b.sigmoidBackward(this.output.data, dy.data, dx.data); break;
      case 'softmax': b.softmaxBackward(dy.shape[0], dy.size / dy.shape[0], this.output.data, dy.data, dx.data); break;
      case 'leakyrelu':
      case 'relu6': b.leakyReluBackward(this.input.data, dy.data, dx.data, this.slope, this.cap); break;
    }
    return [dx];
  }
}
