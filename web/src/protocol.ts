/**
 * Messages between the page and the training worker. The page sends requests with an id and
 * gets exactly one reply each; the worker also sends unsolicited events (stats, state).
 * Everything here is structured-clone data: plain objects and typed arrays.
 */
import type { ModelSpec } from 'convkit';
import type { RunState } from './worker/network-run.js';

export type OptimizerName = 'sgd' | 'adam';

/** The backend selector: `auto` takes WebGPU on a hardware adapter, else wasm (the library's selectBackend; see worker/open-backend.ts). */
export type BackendRequest = 'auto' | 'wasm' | 'webgpu' | 'ref';
export const backendRequests: BackendRequest[] = ['auto', 'wasm', 'webgpu', 'ref'];

export function isBackendRequest(name: unknown): name is BackendRequest {
  return typeof name === 'string' && (backendRequests as string[]).includes(name);
}
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
  optimizer: 'sgd',
  lr: 0.02,
  momentum: 0.9,
  batchSize: 32,
  weightDecay: 5e-4,
  augment: true,
  schedule: 'constant',
  scheduleEpochs: 2,
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
  /** The test strip alone (the first test digits with their top-3 classes): cheap, refreshed while training. */
  | { kind: 'strip' }
  | { kind: 'save' }
  /** `newHead`: replace the classifier head by a fresh ten-class one (a model trained on other classes). */
  | { kind: 'load'; bytes: Uint8Array; fileName: string; newHead?: boolean }
  | { kind: 'pretrained'; newHead?: boolean }
  /** Freeze the current network's layers up to and including this node (null: none), from the next batch on. */
  | { kind: 'freeze'; until: string | null }
  | { kind: 'firstConv' }
  /** The test digits where a channel of a spatial layer responds most (ChannelPatches). */
  | { kind: 'topPatches'; node: string; channel: number }
  /** Move the current network (weights, optimizer state, progress) to another backend and go on. */
  | { kind: 'backend'; name: BackendRequest }
  /** Tests: destroy the webgpu backend's device, as a driver reset would. */
  | { kind: 'debugLoseDevice' }
  /** Stops the test-set evaluation in progress, if any (its 'evaluate' request then fails with "evaluation cancelled"). */
  | { kind: 'cancelEvaluation' };

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
  /** The nodes that do not train (fine-tuning). */
  frozen: string[];
}

/** The test digits where one channel responds most, each cut at its strongest unit's receptive field. */
export interface ChannelPatches {
  node: string;
  channel: number;
  /** Test digits searched (the first ones). */
  searched: number;
  /** Training examples the weights had seen. */
  examples: number;
  /** Strongest first. `data` is the network input there, [C, box.height, box.width]. */
  patches: {
    index: number;
    label: number;
    activation: number;
    box: { top: number; left: number; height: number; width: number };
    shape: number[];
    data: Float32Array;
  }[];
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
  strip: { examples: number; strip: TestExample[] };
  save: { bytes: Uint8Array; fileName: string };
  load: ModelInfo;
  pretrained: ModelInfo;
  freeze: ModelInfo;
  firstConv: { layer: string; kernels: Kernel[] } | null;
  topPatches: ChannelPatches;
  backend: BackendInfo;
  debugLoseDevice: void;
  cancelEvaluation: void;
}

export interface BackendInfo {
  /** The active backend's name: webgpu, wasm or ref. */
  backend: string;
  /** What the selector asked for. */
  requested: BackendRequest;
  /** What was chosen and why, e.g. "wasm (auto: the only WebGPU adapter (google swiftshader) renders in software), relaxed SIMD, 2 threads". */
  note: string;
}

export interface Stats {
  examples: number;
  epoch: number;
  imagesPerSecond: number;
  forwardMs: number;
  backwardMs: number;
  updateMs: number;
  /** Waiting for each batch's results: on a GPU the kernels run meanwhile (forward/backward/update only record them); ~0 on CPU backends. */
  waitMs: number;
  /** Smoothed over recent batches. */
  loss: number;
  accuracy: number;
  /** Accuracy over the last `testWindow` test images seen during training (null before any). */
  testAccuracy: number | null;
  testWindow: number;
  lr: number;
}

export type WorkerEvent =
  | { type: 'ready'; trainCount: number; testCount: number }
  | { type: 'backend'; info: BackendInfo }
  /**
   * The GPU backend stopped working (device lost, a kernel failed to compile): nothing runs
   * until the page moves the network elsewhere ('backend' request), which continues from the
   * weights of `examples` (the latest host snapshot).
   */
  | { type: 'backendFailed'; backend: string; message: string; examples: number }
  /** fatal: the worker could not start (no data, say); otherwise training stopped on an error. */
  | { type: 'error'; message: string; fatal: boolean }
  /** `moved`: the same network continued on another backend (training history kept). */
  | { type: 'model'; info: ModelInfo; moved?: boolean }
  | { type: 'state'; running: boolean }
  | { type: 'stats'; stats: Stats }
  /**
   * MNIST arrives in parts (the test digits first, then the training digits), `loaded` of `total`
   * compressed bytes (total 0 when unknown); the page shows it. The pretrained network and
   * drawings work before (until then the page classifies drawings with its own copy of the
   * shipped network, page-model.ts); 'ready' follows once both parts are here, and training can
   * start then.
   */
  | { type: 'data'; part: 'train' | 'test'; loaded: number; total: number }
  /**
   * The worker is building a network (defined in the editor, loaded, reset) of about
   * `parameters` parameters: on a large one this takes seconds, and `cancellable` says so. The
   * page may then cancel by replacing the worker (a build cannot be interrupted otherwise),
   * starting the new one from `restore`: the network the build would replace (absent when there
   * was none, or it was too large to copy). 'built' follows, then 'model' or the request's error.
   */
  | { type: 'building'; name: string; parameters: number; cancellable: boolean; restore?: RestorePoint }
  | { type: 'built' }
  /** The worker's phase (worker/phase.ts): loading, idle, training, paused, switching or failed. */
  | { type: 'phase'; phase: 'loading' | 'idle' | 'training' | 'paused' | 'switching' | 'failed' };

/** What a fresh worker needs to go on with a network (after a cancelled build): its definition, weights, optimizer state and progress. */
export interface RestorePoint {
  spec: ModelSpec;
  origin: string;
  seed: number;
  settings: TrainSettings;
  state: RunState;
}

/**
 * `backend`: the page's ?backend= (default auto). `wasmMemoryMiB`: the most memory the wasm
 * backend's heap may grow to (the page's ?wasmMemoryMiB=, for tests of memory exhaustion).
 * `restore`: start with this network instead of the pretrained one.
 */
export interface WorkerInit {
  baseUrl: string;
  backend: BackendRequest;
  wasmMemoryMiB?: number;
  restore?: RestorePoint;
}

export type ToWorker = { id: number; request: Request } | { id: 0; init: WorkerInit };

export type FromWorker =
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: string }
  | { type: 'event'; event: WorkerEvent };
