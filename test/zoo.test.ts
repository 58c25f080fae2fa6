import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBackend } from '../src/backend/index.js';
import { RefBackend } from '../src/backend/ref.js';
import type { ImageDataset } from '../src/data/dataset.js';
import { Model } from '../src/model/model.js';
import { zoo } from '../src/model/zoo.js';
import { Rng } from '../src/rng.js';
import { train } from '../src/train/trainer.js';

const ref = new RefBackend();

/** Published parameter counts (torchvision's, and Caffe's reference AlexNet). */
const published: Record<string, number> = {
  lenet5: 61706,
  'convnetjs-mnist': 5994,
  alexnet: 60965224,
  'alexnet-tv': 61100840,
  vgg11: 132863336,
  vgg16: 138357544,
  googlenet: 6624904,
  resnet18: 11689512,
  resnet50: 25557032,
  densenet121: 7978856,
};

describe('model zoo', () => {
  for (const [name, count] of Object.entries(published)) {
    it(`${name} has exactly ${count.toLocaleString('en')} parameters and a 1000/10-way output`, () => {
      const model = new Model(zoo[name].build(), ref);
      assert.equal(model.parameterCount(), count);
      assert.deepEqual([...model.outputShape], [name === 'lenet5' || name === 'convnetjs-mnist' ? 10 : 1000]);
    });
  }

  it("zfnet reproduces the paper's feature-map sizes (110, 55, 26, 13, 6)", () => {
    const rows = new Model(zoo.zfnet.build(), ref).summary();
    const sizes = [...new Set(rows.filter((r) => r.outputShape.length === 3).map((r) => r.outputShape[1]))];
    assert.deepEqual(sizes, [110, 55, 26, 13, 6]);
  });

  it('every architecture takes another class count and input size', () => {
    const model = new Model(zoo.resnet18.build({ classes: 7, inputShape: [1, 64, 48] }), ref);
    assert.deepEqual([...model.outputShape], [7]);
    assert.deepEqual([...model.inputShape], [1, 64, 48]);
  });

  // Small versions (channels ÷ 16, small inputs) must learn: the loss on a few random images with
  // random labels falls when the same batch is seen repeatedly.
  const small: [string, [number, number, number]][] = [
    ['alexnet', [3, 67, 67]],
    ['alexnet-tv', [3, 64, 64]],
    ['zfnet', [3, 64, 64]],
    ['vgg11', [3, 32, 32]],
    ['vgg16', [3, 32, 32]],
    ['googlenet', [3, 32, 32]],
    ['resnet18', [3, 32, 32]],
    ['resnet50', [3, 32, 32]],
    ['densenet121', [3, 32, 32]],
  ];
  for (const [name, inputShape] of small) {
    it(`a small ${name} drives the training loss down`, async () => {
      const backend = await createBackend('wasm', { threads: 1 });
      const rng = new Rng(3);
      const [C, H, W] = inputShape;
      const count = 8;
      const ds: ImageDataset = {
        name: 'random',
        count,
        channels: C,
        height: H,
        width: W,
        images: Uint8Array.from({ length: count * C * H * W }, () => rng.int(256)),
        labels: Uint8Array.from({ length: count }, () => rng.int(4)),
        classes: ['a', 'b', 'c', 'd'],
        mean: [0.5, 0.5, 0.5],
        std: [0.25, 0.25, 0.25],
      };
      const model = new Model(zoo[name].build({ classes: 4, inputShape, width: 1 / 16 }), backend, 1);
      const opts = { batchSize: 8, lr: 2e-3, seed: 1, optimizer: { type: 'adam' as const }, schedule: { type: 'constant' as const } };
      const first = await train(model, ds, { ...opts, epochs: 1 });
      const later = await train(model, ds, { ...opts, epochs: 25 });
      assert.ok(later.trainLoss < 0.7 * first.trainLoss, `loss ${first.trainLoss} → ${later.trainLoss}`);
      backend.dispose?.();
    });
  }
});
