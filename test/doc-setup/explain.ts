// What the README's explain example takes as given: a model (LeNet-5, briefly trained so its
// maps are not noise), one test image [1, 1, 28, 28] and a batch of 64 test images (`dataset`,
// [64, 1, 28, 28]) — the explain functions take images as tensors.
import { Model, Tensor, createBackend, fillBatch, limitDataset, train, zoo } from 'convkit';
import { loadMnist } from 'convkit/node';

const backend = await createBackend('wasm');
const model = new Model(zoo.lenet5.build(), backend, 1);
await train(model, limitDataset(loadMnist('train'), 2000), {
  epochs: 1,
  batchSize: 32,
  lr: 0.03,
  seed: 1,
  optimizer: { type: 'sgd', momentum: 0.9 },
  schedule: { type: 'constant' },
});
const test = limitDataset(loadMnist('test'), 64);
const dataset = new Tensor([64, 1, 28, 28], backend.alloc(64 * 28 * 28));
fillBatch(
  test,
  Array.from({ length: 64 }, (_, i) => i),
  0,
  dataset,
  new Uint8Array(64),
  { crop: 'center' },
);
const image = new Tensor([1, 1, 28, 28], dataset.data.slice(0, 28 * 28));
