import { ConfigError, ShapeError, specKeys } from '../errors.js';
import { type Shape, type Tensor, shapeSize, shapeToString } from '../tensor.js';
import { Layer, type RunContext } from './layer.js';

/**
 * Layers that move whole channels (planes of H·W values) without arithmetic: each plane is one
 * copyBlocks call over the batch, so they run on every backend's existing kernel.
 */

export interface ChannelShuffleSpec {
  type: 'channelshuffle';
  groups: number;
}

export const channelShuffleKeys = specKeys<ChannelShuffleSpec>({ type: true, groups: true });

/**
 * ShuffleNet's channel shuffle: the C channels seen as [groups, C/groups] are transposed to
 * [C/groups, groups], so output channel j·groups + i is input channel i·(C/groups) + j.
 */
export class ChannelShuffle extends Layer {
  readonly type = 'channelshuffle';
  override readonly keepsPositions = true;
  readonly groups: number;

  constructor(spec: ChannelShuffleSpec, name: string) {
    super();
    this.name = name;
    this.groups = spec.groups;
    if (!Number.isInteger(spec.groups) || spec.groups < 1)
      throw new ConfigError(`layer "${name}": groups must be a positive integer, got ${JSON.stringify(spec.groups)}`);
  }

  config(): Record<string, unknown> {
    return { type: this.type, groups: this.groups };
  }

  protected computeOutputShape([input]: Shape[]): Shape {
    if (input.length !== 3 || input[0] % this.groups !== 0) {
      throw new ShapeError(`${this.describe()}: expects [C, H, W] input with C divisible by groups ${this.groups}, got ${shapeToString(input)}`);
    }
    return input;
  }

  /** Output channel of input channel c. */
  private target(c: number): number {
    const perGroup = this.inputShapes[0][0] / this.groups;
    return (c % perGroup) * this.groups + Math.floor(c / perGroup);
  }

  private permute(from: Tensor, to: Tensor, inverse: boolean, ctx: RunContext): void {
    const [C, H, W] = this.inputShapes[0],
      HW = H * W,
      N = from.shape[0];
    for (let c = 0; c < C; c++) {
      const [src, dst] = inverse ? [this.target(c), c] : [c, this.target(c)];
      ctx.backend.copyBlocks(N, from.data, C * HW, src * HW, to.data, C * HW, dst * HW, HW);
    }
  }

  forward(inputs: Tensor[], ctx: RunContext): Tensor {
    this.checkInputs(inputs);
    const y = this.buffer('y', inputs[0].shape, ctx.backend);
    this.permute(inputs[0], y, false, ctx);
    return y;
  }

  backward(dy: Tensor, ctx: RunContext): Tensor[] {
    if (ctx.inputGradient === false) return [];
    const dx = this.buffer('dx', dy.shape, ctx.backend);
    this.permute(dy, dx, true, ctx);
    return [dx];
  }
}

export interface ChannelSliceSpec {
  type: 'channelslice';
  /** First channel taken. */
  start: number;
  /** How many channels, from start. */
  channels: number;
}

export const channelSliceKeys = specKeys<ChannelSliceSpec>({ type: true, start: true, channels: true });

/** Channels [start, start + channels) of a [C, H, W] or flat [C] input (ShuffleNet's channel split). */
export class ChannelSlice extends Layer {
  readonly type = 'channelslice';
  override readonly keepsPositions = true;
  readonly start: number;
  readonly channels: number;

  constructor(spec: ChannelSliceSpec, name: string) {
    super();
    this.name = name;
    this.start = spec.start;
    this.channels = spec.channels;
    if (!Number.isInteger(spec.start) || spec.start < 0)
      throw new ConfigError(`layer "${name}": start must be a non-negative integer, got ${JSON.stringify(spec.start)}`);
    if (!Number.isInteger(spec.channels) || spec.channels < 1)
      throw new ConfigError(`layer "${name}": channels must be a positive integer, got ${JSON.stringify(spec.channels)}`);
  }

  config(): Record<string, unknown> {
    return { type: this.type, start: this.start, channels: this.channels };
  }

  protected computeOutputShape([input]: Shape[]): Shape {
    if ((input.length !== 3 && input.length !== 1) || this.start + this.channels > input[0]) {
      throw new ShapeError(
        `${this.describe()}: channels ${this.start} to ${this.start + this.channels - 1} of a [C, H, W] or [C] input, got ${shapeToString(input)}`,
      );
    }
    return [this.channels, ...input.slice(1)];
  }

  forward(inputs: Tensor[], ctx: RunContext): Tensor {
    const N = this.checkInputs(inputs);
    const plane = shapeSize(this.inputShapes[0]) / this.inputShapes[0][0],
      block = this.channels * plane;
    const y = this.buffer('y', [N, ...this.outShape], ctx.backend);
    ctx.backend.copyBlocks(N, inputs[0].data, shapeSize(this.inputShapes[0]), this.start * plane, y.data, block, 0, block);
    return y;
  }

  backward(dy: Tensor, ctx: RunContext): Tensor[] {
    if (ctx.inputGradient === false) return [];
    const N = dy.shape[0],
      C = this.inputShapes[0][0];
    const plane = shapeSize(this.inputShapes[0]) / C,
      stride = C * plane,
      block = this.channels * plane;
    const dx = this.buffer('dx', [N, ...this.inputShapes[0]], ctx.backend);
    // Channels outside the slice get zeros, copied (stride 0: the same zeros for every image) from a never-written buffer.
    const before = this.start * plane,
      after = stride - before - block;
    const zeros = this.buffer('zeros', [Math.max(before, after, 1)], ctx.backend);
    if (before > 0) ctx.backend.copyBlocks(N, zeros.data, 0, 0, dx.data, stride, 0, before);
    if (after > 0) ctx.backend.copyBlocks(N, zeros.data, 0, 0, dx.data, stride, before + block, after);
    ctx.backend.copyBlocks(N, dy.data, block, 0, dx.data, stride, before, block);
    return [dx];
  }
}
