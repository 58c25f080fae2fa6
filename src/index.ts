/**
 * convkit's library API. Everything here runs in Node and in browsers; file-system helpers
 * live in 'convkit/node' (src/node/) and are re-exported from there only.
 */
export { Tensor, shapeSize, shapeToString, type FloatArray, type Shape } from './tensor.js';
export { Rng } from './rng.js';
export { ConvkitError, ShapeError, FormatError, ConfigError, ResourceError, refuseUnknownKeys } from './errors.js';
export type { Backend, Conv2dGeometry, Pool2dGeometry, SgdOptions, AdamOptions, ParamUpdate, Labels, IndexArray } from './backend/backend.js';
export type { Platform } from './backend/platform.js';
export type { SpawnWorker, WorkerPort } from './backend/wasm-threads.js';
export type { KernelVariant } from './backend/wasm-kernels.js';
export { RefBackend } from './backend/ref.js';
export { WasmBackend, type WasmBackendOptions } from './backend/wasm.js';
export type { WasmPaths } from './backend/wasm-files.js';
export {
  createBackend,
  selectBackend,
  probeGpu,
  backendNames,
  type BackendChoice,
  type BackendName,
  type BackendOptions,
  type GpuProbe,
} from './backend/index.js';
export { describeAdapter } from './backend/gpu-probe.js';
export {
  createLayer,
  layerTypes,
  Layer,
  type LayerSpec,
  type Param,
  type ReluRule,
  type RunContext,
  type StateTensor,
  type Conv2dSpec,
  type Pool2dSpec,
  type DenseSpec,
  type ActivationSpec,
  type FlattenSpec,
  type DropoutSpec,
  type AddSpec,
  type ConcatSpec,
  type BatchNormSpec,
  type LrnSpec,
  type AdaptiveAvgPoolSpec,
  type MulSpec,
  type LayerNormSpec,
  type ChannelShuffleSpec,
  type ChannelSliceSpec,
} from './layers/index.js';
export { GraphBuilder } from './model/graph-builder.js';
export { DEFAULT_MEMORY_LIMIT, checkMemory, formatBytes, parseByteSize, type MemoryEstimate, type MemoryOptions } from './model/memory.js';
export {
  Model,
  sequential,
  estimateMemory,
  specShapes,
  INPUT,
  MAX_BUILD_VALUES,
  MAX_ACTIVATION,
  type ModelSpec,
  type ModelLimits,
  type BackwardOptions,
  type NodeSpec,
  type NamedParam,
  type SummaryRow,
} from './model/model.js';
export { zoo, zooEntry, type ZooEntry, type ZooOptions } from './model/zoo.js';
export { recipes, recipeFor, fineTuneRecipe, type TrainDefaults } from './train/recipes.js';
export { receptiveFields, fieldBounds, throughWindow, type ReceptiveField, type AxisField } from './model/receptive-field.js';
export { initWeights, INIT_NAMES, type InitName } from './init.js';
export { SoftmaxCrossEntropy } from './train/loss.js';
export { Optimizer, type OptimizerConfig, type OptimizerState, type ParamGroup } from './train/optimizer.js';
export { findHead, withNewHead, nodesUntil, fineTuneOptions, IMAGENET_MEAN, IMAGENET_STD, type FineTunePlan } from './train/finetune.js';
export { RESIZED_CROP_DEFAULTS, resizedCropBox, type ResizedCropOptions, type CropBox } from './data/resized-crop.js';
export { makeSchedule, type ScheduleConfig } from './train/schedule.js';
export {
  train,
  Trainer,
  DivergenceError,
  type TrainOptions,
  type TrainerOptions,
  type LiveSettings,
  type StepResult,
  type EpochRecord,
  type TrainEvent,
  type TrainResult,
  type TrainState,
} from './train/trainer.js';
export { evaluate, argmaxRow, type Evaluation, type EvaluateOptions } from './train/evaluate.js';
export { parseIdx, encodeIdx, type IdxArray } from './data/idx.js';
export { datasetFromIdx, fillBatch, limitDataset, MNIST_MEAN, MNIST_STD, type ImageDataset, type BatchOptions } from './data/dataset.js';
export { toGrey, resizeArea, mnistStyle, invert, meanValue, type GreyImage } from './data/preprocess.js';
export { encodeModel, decodeModel, type ModelFileHeader, type ExtraTensor } from './io/modelfile.js';
export { parseJsonLimited, type JsonLimits } from './io/json.js';
export { toOnnx } from './onnx/export.js';
export { loadOnnx, parseOnnx, UnsupportedOnnxError, SUPPORTED_OPS as onnxOperators } from './onnx/import.js';
export * from './image/index.js';
export * as explain from './explain/index.js';
