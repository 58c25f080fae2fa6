import type { Backend, Conv2dGeometry } from '../backend/backend.js';
import { ConfigError, ShapeError, specKeys } from '../errors.js';
import { type InitName, initWeights } from '../init.js';
import type { Rng } from '../rng.js';
import { type Shape, type Tensor, shapeToString } from '../tensor.js';
import { Layer, type Param, type RunContext, flag, initName, pair } from './layer.js';

export interface Conv2dSpec {
  type: 'conv2d';
  filters: number;
  kernel: number | [number, number];
  stride?: number | [number, number];
  /** Spacing between kernel taps (atrous convolution); 1 = adjacent. */
  dilation?: number | [number, number];
  /** Zero padding on each side; 'same' keeps the size at stride 1 (odd kernels). */
  padding?: number | [number, number] | 'same' | 'valid';
  groups?: number;
  bias?: boolean;
  init?: InitName;
}

export const conv2dKeys = specKeys<Conv2dSpec>({
  type: true,
  filters: true,
  kernel: true,
  stride: true,
  dilation: true,
  padding: true,
  groups: true,
  bias: true,
  init: true,
});

/**
 * 2-D convolution (cross-correlation, as in every DL framework: the kernel is not flipped)
 * over NCHW input, with stride, dilation, zero padding, groups and bias. Weights are [O, C/groups, KH, KW].
 */
export class Conv2d extends Layer {
  readonly type = 'conv2d';
  readonly filters: number;
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly dilation: [number, number];
  readonly padding: [number, number];
  readonly groups: number;
  readonly useBias: boolean;
  readonly init: InitName;
  weight!: Param;
  bias: Param | null = null;
  private geometry!: Conv2dGeometry;
  private input!: Tensor;

  constructor(
    private spec: Conv2dSpec,
    name: string,
  ) {
    super();
    this.name = name;
    this.filters = spec.filters;
    if (!Number.isInteger(spec.filters) || spec.filters < 1) throw new ConfigError(`layer "${name}": filters must be a positive integer`);
    this.kernel = pair(spec.kernel, 1, 'kernel', name);
    if (this.kernel[0] < 1 || this.kernel[1] < 1) throw new ConfigError(`layer "${name}": kernel must be at least 1×1`);
    this.stride = pair(spec.stride, 1, 'stride', name);
    if (this.stride[0] < 1 || this.stride[1] < 1) throw new ConfigError(`layer "${name}": stride must be at least 1`);
    this.dilation = pair(spec.dilation, 1, 'dilation', name);
    if (this.dilation[0] < 1 || this.dilation[1] < 1) throw new ConfigError(`layer "${name}": dilation must be at least 1`);
    if (spec.padding === 'same') {
      if (this.kernel[0] % 2 === 0 || this.kernel[1] % 2 === 0)
        throw new ConfigError(`layer "${name}": padding 'same' needs an odd kernel, got ${this.kernel.join('×')}`);
      this.padding = [(this.dilation[0] * (this.kernel[0] - 1)) / 2, (this.dilation[1] * (this.kernel[1] - 1)) / 2];
    } else {
      this.padding = pair(spec.padding === 'valid' ? 0 : spec.padding, 0, 'padding', name);
    }
    this.groups = spec.groups ?? 1;
    if (!Number.isInteger(this.groups) || this.groups < 1)
      throw new ConfigError(`layer "${name}": groups must be a positive integer, got ${JSON.stringify(spec.groups)}`);
    this.useBias = flag(spec.bias, true, 'bias', name);
    this.init = initName(spec.init, name);
  }

  config(): Record<string, unknown> {
    return { ...this.spec };
  }

  protected computeOutputShape([input]: Shape[]): Shape {
    if (input.length !== 3) throw new ShapeError(`${this.describe()}: expects [C, H, W] input, got ${shapeToString(input)}`);
    const [C, H, W] = input;
    if (C % this.groups !== 0 || this.filters % this.groups !== 0) {
      throw new ShapeError(`${this.describe()}: ${C} input channels and ${this.filters} filters must both divide into ${this.groups} groups`);
    }
    // A dilated kernel spans d·(k − 1) + 1 input pixels.
    const spanH = this.dilation[0] * (this.kernel[0] - 1) + 1,
      spanW = this.dilation[1] * (this.kernel[1] - 1) + 1;
    const OH = Math.floor((H + 2 * this.padding[0] - spanH) / this.stride[0]) + 1;
    const OW = Math.floor((W + 2 * this.padding[1] - spanW) / this.stride[1]) + 1;
    if (OH < 1 || OW < 1) {
      const dilated = this.dilation[0] * this.dilation[1] > 1 ? ` dilated by ${this.dilation.join('×')}` : '';
      throw new ShapeError(
        `${this.describe()}: kernel ${this.kernel.join('×')}${dilated} does not fit input ${shapeToString(input)} with padding ${this.padding.join('×')}`,
      );
    }
    return [this.filters, OH, OW];
  }

  protected override allocateParams(backend: Backend): void {
    const Cg = this.inputShapes[0][0] / this.groups;
    this.weight = this.newParam('weight', [this.filters, Cg, ...this.kernel], backend, true);
    this.bias = this.useBias ? this.newParam('bias', [this.filters], backend, false) : null;
  }

  override params(): Param[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }

  override initParams(rng: Rng): void {
    const area = this.kernel[0] * this.kernel[1];
    const fanIn = (this.inputShapes[0][0] / this.groups) * area;
    const fanOut = (this.filters / this.groups) * area;
    initWeights(this.init, this.weight.value.data, fanIn, fanOut, rng);
    this.bias?.value.data.fill(0);
  }

  private geometryFor(N: number): Conv2dGeometry {
    if (this.geometry?.N === N) return this.geometry;
    const [C, H, W] = this.inputShapes[0];
    const [O, OH, OW] = this.outShape;
    this.geometry = {
      N,
      C,
      H,
      W,
      O,
      OH,
      OW,
      KH: this.kernel[0],
      KW: this.kernel[1],
      strideH: this.stride[0],
      strideW: this.stride[1],
      padH: this.padding[0],
      padW: this.padding[1],
      groups: this.groups,
      dilationH: this.dilation[0],
      dilationW: this.dilation[1],
    };
    return this.geometry;
  }

  forward(inputs: Tensor[], ctx: RunContext): Tensor {
    const N = this.checkInputs(inputs);
    this.input = inputs[0];
    const y = this.buffer('y', [N, ...this.outShape], ctx.backend);
    ctx.backend.conv2dForward(this.geometryFor(N), this.input.data, this.weight.value.data, this.bias?.value.data ?? null, y.data);
    return y;
  }

  backward(dy: Tensor, ctx: RunContext): Tensor[] {
    const g = this.geometryFor(dy.shape[0]);
    ctx.backend.conv2dBackwardWeights(g, this.input.data, dy.data, this.weight.grad.data, this.bias?.grad.data ?? null);
    if (ctx.inputGradient === false) return []; // first layer: nobody needs dL/d(image)
    const dx = this.buffer('dx', this.input.shape, ctx.backend);
    ctx.backend.conv2dBackwardInput(g, dy.data, this.weight.value.data, dx.data);
    return [dx];
  }
}
