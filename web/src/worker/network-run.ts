/**
 * Everything that belongs to the network currently in the playground: the training session,
 * the rolling test accuracy, and the replicas used for reports and layer views. Replaced as a
 * whole when the network changes (new definition, reset, loaded file).
 */
import { type ImageDataset, type Model, encodeModel } from '../../../src/index.js';
import type { Kernel, ModelInfo, Stats, TrainSettings } from '../protocol.js';
import { Inspector } from './inspect.js';
import { Replica } from './replica.js';
import { RollingTestAccuracy } from './rolling-test.js';
import { TrainingSession } from './session.js';
import { Throughput } from './throughput.js';

/** One test batch (50 images) per this many training images: ~8 % of the time. */
const TRAIN_IMAGES_PER_TEST_BATCH = 200;

export class NetworkRun {
  readonly session: TrainingSession;
  readonly rolling: RollingTestAccuracy;
  readonly reportReplica: Replica;
  readonly inspector: Inspector;
  readonly throughput = new Throughput();
  private sinceTest = 0;

  constructor(readonly model: Model, readonly origin: string, train: ImageDataset, readonly test: ImageDataset, settings: TrainSettings, seed: number) {
    this.session = new TrainingSession(model, train, settings, seed);
    this.rolling = new RollingTestAccuracy(new Replica(model), test);
    this.reportReplica = new Replica(model);
    this.inspector = new Inspector(new Replica(model), test);
  }

  /** One training batch, and a test batch when one is due. */
  step(): void {
    const before = this.session.examples;
    this.session.step();
    this.sinceTest += this.session.examples - before;
    if (this.sinceTest >= TRAIN_IMAGES_PER_TEST_BATCH) {
      this.sinceTest = 0;
      this.rolling.step();
    }
    this.throughput.record(this.session.examples);
  }

  stats(): Stats {
    const s = this.session;
    return {
      examples: s.examples, epoch: s.epoch, imagesPerSecond: this.throughput.perSecond,
      forwardMs: s.timing.forward.value, backwardMs: s.timing.backward.value, updateMs: s.timing.update.value,
      loss: s.smoothLoss.value, accuracy: s.smoothAccuracy.value,
      testAccuracy: this.rolling.accuracy, testWindow: this.rolling.seen, lr: s.lr,
    };
  }

  info(): ModelInfo {
    const rows = this.model.summary().map((r) => ({ name: r.name, type: r.type, outputShape: [...r.outputShape], params: r.params }));
    return { spec: this.model.spec, origin: this.origin, parameters: this.model.parameterCount(), rows };
  }

  /** The model as a .convkit file, with what the playground knows about its training. */
  save(): { bytes: Uint8Array; fileName: string } {
    const s = this.stats();
    const bytes = encodeModel(this.model, {
      savedBy: 'convkit playground', examplesSeen: s.examples, rollingTestAccuracy: s.testAccuracy, backend: this.model.backend.name,
    });
    return { bytes, fileName: `${this.model.name}.convkit` };
  }

  /** The first conv layer's filters (input channel 0), for the convolution explainer. */
  firstConvKernels(): { layer: string; kernels: Kernel[] } | null {
    const index = this.model.summary().findIndex((r) => r.type === 'conv2d');
    if (index < 0) return null;
    const weight = this.model.layers[index].params().find((p) => p.name === 'weight');
    if (!weight) return null;
    const [O, C, KH, KW] = weight.value.shape;
    const kernels = Array.from({ length: O }, (_, o): Kernel => ({
      size: [KH, KW], values: Array.from(weight.value.data.subarray(o * C * KH * KW, o * C * KH * KW + KH * KW)),
    }));
    return { layer: this.model.summary()[index].name, kernels };
  }
}
