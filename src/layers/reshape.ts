import { ConfigError, specKeys } from '../errors.js';
import { type Shape, type Tensor, shapeSize } from '../tensor.js';
import { Layer, type RunContext } from './layer.js';

export interface FlattenSpec {
  type: 'flatten';
}

export const flattenKeys = specKeys<FlattenSpec>({ type: true });

/** [N, C, H, W] → [N, C·H·W] without copying. */
export class Flatten extends Layer {
  readonly type = 'flatten';
  private inputShape: Shape = [];

  constructor(_spec: FlattenSpec, name: string) {
    super();
    this.name = name;
  }

  config(): Record<string, unknown> {
    return { type: this.type };
  }

  protected computeOutputShape([input]: Shape[]): Shape {
    return [shapeSize(input)];
  }

  forward(inputs: Tensor[]): Tensor {
    const N = this.checkInputs(inputs);
    this.inputShape = inputs[0].shape;
    return inputs[0].reshape([N, ...this.outShape]);
  }

  backward(dy: Tensor): Tensor[] {
    return [dy.reshape(this.inputShape)];
  }
}

export interface DropoutSpec {
  type: 'dropout';
  rate: number;
}

export const dropoutKeys = specKeys<DropoutSpec>({ type: true, rate: true });

/**
 * Inverted dropout: in training each unit is zeroed with probability `rate` and the rest are
 * scaled by 1/(1-rate), so evaluation is the identity.
 */
export class Dropout extends Layer {
  readonly type = 'dropout';
  override readonly keepsPositions = true;
  readonly rate: number;
  private mask!: Tensor;
  private training = false;

  constructor(spec: DropoutSpec, name: string) {
    super();
    this.name = name;
    this.rate = spec.rate;
    if (!(spec.rate >= 0 && spec.rate < 1)) throw new ConfigError(`layer "${name}": dropout rate must be in [0, 1), got ${spec.rate}`);
  }

  config(): Record<string, unknown> {
    return { type: this.type, rate: this.rate };
  }

  protected computeOutputShape([input]: Shape[]): Shape {
    return input;
  }

  forward(inputs: Tensor[], ctx: RunContext): Tensor {
    this.checkInputs(inputs);
    this.training = ctx.training && this.rate > 0;
    if (!this.training) return inputs[0];
    const x = inputs[0];
    this.mask = this.buffer('mask', x.shape, ctx.backend);
    const keep = 1 - this.rate,
      scale = 1 / keep;
    const m = this.mask.data;
    for (let i = 0; i < m.length; i++) m[i] = ctx.rng.next() < keep ? scale : 0;
    ctx.backend.upload(m);
    const y = this.buffer('y', x.shape, ctx.backend);
    ctx.backend.mul(x.data, m, y.data);
    return y;
  }

  backward(dy: Tensor, ctx: RunContext): Tensor[] {
    if (!this.training) return [dy];
    const dx = this.buffer('dx', dy.shape, ctx.backend);
    ctx.backend.mul(dy.data, this.mask.data, dx.data);
    return [dx];
  }
}
