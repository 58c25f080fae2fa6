import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Backend } from '../src/backend/backend.js';
import { createBackend } from '../src/backend/index.js';
import { RefBackend } from '../src/backend/ref.js';
import type { ImageDataset } from '../src/data/dataset.js';
import { Model, sequential } from '../src/model/model.js';
import { train } from '../src/train/trainer.js';
import { webgpuSkip } from './webgpu-env.js';

/**
 * Clipping rescales the gradients to norm `clip` however far above it they are. One plain SGD
 * step (no momentum, no decay) then moves the weights by exactly lr · clip in norm: a clip
 * billions of times below the norm must still move them, not zero the gradients.
 */

/** Four 6×6 grey images of two classes: enough for one batch. */
function tinyDataset(): ImageDataset {
  const images = new Uint8Array(4 * 36);
  for (let i = 0; i < images.length; i++) images[i] = (i * 37 + 11) % 256;
  return {
    name: 'tiny',
    count: 4,
    channels: 1,
    height: 6,
    width: 6,
    images,
    labels: Uint8Array.from([0, 1, 0, 1]),
    classes: ['a', 'b'],
    mean: [0.5],
    std: [0.25],
  };
}

async function stepNorm(backend: Backend, clip: number, lr: number): Promise<number> {
  const model = new Model(
    sequential('tiny', [1, 6, 6], [{ type: 'conv2d', filters: 2, kernel: 3 }, { type: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 2 }]),
    backend,
    3,
  );
  const before = model.parameters().map((p) => Float64Array.from(p.value.data));
  await train(model, tinyDataset(), {
    epochs: 1,
    batchSize: 4,
    lr,
    seed: 1,
    optimizer: { type: 'sgd', momentum: 0, weightDecay: 0 },
    schedule: { type: 'constant' },
    clipGradNorm: clip,
  });
  const after = model.parameters();
  await backend.download(after.map((p) => p.value.data));
  let sum = 0;
  after.forEach((p, i) =>
    p.value.data.forEach((v, j) => {
      sum += (v - before[i][j]) ** 2;
    }),
  );
  return Math.sqrt(sum);
}

const backends: [string, () => Promise<Backend>, string | false][] = [
  ['ref', async () => new RefBackend(), false],
  ['wasm', () => createBackend('wasm', { threads: 1 }), false],
  ['webgpu', () => createBackend('webgpu'), webgpuSkip],
];

describe('gradient clipping far below the gradient norm', () => {
  for (const [name, make, skip] of backends) {
    it(`${name}: one SGD step moves the weights by lr · clip, for clips 1e-9 and 1e-20 of a norm near 1 (factor below float32's 1 − 2⁻²⁴)`, {
      skip,
    }, async () => {
      const backend = await make();
      try {
        for (const clip of [1e-2, 1e-9, 1e-20]) {
          const lr = 1e-3 / clip;
          const moved = await stepNorm(backend, clip, lr);
          assert.ok(
            Math.abs(moved / (lr * clip) - 1) < 1e-3,
            `clip ${clip}: the weights moved by ${moved.toExponential(3)}, not lr · clip = ${(lr * clip).toExponential(3)}`,
          );
        }
      } finally {
        backend.dispose?.();
      }
    });
  }
});
