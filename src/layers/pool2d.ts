import type { Pool2dGeometry } from '../backend/backend.js';
import { ConfigError, ShapeError, specKeys } from '../errors.js';
import { type Shape, type Tensor, shapeToString } from '../tensor.js';
import { Layer, type RunContext, flag, pair } from './layer.js';

export interface Pool2dSpec {
  type: 'maxpool2d' | 'avgpool2d';
  kernel: number | [number, number];
  /** Defaults to the kernel size (non-overlapping windows). */
  stride?: number | [number, number];
  padding?: number | [number, number];
  /** Round the output size up, as Caffe and some published nets do. */
  ceil?: boolean;
  /** avgpool2d: count padded positions in the divisor (PyTorch's count_include_pad). */
  countPad?: boolean;
}

/** Only average pooling has a divisor to configure. */
export const pool2dKeys: Record<Pool2dSpec['type'], readonly string[]> = {
  maxpool2d: ['type', 'kernel', 'stride', 'padding', 'ceil'],
  avgpool2d: specKeys<Pool2dSpec>({ type: true, kernel: true, stride: true, padding: true, ceil: true, countPad: true }),
};

/** Max or average pooling over NCHW windows; windows may overlap (stride < kernel). */
export class Pool2d extends Layer {
  readonly type: 'maxpool2d' | 'avgpool2d';
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  private geometry!: Pool2dGeometry;
  private argmax: Int32Array = new Int32Array(0);
  private inputShape: Shape = [];

  constructor(
    private spec: Pool2dSpec,
    name: string,
  ) {
    super();
    this.type = spec.type;
    this.name = name;
    this.kernel = pair(spec.kernel, 1, 'kernel', name);
    this.stride = pair(spec.stride ?? spec.kernel, 1, 'stride', name);
    this.padding = pair(spec.padding, 0, 'padding', name);
    flag(spec.ceil, false, 'ceil', name);
    if (spec.type === 'avgpool2d') flag(spec.countPad, true, 'countPad', name);
    if (this.kernel[0] < 1 || this.kernel[1] < 1 || this.stride[0] < 1 || this.stride[1] < 1) {
      throw new ConfigError(`layer "${name}": kernel and stride must be at least 1`);
    }
    if (this.padding[0] * 2 > this.kernel[0] || this.padding[1] * 2 > this.kernel[1]) {
      throw new ConfigError(`layer "${name}": padding must be at most half the kernel`);
    }
  }

  config(): Record<string, unknown> {
    return { ...this.spec };
  }

  protected computeOutputShape([input]: Shape[]): Shape {
    if (input.length !== 3) throw new ShapeError(`${this.describe()}: expects [C, H, W] input, got ${shapeToString(input)}`);
    const [C, H, W] = input;
    const OH = outputSize(H, this.kernel[0], this.stride[0], this.padding[0], this.spec.ceil ?? false);
    const OW = outputSize(W, this.kernel[1], this.stride[1], this.padding[1], this.spec.ceil ?? false);
    if (OH < 1 || OW < 1) throw new ShapeError(`${this.describe()}: window ${this.kernel.join('×')} does not fit input ${shapeToString(input)}`);
    return [C, OH, OW];
  }

  private geometryFor(N: number): Pool2dGeometry {
    if (this.geometry?.N === N) return this.geometry;
    const [C, H, W] = this.inputShapes[0];
    this.geometry = {
      N,
      C,
      H,
      W,
      OH: this.outShape[1],
      OW: this.outShape[2],
      KH: this.kernel[0],
      KW: this.kernel[1],
      strideH: this.stride[0],
      strideW: this.stride[1],
      padH: this.padding[0],
      padW: this.padding[1],
    };
    return this.geometry;
  }

  forward(inputs: Tensor[], ctx: RunContext): Tensor {
    const N = this.checkInputs(inputs);
    this.inputShape = inputs[0].shape;
    const g = this.geometryFor(N);
    const y = this.buffer('y', [N, ...this.outShape], ctx.backend);
    if (this.type === 'maxpool2d') {
      if (this.argmax.length !== y.size) this.argmax = new Int32Array(y.size);
      ctx.backend.maxPool2dForward(g, inputs[0].data, y.data, this.argmax);
    } else {
      ctx.backend.avgPool2dForward(g, inputs[0].data, y.data, this.spec.countPad ?? true);
    }
    return y;
  }

  backward(dy: Tensor, ctx: RunContext): Tensor[] {
    const g = this.geometryFor(dy.shape[0]);
    const dx = this.buffer('dx', this.inputShape, ctx.backend);
    if (this.type === 'maxpool2d') ctx.backend.maxPool2dBackward(g, dy.data, this.argmax, dx.data);
    else ctx.backend.avgPool2dBackward(g, dy.data, dx.data, this.spec.countPad ?? true);
    return [dx];
  }
}

/** Output length of a pooling window sweep; in ceil mode the last window must start inside the input or left padding. */
export function outputSize(size: number, kernel: number, stride: number, pad: number, ceil: boolean): number {
  const span = size + 2 * pad - kernel;
  if (span < 0) return 0;
  let out = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  if (ceil && (out - 1) * stride >= size + pad) out--;
  return out;
}

export interface AdaptiveAvgPoolSpec {
  type: 'adaptiveavgpool2d' | 'globalavgpool2d';
  /** Output [H, W] (adaptiveavgpool2d); globalavgpool2d is [1, 1]. */
  output?: number | [number, number];
}

export const adaptiveAvgPoolKeys: Record<AdaptiveAvgPoolSpec['type'], readonly string[]> = {
  adaptiveavgpool2d: specKeys<AdaptiveAvgPoolSpec>({ type: true, output: true }),
  globalavgpool2d: ['type'],
};

/**
 * Average pooling to a fixed output size whatever the input size (PyTorch's
 * AdaptiveAvgPool2d): output cell i averages rows ⌊i·H/OH⌋ … ⌈(i+1)·H/OH⌉ − 1. Global average
 * pooling is the 1×1 case (ResNet, GoogLeNet, DenseNet heads).
 */
export class AdaptiveAvgPool2d extends Layer {
  readonly type: AdaptiveAvgPoolSpec['type'];
  readonly output: [number, number];
  private geometry!: Pool2dGeometry;

  constructor(
    private spec: AdaptiveAvgPoolSpec,
    name: string,
  ) {
    super();
    this.type = spec.type;
    this.name = name;
    this.output = spec.type === 'globalavgpool2d' ? [1, 1] : pair(spec.output, 1, 'output', name);
    if (this.output[0] < 1 || this.output[1] < 1) throw new ConfigError(`layer "${name}": output size must be at least 1×1`);
  }

  config(): Record<string, unknown> {
    return { ...this.spec };
  }

  protected computeOutputShape([input]: Shape[]): Shape {
    if (input.length !== 3) throw new ShapeError(`${this.describe()}: expects [C, H, W] input, got ${shapeToString(input)}`);
    return [input[0], ...this.output];
  }

  private geometryFor(N: number): Pool2dGeometry {
    if (this.geometry?.N === N) return this.geometry;
    const [C, H, W] = this.inputShapes[0];
    this.geometry = { N, C, H, W, OH: this.output[0], OW: this.output[1], KH: 0, KW: 0, strideH: 0, strideW: 0, padH: 0, padW: 0 };
    return this.geometry;
  }

  forward(inputs: Tensor[], ctx: RunContext): Tensor {
    const N = this.checkInputs(inputs);
    const y = this.buffer('y', [N, ...this.outShape], ctx.backend);
    ctx.backend.adaptiveAvgPool2dForward(this.geometryFor(N), inputs[0].data, y.data);
    return y;
  }

  backward(dy: Tensor, ctx: RunContext): Tensor[] {
    const N = dy.shape[0];
    const dx = this.buffer('dx', [N, ...this.inputShapes[0]], ctx.backend);
    ctx.backend.adaptiveAvgPool2dBackward(this.geometryFor(N), dy.data, dx.data);
    return [dx];
  }
}
