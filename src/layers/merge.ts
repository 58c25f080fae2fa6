import { ShapeError, specKeys } from '../errors.js';
import { type Shape, type Tensor, sameShape, shapeSize, shapeToString } from '../tensor.js';
import { Layer, type RunContext } from './layer.js';

export interface AddSpec {
  type: 'add';
}

export const addKeys = specKeys<AddSpec>({ type: true });

/** Element-wise sum of two or more inputs of one shape (ResNet's residual connection). */
export class Add extends Layer {
  readonly type = 'add';
  override readonly keepsPositions = true;

  constructor(_spec: AddSpec, name: string) {
    super();
    this.name = name;
  }

  config(): Record<string, unknown> {
    return { type: this.type };
  }

  protected computeOutputShape(inputs: Shape[]): Shape {
    if (inputs.length < 2) throw new ShapeError(`${this.describe()}: needs at least two inputs`);
    for (const s of inputs) {
      if (!sameShape(s, inputs[0])) throw new ShapeError(`${this.describe()}: input shapes differ: ${inputs.map(shapeToString).join(' vs ')}`);
    }
    return inputs[0];
  }

  forward(inputs: Tensor[], ctx: RunContext): Tensor {
    this.checkInputs(inputs);
    const y = this.buffer('y', inputs[0].shape, ctx.backend);
    ctx.backend.add(inputs[0].data, inputs[1].data, y.data);
    for (let i = 2; i < inputs.length; i++) ctx.backend.add(y.data, inputs[i].data, y.data);
    return y;
  }

  backward(dy: Tensor): Tensor[] {
    // d(a+b)/da = 1: every input receives dy itself (the model copies before accumulating).
    return this.inputShapes.map(() => dy);
  }
}

export interface ConcatSpec {
  type: 'concat';
}

export const concatKeys = specKeys<ConcatSpec>({ type: true });

/** Concatenation along channels (axis 1) of inputs with equal spatial size (GoogLeNet, DenseNet). */
export class Concat extends Layer {
  readonly type = 'concat';
  override readonly keepsPositions = true;

  constructor(_spec: ConcatSpec, name: string) {
    super();
    this.name = name;
  }

  config(): Record<string, unknown> {
    return { type: this.type };
  }

  protected computeOutputShape(inputs: Shape[]): Shape {
    if (inputs.length < 1) throw new ShapeError(`${this.describe()}: needs at least one input`);
    const rest = inputs[0].slice(1);
    let channels = 0;
    for (const s of inputs) {
      if (s.length !== inputs[0].length || !sameShape(s.slice(1), rest)) {
        throw new ShapeError(`${this.describe()}: inputs must agree except in channels: ${inputs.map(shapeToString).join(' vs ')}`);
      }
      channels += s[0];
    }
    return [channels, ...rest];
  }

  forward(inputs: Tensor[], ctx: RunContext): Tensor {
    const N = this.checkInputs(inputs);
    const y = this.buffer('y', [N, ...this.outShape], ctx.backend);
    const outStride = shapeSize(this.outShape);
    let offset = 0;
    for (const x of inputs) {
      const block = x.size / N;
      ctx.backend.copyBlocks(N, x.data, block, 0, y.data, outStride, offset, block);
      offset += block;
    }
    return y;
  }

  backward(dy: Tensor, ctx: RunContext): Tensor[] {
    const N = dy.shape[0];
    const inStride = shapeSize(this.outShape);
    let offset = 0;
    return this.inputShapes.map((s, i) => {
      const block = shapeSize(s);
      const dx = this.buffer(`dx${i}`, [N, ...s], ctx.backend);
      ctx.backend.copyBlocks(N, dy.data, inStride, offset, dx.data, block, 0, block);
      offset += block;
      return dx;
    });
  }
}

export interface MulSpec {
  type: 'mul';
}

export const mulKeys = specKeys<MulSpec>({ type: true });

/**
 * Element-wise product of two inputs: of one shape (x · sigmoid(x), hard swish), or [C, H, W]
 * times a per-channel [C, 1, 1] scale in either order (squeeze-excitation).
 */
export class Mul extends Layer {
  readonly type = 'mul';
  override readonly keepsPositions = true;
  private inputs: Tensor[] = [];
  /** Index of the [C, 1, 1] operand when the product broadcasts it over H×W; -1 when shapes are equal. */
  private scaleAt = -1;

  constructor(_spec: MulSpec, name: string) {
    super();
    this.name = name;
  }

  config(): Record<string, unknown> {
    return { type: this.type };
  }

  protected computeOutputShape(inputs: Shape[]): Shape {
    if (inputs.length !== 2) throw new ShapeError(`${this.describe()}: needs exactly two inputs, got ${inputs.length}`);
    const [a, b] = inputs;
    if (sameShape(a, b)) {
      this.scaleAt = -1;
      return a;
    }
    const perChannel = (s: Shape, of: Shape) => of.length === 3 && s.length === 3 && s[0] === of[0] && s[1] === 1 && s[2] === 1;
    if (perChannel(b, a)) this.scaleAt = 1;
    else if (perChannel(a, b)) this.scaleAt = 0;
    else
      throw new ShapeError(
        `${this.describe()}: inputs must have one shape, or one be a per-channel [C, 1, 1] scale of the other: ${inputs.map(shapeToString).join(' vs ')}`,
      );
    return inputs[1 - this.scaleAt];
  }

  forward(inputs: Tensor[], ctx: RunContext): Tensor {
    const N = this.checkInputs(inputs);
    this.inputs = inputs;
    const y = this.buffer('y', [N, ...this.outShape], ctx.backend);
    if (this.scaleAt < 0) ctx.backend.mul(inputs[0].data, inputs[1].data, y.data);
    else {
      const x = inputs[1 - this.scaleAt],
        s = inputs[this.scaleAt];
      ctx.backend.channelScale(s.size, x.size / s.size, x.data, s.data, y.data);
    }
    return y;
  }

  backward(dy: Tensor, ctx: RunContext): Tensor[] {
    const [a, b] = this.inputs;
    const da = this.buffer('da', a.shape, ctx.backend),
      db = this.buffer('db', b.shape, ctx.backend);
    if (this.scaleAt < 0) {
      ctx.backend.mul(dy.data, b.data, da.data);
      ctx.backend.mul(dy.data, a.data, db.data);
      return [da, db];
    }
    const [x, s, dx, ds] = this.scaleAt === 1 ? [a, b, da, db] : [b, a, db, da];
    ctx.backend.channelScaleBackward(s.size, x.size / s.size, x.data, s.data, dy.data, dx.data, ds.data);
    return [da, db];
  }
}
