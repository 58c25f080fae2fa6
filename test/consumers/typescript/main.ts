// A strict TypeScript program against convkit's published types (tsc --noEmit, no
// skipLibCheck): the main API, the Node entry, ONNX, explain, the error classes. It is only
// type-checked, so the shipped .d.ts files are checked the way a user's compiler sees them.
import {
  type Backend,
  type BackendChoice,
  type ImageDataset,
  type ModelSpec,
  type TrainEvent,
  type TrainResult,
  ConfigError,
  ConvkitError,
  DivergenceError,
  FormatError,
  GraphBuilder,
  Model,
  RefBackend,
  ShapeError,
  UnsupportedOnnxError,
  WasmBackend,
  evaluate,
  explain,
  limitDataset,
  loadOnnx,
  selectBackend,
  Tensor,
  sequential,
  toOnnx,
  train,
  zoo,
} from 'convkit';
import { loadMnist, loadModel, saveModel } from 'convkit/node';

const choice: BackendChoice = await selectBackend('auto');
const backend: Backend = choice.backend;
const cpu: Backend = await WasmBackend.create({ threads: 1, wasmPaths: 'https://cdn.example.com/convkit/dist-wasm/' });
const ref: Backend = new RefBackend('float64');

const spec: ModelSpec = sequential(
  'tiny',
  [1, 28, 28],
  [{ type: 'conv2d', filters: 4, kernel: 5 }, { type: 'relu' }, { type: 'maxpool2d', kernel: 2 }, { type: 'flatten' }, { type: 'dense', units: 10 }],
);
const g = new GraphBuilder('branchy', [1, 28, 28]);
const a = g.add({ type: 'conv2d', filters: 4, kernel: 3, padding: 1 }, g.input);
const b = g.add({ type: 'conv2d', filters: 4, kernel: 3, padding: 1 }, g.input);
g.add({ type: 'add' }, [a, b]);
const model = new Model(zoo.lenet5.build(), backend, 1);
const small = new Model(spec, ref, 2);

const trainSet: ImageDataset = limitDataset(loadMnist('train'), 64);
const result: TrainResult = await train(model, trainSet, {
  epochs: 1,
  batchSize: 32,
  lr: 0.01,
  seed: 1,
  optimizer: { type: 'adam' },
  schedule: { type: 'constant' },
  onEvent: (e: TrainEvent) => {
    if (e.type === 'epoch') console.log(e.trainLoss);
  },
});
const accuracy: number = (await evaluate(model, loadMnist('test'))).accuracy;
saveModel('model.convkit', model);
const loaded: Model = loadModel('model.convkit', cpu).model;
const onnxBytes: Uint8Array = toOnnx(loaded);
const imported: Model = loadOnnx(onnxBytes, backend);
const image = new Tensor([1, 1, 28, 28], new Float32Array(28 * 28));
const saliency = await explain.saliency(imported, image);

function describe(e: unknown): string {
  if (e instanceof UnsupportedOnnxError || e instanceof FormatError) return `bad file: ${e.message}`;
  if (e instanceof ShapeError || e instanceof ConfigError || e instanceof DivergenceError) return e.message;
  return e instanceof ConvkitError ? e.name : String(e);
}
console.log(result.seconds, accuracy, saliency, small, describe(new Error('x')));
