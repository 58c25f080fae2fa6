import type { Backend } from '../backend/backend.js';
import { ConfigError, specKeys } from '../errors.js';
import { type InitName, initWeights } from '../init.js';
import type { Rng } from '../rng.js';
import { type Shape, type Tensor, shapeSize } from '../tensor.js';
import { Layer, type Param, type RunContext, flag, initName } from './layer.js';

export interface DenseSpec {
  type: 'dense';
  units: number;
  bias?: boolean;
  init?: InitName;
}

export const denseKeys = specKeys<DenseSpec>({ type: true, units: true, bias: true, init: true });

/** Fully connected layer on the flattened input: y = x Wᵀ + b, W is [units, inputFeatures]. */
export class Dense extends Layer {
  readonly type = 'dense';
  weight!: Param;
  bias: Param | null = null;
  private input!: Tensor;
  private features = 0;

  constructor(
    private spec: DenseSpec,
    name: string,
  ) {
    super();
    this.name = name;
    if (!Number.isInteger(spec.units) || spec.units < 1) throw new ConfigError(`layer "${name}": units must be a positive integer`);
    flag(spec.bias, true, 'bias', name);
    initName(spec.init, name);
  }

  config(): Record<string, unknown> {
    return { ...this.spec };
  }

  protected computeOutputShape([input]: Shape[]): Shape {
    this.features = shapeSize(input);
    return [this.spec.units];
  }

  protected override allocateParams(backend: Backend): void {
    this.weight = this.newParam('weight', [this.spec.units, this.features], backend, true);
    this.bias = this.spec.bias === false ? null : this.newParam('bias', [this.spec.units], backend, false);
  }

  override params(): Param[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }

  override initParams(rng: Rng): void {
    initWeights(this.spec.init ?? 'he', this.weight.value.data, this.features, this.spec.units, rng);
    this.bias?.value.data.fill(0);
  }

  forward(inputs: Tensor[], ctx: RunContext): Tensor {
    const N = this.checkInputs(inputs);
    this.input = inputs[0];
    const U = this.spec.units;
    const y = this.buffer('y', [N, U], ctx.backend);
    ctx.backend.gemm(false, true, N, U, this.features, 1, this.input.data, this.weight.value.data, 0, y.data);
    if (this.bias) ctx.backend.addBias(N, U, y.data, this.bias.value.data, y.data);
    return y;
  }

  backward(dy: Tensor, ctx: RunContext): Tensor[] {
    const N = dy.shape[0],
      U = this.spec.units,
      F = this.features;
    const b = ctx.backend;
    b.gemm(true, false, U, F, N, 1, dy.data, this.input.data, 0, this.weight.grad.data);
    if (this.bias) b.sumRows(N, U, dy.data, this.bias.grad.data);
    if (ctx.inputGradient === false) return []; // first layer: nobody needs dL/d(image)
    const dx = this.buffer('dx', this.input.shape, b);
    b.gemm(false, false, N, F, U, 1, dy.data, this.weight.value.data, 0, dx.data);
    return [dx];
  }
}
