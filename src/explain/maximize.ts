import { ConfigError } from '../errors.js';
import type { Model } from '../model/model.js';
import { Rng } from '../rng.js';
import { Tensor } from '../tensor.js';
import { Reused, activation, backwardFrom, forwardBatch, readAll } from './run.js';
import { nodeShape, resolveChannel } from './target.js';
import { checkModel, checkOptions } from './arguments.js';

export interface MaximizeOptions {
  node: string;
  channel: number;
  /** Gradient-ascent steps (default 200). */
  steps?: number;
  /** Step size, in units of the value range per step, on the gradient normalised to mean |g| = 1 (default 0.05). */
  learningRate?: number;
  /** Random shift of up to this many pixels each step (default 1): patterns must survive translation. */
  jitter?: number;
  /** Blur the image with a 3×3 binomial kernel every this many steps (default 8; 0 = never). */
  blurEvery?: number;
  /** Allowed input values (default [-1, 1]); use the range of the data the model was trained on. */
  range?: readonly [number, number];
  seed?: number;
}

export interface MaximizedInput {
  node: string;
  channel: number;
  /** The optimised input, [C, H, W]. */
  image: Tensor;
  /** The channel's mean activation on it (without jitter). */
  activation: number;
}

/**
 * Feature visualisation by activation maximisation (Erhan et al. 2009; Olah et al. 2017):
 * gradient ascent on the input to raise a channel's mean activation, from seeded small noise,
 * regularised by random jitter and periodic blurring and kept within the data's value range.
 */
export async function maximizeActivation(model: Model, o: MaximizeOptions): Promise<MaximizedInput> {
  checkModel(model, 'maximizeActivation');
  checkOptions(o, 'maximizeActivation', true);
  const shape = nodeShape(model, o.node, 'layer');
  resolveChannel(model, o.node, o.channel);
  const steps = o.steps ?? 200,
    lr = o.learningRate ?? 0.05,
    jitter = o.jitter ?? 1,
    blurEvery = o.blurEvery ?? 8;
  const [lo, hi] = o.range ?? [-1, 1];
  for (const [name, v] of [
    ['steps', steps],
    ['jitter', jitter],
    ['blurEvery', blurEvery],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) throw new ConfigError(`activation maximisation: ${name} must be a non-negative integer, got ${v}`);
  }
  if (!(lr > 0 && Number.isFinite(lr))) throw new ConfigError(`activation maximisation: learningRate must be a positive number, got ${lr}`);
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi))
    throw new ConfigError(`activation maximisation: range must be [low, high] with low < high, got [${lo}, ${hi}]`);
  const [C, H, W] = model.inputShape;
  const perUnit = shape.length === 3 ? shape[1] * shape[2] : 1;
  const rng = new Rng(o.seed ?? 1);
  const image = Tensor.zeros(model.inputShape, model.backend.dtype);
  const mid = (lo + hi) / 2,
    span = hi - lo;
  for (let i = 0; i < image.size; i++) image.data[i] = mid + 0.01 * span * rng.normal();
  const reused = new Reused(model);
  const x = reused.batch(1);
  for (let step = 0; step < steps; step++) {
    const dy = rng.int(2 * jitter + 1) - jitter,
      dx = rng.int(2 * jitter + 1) - jitter;
    roll(image.data, x.data, C, H, W, dy, dx);
    forwardBatch(model, x);
    const seed = reused.seed(o.node, 1, `channel ${o.channel}`, (d) => d.fill(1 / perUnit, o.channel * perUnit, (o.channel + 1) * perUnit));
    const [g] = await readAll(model, [backwardFrom(model, o.node, seed)]);
    let meanAbs = 0;
    for (let i = 0; i < g.size; i++) meanAbs += Math.abs(g.data[i]);
    meanAbs /= g.size;
    if (meanAbs === 0) break; // the channel is dead here: no direction to climb
    // Undo the shift while stepping: the gradient at shifted pixel p belongs to pixel p − shift.
    const shifted = new Float64Array(g.size);
    roll(g.data, shifted, C, H, W, -dy, -dx);
    for (let i = 0; i < image.size; i++) {
      image.data[i] = Math.min(hi, Math.max(lo, image.data[i] + (lr * span * shifted[i]) / meanAbs));
    }
    if (blurEvery > 0 && (step + 1) % blurEvery === 0) blur3(image.data, C, H, W);
  }
  x.data.set(image.data);
  forwardBatch(model, x);
  const [a] = await readAll(model, [activation(model, o.node)]);
  let mean = 0;
  for (let i = 0; i < perUnit; i++) mean += a.data[o.channel * perUnit + i];
  return { node: o.node, channel: o.channel, image, activation: mean / perUnit };
}

/** Maximises every channel of a node (or the ones listed), each from its own seed. */
export async function maximizeLayer(model: Model, o: Omit<MaximizeOptions, 'channel'> & { channels?: number[] }): Promise<MaximizedInput[]> {
  checkModel(model, 'maximizeLayer');
  checkOptions(o, 'maximizeLayer', true);
  const channels = o.channels ?? Array.from({ length: nodeShape(model, o.node, 'layer')[0] }, (_, c) => c);
  const out: MaximizedInput[] = [];
  for (const channel of channels) out.push(await maximizeActivation(model, { ...o, channel, seed: (o.seed ?? 1) + channel }));
  return out;
}

/** dst = src shifted by (dy, dx) with wrap-around, per channel. */
function roll(src: ArrayLike<number>, dst: { [i: number]: number }, C: number, H: number, W: number, dy: number, dx: number): void {
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      const sy = (((y - dy) % H) + H) % H;
      for (let x = 0; x < W; x++) dst[c * H * W + y * W + x] = src[c * H * W + sy * W + ((((x - dx) % W) + W) % W)];
    }
  }
}

/** In-place 3×3 binomial blur ([1 2 1]/4 in each direction), edges repeated. */
function blur3(a: { [i: number]: number; length: number }, C: number, H: number, W: number): void {
  const tmp = new Float64Array(H * W);
  for (let c = 0; c < C; c++) {
    const o = c * H * W;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) tmp[y * W + x] = (a[o + y * W + Math.max(0, x - 1)] + 2 * a[o + y * W + x] + a[o + y * W + Math.min(W - 1, x + 1)]) / 4;
    }
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) a[o + y * W + x] = (tmp[Math.max(0, y - 1) * W + x] + 2 * tmp[y * W + x] + tmp[Math.min(H - 1, y + 1) * W + x]) / 4;
    }
  }
}
