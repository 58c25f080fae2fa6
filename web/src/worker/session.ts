/**
 * Training one batch at a time with the library's pieces (fillBatch, Model.forward/backward,
 * SoftmaxCrossEntropy, Optimizer, makeSchedule), so the worker can pause between any two
 * batches and settings can change between them. No timers, no messaging: the worker drives it.
 */
import {
  type FloatArray, type ImageDataset, Model, Optimizer, type OptimizerConfig, Rng, SoftmaxCrossEntropy, Tensor, argmaxRow, fillBatch,
  makeSchedule, shapeSize,
} from '../../../src/index.js';
import type { OptimizerState } from '../../../src/train/optimizer.js';
import type { TrainSettings } from '../protocol.js';
import { Smoothed } from './smoothed.js';

export interface StepTiming {
  forwardMs: number;
  backwardMs: number;
  updateMs: number;
  /** Waiting for the step's results (a GPU runs the recorded kernels meanwhile; ~0 on CPU backends). */
  waitMs: number;
}

/** What carries a session over to another backend: progress, smoothed statistics and (if the old backend still works) optimizer state. */
export interface SessionState {
  examples: number;
  scheduleStep: number;
  smoothLoss: Smoothed;
  smoothAccuracy: Smoothed;
  optimizer: string;
  optimizerState?: OptimizerState;
}

export class TrainingSession {
  private settings: TrainSettings;
  private optimizer: Optimizer;
  private readonly loss: SoftmaxCrossEntropy;
  private readonly shuffleRng: Rng;
  private readonly augmentRng: Rng;
  private order: Int32Array;
  /** Position in the current epoch's order. */
  private cursor = 0;
  private x!: Tensor;
  private labels!: Uint8Array;
  private lrAt!: (step: number) => number;
  /** Optimizer steps since the schedule started (reset, new network, new settings). */
  private scheduleStep = 0;
  examples = 0;
  lr = 0;
  readonly smoothLoss = new Smoothed(0.02);
  readonly smoothAccuracy = new Smoothed(0.02);
  readonly timing = { forward: new Smoothed(0.1), backward: new Smoothed(0.1), update: new Smoothed(0.1), wait: new Smoothed(0.1) };

  constructor(readonly model: Model, private readonly data: ImageDataset, settings: TrainSettings, seed = 1) {
    this.loss = new SoftmaxCrossEntropy(model.backend);
    this.shuffleRng = new Rng(seed);
    this.augmentRng = new Rng(seed + 0x9e3779b9);
    this.order = new Int32Array(data.count);
    this.settings = settings;
    this.optimizer = new Optimizer(optimizerConfig(settings), model.backend);
    this.newEpoch();
    this.setSettings(settings);
  }

  get epoch(): number {
    return this.examples / this.data.count;
  }

  /**
   * New settings take effect at the next batch; momentum/Adam moments survive unless the
   * optimizer type changes (they are downloaded first: on a GPU the device copies are current).
   */
  async applySettings(settings: TrainSettings): Promise<void> {
    const old = this.optimizer;
    const keep = settings.optimizer === this.settings.optimizer;
    if (keep) await old.download();
    this.setSettings(settings);
    if (keep) this.optimizer.importState(old.exportState(), this.model.parameters());
  }

  /** Progress and smoothed statistics: host state, available even when the backend no longer works. */
  progress(): SessionState {
    return { examples: this.examples, scheduleStep: this.scheduleStep, smoothLoss: this.smoothLoss, smoothAccuracy: this.smoothAccuracy, optimizer: this.settings.optimizer };
  }

  /** progress() with host copies of the optimizer state, to continue on another backend. */
  async exportState(): Promise<SessionState> {
    await this.optimizer.download();
    const { steps, buffers } = this.optimizer.exportState();
    const copies = new Map([...buffers].map(([path, list]) => [path, list.map((b) => Float32Array.from(b) as FloatArray)]));
    return { ...this.progress(), optimizerState: { steps, buffers: copies } };
  }

  /** Continues from exportState's or progress()'s result (taken on any backend); the optimizer state is kept if its type still matches. */
  importState(state: SessionState): void {
    this.examples = state.examples;
    this.scheduleStep = state.scheduleStep;
    this.lr = this.lrAt(this.scheduleStep);
    this.smoothLoss.copyFrom(state.smoothLoss);
    this.smoothAccuracy.copyFrom(state.smoothAccuracy);
    if (state.optimizerState && state.optimizer === this.settings.optimizer) this.optimizer.importState(state.optimizerState, this.model.parameters());
  }

  private setSettings(settings: TrainSettings): void {
    this.optimizer = new Optimizer(optimizerConfig(settings), this.model.backend);
    this.settings = { ...settings };
    const B = settings.batchSize;
    if (!this.x || this.x.shape[0] !== B) {
      this.x = new Tensor([B, ...this.model.inputShape], this.model.backend.alloc(B * shapeSize(this.model.inputShape)));
      this.labels = new Uint8Array(B);
    }
    const batchesPerEpoch = Math.floor(this.data.count / B);
    this.lrAt = settings.schedule === 'cosine'
      ? makeSchedule({ type: 'cosine', minLr: settings.lr / 100, warmupSteps: 0 }, settings.lr, Math.max(1, Math.round(settings.scheduleEpochs * batchesPerEpoch)))
      : makeSchedule({ type: 'constant' }, settings.lr, 1);
    this.scheduleStep = 0;
    this.lr = this.lrAt(0);
  }

  /**
   * One minibatch: forward, loss, backward, optimizer step, then one wait for the loss and
   * probabilities. `alsoDownload` rides on that same readback (arrays whose kernels were
   * recorded before or during this step: a test batch's probabilities, weights to snapshot).
   */
  async step(alsoDownload: readonly FloatArray[] = []): Promise<StepTiming> {
    const B = this.settings.batchSize;
    if (this.cursor + B > this.order.length) this.newEpoch();
    const [, h, w] = this.model.inputShape;
    const smaller = h < this.data.height || w < this.data.width;
    const augment = this.settings.augment;
    fillBatch(this.data, this.order, this.cursor, this.x, this.labels, {
      crop: smaller && augment ? 'random' : 'center', rng: this.augmentRng, shift: augment && !smaller ? 2 : 0,
    });
    this.cursor += B;
    this.model.backend.upload(this.x.data);

    const t0 = performance.now();
    const logits = this.model.forward(this.x, true);
    const out = this.loss.compute(logits, this.labels);
    const t1 = performance.now();
    this.model.backward(out.grad);
    const t2 = performance.now();
    this.lr = this.lrAt(this.scheduleStep++);
    this.optimizer.step(this.model.parameters(), this.lr);
    const t3 = performance.now();
    await this.model.backend.download([out.lossValue, out.probs.data, ...alsoDownload]);
    const t4 = performance.now();
    const loss = out.lossValue[0];
    if (!Number.isFinite(loss)) throw new Error(`training diverged (loss ${loss}): lower the learning rate and press Reset`);

    const K = logits.shape[1];
    let correct = 0;
    for (let n = 0; n < B; n++) if (argmaxRow(out.probs.data, n, K) === this.labels[n]) correct++;
    this.smoothLoss.add(loss);
    this.smoothAccuracy.add(correct / B);
    this.examples += B;
    const timing = { forwardMs: t1 - t0, backwardMs: t2 - t1, updateMs: t3 - t2, waitMs: t4 - t3 };
    this.timing.forward.add(timing.forwardMs);
    this.timing.backward.add(timing.backwardMs);
    this.timing.update.add(timing.updateMs);
    this.timing.wait.add(timing.waitMs);
    return timing;
  }

  private newEpoch(): void {
    for (let i = 0; i < this.order.length; i++) this.order[i] = i;
    this.shuffleRng.shuffle(this.order);
    this.cursor = 0;
  }
}

function optimizerConfig(s: TrainSettings): OptimizerConfig {
  return s.optimizer === 'sgd'
    ? { type: 'sgd', momentum: s.momentum, weightDecay: s.weightDecay }
    : { type: 'adam', weightDecay: s.weightDecay };
}
