import { specKeys } from '../errors.js';
import type { Shape, Tensor } from '../tensor.js';
import { Layer, type RunContext } from './layer.js';

export interface SquareSpec {
  type: 'square';
}

export const squareKeys = specKeys<SquareSpec>({ type: true });

/** y = x², element-wise (a toy layer following docs/ARCHITECTURE.md's checklist). */
export class Square extends Layer {
  readonly type = 'square';
  override readonly keepsPositions = true;
  private input!: Tensor;

  constructor(_spec: SquareSpec, name: string) {
    super();
    this.name = name;
  }

  config(): Record<string, unknown> {
    return { type: this.type };
  }

  protected computeOutputShape([input]: Shape[]): Shape {
    return input;
  }

  forward(inputs: Tensor[], ctx: RunContext): Tensor {
    const N = this.checkInputs(inputs);
    this.input = inputs[0];
    const y = this.buffer('y', [N, ...this.outShape], ctx.backend);
    ctx.backend.mul(inputs[0].data, inputs[0].data, y.data);
    return y;
  }

  backward(dy: Tensor, ctx: RunContext): Tensor[] {
    const dx = this.buffer('dx', this.input.shape, ctx.backend);
    // dx = 2·x·dy: x·dy, then added to itself.
    ctx.backend.mul(this.input.data, dy.data, dx.data);
    ctx.backend.axpy(1, dx.data, dx.data);
    return [dx];
  }
}
