import { ConfigError } from '../errors.js';
import type { Model } from '../model/model.js';
import { Tensor, shapeSize } from '../tensor.js';
import { Reused, activation, allocBatch, backwardFrom, example, forwardBatch, imageShape, readAll, seedGradient } from './run.js';
import { nodeShape, resolveChannel } from './target.js';
import { checkModel, checkModelAndImages, checkOptions, checkTensor } from './arguments.js';

/**
 * Which activation of a channel is traced back: its strongest unit (Zeiler and Fergus), the
 * sum over the channel, or the unit at [y, x].
 */
export type UnitChoice = 'max' | 'sum' | readonly [number, number];

export interface ReconstructOptions {
  node: string;
  channel: number;
  unit?: UnitChoice;
  /** 'guided' (guided backpropagation, default), 'deconvnet', or 'gradient' (plain backpropagation). */
  rule?: 'guided' | 'deconvnet' | 'gradient';
}

/** The positions of one channel in a node's per-example output (a dense node's channel is one unit). */
function channelSpan(model: Model, node: string, channel: number): { offset: number; size: number; width: number } {
  const shape = nodeShape(model, node);
  resolveChannel(model, node, channel);
  const size = shape.length === 3 ? shape[1] * shape[2] : shapeSize(shape) / shape[0];
  return { offset: channel * size, size, width: shape.length === 3 ? shape[2] : size };
}

/** Index (within the channel) of the unit a choice picks, given the channel's activations. */
function pickUnit(values: ArrayLike<number>, unit: UnitChoice, width: number, node: string): number {
  if (unit === 'sum') return -1;
  if (unit === 'max') {
    let best = 0;
    for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
    return best;
  }
  const [y, x] = unit;
  const height = values.length / width;
  if (!Number.isInteger(y) || !Number.isInteger(x) || y < 0 || x < 0 || y >= height || x >= width) {
    throw new ConfigError(`unit [${y}, ${x}] is outside node "${node}" (its maps are ${height}×${width})`);
  }
  return y * width + x;
}

/**
 * Reconstructs one channel's activation in pixel space (guided backpropagation or deconvnet):
 * the backward pass of the chosen unit(s) with the ReLUs' visualisation rule, for each image.
 */
export async function reconstruct(model: Model, images: Tensor[], o: ReconstructOptions): Promise<{ reconstructions: Tensor[]; activations: number[] }> {
  checkModel(model, 'reconstruct');
  if (!Array.isArray(images))
    throw new ConfigError(`reconstruct: images must be an array of Tensors [${model.inputShape.join(', ')}], got ${images === null ? 'null' : typeof images}`);
  images.forEach((im, i) => checkTensor(im, 'reconstruct', `images[${i}]`, `[${model.inputShape.join(', ')}]`));
  checkOptions(o, 'reconstruct', true);
  const { offset, size, width } = channelSpan(model, o.node, o.channel);
  images.forEach((im) => imageShape(model, im));
  const N = images.length;
  const x = allocBatch(model, N);
  const per = x.size / Math.max(N, 1);
  images.forEach((im, n) => x.data.set(im.data.subarray(0, per), n * per));
  forwardBatch(model, x);
  const [a] = await readAll(model, [activation(model, o.node)]);
  const perOut = a.size / N;
  const units: number[] = [],
    activations: number[] = [];
  for (let n = 0; n < N; n++) {
    const values = a.data.subarray(n * perOut + offset, n * perOut + offset + size);
    const u = pickUnit(values, o.unit ?? 'max', width, o.node);
    units.push(u);
    activations.push(u < 0 ? sumOf(values) : values[u]);
  }
  const dy = seedGradient(model, o.node, N, (d, n1) => {
    for (let n = 0; n < N; n++) {
      if (units[n] >= 0) d[n * n1 + offset + units[n]] = 1;
      else d.fill(1, n * n1 + offset, n * n1 + offset + size);
    }
  });
  const [g] = await readAll(model, [backwardFrom(model, o.node, dy, o.rule ?? 'guided')]);
  return { reconstructions: images.map((_, n) => new Tensor(model.inputShape, example(g, n).data.slice())), activations };
}

/** A channel's strength for each image of a batch: the largest (default) or mean activation over its positions. */
export async function channelActivations(model: Model, batch: Tensor, node: string, channel: number, reduce: 'max' | 'mean' = 'max'): Promise<number[]> {
  checkModelAndImages(model, batch, 'channelActivations');
  datasetSize(model, batch);
  const { offset, size } = channelSpan(model, node, channel);
  forwardBatch(model, batch);
  const [a] = await readAll(model, [activation(model, node)]);
  const N = batch.shape[0],
    perOut = a.size / N;
  return Array.from({ length: N }, (_, n) => {
    const v = a.data.subarray(n * perOut + offset, n * perOut + offset + size);
    return reduce === 'max' ? maxOf(v) : sumOf(v) / size;
  });
}

export interface TopImagesOptions extends ReconstructOptions {
  k?: number;
  batchSize?: number;
}

/**
 * The k images of a dataset ([N, C, H, W]) on which a channel's strongest unit fires most, each
 * with its reconstruction (ZFNet's figure 2).
 */
export async function topActivatingImages(
  model: Model,
  images: Tensor,
  o: TopImagesOptions,
): Promise<{ index: number; activation: number; reconstruction: Tensor }[]> {
  checkModelAndImages(model, images, 'topActivatingImages');
  checkOptions(o, 'topActivatingImages', true);
  const k = o.k ?? 9,
    batchSize = o.batchSize ?? 64;
  if (!Number.isInteger(k) || k < 1) throw new ConfigError(`top images: k must be a positive integer, got ${k}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`top images: batchSize must be a positive integer, got ${batchSize}`);
  const N = datasetSize(model, images);
  const strengths: { index: number; activation: number }[] = [];
  const reused = new Reused(model);
  for (let first = 0; first < N; first += batchSize) {
    const n = Math.min(batchSize, N - first);
    const batch = reused.batch(n);
    batch.data.set(images.data.subarray(first * (batch.size / n), (first + n) * (batch.size / n)));
    (await channelActivations(model, batch, o.node, o.channel)).forEach((activation, i) => strengths.push({ index: first + i, activation }));
  }
  const top = strengths.sort((a, b) => b.activation - a.activation || a.index - b.index).slice(0, k);
  const { reconstructions } = await reconstruct(
    model,
    top.map((t) => example(images, t.index)),
    { ...o, unit: o.unit ?? 'max' },
  );
  return top.map((t, i) => ({ ...t, reconstruction: reconstructions[i] }));
}

/** Checks a dataset tensor [N, C, H, W] against the model's input; returns N. */
export function datasetSize(model: Model, images: Tensor): number {
  const want = model.inputShape;
  if (images.shape.length !== 4 || want.some((d, i) => images.shape[i + 1] !== d)) {
    throw new ConfigError(`model "${model.name}" needs images [N, ${want.join(', ')}], got [${images.shape.join(', ')}]`);
  }
  return images.shape[0];
}

function sumOf(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

function maxOf(a: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < a.length; i++) m = Math.max(m, a[i]);
  return m;
}
