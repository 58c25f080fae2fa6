import { type ImageDataset, fillBatch } from '../data/dataset.js';
import { ConfigError, ConvkitError } from '../errors.js';
import type { Model } from '../model/model.js';
import { Rng } from '../rng.js';
import { Tensor, shapeSize } from '../tensor.js';
import { argmaxRow, evaluate } from './evaluate.js';
import { SoftmaxCrossEntropy } from './loss.js';
import { Optimizer, type OptimizerConfig } from './optimizer.js';
import { type ScheduleConfig, makeSchedule } from './schedule.js';

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: OptimizerConfig;
  schedule: ScheduleConfig;
  /** Seeds shuffling and augmentation (the model's own seed covers initialisation and dropout). */
  seed: number;
  /** Random translation in pixels for augmentation (0 = none). */
  shift?: number;
  /** Evaluate on this set after each epoch. */
  testSet?: ImageDataset;
  /** Emit a 'batch' event every this many batches. */
  reportEvery?: number;
  onEvent?: (event: TrainEvent) => void;
  /** Checked between batches; when it returns true training stops after the current batch. */
  shouldStop?: () => boolean;
}

export type TrainEvent =
  | { type: 'batch'; epoch: number; batch: number; batches: number; loss: number; accuracy: number; imagesPerSecond: number; lr: number }
  | { type: 'epoch'; epoch: number; trainLoss: number; trainAccuracy: number; testAccuracy?: number; testLoss?: number; seconds: number; imagesPerSecond: number };

export interface TrainResult {
  epochs: number;
  trainLoss: number;
  trainAccuracy: number;
  testAccuracy?: number;
  imagesPerSecond: number;
  seconds: number;
  /** Seconds spent in training steps only (excluding evaluation). */
  trainSeconds: number;
  stopped: boolean;
}

const now = () => performance.now() / 1000;

/**
 * Minibatch training with softmax cross-entropy. Each epoch visits the training set in a
 * fresh seeded random order, in full batches (the remainder of the shuffled order is left for
 * later epochs, so batch buffers keep one size). Deterministic: the same seeds give the same
 * weights bit for bit.
 */
export async function train(model: Model, trainSet: ImageDataset, opts: TrainOptions): Promise<TrainResult> {
  const B = opts.batchSize;
  if (!Number.isInteger(B) || B < 1) throw new ConfigError(`batch size must be a positive integer, got ${B}`);
  if (!Number.isInteger(opts.epochs) || opts.epochs < 1) throw new ConfigError(`epochs must be a positive integer, got ${opts.epochs}`);
  if (trainSet.count < B) throw new ConfigError(`training set has ${trainSet.count} examples, fewer than one batch of ${B}`);
  const backend = model.backend;
  const batches = Math.floor(trainSet.count / B);
  const rng = new Rng(opts.seed);
  const optimizer = new Optimizer(opts.optimizer, backend);
  const lrAt = makeSchedule(opts.schedule, opts.lr, opts.epochs * batches);
  const loss = new SoftmaxCrossEntropy(backend);
  const x = new Tensor([B, ...model.inputShape], backend.alloc(B * shapeSize(model.inputShape)));
  const labels = new Uint8Array(B);
  const order = new Int32Array(trainSet.count);
  const params = model.parameters();
  const K = model.outputShape[0];
  const reportEvery = opts.reportEvery ?? 10;
  const crop = model.inputShape[1] < trainSet.height || model.inputShape[2] < trainSet.width;

  const started = now();
  let trainSeconds = 0, trainImages = 0;
  let result: TrainResult = { epochs: 0, trainLoss: NaN, trainAccuracy: 0, imagesPerSecond: 0, seconds: 0, trainSeconds: 0, stopped: false };
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    for (let i = 0; i < order.length; i++) order[i] = i;
    rng.shuffle(order);
    const epochStart = now();
    let lossSum = 0, correct = 0, seen = 0;
    let windowStart = now(), windowImages = 0;
    for (let b = 0; b < batches; b++) {
      fillBatch(trainSet, order, b * B, x, labels, { crop: crop ? 'random' : 'center', rng, shift: opts.shift });
      const logits = model.forward(x, true);
      const out = loss.compute(logits, labels);
      if (!Number.isFinite(out.loss)) {
        throw new ConvkitError(`training diverged: loss is ${out.loss} at epoch ${epoch}, batch ${b + 1} (try a lower learning rate)`);
      }
      model.backward(out.grad);
      const lr = lrAt((epoch - 1) * batches + b);
      optimizer.step(params, lr);

      lossSum += out.loss * B;
      for (let n = 0; n < B; n++) if (argmaxRow(out.probs.data, n, K) === labels[n]) correct++;
      seen += B;
      windowImages += B;
      if ((b + 1) % reportEvery === 0 || b === batches - 1) {
        const t = now();
        opts.onEvent?.({
          type: 'batch', epoch, batch: b + 1, batches, loss: lossSum / seen, accuracy: correct / seen,
          imagesPerSecond: windowImages / Math.max(t - windowStart, 1e-9), lr,
        });
        windowStart = t;
        windowImages = 0;
        // Let timers and signal handlers run (progress redraw, SIGINT).
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      if (opts.shouldStop?.()) { result.stopped = true; break; }
    }
    const epochTrainSeconds = now() - epochStart;
    trainSeconds += epochTrainSeconds;
    trainImages += seen;
    const test = opts.testSet ? evaluate(model, opts.testSet) : undefined;
    result = {
      epochs: epoch, trainLoss: lossSum / seen, trainAccuracy: correct / seen, testAccuracy: test?.accuracy,
      imagesPerSecond: trainImages / trainSeconds, seconds: now() - started, trainSeconds, stopped: result.stopped,
    };
    opts.onEvent?.({
      type: 'epoch', epoch, trainLoss: result.trainLoss, trainAccuracy: result.trainAccuracy,
      testAccuracy: test?.accuracy, testLoss: test?.loss, seconds: now() - epochStart, imagesPerSecond: seen / epochTrainSeconds,
    });
    if (result.stopped) break;
  }
  return result;
}
