/**
 * The playground's logic in Node, no browser: network definitions, the explainer's numbers,
 * and the worker's step-by-step training, evaluation and inspection on the reference backend.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import {
  ConfigError,
  FormatError,
  type ImageDataset,
  Model,
  RefBackend,
  ShapeError,
  Tensor,
  fillBatch,
  limitDataset,
  loadOnnx,
  sequential,
  toOnnx,
  zoo,
} from '../src/index.js';
import { loadMnist } from '../src/node/index.js';
import { convolve, lectureImage, lectureKernel, pool } from '../web/src/explainer/compute.js';
import { describeStep, padGrid } from '../web/src/explainer/steps.js';
import { CLASSES, networkText, parseNetwork, validateNetwork } from '../web/src/network-def.js';
import { presets } from '../web/src/presets.js';
import { defaultSettings } from '../web/src/protocol.js';
import { Inspector } from '../web/src/worker/inspect.js';
import { readModelFile } from '../web/src/worker/model-file.js';
import { Replica } from '../web/src/worker/replica.js';
import { ChannelPatchFinder, PATCHES_PER_CHANNEL, SEARCHED_DIGITS } from '../web/src/worker/channel-patches.js';
import { RollingTestAccuracy } from '../web/src/worker/rolling-test.js';
import { NetworkRun } from '../web/src/worker/network-run.js';
import { type Phase, PhaseError, WorkerPhase, nextPhase } from '../web/src/worker/phase.js';
import { TrainingSession } from '../web/src/worker/session.js';
import { ViewBudget } from '../web/src/worker/view-budget.js';
import { testReport, testStrip } from '../web/src/worker/test-report.js';

describe('network definitions', () => {
  test('every preset builds and outputs the ten digits; the zoo presets are the zoo nets', () => {
    for (const p of presets) assert.deepEqual(validateNetwork(p.spec).outputShape, [10], p.label);
    assert.deepEqual(presets.find((p) => p.id === 'lenet5')!.spec, zoo.lenet5.build());
    assert.deepEqual(presets.find((p) => p.id === 'convnetjs')!.spec, zoo['convnetjs-mnist'].build());
  });

  test('the editor text of a chain parses back to the same spec', () => {
    for (const p of presets) assert.deepEqual(parseNetwork(networkText(p.spec)), { ...p.spec, classes: CLASSES });
  });

  test('bad definitions give the library error classes with readable messages', () => {
    assert.throws(
      () => parseNetwork('{"layers": [ {"type": "relu",, } ]}'),
      (e) => e instanceof ConfigError && /not valid JSON/.test(e.message),
    );
    assert.throws(() => parseNetwork('[1, 2]'), ConfigError);
    assert.throws(() => parseNetwork('{"input": [1, 28, 28]}'), /"layers" must be a non-empty list/);
    assert.throws(
      () => validateNetwork(parseNetwork('{"layers": [{"type": "conv2d", "filters": 4, "kernel": 30}]}')),
      (e) => e instanceof ShapeError && /conv1/.test(e.message),
    );
    assert.throws(() => validateNetwork(parseNetwork('{"layers": [{"type": "wobble"}]}')), /unknown layer type "wobble"/);
    assert.throws(
      () => validateNetwork(parseNetwork('{"input": [3, 28, 28], "layers": [{"type": "flatten"}, {"type": "dense", "units": 10}]}')),
      /MNIST digits are 1×28×28/,
    );
    assert.throws(() => validateNetwork(parseNetwork('{"layers": [{"type": "flatten"}, {"type": "dense", "units": 5}]}')), /10 digit classes/);
  });

  test('validation is shape arithmetic: a network of 157 MB of parameters is checked without allocating it (the page stays responsive)', () => {
    const big = parseNetwork(
      '{"input": [1, 28, 28], "layers": [{"type": "flatten"}, {"type": "dense", "units": 50000}, {"type": "relu"}, {"type": "dense", "units": 10}]}',
    );
    const before = process.memoryUsage().arrayBuffers;
    const checked = validateNetwork(big);
    const allocated = process.memoryUsage().arrayBuffers - before;
    assert.equal(checked.parameters, 784 * 50000 + 50000 + 50000 * 10 + 10);
    assert.ok(allocated < 16 * 2 ** 20, `validation allocated ${(allocated / 2 ** 20).toFixed(0)} MiB`);
  });

  test('a full ModelSpec (what model files hold) is accepted as well', () => {
    const spec = sequential('tiny', [1, 28, 28], [{ type: 'flatten' }, { type: 'dense', units: 10 }]);
    assert.equal(validateNetwork(parseNetwork(JSON.stringify(spec))).parameters, 7850);
  });
});

describe('convolution explainer', () => {
  test("the lecture's 7×7 image and 3×3 kernel give 32231/20210/22100/31000/10000", async () => {
    assert.deepEqual(
      await convolve(lectureImage, lectureKernel, { stride: 1, padding: 0 }),
      ['32231', '20210', '22100', '31000', '10000'].map((r) => [...r].map(Number)),
    );
  });

  test('stride and padding change the output size as (n + 2p - k) / s + 1', async () => {
    const out = await convolve(lectureImage, lectureKernel, { stride: 2, padding: 1 });
    assert.equal(out.length, 4);
    assert.equal(out[0].length, 4);
    assert.equal(padGrid(lectureImage, 1).length, 9);
  });

  test('pooling: max and average over 2×2 windows with stride 2', async () => {
    assert.deepEqual(await pool(lectureImage, 'max', 2, { stride: 2, padding: 0 }), [
      [1, 1, 1],
      [1, 1, 1],
      [1, 1, 0],
    ]);
    assert.deepEqual((await pool(lectureImage, 'avg', 2, { stride: 2, padding: 0 }))[0], [0.25, 0.5, 0.5]);
  });

  test('each step writes out the inner product that the library computed', async () => {
    const out = await convolve(lectureImage, lectureKernel, { stride: 1, padding: 0 });
    const step = describeStep(lectureImage, { kind: 'conv', kernel: lectureKernel }, 1, 0, out, 0, 0);
    assert.equal(step.text, '0·0 + 0·0 + 0·0 + 0·0 + 1·1 + 1·1 + 0·0 + 1·1 + 0·0 = 3');
    const max = describeStep(lectureImage, { kind: 'max', size: 2 }, 2, 0, await pool(lectureImage, 'max', 2, { stride: 2, padding: 0 }), 2, 2);
    assert.equal(max.text, 'max(0, 0, 0, 0) = 0');
  });
});

describe('the training worker, step by step (reference backend)', () => {
  const train = limitDataset(loadMnist('train'), 512);
  const test_ = limitDataset(loadMnist('test'), 120);
  const tinyNet = () =>
    new Model(
      sequential(
        'tiny',
        [1, 24, 24],
        [{ type: 'conv2d', filters: 4, kernel: 5, stride: 2, padding: 2 }, { type: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 10 }],
        CLASSES,
      ),
      new RefBackend(),
      1,
    );

  test('training lowers the loss; settings (optimizer, batch size) change between batches', async () => {
    const model = tinyNet();
    const session = new TrainingSession(model, train, { ...defaultSettings, batchSize: 16, lr: 0.05 });
    await session.step();
    const first = session.smoothLoss.value;
    for (let i = 0; i < 40; i++) await session.step();
    assert.ok(session.smoothLoss.value < first * 0.8, `loss ${first} → ${session.smoothLoss.value}`);
    assert.equal(session.examples, 41 * 16);
    await session.applySettings({ ...defaultSettings, optimizer: 'adam', lr: 0.001, batchSize: 8 });
    await session.step();
    assert.equal(session.examples, 41 * 16 + 8);
    assert.ok(Number.isFinite(session.smoothLoss.value));
    // Wrapping around the data starts a new epoch.
    assert.ok(session.epoch > 1);
  });

  test('rolling test accuracy, the test-set report and the layer inspector', async () => {
    const model = tinyNet();
    const session = new TrainingSession(model, train, { ...defaultSettings, batchSize: 16, lr: 0.05 });
    for (let i = 0; i < 30; i++) await session.step();
    const rolling = new RollingTestAccuracy(new Replica(model), test_, 100, 50);
    assert.equal(rolling.accuracy, null);
    await rolling.step();
    await rolling.step();
    assert.equal(rolling.seen, 100);
    assert.ok(rolling.accuracy! > 0.2, `rolling accuracy ${rolling.accuracy}`);

    let pauses = 0;
    const report = await testReport(new Replica(model), test_, session.examples, async () => {
      pauses++;
    });
    assert.equal(report.count, 120);
    assert.equal(
      report.confusion.flat().reduce((a, b) => a + b, 0),
      120,
    );
    assert.equal(report.strip.length, 24);
    assert.ok(report.wrong.every((w) => w.top[0].cls !== w.label));
    assert.ok(
      report.wrong.every((w, i) => i === 0 || report.wrong[i - 1].top[0].p >= w.top[0].p),
      'most confident mistakes first',
    );
    assert.ok(pauses >= 2, 'yields between batches');
    // The live strip alone: the report's strip, from one batch.
    const live = await testStrip(new Replica(model), test_, session.examples);
    assert.equal(live.examples, session.examples);
    assert.deepEqual(live.strip, report.strip);

    const inspector = new Inspector(new Replica(model), test_);
    const labelled = await inspector.inspect({ kind: 'test', index: 3 });
    assert.equal(labelled.label, test_.labels[3]);
    assert.equal(labelled.layers.length, 4);
    assert.deepEqual(labelled.layers[0].weights!.shape, [4, 1, 5, 5]);
    assert.ok(labelled.layers.every((l) => l.gradient && l.gradient.length === l.activation.length));
    assert.ok(Math.abs(labelled.probs.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    const drawn = await inspector.inspect({ kind: 'drawn', pixels: (train as ImageDataset).images.slice(0, 784) });
    assert.equal(drawn.label, undefined);
    assert.ok(drawn.layers.every((l) => l.gradient === undefined));
  });
});

describe('model files the visitor picks: .convkit or ONNX', () => {
  const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`fixtures/${name}`, import.meta.url)));

  test('a PyTorch LeNet-5 from ONNX loads with its weights, classifies and trains on', async () => {
    const bytes = fixture('torch-lenet5.onnx');
    const model = readModelFile(bytes, 'torch-lenet5.onnx', new RefBackend());
    assert.deepEqual(model.inputShape, [1, 28, 28]);
    assert.deepEqual(model.spec.classes, CLASSES);
    // The same weights as the library's own import: the same probabilities for a test digit.
    const test_ = limitDataset(loadMnist('test'), 8);
    const pixels = test_.images.slice(0, 784);
    const mine = await new Inspector(new Replica(model), test_).inspect({ kind: 'drawn', pixels });
    const library = await new Inspector(new Replica(loadOnnx(bytes, new RefBackend())), test_).inspect({ kind: 'drawn', pixels });
    mine.probs.forEach((p, i) => assert.ok(Math.abs(p - library.probs[i]) < 1e-6, `class ${i}: ${p} vs ${library.probs[i]}`));
    const before = Float32Array.from(model.savedTensors()[0].value.data);
    const session = new TrainingSession(model, limitDataset(loadMnist('train'), 64), { ...defaultSettings, batchSize: 16, lr: 0.002 });
    await session.step();
    assert.ok(Number.isFinite(session.smoothLoss.value));
    assert.ok(
      model.savedTensors()[0].value.data.some((v, i) => v !== before[i]),
      'the imported weights train',
    );
  });

  test("an ONNX model for other images is refused before it is built, naming the file and MNIST's shape", () => {
    let built = false;
    assert.throws(
      () =>
        readModelFile(fixture('torch-finetune.onnx'), 'torch-finetune.onnx', new RefBackend(), {
          checked: () => {
            built = true;
          },
        }),
      (e) => e instanceof ConfigError && /^torch-finetune\.onnx: .*1×28×28.*got \[3,16,16\]/.test(e.message),
    );
    assert.equal(built, false);
    // Not ONNX after all: the library's format error, with the file named.
    assert.throws(
      () => readModelFile(fixture('torch-lenet5.onnx').subarray(0, 5000), 'cut.onnx', new RefBackend()),
      (e) => e instanceof FormatError && /cut\.onnx/.test(e.message),
    );
    assert.throws(
      () => readModelFile(fixture('torch-lenet5.onnx'), 'lenet.convkit', new RefBackend()),
      (e) => e instanceof FormatError && /lenet\.convkit/.test(e.message),
    );
  });
});

describe("the training worker's phase (state machine)", () => {
  const at = (name: Phase['name'], resume = false, failure?: string): Phase => (failure === undefined ? { name, resume } : { name, resume, failure });

  test('every transition: start, pause, a backend switch that resumes training, a failure that refuses work until a move', () => {
    const changes: string[] = [];
    const p = new WorkerPhase((from, to) => changes.push(`${from.name}→${to.name}${to.resume ? ' (resume)' : ''}`));
    assert.throws(
      () => p.send({ type: 'start' }),
      (e) => e instanceof PhaseError && /still loading/.test(e.message),
    );
    p.send({ type: 'network' });
    p.send({ type: 'loaded' });
    p.send({ type: 'start' });
    assert.equal(p.training, true);
    p.send({ type: 'network' }); // a new network keeps training
    p.send({ type: 'switch' });
    p.send({ type: 'switched' });
    p.send({ type: 'pause' });
    p.send({ type: 'switch' });
    p.send({ type: 'start' }); // asked during the move: training goes on after it
    p.send({ type: 'switched' });
    p.send({ type: 'fail', message: 'device lost' });
    assert.equal(p.failed, true);
    assert.throws(() => p.send({ type: 'start' }), /device lost.*another backend/);
    assert.throws(() => p.send({ type: 'network' }), /device lost/);
    p.send({ type: 'pause' });
    p.send({ type: 'switch' });
    p.send({ type: 'switched' });
    assert.deepEqual(changes, [
      'loading→idle',
      'idle→training',
      'training→switching (resume)',
      'switching→training',
      'training→paused',
      'paused→switching',
      'switching→switching (resume)',
      'switching→training',
      'training→failed (resume)',
      'failed→failed',
      'failed→switching',
      'switching→idle',
    ]);
  });

  test('a failure while training, or while a move meant to resume, resumes after the next move; errors stop training without failing', () => {
    assert.deepEqual(nextPhase(at('training'), { type: 'fail', message: 'x' }), at('failed', true, 'x'));
    assert.deepEqual(nextPhase(at('switching', true), { type: 'fail', message: 'x' }), at('failed', true, 'x'));
    assert.deepEqual(nextPhase(at('failed', true, 'x'), { type: 'switch' }), at('switching', true));
    assert.deepEqual(nextPhase(at('training'), { type: 'stopped' }), at('paused'));
    assert.throws(() => nextPhase(at('idle'), { type: 'switched' }), /cannot switched while idle/);
    assert.throws(() => nextPhase(at('training'), { type: 'loaded' }), PhaseError);
  });
});

describe('playground defects, worker side', () => {
  const train = limitDataset(loadMnist('train'), 256);
  const test_ = limitDataset(loadMnist('test'), 400);
  const spec = sequential(
    'tiny',
    [1, 24, 24],
    [{ type: 'conv2d', filters: 2, kernel: 5, stride: 2, padding: 2 }, { type: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 10 }],
    CLASSES,
  );

  test('the test-set report stops between chunks once its signal is aborted (a network change cancels it)', async () => {
    const model = new Model(spec, new RefBackend(), 1);
    const controller = new AbortController();
    let chunks = 0;
    const report = testReport(
      new Replica(model),
      test_,
      0,
      async () => {
        if (++chunks === 2) controller.abort(new Error('evaluation cancelled: the network changed'));
      },
      controller.signal,
    );
    await assert.rejects(report, /evaluation cancelled: the network changed/);
    assert.equal(chunks, 2, 'no chunk runs after the abort');
  });

  test('before the digits arrive a network already classifies drawings; training starts once they are attached', async () => {
    const run = new NetworkRun(new Model(spec, new RefBackend(), 1), 'pretrained', undefined, undefined, { ...defaultSettings, batchSize: 16 }, 1);
    const drawn = await run.inspector.inspect({ kind: 'drawn', pixels: train.images.slice(0, 784) });
    assert.equal(drawn.probs.length, 10);
    await assert.rejects(run.inspector.inspect({ kind: 'test', index: 0 }), /still loading/);
    assert.throws(() => run.session, /still loading/);
    assert.equal(run.stats().examples, 0);
    await run.applySettings({ ...defaultSettings, batchSize: 8 });
    run.attachData(train, test_);
    await run.step();
    assert.equal(run.stats().examples, 8, 'the settings sent before the data apply');
    assert.equal((await run.inspector.inspect({ kind: 'test', index: 0 })).label, test_.labels[0]);
  });

  test("what a channel responds to: the strongest test digits for each channel, cut at the unit's receptive field, found once per set of weights", async () => {
    const model = new Model(spec, new RefBackend(), 3);
    const replica = new Replica(model);
    let syncs = 0;
    const sync = replica.sync.bind(replica);
    replica.sync = () => {
      syncs++;
      return sync();
    };
    const finder = new ChannelPatchFinder(replica);
    const found = await finder.find(test_, 'relu1', 1, 0);
    assert.equal(found.searched, Math.min(SEARCHED_DIGITS, test_.count));
    assert.equal(found.patches.length, PATCHES_PER_CHANNEL);
    // Brute force: every searched digit's strongest relu1 channel-1 unit, by a forward pass of its own.
    const [, H, W] = spec.inputShape;
    const x = new Tensor([1, 1, H, W], new Float32Array(H * W));
    const strongest: { index: number; activation: number }[] = [];
    for (let i = 0; i < found.searched; i++) {
      fillBatch(test_, [i], 0, x, new Uint8Array(1), { crop: 'center' });
      model.forward(x);
      const a = model.activations().get('relu1')!;
      const per = a.shape[2] * a.shape[3];
      strongest.push({ index: i, activation: Math.max(...a.data.subarray(per, 2 * per)) });
    }
    strongest.sort((p, q) => q.activation - p.activation || p.index - q.index);
    assert.deepEqual(
      found.patches.map((p) => p.index),
      strongest.slice(0, PATCHES_PER_CHANNEL).map((p) => p.index),
    );
    for (const [k, p] of found.patches.entries()) {
      assert.ok(Math.abs(p.activation - strongest[k].activation) < 1e-5);
      assert.equal(p.label, test_.labels[p.index]);
      // The patch is the network's input there: the centre crop of the digit, normalised.
      fillBatch(test_, [p.index], 0, x, new Uint8Array(1), { crop: 'center' });
      for (let y = 0; y < p.box.height; y++)
        for (let xx = 0; xx < p.box.width; xx++) assert.equal(p.data[y * p.box.width + xx], x.data[(p.box.top + y) * W + p.box.left + xx]);
    }
    const before = syncs;
    await finder.find(test_, 'relu1', 0, 0);
    assert.equal(syncs, before, 'another channel of the same layer and weights: no new search');
    await finder.find(test_, 'relu1', 0, 16);
    assert.equal(syncs, before + 1, 'new weights: a new search');
    await assert.rejects(finder.find(test_, 'relu1', 2, 16), /channels 0 to 1, not 2/);
  });

  test('fine-tuning: a model for 26 classes loads only with a new head; the layers before it keep their weights', () => {
    const letters = new Model(
      sequential('letters', [1, 24, 24], [...spec.nodes.slice(0, 3).map((n) => n.layer), { type: 'dense', units: 26 }]),
      new RefBackend(),
      5,
    );
    const bytes = toOnnx(letters);
    assert.throws(
      () => readModelFile(bytes, 'letters.onnx', new RefBackend()),
      (e) => e instanceof ConfigError && /^letters\.onnx: .*10 digit classes.*new 10-class head/.test(e.message),
    );
    const tuned = readModelFile(bytes, 'letters.onnx', new RefBackend(), { newHead: true });
    assert.deepEqual(tuned.outputShape, [10]);
    assert.deepEqual(tuned.spec.classes, CLASSES);
    const old = new Map(letters.savedTensors().map((t) => [t.path, t.value.data]));
    for (const t of tuned.savedTensors()) {
      if (t.path.startsWith('fc1.')) assert.notEqual(t.value.size, old.get(t.path)!.length, 'the head is new, with ten outputs');
      else assert.deepEqual(Array.from(t.value.data), Array.from(old.get(t.path)!), `${t.path} comes from the file`);
    }
  });

  test('freezing: the layers up to the chosen one stop training, the head trains; a freeze that takes the head is refused; the freeze moves with the run', async () => {
    const run = new NetworkRun(new Model(spec, new RefBackend(), 1), 'pretrained', train, test_, { ...defaultSettings, batchSize: 16 }, 1);
    await run.step();
    await assert.rejects(run.freeze('fc1'), /would freeze the classifier head "fc1"/);
    await run.freeze('flatten1');
    assert.deepEqual(run.info().frozen, ['conv1', 'relu1', 'flatten1']);
    const before = run.model.savedTensors().map((t) => Float32Array.from(t.value.data));
    const examples = run.examples;
    await run.step();
    await run.step();
    assert.equal(run.examples, examples + 32, 'the session goes on from its progress');
    run.model.savedTensors().forEach((t, i) => {
      const moved = t.value.data.some((v, k) => v !== before[i][k]);
      assert.equal(moved, t.path.startsWith('fc1.'), `${t.path} ${moved ? 'moved' : 'stayed'}`);
    });
    const state = await run.exportState();
    assert.deepEqual(state.freeze, ['conv1', 'relu1', 'flatten1'], 'a move to another backend keeps the freeze');
    await run.freeze(null);
    const unfrozen = run.model.savedTensors().map((t) => Float32Array.from(t.value.data));
    await run.step();
    assert.ok(
      run.model.savedTensors()[0].value.data.some((v, k) => v !== unfrozen[0][k]),
      'unfrozen, conv1 trains again',
    );
  });
});

describe('layer views while training', () => {
  test('views asked for as fast as possible take at most their share of the time (5 %)', async () => {
    let clock = 0;
    const budget = new ViewBudget(0.05, () => clock);
    let viewTime = 0;
    let from = { clock: 0, viewTime: 0 };
    for (let i = 0; i < 400; i++) {
      if (i === 100) from = { clock, viewTime }; // the steady state, after the first (free) views
      clock += budget.delay(); // the wait (training runs meanwhile)
      await budget.run(async () => {
        clock += 20;
        viewTime += 20;
      }); // a 20 ms view, asked for again at once
    }
    clock += budget.delay(); // the last view's time is paid back before the next
    const share = (viewTime - from.viewTime) / (clock - from.clock);
    assert.ok(share <= 0.05 + 1e-9, `views took ${(100 * share).toFixed(2)} % of the time`);
    assert.ok(share > 0.04, `and they are not starved (${(100 * share).toFixed(2)} %)`);
  });
});
