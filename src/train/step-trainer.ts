import type { Backend } from '../backend/backend.js';
import { type ImageDataset, fillBatch } from '../data/dataset.js';
import { type ResizedCropOptions, resizedCropSettings } from '../data/resized-crop.js';
import { ConfigError, ConvkitError } from '../errors.js';
import { Model, type NamedParam } from '../model/model.js';
import { Rng } from '../rng.js';
import { type FloatArray, Tensor, shapeSize } from '../tensor.js';
import { type Evaluation, argmaxRow, checkClassCount, evaluate } from './evaluate.js';
import { SoftmaxCrossEntropy } from './loss.js';
import { Optimizer, type OptimizerConfig, type OptimizerState } from './optimizer.js';
import { type ScheduleConfig, makeSchedule } from './schedule.js';
import { type SettingName, optimizerProblem, scheduleProblem, settingProblem } from './settings.js';

/** What a Trainer needs: how each step trains, and the events it reports. */
export interface TrainerOptions {
  /** Length of the run in epochs: the schedule spans epochs × batches per epoch (unless `scheduleSteps`). */
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
  /** Inputs smaller than the images are random crops (default); false: central crops. */
  randomCrop?: boolean;
  /**
   * Nodes that do not train (fine-tuning; see Model.setFrozen): their parameters get no updates
   * and no weight decay, their batch norms run on running statistics. Until `close()`.
   */
  freeze?: string[];
  /** Rescale gradients whose global L2 norm exceeds this (off when undefined). */
  clipGradNorm?: number;
  /** Steps the schedule spans, instead of epochs × batches per epoch. */
  scheduleSteps?: number;
  /** Emit a 'batch' event every this many batches (and at each epoch's last). */
  reportEvery?: number;
  /**
   * Pipelined steps: a step records its kernels, starts a non-blocking read-back of its loss,
   * probabilities and gradient norms (`Backend.downloadLater`) and returns; its statistics are
   * checked when the next step starts (or at the epoch's end, `evaluate`, `state`, `settle`).
   * Its StepResult then has `pending: true` and NaN loss and accuracy; events and the divergence
   * guard still report the step they describe. Not with gradient clipping (the norm is needed
   * before the update) nor in steps that download more arrays. true: required (a ConfigError
   * where impossible); 'auto': where the backend has downloadLater and no clipping is asked
   * for; false (default for a Trainer; `train()` defaults to 'auto'): every step waits.
   */
  pipelined?: 'auto' | boolean;
  onEvent?: (event: TrainEvent) => void;
}

/** The settings that may change between steps (`Trainer.configure`). */
export type LiveSettings = Partial<
  Pick<TrainerOptions, 'lr' | 'optimizer' | 'schedule' | 'scheduleSteps' | 'batchSize' | 'shift' | 'flip' | 'randomCrop' | 'resizedCrop' | 'clipGradNorm'>
>;

export type TrainEvent =
  | { type: 'batch'; epoch: number; batch: number; batches: number; loss: number; accuracy: number; imagesPerSecond: number; lr: number }
  | {
      type: 'epoch';
      epoch: number;
      trainLoss: number;
      trainAccuracy: number;
      testAccuracy?: number;
      testLoss?: number;
      seconds: number;
      imagesPerSecond: number;
    };

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  testAccuracy?: number;
  seconds: number;
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
  history: EpochRecord[];
}

/** What one step did. */
export interface StepResult {
  epoch: number;
  /** The batch just trained, counted from 1. */
  batch: number;
  batches: number;
  /** This batch's mean loss and accuracy (the epoch's running means are in `trainer.running`). */
  loss: number;
  accuracy: number;
  lr: number;
  /** The epoch's last batch: `finishEpoch` comes next (the next `step` calls it, without a test result, if the caller did not). */
  epochDone: boolean;
  /** A 'batch' event was emitted (pipelined: is due when this step's statistics arrive). */
  reported: boolean;
  /** Pipelined: this step's statistics have not arrived yet (loss and accuracy are NaN). */
  pending?: boolean;
  /** Milliseconds: recording forward + loss, backward + gradient norms, waiting for the results, clipping + update. */
  timings: { forwardMs: number; backwardMs: number; waitMs: number; updateMs: number };
}

/** Thrown when the loss or a gradient stops being finite. */
export class DivergenceError extends ConvkitError {}

const now = () => performance.now() / 1000;

/** A recorded step whose loss, probabilities and gradient norms are on their way back. */
interface PendingStep {
  arrived: Promise<void>;
  epoch: number;
  /** The batch index within the epoch (from 0) and the step number (from 0). */
  batch: number;
  step: number;
  labels: Int32Array;
  probs: FloatArray;
  lossValue: FloatArray;
  lr: number;
  batches: number;
  reported: boolean;
}
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Minibatch training with softmax cross-entropy, one batch per `step()`. Each epoch visits the
 * training set in a fresh seeded random order, in full batches (the few examples left over are
 * seen in other epochs, so batch buffers keep one size). Deterministic: the same seeds give the
 * same weights bit for bit, with or without interruptions (`state()` / `Trainer.fromState`).
 *
 * Every step checks that the loss and the gradients' global norm (summed in float64) are finite,
 * else it throws a DivergenceError naming the first non-finite layer; it clips the norm when
 * asked, and updates only the parameters of nodes that are not frozen (with each parameter
 * group's learning rate). `train()` is a loop over `step()`.
 *
 * Pausing is not calling `step()`: nothing is lost between steps, and settings changed with
 * `configure` take effect at the next one.
 */
export class Trainer {
  private settings: TrainerOptions;
  private readonly shuffleRng: Rng;
  private readonly augmentRng: Rng;
  private readonly optimizer: Optimizer;
  private readonly loss: SoftmaxCrossEntropy;
  private readonly params: NamedParam[];
  private readonly squares: FloatArray;
  private readonly grads: FloatArray[];
  /** The pipelined step in flight, if any. */
  private inFlight: PendingStep | undefined;
  /** A pipelined step diverged after its update was recorded: the weights are not to be saved. */
  private diverged: DivergenceError | undefined;
  /** clip/norm, for scaling every gradient by one multiplication. */
  private readonly clipScale: FloatArray;
  private readonly order: Int32Array;
  private readonly frozenBefore: string[];
  private x!: Tensor;
  private labels!: Int32Array;
  private lrAt!: (step: number) => number;
  /** The step at which the current schedule started (settings changes restart it). */
  private scheduleStart = 0;
  /** The epoch whose order `order` holds (0: none drawn yet). */
  private orderEpoch = 0;
  private shuffleStart: number[];
  private pending: LiveSettings | undefined;
  private stepping = false;
  private closed = false;
  private epochSeconds = 0;
  private epochImages = 0;
  private windowStart = 0;
  private windowImages = 0;

  /** The epoch being trained (from 1) and the index of its next batch. */
  epoch = 1;
  batch = 0;
  /** Optimizer steps taken in this run. */
  steps = 0;
  /** The current epoch's sums over the batches trained so far. */
  running = { lossSum: 0, correct: 0, seen: 0 };
  trainSeconds = 0;
  trainImages = 0;
  readonly history: EpochRecord[] = [];

  /** `resume`: continue from `state()` (the model must hold the weights saved with it). */
  constructor(
    readonly model: Model,
    readonly trainSet: ImageDataset,
    options: TrainerOptions,
    resume?: TrainState,
  ) {
    checkOptions(options);
    checkPipelined(options, model.backend);
    if (trainSet.count === 0) throw new ConfigError(`training set ${trainSet.name} is empty`);
    if (trainSet.count < options.batchSize) throw new ConfigError(`training set has ${trainSet.count} examples, fewer than one batch of ${options.batchSize}`);
    checkClassCount(model, trainSet);
    this.settings = { ...options };
    this.frozenBefore = model.frozenNodes();
    if (options.freeze) model.setFrozen(options.freeze);
    try {
      const backend = model.backend;
      this.params = model.trainableParameters();
      if (this.params.length === 0) throw new ConfigError(`model "${model.name}": every parameter is frozen, nothing would train`);
      this.shuffleRng = new Rng(options.seed);
      this.augmentRng = new Rng(options.seed + 0x9e3779b9);
      this.optimizer = new Optimizer(options.optimizer, backend);
      this.loss = new SoftmaxCrossEntropy(backend);
      this.squares = backend.alloc(this.params.length);
      this.grads = this.params.map((p) => p.grad.data);
      this.clipScale = backend.alloc(1);
      this.order = new Int32Array(trainSet.count);
      this.allocBatch();
      this.makeSchedule();
      if (resume) this.restore(resume);
    } catch (error) {
      if (options.freeze) model.setFrozen(this.frozenBefore);
      throw error;
    }
    this.shuffleStart = this.shuffleRng.getState();
  }

  /** A trainer that continues from `state()` (the model must hold the weights saved with it). */
  static fromState(model: Model, trainSet: ImageDataset, options: TrainerOptions, state: TrainState): Trainer {
    return new Trainer(model, trainSet, options, state);
  }

  /** Full batches per epoch at the current batch size. */
  get batches(): number {
    return Math.floor(this.trainSet.count / this.settings.batchSize);
  }

  /** The learning rate the next step uses. */
  get lr(): number {
    return this.lrAt(this.steps - this.scheduleStart);
  }

  /** The settings in use (after any `configure`). */
  get options(): Readonly<TrainerOptions> {
    return this.settings;
  }

  /**
   * Changes settings between steps, like ConvNetJS's live controls. Momentum and Adam moments
   * are kept unless the optimizer type changes; a new learning rate, schedule or batch size
   * restarts the schedule at the next step; a new batch size continues at the next full batch
   * of the epoch's order. Called during a step, the change waits for the next one.
   */
  configure(changes: LiveSettings): void {
    this.checkOpen();
    const merged = { ...this.settings, ...this.pending, ...changes };
    checkOptions(merged);
    checkPipelined(merged, this.model.backend);
    if (this.trainSet.count < merged.batchSize)
      throw new ConfigError(`training set has ${this.trainSet.count} examples, fewer than one batch of ${merged.batchSize}`);
    if (this.stepping) {
      this.pending = { ...this.pending, ...changes };
      return;
    }
    this.apply(changes);
  }

  private apply(changes: LiveSettings): void {
    const before = this.settings;
    this.settings = { ...before, ...changes };
    if (changes.optimizer) this.optimizer.reconfigure(changes.optimizer);
    if (this.settings.batchSize !== before.batchSize) {
      const offset = this.batch * before.batchSize;
      this.batch = Math.ceil(offset / this.settings.batchSize);
      this.allocBatch();
    }
    const restart = ['lr', 'schedule', 'scheduleSteps', 'batchSize'].some((k) => k in changes);
    if (restart) {
      this.makeSchedule();
      this.scheduleStart = this.steps;
    }
  }

  /**
   * Trains one batch: forward, loss, backward, one wait for the loss, probabilities and
   * gradient norms, the divergence checks, clipping, and the optimizer's update.
   * `download`: more arrays to bring home in the same wait (kernels recorded before the step:
   * a test batch's probabilities, the weights); `downloaded` is called right after that wait,
   * before the update changes the weights (on a CPU backend the host arrays are the weights).
   */
  async step(options: { download?: readonly FloatArray[]; downloaded?: () => void } = {}): Promise<StepResult> {
    this.checkOpen();
    if (this.stepping) throw new ConfigError('Trainer.step: the previous step has not finished');
    this.stepping = true;
    try {
      return await this.trainBatch(options.download ?? [], options.downloaded);
    } finally {
      this.stepping = false;
      const pending = this.pending;
      this.pending = undefined;
      if (pending && !this.closed) this.apply(pending);
    }
  }

  /**
   * Waits for the pipelined step in flight, if any, and checks and counts its statistics (a
   * DivergenceError names that step). Nothing to do after a step that waited.
   */
  async settle(): Promise<void> {
    if (this.diverged) throw this.diverged;
    const p = this.inFlight;
    if (!p) return;
    this.inFlight = undefined;
    await p.arrived;
    try {
      await this.checkFinite(p.lossValue[0], p.epoch, p.batch, p.step);
    } catch (error) {
      if (error instanceof DivergenceError) this.diverged = error;
      throw error;
    }
    this.count(p, p.lossValue[0]);
  }

  private pipelinedNow(extra: readonly FloatArray[], downloaded?: () => void): boolean {
    const s = this.settings;
    return (
      (s.pipelined ?? false) !== false &&
      this.model.backend.downloadLater !== undefined &&
      s.clipGradNorm === undefined &&
      extra.length === 0 &&
      downloaded === undefined
    );
  }

  private async trainBatch(extra: readonly FloatArray[], downloaded?: () => void): Promise<StepResult> {
    await this.settle();
    if (this.batch >= this.batches) this.finishEpoch();
    if (this.orderEpoch !== this.epoch) this.drawOrder();
    const s = this.settings;
    const B = s.batchSize;
    const backend = this.model.backend;
    const { epoch, batch: b, steps: step } = this;
    const started = now();
    if (this.windowImages === 0) this.windowStart = started;
    const crop = this.model.inputShape[1] < this.trainSet.height || this.model.inputShape[2] < this.trainSet.width;
    const resizedCrop = s.resizedCrop ? resizedCropSettings(s.resizedCrop === true ? {} : s.resizedCrop) : undefined;
    const random = (crop && s.randomCrop !== false) || resizedCrop !== undefined;
    fillBatch(this.trainSet, this.order, b * B, this.x, this.labels, {
      crop: random ? 'random' : 'center',
      rng: this.augmentRng,
      shift: s.shift,
      flip: s.flip,
      resizedCrop,
    });
    backend.upload(this.x.data);
    const t0 = performance.now();
    const logits = this.model.forward(this.x, true);
    const out = this.loss.compute(logits, this.labels);
    const t1 = performance.now();
    this.model.backward(out.grad);
    if (backend.sumsOfSquares) backend.sumsOfSquares(this.grads, this.squares);
    else this.grads.forEach((g, i) => backend.sumOfSquares(g, this.squares, i));
    const t2 = performance.now();
    if (this.pipelinedNow(extra, downloaded)) {
      const lr = this.lr;
      this.optimizer.step(this.params, lr);
      const arrived = backend.downloadLater!([out.lossValue, out.probs.data, this.squares]);
      // Seen by settle(); until then a rejection (a lost device) is not unhandled.
      arrived.catch(() => undefined);
      const t3 = performance.now();
      const batches = this.batches;
      const pending: PendingStep = {
        arrived,
        epoch,
        batch: b,
        step,
        labels: this.labels.slice(),
        probs: out.probs.data,
        lossValue: out.lossValue,
        lr,
        batches,
        reported: this.advance(B, started, batches),
      };
      this.inFlight = pending;
      const epochDone = this.batch >= batches;
      // The epoch's figures are complete before finishEpoch.
      if (epochDone) await this.settle();
      return {
        epoch,
        batch: this.batch,
        batches,
        loss: NaN,
        accuracy: NaN,
        lr,
        epochDone,
        reported: pending.reported,
        pending: !epochDone,
        timings: { forwardMs: t1 - t0, backwardMs: t2 - t1, waitMs: 0, updateMs: t3 - t2 },
      };
    }
    // The one wait per step: a device backend hands back only the loss, probabilities and gradient norms.
    await backend.download([out.lossValue, out.probs.data, this.squares, ...extra]);
    const t3 = performance.now();
    downloaded?.();
    const stepLoss = out.lossValue[0];
    const norm = await this.checkFinite(stepLoss, epoch, b, step);
    if (s.clipGradNorm !== undefined && norm > s.clipGradNorm) {
      // One multiplication by clip/norm: y + (clip/norm − 1)·y loses the gradient once clip/norm − 1 rounds to −1.
      this.clipScale[0] = s.clipGradNorm / norm;
      backend.upload(this.clipScale);
      for (const p of this.params) backend.channelScale(1, p.grad.data.length, p.grad.data, this.clipScale, p.grad.data);
    }
    const lr = this.lr;
    this.optimizer.step(this.params, lr);
    const t4 = performance.now();

    const batches = this.batches;
    const reported = this.advance(B, started, batches);
    const correct = this.count({ epoch, batch: b, labels: this.labels, probs: out.probs.data, lr, batches, reported }, stepLoss);
    const epochDone = this.batch >= batches;
    return {
      epoch,
      batch: this.batch,
      batches,
      loss: stepLoss,
      accuracy: correct / B,
      lr,
      epochDone,
      reported,
      timings: { forwardMs: t1 - t0, backwardMs: t2 - t1, waitMs: t3 - t2, updateMs: t4 - t3 },
    };
  }

  /**
   * The loss and the gradients' global norm (float64) must be finite, and the norm within
   * float32 unless clipping rescales it; returns the norm. Reads the step's gradient norms
   * in `squares` (and its activations, to name a layer): no later step may have been recorded.
   */
  private async checkFinite(stepLoss: number, epoch: number, b: number, step: number): Promise<number> {
    if (!Number.isFinite(stepLoss)) throw await divergence(this.model, `loss is ${stepLoss}`, epoch, b, step);
    const sums = await squaredNorms(this.model, this.params, this.squares);
    const norm = Math.sqrt(sums.reduce((a, v) => a + v, 0));
    if (!Number.isFinite(norm)) throw await divergence(this.model, 'a gradient is not finite', epoch, b, step);
    if (norm > FLOAT32_MAX && this.settings.clipGradNorm === undefined) {
      const largest = this.params[sums.indexOf(Math.max(...sums))].path;
      throw new DivergenceError(
        `${stepName(epoch, b, step)}: the gradient norm ${norm.toExponential(2)} is too large for float32 (every gradient is finite; the largest is "${largest}"). Try a lower learning rate or --clip-grad-norm.`,
      );
    }
    return norm;
  }

  /** Moves past a trained batch (counters and time); returns whether a 'batch' event is due for it. */
  private advance(B: number, started: number, batches: number): boolean {
    this.steps++;
    this.batch++;
    this.windowImages += B;
    this.epochImages += B;
    this.trainImages += B;
    const t = now();
    this.trainSeconds += t - started;
    this.epochSeconds += t - started;
    return this.batch % (this.settings.reportEvery ?? 10) === 0 || this.batch >= batches;
  }

  /** Adds a checked step's loss and accuracy to the epoch's sums and emits its 'batch' event if due; returns its correct count. */
  private count(p: Omit<PendingStep, 'arrived' | 'step' | 'lossValue'>, stepLoss: number): number {
    const B = p.labels.length;
    const K = this.model.outputShape[0];
    let correct = 0;
    for (let n = 0; n < B; n++) if (argmaxRow(p.probs, n, K) === p.labels[n]) correct++;
    this.running.lossSum += stepLoss * B;
    this.running.correct += correct;
    this.running.seen += B;
    if (p.reported) {
      const t = now();
      this.settings.onEvent?.({
        type: 'batch',
        epoch: p.epoch,
        batch: p.batch + 1,
        batches: p.batches,
        loss: this.running.lossSum / this.running.seen,
        accuracy: this.running.correct / this.running.seen,
        imagesPerSecond: this.windowImages / Math.max(t - this.windowStart, 1e-9),
        lr: p.lr,
      });
      this.windowImages = 0;
    }
    return correct;
  }

  /**
   * Closes the epoch: records it in `history` (with the test result, if any), emits the
   * 'epoch' event, and moves to the next epoch's first batch.
   */
  finishEpoch(test?: Evaluation): EpochRecord {
    this.checkOpen();
    if (this.inFlight) throw new ConfigError('Trainer.finishEpoch: a pipelined step is in flight; await trainer.settle() first');
    const r = this.running;
    const record: EpochRecord = {
      epoch: this.epoch,
      trainLoss: r.lossSum / r.seen,
      trainAccuracy: r.correct / r.seen,
      testAccuracy: test?.accuracy,
      seconds: this.epochSeconds,
    };
    this.history.push(record);
    this.settings.onEvent?.({
      type: 'epoch',
      epoch: this.epoch,
      trainLoss: record.trainLoss,
      trainAccuracy: record.trainAccuracy,
      testAccuracy: test?.accuracy,
      testLoss: test?.loss,
      seconds: this.epochSeconds,
      imagesPerSecond: this.epochImages / this.epochSeconds,
    });
    this.running = { lossSum: 0, correct: 0, seen: 0 };
    this.epoch++;
    this.batch = 0;
    this.epochSeconds = 0;
    this.epochImages = 0;
    this.windowImages = 0;
    return record;
  }

  /**
   * Accuracy, loss and confusion matrix on `testSet` with the current weights. Yields between
   * batches when given a signal, and stops with the signal's reason once it is aborted.
   */
  async evaluate(testSet: ImageDataset, options: { signal?: AbortSignal; batchSize?: number } = {}): Promise<Evaluation> {
    await this.settle();
    return evaluate(this.model, testSet, options.batchSize, { signal: options.signal });
  }

  /**
   * The whole training state, for a checkpoint or a move: the host copies of the weights are
   * made current (the caller saves them with the state) and checked to be finite — a state is
   * only ever taken from good weights. `copy`: the optimizer buffers are copies, else the live
   * buffers (serialise them before the next step).
   */
  async state(options: { copy?: boolean } = {}): Promise<TrainState> {
    this.checkOpen();
    await this.settle();
    await this.model.downloadWeights();
    await this.optimizer.download();
    const bad = this.params.find((p) => !allFinite(p.value.data));
    if (bad)
      throw new DivergenceError(
        `training diverged at step ${this.steps}: the weights "${bad.path}" are not finite after the update; the last checkpoint was not replaced. Try a lower learning rate or --clip-grad-norm.`,
      );
    const optimizer = this.optimizer.exportState();
    const buffers = options.copy ? new Map([...optimizer.buffers].map(([path, list]) => [path, list.map((b) => b.slice())])) : optimizer.buffers;
    return { ...this.progress(), optimizer: { steps: optimizer.steps, buffers } };
  }

  /**
   * The state without weights or optimizer buffers (host data only: available when a device no
   * longer answers). Continuing from it restarts the optimizer's momentum.
   */
  progress(): TrainState {
    return {
      epoch: this.epoch,
      batch: this.batch,
      shuffleRngAtEpochStart: this.orderEpoch === this.epoch ? this.shuffleStart : this.shuffleRng.getState(),
      augmentRng: this.augmentRng.getState(),
      modelRng: this.model.rng.getState(),
      optimizer: { steps: this.optimizer.steps, buffers: new Map() },
      running: { ...this.running },
      trainSeconds: this.trainSeconds,
      trainImages: this.trainImages,
      history: [...this.history],
    };
  }

  /**
   * Continues on another backend: the weights, optimizer state and position move to a new
   * model of the same network there, and this trainer is closed. Disposing of the old backend
   * is the caller's business (other models may still use it).
   */
  async moveTo(backend: Backend): Promise<Trainer> {
    const state = await this.state({ copy: true });
    const model = new Model(this.model.spec, backend);
    const from = this.model.savedTensors();
    model.savedTensors().forEach((t, i) => t.value.data.set(from[i].value.data));
    model.uploadWeights();
    this.close();
    return Trainer.fromState(model, this.trainSet, this.settings, state);
  }

  /** Ends the run: the model's frozen nodes are what they were before. The trainer cannot step again. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.settings.freeze) this.model.setFrozen(this.frozenBefore);
  }

  private restore(r: TrainState): void {
    this.epoch = r.epoch;
    this.batch = r.batch;
    this.steps = (r.epoch - 1) * this.batches + r.batch;
    this.shuffleRng.setState(r.shuffleRngAtEpochStart);
    this.augmentRng.setState(r.augmentRng);
    this.model.rng.setState(r.modelRng);
    this.optimizer.importState(r.optimizer, this.params);
    this.running = { ...r.running };
    this.trainSeconds = r.trainSeconds;
    this.trainImages = r.trainImages;
    this.history.push(...r.history);
  }

  private drawOrder(): void {
    this.shuffleStart = this.shuffleRng.getState();
    for (let i = 0; i < this.order.length; i++) this.order[i] = i;
    this.shuffleRng.shuffle(this.order);
    this.orderEpoch = this.epoch;
  }

  private allocBatch(): void {
    const B = this.settings.batchSize;
    if (this.x?.shape[0] === B) return;
    this.x = new Tensor([B, ...this.model.inputShape], this.model.backend.alloc(B * shapeSize(this.model.inputShape)));
    this.labels = new Int32Array(B);
  }

  private makeSchedule(): void {
    const s = this.settings;
    this.lrAt = makeSchedule(s.schedule, s.lr, s.scheduleSteps ?? s.epochs * this.batches);
  }

  private checkOpen(): void {
    if (this.closed) throw new ConfigError('this Trainer was closed (train() ended, or the run moved to another backend)');
  }
}

/** The numeric rules shared with the CLI and checkpoints (src/train/settings.ts). */
export function checkOptions(o: TrainerOptions & { checkpointEvery?: number }): void {
  const numbers: [SettingName, unknown, string][] = [
    ['epochs', o.epochs, 'epochs'],
    ['batchSize', o.batchSize, 'batch size'],
    ['lr', o.lr, 'lr'],
    ['seed', o.seed, 'seed'],
  ];
  const optional: [SettingName, unknown, string][] = [
    ['shift', o.shift, 'shift'],
    ['clipGradNorm', o.clipGradNorm, 'clipGradNorm'],
    ['checkpointEvery', o.checkpointEvery, 'checkpointEvery'],
    ['scheduleSteps', o.scheduleSteps, 'scheduleSteps'],
  ];
  const problem =
    numbers.map(([name, value, label]) => settingProblem(name, value, label)).find(Boolean) ??
    optional.map(([name, value, label]) => (value === undefined ? undefined : settingProblem(name, value, label))).find(Boolean) ??
    optimizerProblem(o.optimizer) ??
    scheduleProblem(o.schedule);
  if (problem) throw new ConfigError(problem);
}

function checkPipelined(o: TrainerOptions, backend: Backend): void {
  if (o.pipelined === undefined || o.pipelined === 'auto' || o.pipelined === false) return;
  if (o.pipelined !== true) throw new ConfigError(`pipelined must be 'auto', true or false, not ${JSON.stringify(o.pipelined)}`);
  if (!backend.downloadLater) throw new ConfigError(`pipelined: true needs a backend with non-blocking read-back (downloadLater); ${backend.name} has none`);
  if (o.clipGradNorm !== undefined) throw new ConfigError('pipelined: true cannot clip gradients (clipGradNorm needs the norm before the update)');
}

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
    if (!allFinite(t.data)) {
      where = `; first non-finite activation in layer "${name}"`;
      break;
    }
  }
  if (!where) {
    const p = model
      .parameters()
      .reverse()
      .find((q) => !allFinite(q.grad.data));
    if (p) where = `; first non-finite gradient (in backward order) in layer "${p.path.slice(0, p.path.lastIndexOf('.'))}" ("${p.path}")`;
  }
  return new DivergenceError(`${stepName(epoch, batch, step)}: ${what}${where}. Try a lower learning rate or --clip-grad-norm.`);
}
