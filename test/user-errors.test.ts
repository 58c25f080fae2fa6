import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../src/backend/backend.js';
import { createBackend } from '../src/backend/index.js';
import { RefBackend } from '../src/backend/ref.js';
import type { ImageDataset } from '../src/data/dataset.js';
import { ConfigError, ConvkitError } from '../src/errors.js';
import { Model, sequential } from '../src/model/model.js';
import { evaluate } from '../src/train/evaluate.js';
import { train } from '../src/train/trainer.js';

/** Errors a library user can cause are ConvkitErrors that say what is wrong, on every backend, not a kernel's RangeError or a NaN loss. */

function dataset(labels: number[]): ImageDataset {
  const images = new Uint8Array(labels.length * 16).map((_, i) => (i * 29) % 256);
  return {
    name: 'coded',
    count: labels.length,
    channels: 1,
    height: 4,
    width: 4,
    images,
    labels: Uint8Array.from(labels),
    classes: ['a', 'b'],
    mean: [0.5],
    std: [0.25],
  };
}

describe('a dataset built in code with a label that is not a class index', () => {
  const backends: [string, () => Promise<Backend>][] = [
    ['ref', async () => new RefBackend()],
    ['wasm', () => createBackend('wasm', { threads: 1 })],
  ];
  for (const [name, make] of backends) {
    it(`${name}: train() and evaluate() refuse it with a ConfigError naming the dataset, the example and the label`, async () => {
      const backend = await make();
      try {
        const model = new Model(sequential('tiny', [1, 4, 4], [{ type: 'flatten' }, { type: 'dense', units: 2 }]), backend, 1);
        const bad = dataset([0, 1, 7, 0]);
        const expected = (e: Error) => e instanceof ConfigError && /dataset coded: example 2 has label 7, not a class index 0\.\.1/.test(e.message);
        await assert.rejects(
          train(model, bad, { epochs: 1, batchSize: 4, lr: 0.1, seed: 1, optimizer: { type: 'sgd' }, schedule: { type: 'constant' } }),
          expected,
        );
        await assert.rejects(evaluate(model, bad, 4), expected);
        await assert.rejects(
          evaluate(model, { ...dataset([0, 1]), count: 3 }, 4),
          (e: Error) => e instanceof ConfigError && /example 2 has label undefined/.test(e.message),
        );
      } finally {
        backend.dispose?.();
      }
    });
  }
});

describe('wasm kernels from a wasmPaths that does not hold them', () => {
  it('is a ConvkitError naming each URL tried', async () => {
    const missing = pathToFileURL(join(tmpdir(), 'convkit-no-such-dir', '/')).href;
    await assert.rejects(
      createBackend('wasm', { wasmPaths: missing, threads: 1 }),
      (e: Error) => e instanceof ConvkitError && e.message.includes('could not read ' + missing + 'kernels-'),
    );
  });
});
