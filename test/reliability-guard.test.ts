/**
 * Divergence guard: a non-finite loss, gradient or updated weight stops training
 * with a message naming the step and the layer where it appeared, and no checkpoint is ever
 * written with non-finite weights. (test/reliability.test.ts has the learning-rate blow-up
 * case and clipping; test/reliability-cli.test.ts the command-line run.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RefBackend } from '../src/backend/ref.js';
import { limitDataset } from '../src/data/dataset.js';
import { Model } from '../src/model/model.js';
import { zoo } from '../src/model/zoo.js';
import { loadMnist } from '../src/node/mnist.js';
import { DivergenceError, type TrainOptions, train } from '../src/train/trainer.js';

const backend = new RefBackend();
const data = limitDataset(loadMnist('train'), 128);
const options: TrainOptions = { epochs: 1, batchSize: 32, lr: 0.01, seed: 1, optimizer: { type: 'sgd', momentum: 0 }, schedule: { type: 'constant' } };

describe('divergence guard', () => {
  it('a NaN weight in conv2: stopped at step 1, naming layer "conv2"', async () => {
    const model = new Model(zoo['convnetjs-mnist'].build(), backend, 1);
    model.parameters().find((p) => p.path === 'conv2.weight')!.value.data[7] = NaN;
    await assert.rejects(train(model, data, options), (e: Error) => {
      assert.ok(e instanceof DivergenceError);
      assert.match(e.message, /diverged at step 1 \(epoch 1, batch 1\)/);
      assert.match(e.message, /layer "conv2"/);
      return true;
    });
  });

  it('an update that overflows the weights: stopped before the checkpoint, which is never written', async () => {
    const model = new Model(zoo['convnetjs-mnist'].build(), backend, 1);
    let checkpoints = 0;
    await assert.rejects(
      train(model, data, {
        ...options,
        lr: 1e38,
        checkpointEvery: 1,
        onCheckpoint: () => {
          checkpoints++;
        },
      }),
      (e: Error) => e instanceof DivergenceError && /step 1: the weights "\w+\.\w+" are not finite/.test(e.message),
    );
    assert.equal(checkpoints, 0);
  });
});
