/**
 * The playground's training: the library's Trainer, one batch per step, so the worker can
 * pause between any two batches and settings can change between them — plus what the page
 * shows about it (examples seen, smoothed loss and accuracy, step timings). No timers, no
 * messaging: the worker drives it.
 */
import { type FloatArray, type ImageDataset, type LiveSettings, type Model, type TrainState, Trainer, type TrainerOptions } from 'convkit';
import type { TrainSettings } from '../protocol.js';
import { Smoothed } from './smoothed.js';

export interface StepTiming {
  forwardMs: number;
  backwardMs: number;
  updateMs: number;
  /** Waiting for the step's results (a GPU runs the recorded kernels meanwhile; ~0 on CPU backends). */
  waitMs: number;
}

/**
 * What carries a session over to another backend: progress, smoothed statistics and the
 * trainer's state (with the optimizer's buffers if the old backend still worked).
 */
export interface SessionState {
  examples: number;
  smoothLoss: Smoothed;
  smoothAccuracy: Smoothed;
  /** The optimizer type the state's buffers belong to. */
  optimizer: string;
  train: TrainState;
}

export class TrainingSession {
  private readonly trainer: Trainer;
  private settings: TrainSettings;
  examples = 0;
  lr = 0;
  readonly smoothLoss = new Smoothed(0.02);
  readonly smoothAccuracy = new Smoothed(0.02);
  readonly timing = { forward: new Smoothed(0.1), backward: new Smoothed(0.1), update: new Smoothed(0.1), wait: new Smoothed(0.1) };

  constructor(
    readonly model: Model,
    private readonly data: ImageDataset,
    settings: TrainSettings,
    seed = 1,
    resume?: SessionState,
    /** Nodes that do not train (fine-tuning): the Trainer freezes them until close(). */
    freeze: string[] = [],
  ) {
    this.settings = { ...settings };
    const options: TrainerOptions = { epochs: 1, seed, freeze, ...liveSettings(settings, model, data) } as TrainerOptions;
    let state = resume?.train;
    // Momentum buffers of another optimizer type (settings changed after a failure) cannot continue.
    if (state && resume!.optimizer !== settings.optimizer) state = { ...state, optimizer: { steps: 0, buffers: new Map() } };
    this.trainer = new Trainer(model, data, options, state);
    if (resume) {
      this.examples = resume.examples;
      this.smoothLoss.copyFrom(resume.smoothLoss);
      this.smoothAccuracy.copyFrom(resume.smoothAccuracy);
    }
    this.lr = this.trainer.lr;
  }

  get epoch(): number {
    return this.examples / this.data.count;
  }

  /** New settings take effect at the next batch; momentum/Adam moments survive unless the optimizer type changes. */
  async applySettings(settings: TrainSettings): Promise<void> {
    this.trainer.configure(liveSettings(settings, this.model, this.data));
    this.settings = { ...settings };
    this.lr = this.trainer.lr;
  }

  /** Progress and smoothed statistics: host state, available even when the backend no longer works. */
  progress(): SessionState {
    return {
      examples: this.examples,
      smoothLoss: this.smoothLoss,
      smoothAccuracy: this.smoothAccuracy,
      optimizer: this.settings.optimizer,
      train: this.trainer.progress(),
    };
  }

  /** Ends the session: the nodes it froze train again (a new session may freeze others). */
  close(): void {
    this.trainer.close();
  }

  /** progress() with host copies of the optimizer state, to continue on another backend. */
  async exportState(): Promise<SessionState> {
    return { ...this.progress(), train: await this.trainer.state({ copy: true }) };
  }

  /**
   * One minibatch (Trainer.step: divergence checks, clipping, the update) and one wait for
   * its results. `alsoDownload` rides on that same readback (arrays whose kernels were
   * recorded before the step: a test batch's probabilities, the weights); `downloaded` runs
   * right after that wait, before the update changes the weights.
   */
  async step(alsoDownload: readonly FloatArray[] = [], downloaded?: () => void): Promise<StepTiming> {
    const r = await this.trainer.step({ download: alsoDownload, downloaded });
    this.smoothLoss.add(r.loss);
    this.smoothAccuracy.add(r.accuracy);
    this.examples += this.settings.batchSize;
    this.lr = this.trainer.lr;
    const timing = { forwardMs: r.timings.forwardMs, backwardMs: r.timings.backwardMs, updateMs: r.timings.updateMs, waitMs: r.timings.waitMs };
    this.timing.forward.add(timing.forwardMs);
    this.timing.backward.add(timing.backwardMs);
    this.timing.update.add(timing.updateMs);
    this.timing.wait.add(timing.waitMs);
    return timing;
  }
}

/**
 * The page's settings as the Trainer's: random crops (nets with inputs under 28×28) or ±2 px
 * shifts (28×28 nets) when augmenting, as in ConvNetJS's demo; a cosine schedule over
 * `scheduleEpochs` (then 1 % of lr). Every change restarts the schedule.
 */
function liveSettings(
  s: TrainSettings,
  model: Model,
  data: ImageDataset,
): Required<Pick<LiveSettings, 'lr' | 'optimizer' | 'schedule' | 'scheduleSteps' | 'batchSize' | 'shift' | 'randomCrop'>> {
  const [, h, w] = model.inputShape;
  const smaller = h < data.height || w < data.width;
  const batchesPerEpoch = Math.floor(data.count / s.batchSize);
  return {
    lr: s.lr,
    batchSize: s.batchSize,
    optimizer: s.optimizer === 'sgd' ? { type: 'sgd', momentum: s.momentum, weightDecay: s.weightDecay } : { type: 'adam', weightDecay: s.weightDecay },
    schedule: s.schedule === 'cosine' ? { type: 'cosine', minLr: s.lr / 100, warmupSteps: 0 } : { type: 'constant' },
    scheduleSteps: Math.max(1, Math.round(s.scheduleEpochs * batchesPerEpoch)),
    shift: s.augment && !smaller ? 2 : 0,
    randomCrop: s.augment,
  };
}
