import type { Backend } from '../backend/backend.js';
import { RefBackend } from '../backend/ref.js';
import { ConfigError } from '../errors.js';
import { Model, type ModelSpec } from '../model/model.js';
import { Rng } from '../rng.js';
import { Tensor } from '../tensor.js';
import { argmaxRow } from '../train/evaluate.js';
import { SoftmaxCrossEntropy } from '../train/loss.js';
import { Optimizer, type OptimizerConfig } from '../train/optimizer.js';
import { makeSchedule } from '../train/schedule.js';
import type { FeatureMatrix } from './features.js';

export interface LinearOptions {
  epochs?: number;
  batchSize?: number;
  lr?: number;
  optimizer?: OptimizerConfig;
  seed?: number;
  backend?: Backend;
  onEpoch?: (e: { epoch: number; loss: number; trainAccuracy: number; seconds: number }) => void;
}

/** Defaults that train multinomial logistic regression on standardised features well. */
export const linearDefaults = { epochs: 10, batchSize: 100, lr: 1e-3, optimizer: { type: 'adam', weightDecay: 1e-4 } as OptimizerConfig, seed: 1 };

/**
 * Multinomial logistic regression: a Model with one dense layer on a [F, 1, 1] input,
 * trained by minibatch descent on softmax cross-entropy with the toolkit's own optimiser
 * and cosine learning-rate schedule — the same machinery that trains the CNNs, minus the
 * convolutions, so the comparison isolates the features.
 */
export async function trainLinear(train: FeatureMatrix, classes: number, options: LinearOptions = {}): Promise<Model> {
  const o = { ...linearDefaults, ...options };
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw new ConfigError(`epochs must be a positive integer, got ${o.epochs}`);
  const B = Math.min(o.batchSize, train.count);
  const backend = o.backend ?? new RefBackend('float32');
  const spec: ModelSpec = {
    name: 'linear',
    inputShape: [train.dim, 1, 1],
    nodes: [{ name: 'fc', layer: { type: 'dense', units: classes, init: 'glorot' }, inputs: ['input'] }],
  };
  const model = new Model(spec, backend, o.seed);
  const optimizer = new Optimizer(o.optimizer, backend);
  const loss = new SoftmaxCrossEntropy(backend);
  const params = model.parameters();
  const batches = Math.floor(train.count / B);
  const lrAt = makeSchedule({ type: 'cosine' }, o.lr, o.epochs * batches);
  const x = new Tensor([B, train.dim, 1, 1], backend.alloc(B * train.dim));
  const labels = new Uint8Array(B);
  const order = Int32Array.from({ length: train.count }, (_, i) => i);
  const rng = new Rng(o.seed);
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const started = performance.now();
    rng.shuffle(order);
    let lossSum = 0,
      correct = 0;
    for (let b = 0; b < batches; b++) {
      for (let n = 0; n < B; n++) {
        const row = order[b * B + n];
        x.data.set(train.data.subarray(row * train.dim, (row + 1) * train.dim), n * train.dim);
        labels[n] = train.labels[row];
      }
      backend.upload(x.data);
      const out = loss.compute(model.forward(x, true), labels);
      model.backward(out.grad);
      optimizer.step(params, lrAt((epoch - 1) * batches + b));
      await backend.download([out.lossValue, out.probs.data]);
      lossSum += out.lossValue[0] * B;
      for (let n = 0; n < B; n++) if (argmaxRow(out.probs.data, n, classes) === labels[n]) correct++;
    }
    o.onEpoch?.({ epoch, loss: lossSum / (batches * B), trainAccuracy: correct / (batches * B), seconds: (performance.now() - started) / 1000 });
    // Let signal handlers and output run between epochs.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await model.downloadWeights();
  return model;
}

/**
 * Fraction of rows whose arg-max logit is their label. One batch buffer is reused (backends
 * may place tensors in their own heap); the last batch is padded with repeats that are not counted.
 */
export async function linearAccuracy(model: Model, features: FeatureMatrix, batchSize = 500): Promise<number> {
  const K = model.outputShape[0],
    F = features.dim;
  const B = Math.min(batchSize, features.count);
  const x = new Tensor([B, F, 1, 1], model.backend.alloc(B * F));
  let correct = 0;
  for (let start = 0; start < features.count; start += B) {
    const valid = Math.min(B, features.count - start);
    for (let n = 0; n < B; n++) {
      const row = start + Math.min(n, valid - 1);
      x.data.set(features.data.subarray(row * F, (row + 1) * F), n * F);
    }
    model.backend.upload(x.data);
    const logits = model.forward(x, false).data;
    await model.backend.download([logits]);
    for (let n = 0; n < valid; n++) if (argmaxRow(logits, n, K) === features.labels[start + n]) correct++;
  }
  return correct / features.count;
}
