/**
 * Messages between the page and the training worker. The page sends requests with an id and
 * gets exactly one reply each; the worker also sends unsolicited events (stats, state).
 * Everything here is structured-clone data: plain objects and typed arrays.
 */
import type { ModelSpec } from '../../src/index.js';

export type OptimizerName = 'sgd' | 'adam';
export type ScheduleName = 'constant' | 'cosine';

export interface TrainSettings {
  optimizer: OptimizerName;
  lr: number;
  /** SGD only. */
  momentum: number;
  batchSize: number;
  weightDecay: number;
  /** Random crops (nets with inputs under 28×28) or ±2 px shifts (28×28 nets), as in ConvNetJS's demo. */
  augment: boolean;
  schedule: ScheduleName;
  /** Cosine schedule: decay over this many epochs (then stays at 1 % of lr). */
  scheduleEpochs: number;
}

export const defaultSettings: TrainSettings = {
  optimizer: 'sgd', lr: 0.02, momentum: 0.9, batchSize: 32, weightDecay: 5e-4, augment: true, schedule: 'constant', scheduleEpochs: 2,
};

/** Which image to push through the network for the layer views. */
export type InspectSource = { kind: 'test'; index: number } | { kind: 'drawn'; pixels: Uint8Array };

export type Request =
  | { kind: 'start' }
  | { kind: 'pause' }
  | { kind: 'reset' }
  | { kind: 'settings'; settings: TrainSettings }
  | { kind: 'network'; spec: ModelSpec }
  | { kind: 'inspect'; source: InspectSource }
  | { kind: 'evaluate' }
  | { kind: 'save' }
  | { kind: 'load'; bytes: Uint8Array; fileName: string }
  | { kind: 'pretrained' }
  | { kind: 'firstConv' };

export interface LayerView {
  name: string;
  type: string;
  outputShape: number[];
  params: number;
  /** This example's activation (one batch row). */
  activation: Float32Array;
  /** dL/d(activation) for this example (test examples only: the loss needs a label). */
  gradient?: Float32Array;
  /** conv2d weights [O, C, KH, KW]. */
  weights?: { shape: number[]; data: Float32Array };
}

export interface LayerReport {
  /** The normalised input as the network sees it, [C, H, W]. */
  input: { shape: number[]; data: Float32Array };
  label?: number;
  probs: number[];
  layers: LayerView[];
}

export interface TestExample {
  index: number;
  label: number;
  pixels: Uint8Array;
  /** Top three classes, most probable first. */
  top: { cls: number; p: number }[];
}

export interface EvaluationReport {
  /** Training examples the weights had seen when the evaluation started. */
  examples: number;
  accuracy: number;
  count: number;
  /** confusion[actual][predicted]. */
  confusion: number[][];
  strip: TestExample[];
  /** Wrong predictions with the highest confidence in the wrong class. */
  wrong: TestExample[];
}

export interface ModelInfo {
  spec: ModelSpec;
  /** Where it came from, for the status line. */
  origin: string;
  parameters: number;
  rows: { name: string; type: string; outputShape: number[]; params: number }[];
}

export interface Kernel {
  size: [number, number];
  values: number[];
}

export interface Replies {
  start: void;
  pause: void;
  reset: void;
  settings: void;
  network: ModelInfo;
  inspect: LayerReport;
  evaluate: EvaluationReport;
  save: { bytes: Uint8Array; fileName: string };
  load: ModelInfo;
  pretrained: ModelInfo;
  firstConv: { layer: string; kernels: Kernel[] } | null;
}

export interface Stats {
  examples: number;
  epoch: number;
  imagesPerSecond: number;
  forwardMs: number;
  backwardMs: number;
  updateMs: number;
  /** Smoothed over recent batches. */
  loss: number;
  accuracy: number;
  /** Accuracy over the last `testWindow` test images seen during training (null before any). */
  testAccuracy: number | null;
  testWindow: number;
  lr: number;
}

export type WorkerEvent =
  | { type: 'ready'; backend: string; backendNote: string; trainCount: number; testCount: number }
  /** fatal: the worker could not start (no data, say); otherwise training stopped on an error. */
  | { type: 'error'; message: string; fatal: boolean }
  | { type: 'model'; info: ModelInfo }
  | { type: 'state'; running: boolean }
  | { type: 'stats'; stats: Stats };

/** `backend: 'ref'` skips the wasm backend (the page's ?backend=ref, for comparisons). */
export type ToWorker = { id: number; request: Request } | { id: 0; init: { baseUrl: string; backend?: 'ref' } };

export type FromWorker =
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: string }
  | { type: 'event'; event: WorkerEvent };
