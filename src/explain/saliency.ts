import { ConfigError } from '../errors.js';
import type { ReluRule } from '../layers/layer.js';
import type { Model } from '../model/model.js';
import { Rng } from '../rng.js';
import { Tensor } from '../tensor.js';
import { Reused, activation, allocBatch, argmax, backwardFrom, forwardBatch, imageShape, readAll } from './run.js';
import { resolveClass, scoreNode } from './target.js';
import { checkModelAndImage, checkOptions } from './arguments.js';

/**
 * Gradient-based attributions for one image. The class score is the logit (the score node's
 * output, before softmax): probabilities' gradients mix in every other class.
 */
export interface ClassOptions {
  /** Class index or name; default: the class the model predicts. */
  classIndex?: number | string;
}

export interface Attribution {
  classIndex: number;
  /** The class logit for the (clean) image. */
  score: number;
  /** Per input value, [C, H, W]. */
  attribution: Tensor;
  /** One value per pixel, [H, W]: max |attribution| over channels (grad×input: the sum over channels). */
  map: Tensor;
}

/** Scores of one image and the class to explain. */
export async function classScores(model: Model, image: Tensor, cls?: number | string): Promise<{ scores: Float64Array; classIndex: number }> {
  checkModelAndImage(model, image, 'classScores');
  imageShape(model, image);
  const x = allocBatch(model, 1);
  x.data.set(image.data);
  forwardBatch(model, x);
  const [s] = await readAll(model, [activation(model, scoreNode(model))]);
  const scores = Float64Array.from(s.data);
  return { scores, classIndex: cls === undefined ? argmax(scores) : resolveClass(model, cls) };
}

/**
 * d(logit of class c)/d(input) for every image of the batch `x` (already filled), summed over
 * the batch: the host copy of the summed gradient, [C, H, W].
 */
async function summedClassGradient(model: Model, x: Tensor, classIndex: number, rule: ReluRule, reused = new Reused(model)): Promise<Tensor> {
  const N = x.shape[0];
  forwardBatch(model, x);
  const node = scoreNode(model);
  const dy = reused.seed(node, N, `class ${classIndex}`, (d, K) => {
    for (let n = 0; n < N; n++) d[n * K + classIndex] = 1;
  });
  const [g] = await readAll(model, [backwardFrom(model, node, dy, rule)]);
  const per = g.size / N;
  const sum = new Tensor(model.inputShape, g.data.slice(0, per));
  for (let n = 1; n < N; n++) for (let i = 0; i < per; i++) sum.data[i] += g.data[n * per + i];
  return sum;
}

function attributionOf(classIndex: number, score: number, attribution: Tensor, reduce: 'maxAbs' | 'sum'): Attribution {
  const [C, H, W] = attribution.shape;
  const map = Tensor.zeros([H, W], attribution.data instanceof Float64Array ? 'float64' : 'float32');
  for (let p = 0; p < H * W; p++) {
    let v = reduce === 'sum' ? 0 : -Infinity;
    for (let c = 0; c < C; c++) {
      const a = attribution.data[c * H * W + p];
      v = reduce === 'sum' ? v + a : Math.max(v, Math.abs(a));
    }
    map.data[p] = v;
  }
  return { classIndex, score, attribution, map };
}

function checkArguments(model: Model, image: Tensor, o: unknown, fn: string): void {
  checkModelAndImage(model, image, fn);
  checkOptions(o, fn);
}

async function singleGradient(model: Model, image: Tensor, o: ClassOptions, rule: ReluRule): Promise<{ classIndex: number; score: number; gradient: Tensor }> {
  const { scores, classIndex } = await classScores(model, image, o.classIndex);
  const x = allocBatch(model, 1);
  x.data.set(image.data);
  return { classIndex, score: scores[classIndex], gradient: await summedClassGradient(model, x, classIndex, rule) };
}

/** Saliency (Simonyan et al. 2014): the gradient of the class logit with respect to the input. */
export async function saliency(model: Model, image: Tensor, o: ClassOptions = {}): Promise<Attribution> {
  checkArguments(model, image, o, 'saliency');
  const { classIndex, score, gradient } = await singleGradient(model, image, o, 'gradient');
  return attributionOf(classIndex, score, gradient, 'maxAbs');
}

/** Gradient × input (Shrikumar et al.): each input value's first-order contribution to the logit. */
export async function gradientTimesInput(model: Model, image: Tensor, o: ClassOptions = {}): Promise<Attribution> {
  checkArguments(model, image, o, 'gradientTimesInput');
  const { classIndex, score, gradient } = await singleGradient(model, image, o, 'gradient');
  for (let i = 0; i < gradient.size; i++) gradient.data[i] *= image.data[i];
  return attributionOf(classIndex, score, gradient, 'sum');
}

/**
 * Guided backpropagation (Springenberg et al. 2015) of the class logit: the gradient with every
 * ReLU passing back only positive gradients where its input was positive.
 */
export async function guidedBackprop(model: Model, image: Tensor, o: ClassOptions = {}): Promise<Attribution> {
  checkArguments(model, image, o, 'guidedBackprop');
  const { classIndex, score, gradient } = await singleGradient(model, image, o, 'guided');
  return attributionOf(classIndex, score, gradient, 'maxAbs');
}

export interface SmoothGradOptions extends ClassOptions {
  /** Noisy copies averaged (default 32). */
  samples?: number;
  /** Noise standard deviation as a fraction of the image's value range (default 0.15). */
  noise?: number;
  /** Seed of the noise (default 1). */
  seed?: number;
  /** Copies per forward/backward pass (default 16). */
  batchSize?: number;
}

/** SmoothGrad (Smilkov et al. 2017): saliency averaged over copies of the image with Gaussian noise added. */
export async function smoothGrad(model: Model, image: Tensor, o: SmoothGradOptions = {}): Promise<Attribution> {
  checkArguments(model, image, o, 'smoothGrad');
  const samples = o.samples ?? 32,
    noise = o.noise ?? 0.15,
    batchSize = o.batchSize ?? 16;
  if (!Number.isInteger(samples) || samples < 1) throw new ConfigError(`smoothgrad: samples must be a positive integer, got ${samples}`);
  if (!(noise >= 0 && Number.isFinite(noise))) throw new ConfigError(`smoothgrad: noise must be a finite fraction ≥ 0, got ${noise}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`smoothgrad: batchSize must be a positive integer, got ${batchSize}`);
  const { scores, classIndex } = await classScores(model, image, o.classIndex);
  let lo = Infinity,
    hi = -Infinity;
  for (const v of image.data) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const sigma = noise * (hi - lo);
  const rng = new Rng(o.seed ?? 1);
  const total = Tensor.zeros(model.inputShape, model.backend.dtype);
  const per = image.size;
  const reused = new Reused(model);
  for (let done = 0; done < samples; done += batchSize) {
    const N = Math.min(batchSize, samples - done);
    const x = reused.batch(N);
    for (let n = 0; n < N; n++) for (let i = 0; i < per; i++) x.data[n * per + i] = image.data[i] + sigma * rng.normal();
    const g = await summedClassGradient(model, x, classIndex, 'gradient', reused);
    for (let i = 0; i < per; i++) total.data[i] += g.data[i];
  }
  for (let i = 0; i < per; i++) total.data[i] /= samples;
  return attributionOf(classIndex, scores[classIndex], total, 'maxAbs');
}
