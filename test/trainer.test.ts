/**
 * The public Trainer: train() is a loop over Trainer.step(), so a hand-written loop gives the
 * same weights bit for bit; state in and out, a move to another backend, live settings, and
 * a cancellable evaluation.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, Model, RefBackend, Trainer, type TrainerOptions, limitDataset, sequential, train } from '../src/index.js';
import { loadMnist } from '../src/node/index.js';

const trainSet = limitDataset(loadMnist('train'), 160);
const testSet = limitDataset(loadMnist('test'), 300);
const spec = sequential(
  'tiny',
  [1, 24, 24],
  [{ type: 'conv2d', filters: 3, kernel: 5, stride: 2, padding: 2 }, { type: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 10 }],
);
const options: TrainerOptions = {
  epochs: 2,
  batchSize: 16,
  lr: 0.05,
  seed: 7,
  optimizer: { type: 'sgd', momentum: 0.9, weightDecay: 5e-4, groups: [{ nodes: ['conv1'], lrScale: 0.5 }] },
  schedule: { type: 'cosine' },
  clipGradNorm: 2,
  shift: 1,
};
const weights = (m: Model) => m.parameters().flatMap((p) => Array.from(p.value.data));
const fresh = () => new Model(spec, new RefBackend(), 3);

describe('Trainer', () => {
  test('train() and a hand-written Trainer.step() loop give bit-identical weights and events', async () => {
    const viaTrain = fresh();
    const trainEvents: unknown[] = [];
    await train(viaTrain, trainSet, { ...options, onEvent: (e) => trainEvents.push({ ...e, imagesPerSecond: 0, seconds: 0 }) });

    const manual = fresh();
    const stepEvents: unknown[] = [];
    const trainer = new Trainer(manual, trainSet, { ...options, onEvent: (e) => stepEvents.push({ ...e, imagesPerSecond: 0, seconds: 0 }) });
    while (trainer.epoch <= options.epochs) {
      const r = await trainer.step();
      if (r.epochDone) trainer.finishEpoch();
    }
    await manual.downloadWeights();
    assert.deepEqual(weights(manual), weights(viaTrain));
    assert.deepEqual(stepEvents, trainEvents);
    assert.equal(trainer.steps, 2 * 10);
  });

  test('state() and Trainer.fromState continue bit-identically, also on another backend (moveTo)', async () => {
    const straight = fresh();
    const a = new Trainer(straight, trainSet, options);
    for (let i = 0; i < 14; i++) await a.step();

    const interrupted = fresh();
    const b = new Trainer(interrupted, trainSet, options);
    for (let i = 0; i < 5; i++) await b.step();
    const state = await b.state({ copy: true });
    const resumedModel = fresh();
    resumedModel.savedTensors().forEach((t, i) => t.value.data.set(interrupted.savedTensors()[i].value.data));
    resumedModel.uploadWeights();
    const c = Trainer.fromState(resumedModel, trainSet, options, state);
    for (let i = 0; i < 4; i++) await c.step();
    const moved = await c.moveTo(new RefBackend());
    assert.notEqual(moved.model.backend, resumedModel.backend);
    assert.throws(() => c.configure({ lr: 0.1 }), /closed/);
    for (let i = 0; i < 5; i++) await moved.step();
    assert.deepEqual(weights(moved.model), weights(straight));
    assert.equal(moved.epoch, 2);
    assert.equal(moved.batch, 4);
  });

  test('settings change between steps: the learning rate, momentum and optimizer type live, a new batch size at the next full batch', async () => {
    const model = fresh();
    const t = new Trainer(model, trainSet, { ...options, schedule: { type: 'constant' } });
    const first = await t.step();
    assert.equal(first.lr, 0.05);
    const during = t.step();
    t.configure({ lr: 0.01, optimizer: { type: 'sgd', momentum: 0.5 } });
    assert.equal((await during).lr, 0.05, 'a change during a step waits for the next one');
    assert.equal((await t.step()).lr, 0.01);
    t.configure({ batchSize: 24 });
    assert.equal(t.batch, 2, 'three batches of 16 are two of 24');
    const r = await t.step();
    assert.equal(r.batches, 6);
    t.configure({ optimizer: { type: 'adam' }, lr: 1e-3 });
    assert.ok(Number.isFinite((await t.step()).loss));
    assert.throws(() => t.configure({ lr: -1 }), ConfigError);
    assert.throws(() => t.configure({ batchSize: 1000 }), /fewer than one batch/);
  });

  test('evaluate() stops between batches once its signal is aborted', async () => {
    const t = new Trainer(fresh(), trainSet, options);
    const done = await t.evaluate(testSet, { batchSize: 50 });
    assert.equal(done.count, 300);
    const controller = new AbortController();
    const cancelled = t.evaluate(testSet, { batchSize: 50, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('network changed')), 0);
    await assert.rejects(cancelled, /network changed/);
    await assert.rejects(t.evaluate(testSet, { signal: AbortSignal.abort() }), { name: 'AbortError' });
  });
});
