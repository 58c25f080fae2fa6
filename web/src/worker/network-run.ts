/**
 * Everything that belongs to the network currently in the playground: the training session,
 * the rolling test accuracy, and the replicas used for reports and layer views. Replaced as a
 * whole when the network changes (new definition, reset, loaded file, another backend).
 *
 * Residency: on a GPU backend the weights live on the device. The run keeps a host snapshot of
 * them (`snapshot`), refreshed whenever the worker asks a step for one (it rides on that step's
 * readback), so a lost device costs only the training since then.
 */
import { type Backend, type FloatArray, type ImageDataset, type Model, encodeModel, fineTuneOptions } from 'convkit';
import type { ChannelPatches, Kernel, ModelInfo, Stats, TestExample, TrainSettings } from '../protocol.js';
import { ChannelPatchFinder } from './channel-patches.js';
import { Inspector } from './inspect.js';
import { Replica } from './replica.js';
import { RollingTestAccuracy } from './rolling-test.js';
import { type SessionState, TrainingSession } from './session.js';
import { testStrip } from './test-report.js';
import { Throughput } from './throughput.js';

/** One test batch (50 images) per this many training images: ~8 % of the time. */
const TRAIN_IMAGES_PER_TEST_BATCH = 200;

/** Host copies of the weights (every saved tensor, in savedTensors order) after `examples` training examples. */
export interface WeightSnapshot {
  examples: number;
  tensors: Float32Array[];
}

/** What moves a run to another backend: its weights and the session's progress (with the optimizer state when the old backend still works). */
export interface RunState {
  weights: WeightSnapshot;
  /** Absent when the run had no data yet. */
  session?: SessionState;
  /** The frozen nodes (fine-tuning). */
  freeze?: string[];
}

export class NetworkRun {
  private training?: TrainingSession;
  private rollingTest?: RollingTestAccuracy;
  readonly reportReplica: Replica;
  readonly inspector: Inspector;
  readonly throughput = new Throughput();
  private sinceTest = 0;
  private stripReplica?: Replica;
  private patchFinder?: ChannelPatchFinder;
  private trainSet?: ImageDataset;
  /** Nodes that do not train (fine-tuning). */
  private frozen: string[];
  /** The latest host copy of the weights (see the module comment). */
  snapshot: WeightSnapshot;

  /**
   * `model`'s host arrays must be current (a new or just-loaded model); `resume` continues a run
   * moved from another backend. Without the data yet (it is still loading) the network can
   * already classify drawings; `attachData` adds training and testing when the digits arrive.
   */
  constructor(
    readonly model: Model,
    readonly origin: string,
    train: ImageDataset | undefined,
    test: ImageDataset | undefined,
    private settings: TrainSettings,
    private readonly seed: number,
    private readonly resume?: RunState,
  ) {
    this.frozen = [...(resume?.freeze ?? [])];
    if (resume) {
      model.savedTensors().forEach((t, i) => t.value.data.set(resume.weights.tensors[i]));
      model.uploadWeights();
    }
    this.reportReplica = new Replica(model);
    this.inspector = new Inspector(new Replica(model), test);
    if (train && test) this.attachData(train, test);
    this.snapshot = this.copyWeights();
  }

  /** Training and the rolling test, once the digits are here (with the settings and state the run was made with). */
  attachData(train: ImageDataset, test: ImageDataset): void {
    if (this.training) return;
    this.trainSet = train;
    this.training = new TrainingSession(this.model, train, this.settings, this.seed, this.resume?.session, this.frozen);
    this.rollingTest = new RollingTestAccuracy(new Replica(this.model), test);
    this.inspector.test = test;
  }

  /**
   * Freezes every node up to and including `until` (null: none), from the next batch on; the
   * library refuses a freeze that would take the classifier head. The session goes on with its
   * progress and optimizer state (call between steps).
   */
  async freeze(until: string | null): Promise<void> {
    const frozen = until === null ? [] : fineTuneOptions(this.model, { freezeUntil: until }).freeze;
    if (this.training && this.trainSet) {
      const state = await this.training.exportState();
      this.training.close();
      this.training = new TrainingSession(this.model, this.trainSet, this.settings, this.seed, state, frozen);
    }
    this.frozen = frozen;
  }

  /** New settings from the next batch on (kept for the session the data will bring, if it is not here yet). */
  async applySettings(settings: TrainSettings): Promise<void> {
    this.settings = { ...settings };
    await this.training?.applySettings(settings);
  }

  get hasData(): boolean {
    return this.training !== undefined;
  }

  get session(): TrainingSession {
    if (!this.training) throw new Error('the MNIST digits are still loading: training starts once they are here');
    return this.training;
  }

  get rolling(): RollingTestAccuracy {
    if (!this.rollingTest) throw new Error('the MNIST test digits are still loading');
    return this.rollingTest;
  }

  /** Training examples seen (before the data arrived: those of the run this one continues, if any). */
  get examples(): number {
    return this.training?.examples ?? this.resume?.session?.examples ?? 0;
  }

  get backend(): Backend {
    return this.model.backend;
  }

  /**
   * One training batch, and a test batch when one is due, with a single wait for results.
   * `snapshot`: also refresh the host snapshot of the weights (same readback, so the weights
   * as they were before this step's update).
   */
  async step(options: { snapshot?: boolean } = {}): Promise<void> {
    const before = this.session.examples;
    const extra: FloatArray[] = [];
    const testing = this.sinceTest >= TRAIN_IMAGES_PER_TEST_BATCH;
    if (testing) {
      this.sinceTest = 0;
      extra.push(this.rolling.queue());
    }
    const weights = options.snapshot ? this.weightArrays() : [];
    // The snapshot is copied before the update: the weights after `before` examples, on every backend.
    await this.session.step(
      [...extra, ...weights],
      options.snapshot
        ? () => {
            this.snapshot = this.copyWeights(before);
          }
        : undefined,
    );
    if (testing) this.rolling.collect();
    this.sinceTest += this.session.examples - before;
    this.throughput.record(this.session.examples);
  }

  /** Refreshes the snapshot from the device (when training stops). */
  async refreshSnapshot(): Promise<void> {
    await this.model.downloadWeights();
    this.snapshot = this.copyWeights();
  }

  /** Everything needed to continue on another backend; this backend must still work. */
  async exportState(): Promise<RunState> {
    await this.refreshSnapshot();
    return { weights: this.snapshot, session: this.training ? await this.training.exportState() : undefined, freeze: this.frozen };
  }

  /** What is left when the backend no longer works: the snapshot, and the progress it stands for (no optimizer state). */
  salvage(): RunState {
    return {
      weights: this.snapshot,
      session: this.training ? { ...this.training.progress(), examples: this.snapshot.examples } : undefined,
      freeze: this.frozen,
    };
  }

  /** The live test strip, on a replica of its own (an evaluation or a layer view may be using theirs). */
  async strip(): Promise<{ examples: number; strip: TestExample[] }> {
    const test = this.inspector.test;
    if (!test) throw new Error('the MNIST test digits are still loading');
    this.stripReplica ??= new Replica(this.model);
    return testStrip(this.stripReplica, test, this.examples);
  }

  stats(): Stats {
    const s = this.training;
    if (!s) {
      return {
        examples: this.examples,
        epoch: 0,
        imagesPerSecond: 0,
        forwardMs: NaN,
        backwardMs: NaN,
        updateMs: NaN,
        waitMs: NaN,
        loss: NaN,
        accuracy: NaN,
        testAccuracy: null,
        testWindow: 0,
        lr: this.settings.lr,
      };
    }
    return {
      examples: s.examples,
      epoch: s.epoch,
      imagesPerSecond: this.throughput.perSecond,
      forwardMs: s.timing.forward.value,
      backwardMs: s.timing.backward.value,
      updateMs: s.timing.update.value,
      waitMs: s.timing.wait.value,
      loss: s.smoothLoss.value,
      accuracy: s.smoothAccuracy.value,
      testAccuracy: this.rolling.accuracy,
      testWindow: this.rolling.seen,
      lr: s.lr,
    };
  }

  info(): ModelInfo {
    const rows = this.model.summary().map((r) => ({ name: r.name, type: r.type, outputShape: [...r.outputShape], params: r.params }));
    return { spec: this.model.spec, origin: this.origin, parameters: this.model.parameterCount(), rows, frozen: [...this.frozen] };
  }

  /**
   * The model as a .convkit file, with what the playground knows about its training.
   * `fromSnapshot`: the backend no longer works, so the file holds the latest host snapshot.
   */
  async save(fromSnapshot = false): Promise<{ bytes: Uint8Array; fileName: string }> {
    let examples = this.examples;
    if (fromSnapshot) {
      // The host arrays are only mirrors of a device that is gone: the snapshot may overwrite them.
      this.model.savedTensors().forEach((t, i) => t.value.data.set(this.snapshot.tensors[i]));
      examples = this.snapshot.examples;
    } else {
      await this.model.downloadWeights();
    }
    const s = this.stats();
    const bytes = encodeModel(this.model, {
      savedBy: 'convkit playground',
      examplesSeen: examples,
      rollingTestAccuracy: s.testAccuracy,
      backend: this.model.backend.name,
    });
    return { bytes, fileName: `${this.model.name}.convkit` };
  }

  /** The test digits where channel `channel` of `node` responds most, on a replica of its own. */
  topPatches(node: string, channel: number): Promise<ChannelPatches> {
    const test = this.inspector.test;
    if (!test) throw new Error('the MNIST test digits are still loading');
    this.patchFinder ??= new ChannelPatchFinder(new Replica(this.model));
    return this.patchFinder.find(test, node, channel, this.examples);
  }

  /** The first conv layer's filters (input channel 0), for the convolution explainer. */
  async firstConvKernels(): Promise<{ layer: string; kernels: Kernel[] } | null> {
    const index = this.model.summary().findIndex((r) => r.type === 'conv2d');
    if (index < 0) return null;
    const weight = this.model.layers[index].params().find((p) => p.name === 'weight');
    if (!weight) return null;
    await this.model.backend.download([weight.value.data]);
    const [O, C, KH, KW] = weight.value.shape;
    const kernels = Array.from(
      { length: O },
      (_, o): Kernel => ({
        size: [KH, KW],
        values: Array.from(weight.value.data.subarray(o * C * KH * KW, o * C * KH * KW + KH * KW)),
      }),
    );
    return { layer: this.model.summary()[index].name, kernels };
  }

  private weightArrays(): FloatArray[] {
    return this.model.savedTensors().map((t) => t.value.data);
  }

  private copyWeights(examples = this.examples): WeightSnapshot {
    return { examples, tensors: this.weightArrays().map((a) => Float32Array.from(a)) };
  }
}
