import { type ImageDataset, fillBatch } from '../data/dataset.js';
import { type ResizedCropOptions, resizedCropSettings } from '../data/resized-crop.js';
import { ConfigError, ConvkitError } from '../errors.js';
import type { Model, NamedParam } from '../model/model.js';
import { Rng } from '../rng.js';
import { Tensor, shapeSize } from '../tensor.js';
import { argmaxRow, checkClassCount, evaluate } from './evaluate.js';
import { SoftmaxCrossEntropy } from './loss.js';
import { Optimizer, type OptimizerConfig, type OptimizerState } from './optimizer.js';
import { type ScheduleConfig, makeSchedule } from './schedule.js';
import { type SettingName, optimizerProblem, scheduleProblem, settingProblem } from './settings.js';

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
  /** Random horizontal flips for augmentation. */
  flip?: boolean;
  /** Random resized crops (torchvision's RandomResizedCrop; true for its defaults) instead of plain random crops. */
  resizedCrop?: boolean | ResizedCropOptions;
  /**
   * Nodes that do not train (fine-tuning; see Model.setFrozen): their parameters get no updates
   * and no weight decay, their batch norms run on running statistics. For the run only.
   */
  freeze?: string[];
  /** Rescale gradients whose global L2 norm exceeds this (off when undefined). */
  clipGradNorm?: number;
  /** Evaluate on this set after each epoch. */
  testSet?: ImageDataset;
  /** Emit a 'batch' event every this many batches. */
  reportEvery?: number;
  onEvent?: (event: TrainEvent) => void;
  /** Checked between batches; when it returns true training stops after the current batch. */
  shouldStop?: () => boolean;
  /** Called with the full training state every `checkpointEvery` batches, at each epoch's end, and on a stop. */
  onCheckpoint?: (state: TrainState) => void;
  checkpointEvery?: number;
  /** Continue from a saved state instead of starting afresh (the model must hold the saved weights). */
  resume?: TrainState;
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
  /** Test accuracy after each epoch. */
  history: { epoch: number; trainLoss: number; trainAccuracy: number; testAccuracy?: number; seconds: number }[];
}

/**
 * Everything needed to continue a run exactly where it was: position (epoch, next batch),
 * the random generators, the optimizer's buffers and the epoch's running sums. Resuming from
 * it gives bit-identical weights to a run that was never interrupted.
 */
export interface TrainState {
  epoch: number;
  /** Index of the next batch within the epoch. */
  batch: number;
  /** Shuffle generator state at the start of this epoch (the order is re-drawn from it). */
  shuffleRngAtEpochStart: number[];
  augmentRng: number[];
  modelRng: number[];
  optimizer: OptimizerState;
  running: { lossSum: number; correct: number; seen: number };
  trainSeconds: number;
  trainImages: number;
  history: TrainResult['history'];
}

/** Thrown when the loss or a gradient stops being finite. */
export class DivergenceError extends ConvkitError {}

const now = () => performance.now() / 1000;

/**
 * Minibatch training with softmax cross-entropy. Each epoch visits the training set in a
 * fresh seeded random order, in full batches (the few examples left over are seen in other
 * epochs, so batch buffers keep one size). Deterministic: the same seeds give the same weights
 * bit for bit, with or without interruptions in between.
 */
export async function train(model: Model, trainSet: ImageDataset, opts: TrainOptions): Promise<TrainResult> {
  checkOptions(opts);
  const B = opts.batchSize;
  if (trainSet.count === 0) throw new ConfigError(`training set ${trainSet.name} is empty`);
  if (trainSet.count < B) throw new ConfigError(`training set has ${trainSet.count} examples, fewer than one batch of ${B}`);
  checkClassCount(model, trainSet);
  if (opts.testSet) checkClassCount(model, opts.testSet);
  const frozenBefore = model.frozenNodes();
  if (opts.freeze) model.setFrozen(opts.freeze);
  try {
    return await trainRun(model, trainSet, opts);
  } finally {
    if (opts.freeze) model.setFrozen(frozenBefore);
  }
}

async function trainRun(model: Model, trainSet: ImageDataset, opts: TrainOptions): Promise<TrainResult> {
  const B = opts.batchSize;
  const backend = model.backend;
  const batches = Math.floor(trainSet.count / B);
  const shuffleRng = new Rng(opts.seed);
  const augmentRng = new Rng(opts.seed + 0x9e3779b9);
  const optimizer = new Optimizer(opts.optimizer, backend);
  const lrAt = makeSchedule(opts.schedule, opts.lr, opts.epochs * batches);
  const loss = new SoftmaxCrossEntropy(backend);
  const x = new Tensor([B, ...model.inputShape], backend.alloc(B * shapeSize(model.inputShape)));
  const labels = new Int32Array(B);
  const order = new Int32Array(trainSet.count);
  const params = model.trainableParameters();
  if (params.length === 0) throw new ConfigError(`model "${model.name}": every parameter is frozen, nothing would train`);
  const resizedCrop = opts.resizedCrop ? resizedCropSettings(opts.resizedCrop === true ? {} : opts.resizedCrop) : undefined;
  const squares = backend.alloc(params.length);
  const clipScale = backend.alloc(1);
  const K = model.outputShape[0];
  const reportEvery = opts.reportEvery ?? 10;
  const crop = model.inputShape[1] < trainSet.height || model.inputShape[2] < trainSet.width;

  const r = opts.resume;
  let startEpoch = 1, startBatch = 0;
  let running = { lossSum: 0, correct: 0, seen: 0 };
  let trainSeconds = 0, trainImages = 0;
  const history: TrainResult['history'] = [];
  if (r) {
    startEpoch = r.epoch;
    startBatch = r.batch;
    shuffleRng.setState(r.shuffleRngAtEpochStart);
    augmentRng.setState(r.augmentRng);
    model.rng.setState(r.modelRng);
    optimizer.importState(r.optimizer, params);
    running = { ...r.running };
    trainSeconds = r.trainSeconds;
    trainImages = r.trainImages;
    history.push(...r.history);
  }
  let shuffleStart = shuffleRng.getState();
  const state = (epoch: number, batch: number): TrainState => ({
    epoch, batch, shuffleRngAtEpochStart: shuffleStart, augmentRng: augmentRng.getState(), modelRng: model.rng.getState(),
    optimizer: optimizer.exportState(), running: { ...running }, trainSeconds, trainImages, history: [...history],
  });

  // A checkpoint is only ever written with finite weights, so the last one on disk stays good.
  const checkpoint = async (epoch: number, batch: number, step: number) => {
    if (!opts.onCheckpoint) return;
    await model.downloadWeights();
    await optimizer.download();
    const bad = params.find((p) => !allFinite(p.value.data));
    if (bad) throw new DivergenceError(`training diverged at step ${step + 1}: the weights "${bad.path}" are not finite after the update; the last checkpoint was not replaced. Try a lower learning rate or --clip-grad-norm.`);
    opts.onCheckpoint(state(epoch, batch));
  };

  const started = now();
  let stopped = false;
  for (let epoch = startEpoch; epoch <= opts.epochs && !stopped; epoch++) {
    for (let i = 0; i < order.length; i++) order[i] = i;
    shuffleRng.shuffle(order);
    const firstBatch = epoch === startEpoch ? startBatch : 0;
    let tPrev = now(), windowStart = tPrev, windowImages = 0, epochSeconds = 0;
    for (let b = firstBatch; b < batches; b++) {
      const step = (epoch - 1) * batches + b;
      fillBatch(trainSet, order, b * B, x, labels, { crop: crop || resizedCrop ? 'random' : 'center', rng: augmentRng, shift: opts.shift, flip: opts.flip, resizedCrop });
      backend.upload(x.data);
      const logits = model.forward(x, true);
      const out = loss.compute(logits, labels);
      model.backward(out.grad);
      params.forEach((p, i) => backend.sumOfSquares(p.grad.data, squares, i));
      // The one wait per step: a device backend hands back only the loss, probabilities and gradient norms.
      await backend.download([out.lossValue, out.probs.data, squares]);
      const stepLoss = out.lossValue[0];
      if (!Number.isFinite(stepLoss)) throw await divergence(model, `loss is ${stepLoss}`, epoch, b, step);
      const sums = await squaredNorms(model, params, squares);
      const norm = Math.sqrt(sums.reduce((a, v) => a + v, 0));
      if (!Number.isFinite(norm)) throw await divergence(model, 'a gradient is not finite', epoch, b, step);
      if (norm > FLOAT32_MAX && opts.clipGradNorm === undefined) {
        const largest = params[sums.indexOf(Math.max(...sums))].path;
        throw new DivergenceError(`${stepName(epoch, b, step)}: the gradient norm ${norm.toExponential(2)} is too large for float32 (every gradient is finite; the largest is "${largest}"). Try a lower learning rate or --clip-grad-norm.`);
      }
      if (opts.clipGradNorm !== undefined && norm > opts.clipGradNorm) {
        // One multiplication by clip/norm: y + (clip/norm − 1)·y loses the gradient once clip/norm − 1 rounds to −1.
        clipScale[0] = opts.clipGradNorm / norm;
        backend.upload(clipScale);
        for (const p of params) backend.channelScale(1, p.grad.data.length, p.grad.data, clipScale, p.grad.data);
      }
      const lr = lrAt(step);
      optimizer.step(params, lr);

      running.lossSum += stepLoss * B;
      for (let n = 0; n < B; n++) if (argmaxRow(out.probs.data, n, K) === labels[n]) running.correct++;
      running.seen += B;
      windowImages += B;
      trainImages += B;
      const t = now();
      trainSeconds += t - tPrev;
      epochSeconds += t - tPrev;
      const last = b === batches - 1;
      if ((b + 1) % reportEvery === 0 || last) {
        opts.onEvent?.({
          type: 'batch', epoch, batch: b + 1, batches, loss: running.lossSum / running.seen, accuracy: running.correct / running.seen,
          imagesPerSecond: windowImages / Math.max(t - windowStart, 1e-9), lr,
        });
        windowImages = 0;
        // Let timers and signal handlers run (progress redraw, SIGINT).
        await new Promise((resolve) => setTimeout(resolve, 0));
        windowStart = now();
      }
      stopped = !last && (opts.shouldStop?.() ?? false);
      const due = opts.checkpointEvery !== undefined && (step + 1) % opts.checkpointEvery === 0;
      if (!last && (due || stopped)) await checkpoint(epoch, b + 1, step);
      tPrev = now();
      if (stopped) break;
    }
    if (stopped) break;
    const test = opts.testSet ? await evaluate(model, opts.testSet) : undefined;
    history.push({ epoch, trainLoss: running.lossSum / running.seen, trainAccuracy: running.correct / running.seen, testAccuracy: test?.accuracy, seconds: epochSeconds });
    opts.onEvent?.({
      type: 'epoch', epoch, trainLoss: running.lossSum / running.seen, trainAccuracy: running.correct / running.seen,
      testAccuracy: test?.accuracy, testLoss: test?.loss, seconds: epochSeconds, imagesPerSecond: (batches - firstBatch) * B / epochSeconds,
    });
    running = { lossSum: 0, correct: 0, seen: 0 };
    shuffleStart = shuffleRng.getState();
    await checkpoint(epoch + 1, 0, epoch * batches - 1);
    if (epoch < opts.epochs && opts.shouldStop?.()) stopped = true;
  }
  // Whoever saves or inspects the model next reads the host copies.
  await model.downloadWeights();
  const last = history.at(-1);
  return {
    epochs: last?.epoch ?? 0, trainLoss: last?.trainLoss ?? running.lossSum / Math.max(running.seen, 1),
    trainAccuracy: last?.trainAccuracy ?? running.correct / Math.max(running.seen, 1), testAccuracy: last?.testAccuracy,
    imagesPerSecond: trainImages / Math.max(trainSeconds, 1e-9), seconds: now() - started, trainSeconds, stopped, history,
  };
}

/** The numeric rules shared with the CLI and checkpoints (src/train/settings.ts). */
function checkOptions(o: TrainOptions): void {
  const numbers: [SettingName, unknown, string][] = [
    ['epochs', o.epochs, 'epochs'], ['batchSize', o.batchSize, 'batch size'], ['lr', o.lr, 'lr'], ['seed', o.seed, 'seed'],
  ];
  const optional: [SettingName, unknown, string][] = [
    ['shift', o.shift, 'shift'], ['clipGradNorm', o.clipGradNorm, 'clipGradNorm'], ['checkpointEvery', o.checkpointEvery, 'checkpointEvery'],
  ];
  const problem = numbers.map(([name, value, label]) => settingProblem(name, value, label)).find(Boolean)
    ?? optional.map(([name, value, label]) => (value === undefined ? undefined : settingProblem(name, value, label))).find(Boolean)
    ?? optimizerProblem(o.optimizer) ?? scheduleProblem(o.schedule);
  if (problem) throw new ConfigError(problem);
}

const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Each parameter's squared gradient norm in float64. The backend's sums are float32 and
 * overflow once a gradient's norm passes ~1.8e19 although every value is finite; those
 * parameters are summed again on the host, so a finite gradient always has a finite norm.
 */
async function squaredNorms(model: Model, params: NamedParam[], squares: ArrayLike<number>): Promise<number[]> {
  const again = params.filter((_, i) => !Number.isFinite(squares[i]));
  if (again.length > 0) await model.backend.download(again.map((p) => p.grad.data));
  return params.map((p, i) => {
    if (Number.isFinite(squares[i])) return squares[i];
    let sum = 0;
    for (const v of p.grad.data) sum += v * v;
    return sum;
  });
}

function stepName(epoch: number, batch: number, step: number): string {
  return `training diverged at step ${step + 1} (epoch ${epoch}, batch ${batch + 1})`;
}

function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/**
 * Names the layer where the trouble appeared: the first node in forward order whose
 * activation is not finite, or failing that the first in backward order (the deepest) whose
 * parameter gradient is not finite — the backward pass carries it on to every earlier layer.
 */
async function divergence(model: Model, what: string, epoch: number, batch: number, step: number): Promise<DivergenceError> {
  await model.backend.download([...[...model.activations().values()].map((t) => t.data), ...model.parameters().map((p) => p.grad.data)]);
  let where = '';
  for (const [name, t] of model.activations()) {
    if (!allFinite(t.data)) { where = `; first non-finite activation in layer "${name}"`; break; }
  }
  if (!where) {
    const p = model.parameters().reverse().find((q) => !allFinite(q.grad.data));
    if (p) where = `; first non-finite gradient (in backward order) in layer "${p.path.slice(0, p.path.lastIndexOf('.'))}" ("${p.path}")`;
  }
  return new DivergenceError(`${stepName(epoch, batch, step)}: ${what}${where}. Try a lower learning rate or --clip-grad-norm.`);
}
