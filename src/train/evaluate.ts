import { type ImageDataset, fillBatch } from '../data/dataset.js';
import { ConfigError } from '../errors.js';
import type { Model } from '../model/model.js';
import { Tensor, shapeSize } from '../tensor.js';

export interface Evaluation {
  accuracy: number;
  /** Fraction whose true class is among the five most probable (1 when there are ≤ 5 classes). */
  top5: number;
  loss: number;
  count: number;
  /** confusion[actual][predicted]. */
  confusion: number[][];
}

/** Each model's evaluation batch, kept so that evaluating after every epoch allocates nothing new. */
const inputBuffers = new WeakMap<Model, Tensor>();

function inputBuffer(model: Model, N: number): Tensor {
  const size = N * shapeSize(model.inputShape);
  let x = inputBuffers.get(model);
  if (x?.size !== size) inputBuffers.set(model, (x = new Tensor([N, ...model.inputShape], model.backend.alloc(size))));
  return x;
}

/** Index of the largest value in row n of an N×K matrix. */
export function argmaxRow(values: ArrayLike<number>, n: number, K: number): number {
  let best = 0;
  for (let k = 1; k < K; k++) if (values[n * K + k] > values[n * K + best]) best = k;
  return best;
}

/** How many classes of row n score higher than class k (0 = k is the top prediction). */
function rankOf(values: ArrayLike<number>, n: number, K: number, k: number): number {
  let rank = 0;
  for (let j = 0; j < K; j++) if (values[n * K + j] > values[n * K + k]) rank++;
  return rank;
}

/** Refuses a dataset whose classes are not the model's outputs (naming both counts) or whose labels are not class indices. */
export function checkClassCount(model: Model, ds: ImageDataset): void {
  const K = model.outputShape[0];
  if (K !== ds.classes.length) {
    throw new ConfigError(`model ${model.name} has ${K} output classes but dataset ${ds.name} has ${ds.classes.length} classes`);
  }
  // A dataset built in code can hold any label; the loss kernels index with it.
  for (let i = 0; i < ds.count; i++) {
    const label = ds.labels[i];
    if (!(label >= 0 && label < K))
      throw new ConfigError(`dataset ${ds.name}: example ${i} has label ${label}, not a class index 0..${K - 1} (the dataset has ${K} classes)`);
  }
}

export interface EvaluateOptions {
  /** Aborting stops the evaluation between two batches (it rejects with the signal's reason); with a signal, each batch also yields to other tasks. */
  signal?: AbortSignal;
}

/**
 * Accuracy, mean cross-entropy and confusion matrix over a whole dataset. Batches keep one
 * size (the last is padded with repeats that are not counted) so buffers are never reallocated.
 */
export async function evaluate(model: Model, ds: ImageDataset, batchSize = 100, options: EvaluateOptions = {}): Promise<Evaluation> {
  const { signal } = options;
  signal?.throwIfAborted();
  if (ds.count === 0) throw new ConfigError(`dataset ${ds.name} is empty: there is nothing to evaluate`);
  checkClassCount(model, ds);
  const N = Math.min(batchSize, ds.count);
  const x = inputBuffer(model, N);
  const labels = new Int32Array(N);
  const K = model.outputShape[0];
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  const order = new Int32Array(N);
  let correct = 0,
    correct5 = 0,
    loss = 0;
  for (let start = 0; start < ds.count; start += N) {
    const valid = Math.min(N, ds.count - start);
    for (let i = 0; i < N; i++) order[i] = start + Math.min(i, valid - 1);
    fillBatch(ds, order, 0, x, labels, { crop: 'center' });
    model.backend.upload(x.data);
    const probs = (await model.predictAsync(x)).data;
    for (let n = 0; n < valid; n++) {
      const predicted = argmaxRow(probs, n, K);
      confusion[labels[n]][predicted]++;
      if (predicted === labels[n]) correct++;
      if (rankOf(probs, n, K, labels[n]) < 5) correct5++;
      loss -= Math.log(Math.max(probs[n * K + labels[n]], 1e-30));
    }
    if (signal) {
      // A macrotask, so the abort (a message, a timer) can arrive between batches.
      await new Promise((resolve) => setTimeout(resolve, 0));
      signal.throwIfAborted();
    }
  }
  return { accuracy: correct / ds.count, top5: correct5 / ds.count, loss: loss / ds.count, count: ds.count, confusion };
}
