/**
 * Pipelined training steps on webgpu (SwiftShader in Node): a step records its kernels and a
 * non-blocking read-back and returns; its statistics are checked at the next step. Same
 * results as waiting every step, one submit and no blocking read-back per step, and a
 * divergence named by its own step.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError, DivergenceError, Model, RefBackend, Trainer, type TrainerOptions, limitDataset, sequential, train } from '../src/index.js';
import { loadMnist } from '../src/node/index.js';
import { WebGpuBackend } from '../src/backend/webgpu/webgpu.js';
import type { TrainEvent } from '../src/train/trainer.js';
import { webgpuSkip } from './webgpu-env.js';

const trainSet = limitDataset(loadMnist('train'), 48);
const spec = sequential(
  'tiny',
  [1, 24, 24],
  [{ type: 'conv2d', filters: 3, kernel: 5, stride: 2, padding: 2 }, { type: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 10 }],
);
const options: TrainerOptions = {
  epochs: 2,
  batchSize: 8,
  lr: 0.05,
  seed: 7,
  optimizer: { type: 'sgd', momentum: 0.9, weightDecay: 5e-4 },
  schedule: { type: 'cosine' },
  shift: 1,
  reportEvery: 1,
};
const weights = (m: Model) => m.parameters().flatMap((p) => Array.from(p.value.data));
const timeless = (e: TrainEvent) => ({ ...e, imagesPerSecond: 0, ...(e.type === 'epoch' ? { seconds: 0 } : {}) });

test('pipelined: true needs a backend with downloadLater and no clipping (ConfigError)', () => {
  const model = new Model(spec, new RefBackend(), 3);
  assert.throws(
    () => new Trainer(model, trainSet, { ...options, pipelined: true }),
    (e) => e instanceof ConfigError && /downloadLater/.test(e.message),
  );
  const auto = new Trainer(model, trainSet, { ...options, pipelined: 'auto' });
  assert.throws(() => auto.configure({ pipelined: true } as never), ConfigError);
});

describe('pipelined Trainer on webgpu', { skip: webgpuSkip }, () => {
  let be: WebGpuBackend;
  before(async () => {
    be = await WebGpuBackend.create();
  });
  after(() => be?.dispose());

  test('train(): the same events, epoch figures and final weights as waiting every step, bit for bit', async () => {
    const runs = [];
    for (const pipelined of [false, 'auto'] as const) {
      const model = new Model(spec, be, 3);
      const events: unknown[] = [];
      const result = await train(model, trainSet, { ...options, pipelined, onEvent: (e) => events.push(timeless(e)) });
      runs.push({ events, weights: weights(model), loss: result.trainLoss, accuracy: result.trainAccuracy });
    }
    assert.equal(runs[0].events.length, 2 * 6 + 2);
    assert.deepEqual(runs[1].events, runs[0].events);
    assert.deepEqual(runs[1].weights, runs[0].weights);
    assert.equal(runs[1].loss, runs[0].loss);
    assert.equal(runs[1].accuracy, runs[0].accuracy);
  });

  test('a step in steady state: at most 1 submit and no blocking read-back; its event comes one step later', async () => {
    const model = new Model(spec, be, 3);
    const events: TrainEvent[] = [];
    const trainer = new Trainer(model, trainSet, { ...options, pipelined: true, onEvent: (e) => events.push(e) });
    const counts = [];
    for (let k = 0; k < 5; k++) {
      be.resetStats();
      const r = await trainer.step();
      counts.push(be.stats());
      assert.equal(r.pending, true);
      assert.ok(Number.isNaN(r.loss));
      // Step k's event arrives during step k + 1.
      assert.deepEqual(
        events.map((e) => e.type === 'batch' && e.batch),
        Array.from({ length: k }, (_, i) => i + 1),
      );
    }
    for (const s of counts.slice(1)) {
      assert.ok(s.submits <= 1, `${s.submits} submits`);
      assert.equal(s.blockingReadbacks, 0);
      assert.equal(s.readbacksLater, 1);
    }
    // The epoch's last step waits for its figures, so finishEpoch has them.
    const last = await trainer.step();
    assert.equal(last.epochDone, true);
    assert.equal(last.pending, false);
    assert.equal(events.length, 6);
    assert.equal(trainer.finishEpoch().epoch, 1);
    trainer.close();
  });

  test('a divergence is reported with its own step number, and no state (checkpoint) is taken after it', async () => {
    const failures: { message: string; thrownBy: number }[] = [];
    for (const pipelined of [false, true]) {
      const model = new Model(spec, be, 3);
      const trainer = new Trainer(model, trainSet, { ...options, batchSize: 4, schedule: { type: 'constant' }, pipelined });
      let calls = 0;
      const error = await (async () => {
        for (;;) {
          if (calls === 4) trainer.configure({ lr: 1e30 }); // from step 5 on
          calls++;
          const r = await trainer.step();
          if (r.epochDone) trainer.finishEpoch();
        }
      })().catch((e: unknown) => e);
      assert.ok(error instanceof DivergenceError, String(error));
      failures.push({ message: error.message, thrownBy: calls });
      if (pipelined) await assert.rejects(trainer.state(), (e) => e === error);
    }
    const [blocking, piped] = failures;
    const step = Number(/diverged at step (\d+)/.exec(blocking.message)![1]);
    assert.equal(blocking.thrownBy, step, 'waiting: the failing step throws');
    assert.ok(step >= 5, blocking.message);
    assert.equal(piped.message, blocking.message, 'the same step, the same layer');
    assert.equal(piped.thrownBy, step + 1, 'pipelined: found when the next step starts');
  });
});
