import type { ImageDataset } from '../data/dataset.js';
import type { Model } from '../model/model.js';
import { checkClassCount } from './evaluate.js';
import { type EpochRecord, type TrainState, Trainer, type TrainerOptions, checkOptions } from './step-trainer.js';

export {
  DivergenceError,
  Trainer,
  type EpochRecord,
  type LiveSettings,
  type StepResult,
  type TrainEvent,
  type TrainState,
  type TrainerOptions,
} from './step-trainer.js';

export interface TrainOptions extends TrainerOptions {
  /** Evaluate on this set after each epoch. */
  testSet?: ImageDataset;
  /** Checked between batches; when it returns true training stops after the current batch. */
  shouldStop?: () => boolean;
  /** Called with the full training state every `checkpointEvery` batches, at each epoch's end, and on a stop. */
  onCheckpoint?: (state: TrainState) => void;
  checkpointEvery?: number;
  /** Continue from a saved state instead of starting afresh (the model must hold the saved weights). */
  resume?: TrainState;
}

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
  history: EpochRecord[];
}

const now = () => performance.now() / 1000;

/**
 * Minibatch training with softmax cross-entropy: a loop over `Trainer.step()` for `epochs`
 * epochs, evaluating on `testSet` after each, with checkpoints and stops between batches.
 * Each epoch visits the training set in a fresh seeded random order, in full batches (the few
 * examples left over are seen in other epochs, so batch buffers keep one size). Deterministic:
 * the same seeds give the same weights bit for bit, with or without interruptions in between.
 */
export async function train(model: Model, trainSet: ImageDataset, opts: TrainOptions): Promise<TrainResult> {
  checkOptions(opts);
  if (opts.testSet) checkClassCount(model, opts.testSet);
  // Nothing reads a step's result before the next one: statistics may arrive one step late.
  const trainer = new Trainer(model, trainSet, { ...opts, pipelined: opts.pipelined ?? 'auto' }, opts.resume);
  try {
    return await run(trainer, opts);
  } finally {
    trainer.close();
  }
}

async function run(trainer: Trainer, opts: TrainOptions): Promise<TrainResult> {
  const started = now();
  // A checkpoint is only ever written with finite weights (state() checks), so the last one on disk stays good.
  const checkpoint = async () => {
    if (opts.onCheckpoint) opts.onCheckpoint(await trainer.state());
  };
  let stopped = false;
  while (trainer.epoch <= opts.epochs && !stopped) {
    const step = await trainer.step();
    // Let timers and signal handlers run (progress redraw, SIGINT).
    if (step.reported) await new Promise((resolve) => setTimeout(resolve, 0));
    if (!step.epochDone) {
      stopped = opts.shouldStop?.() ?? false;
      const due = opts.checkpointEvery !== undefined && trainer.steps % opts.checkpointEvery === 0;
      if (due || stopped) await checkpoint();
      continue;
    }
    const epoch = trainer.epoch;
    const test = opts.testSet ? await trainer.evaluate(opts.testSet) : undefined;
    trainer.finishEpoch(test);
    await checkpoint();
    if (epoch < opts.epochs && opts.shouldStop?.()) stopped = true;
  }
  // The last pipelined step's statistics (and its divergence check), then the host copies of
  // the weights for whoever saves or inspects the model next.
  await trainer.settle();
  await trainer.model.downloadWeights();
  const { history, running, trainImages, trainSeconds } = trainer;
  const last = history.at(-1);
  return {
    epochs: last?.epoch ?? 0,
    trainLoss: last?.trainLoss ?? running.lossSum / Math.max(running.seen, 1),
    trainAccuracy: last?.trainAccuracy ?? running.correct / Math.max(running.seen, 1),
    testAccuracy: last?.testAccuracy,
    imagesPerSecond: trainImages / Math.max(trainSeconds, 1e-9),
    seconds: now() - started,
    trainSeconds,
    stopped,
    history: [...history],
  };
}
