/**
 * The playground page's logic in Node, no browser: map sizes, colour-scale and chart ranges,
 * the low-confidence cue, settings checks and links, and the page's own copy of the network.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ConfigError, Model, RefBackend, Tensor, sequential } from '../src/index.js';
import { loadMnist } from '../src/node/index.js';
import { parseNetwork, validateNetwork } from '../web/src/network-def.js';
import { PageModel, fieldsOf } from '../web/src/page-model.js';
import { defaultSettings } from '../web/src/protocol.js';
import { parseTestIndex, settingsFromQuery, settingsFromText, settingsToQuery } from '../web/src/settings-query.js';
import { accuracyAxis, confidenceCue, lossAxisMax, mapScreenSize, pixelsPerCell } from '../web/src/ui/scales.js';
import { convPartials, windowCells, windowValues, windowsOf } from '../web/src/ui/window-arithmetic.js';

describe('layer views', () => {
  test('one scale per view: a 28×28 map is drawn larger than a 14×14 one, and every map keeps its proportions', () => {
    const per = pixelsPerCell(28, 56);
    const sizes = [28, 14, 10, 5].map((s) => mapScreenSize(s, s, per, 1).width);
    assert.deepEqual(sizes, [56, 28, 20, 10]);
    for (let i = 1; i < sizes.length; i++) assert.ok(sizes[i - 1] > sizes[i]);
  });

  test('the accuracy axis zooms onto 97–99 % instead of 0–1, and stays within [0, 1]', () => {
    const axis = accuracyAxis([0.975, 0.982, 0.99, 0.988]);
    assert.ok(axis.min >= 0.95 && axis.min <= 0.97, `min ${axis.min}`);
    assert.ok(axis.max <= 1 && axis.max >= 0.99, `max ${axis.max}`);
    assert.deepEqual(accuracyAxis([]), { min: 0, max: 1 });
    assert.ok(accuracyAxis([0.1, 0.5]).min <= 0.1 && accuracyAxis([0.002]).min === 0);
  });

  test('the first loss values do not flatten the loss curve', () => {
    const losses = [4.5, 2.3, 1.2, ...Array.from({ length: 60 }, (_, i) => 0.3 - i * 0.003)];
    const max = lossAxisMax(losses)!;
    assert.ok(max < 1, `the axis follows the run, not the first value: ${max}`);
    assert.equal(lossAxisMax([2.3, 1]), undefined, 'too few values: automatic');
  });

  test('a dot or an unsure answer gets a low-confidence cue; a clear digit does not', () => {
    const sure = [0.01, 0.95, 0.01, 0.01, 0.01, 0.01, 0, 0, 0, 0];
    assert.equal(confidenceCue(sure, { width: 0.08, height: 0.07 }).level, 'low', 'a dot, even at 95 %');
    assert.equal(confidenceCue(sure, { width: 0.3, height: 0.7 }).level, 'ok');
    assert.equal(confidenceCue([0.4, 0.35, 0.25, 0, 0, 0, 0, 0, 0, 0], { width: 0.4, height: 0.7 }).level, 'low');
  });
});

describe('settings', () => {
  test('a learning rate over the limit is refused with the real limit', () => {
    assert.throws(
      () => settingsFromText((n) => (n === 'lr' ? '50' : null)),
      (e) => e instanceof ConfigError && /learning rate must be .*at most 10.*"50"/.test(e.message),
    );
    assert.equal(settingsFromText((n) => (n === 'lr' ? '10' : null)).lr, 10);
  });

  test('settings go into a query string and come back the same; bad ones are named', () => {
    const s = { ...defaultSettings, lr: 0.005, momentum: 0.8, batchSize: 64, optimizer: 'adam' as const, augment: false };
    const params = settingsToQuery(s, new URLSearchParams('backend=wasm'));
    assert.equal(params.get('backend'), 'wasm');
    assert.deepEqual(settingsFromQuery(new URLSearchParams(params.toString())), s);
    assert.throws(() => settingsFromQuery(new URLSearchParams('batchSize=0')), /batch size must be a whole number from 1 to 1024, got "0"/);
    assert.throws(() => settingsFromQuery(new URLSearchParams('optimizer=rmsprop')), /optimizer must be one of sgd, adam/);
    assert.deepEqual(settingsFromQuery(new URLSearchParams('')), defaultSettings);
  });

  test('the test digit number is checked, not clamped', () => {
    assert.equal(parseTestIndex('42', 10000), 42);
    for (const bad of ['1e9', '10000', '-1', '2.5', '', 'seven']) {
      assert.throws(
        () => parseTestIndex(bad, 10000),
        (e) => e instanceof ConfigError && /from 0 to 9999/.test(e.message),
        bad,
      );
    }
  });
});

describe('network definitions on the page', () => {
  test('a final softmax layer is refused with a reason (training would stall)', () => {
    const text = '{"layers": [{"type": "flatten"}, {"type": "dense", "units": 10}, {"type": "softmax"}]}';
    assert.throws(
      () => validateNetwork(parseNetwork(text)),
      (e) => e instanceof ConfigError && /softmax.*remove the final softmax/.test(e.message),
    );
    // A softmax inside the network is the user's business.
    validateNetwork(parseNetwork('{"layers": [{"type": "flatten"}, {"type": "dense", "units": 10}, {"type": "softmax"}, {"type": "dense", "units": 10}]}'));
  });

  test('the typo "filter" names the unknown key and the valid ones', () => {
    assert.throws(
      () => validateNetwork(parseNetwork('{"layers": [{"type": "conv2d", "filter": 6, "kernel": 5}, {"type": "flatten"}, {"type": "dense", "units": 10}]}')),
      /unknown key "filter" \(valid keys: .*filters/,
    );
  });
});

describe('the page copy of the network', () => {
  const bytes = new Uint8Array(readFileSync(new URL('../web/public/lenet5.convkit', import.meta.url)));
  const model = PageModel.fromBytes(bytes, 'lenet5.convkit');
  const test4 = loadMnist('test');

  test('classifies the first test digits without the worker, every layer reported', () => {
    for (let i = 0; i < 4; i++) {
      const report = model.inspectDrawing(test4.images.subarray(i * 784, (i + 1) * 784));
      const guess = report.probs.indexOf(Math.max(...report.probs));
      assert.equal(guess, test4.labels[i], `test digit #${i}`);
      assert.ok(Math.abs(report.probs.reduce((a, b) => a + b, 0) - 1) < 1e-5);
      assert.equal(report.layers.length, model.model.summary().length);
      assert.ok(report.layers.find((l) => l.type === 'conv2d')!.weights);
    }
  });

  test('saliency and Grad-CAM overlays have the input size and explain the predicted class', async () => {
    const report = model.inspectDrawing(test4.images.subarray(0, 784));
    for (const kind of ['saliency', 'gradcam'] as const) {
      const o = await model.overlay(kind, report.input);
      assert.equal(o.map.length, o.h * o.w);
      assert.equal(o.classIndex, test4.labels[0]);
      assert.ok(Math.max(...o.map) > 0, kind);
    }
  });

  test('receptive fields for the overview come from the spec', () => {
    const fields = fieldsOf(model.model.spec);
    assert.deepEqual(fields.get('conv1')!.size, [5, 5]);
    assert.ok(fields.get('conv2')!.size[0] > 5);
  });
});

describe("the overview's arithmetic matches the library's layers", () => {
  // Grouped, dilated, strided convolutions with 'same' and asymmetric padding, and overlapping padded pooling.
  const spec = sequential(
    'windows',
    [4, 11, 9],
    [
      { type: 'conv2d', filters: 6, kernel: 3, stride: 2, dilation: 2, padding: 'same', groups: 2 },
      { type: 'conv2d', filters: 4, kernel: [3, 2], stride: [1, 2], padding: [2, 1] },
      { type: 'maxpool2d', kernel: 3, stride: 2, padding: 1 },
      { type: 'avgpool2d', kernel: 2, stride: 1 },
    ],
  );
  const model = new Model(spec, new RefBackend(), 7);
  const x = new Tensor(
    [1, 4, 11, 9],
    Float32Array.from({ length: 4 * 11 * 9 }, (_, i) => Math.sin(i * 1.7) * 2),
  );
  model.forward(x);
  const acts = model.activations();
  const names = model.layers.map((l) => l.name);
  const valuesOf = (k: number) => (k < 0 ? { data: x.data, shape: [4, 11, 9] } : { data: acts.get(names[k])!.data, shape: [...model.layers[k].outputShape] });

  test('a convolution: the products of each input channel it reads, summed, plus the bias, give every output value', () => {
    for (const k of [0, 1]) {
      const g = windowsOf(spec, names[k])!;
      const input = valuesOf(k - 1);
      const output = valuesOf(k);
      const [weight, bias] = model.layers[k].params();
      const [O, OH, OW] = output.shape;
      for (let o = 0; o < O; o++) {
        const { first, partials } = convPartials(
          input.data as Float32Array,
          input.shape,
          { shape: weight.value.shape, data: weight.value.data as Float32Array },
          output.shape,
          g,
          o,
        );
        assert.equal(partials.length, weight.value.shape[1]);
        if (k === 0) assert.equal(first, o < 3 ? 0 : 2, 'filters 0–2 read channels 0–1, filters 3–5 channels 2–3');
        for (let q = 0; q < OH * OW; q++) {
          const sum = partials.reduce((s, p) => s + p[q], bias.value.data[o]);
          assert.ok(Math.abs(sum - output.data[o * OH * OW + q]) < 1e-4, `${names[k]}[${o}] at ${q}: ${sum} vs ${output.data[o * OH * OW + q]}`);
        }
      }
    }
  });

  test('pooling: the window of every output value holds exactly what the layer took the max or mean of', () => {
    for (const k of [2, 3]) {
      const g = windowsOf(spec, names[k])!;
      const input = valuesOf(k - 1);
      const output = valuesOf(k);
      const [C, H, W] = input.shape;
      const [, OH, OW] = output.shape;
      for (let c = 0; c < C; c++)
        for (let y = 0; y < OH; y++)
          for (let xx = 0; xx < OW; xx++) {
            const { values, padded } = windowValues(g, input.data.subarray(c * H * W, (c + 1) * H * W) as Float32Array, H, W, y, xx);
            const expected = k === 2 ? Math.max(...values) : values.reduce((a, b) => a + b, 0) / values.length;
            assert.ok(Math.abs(expected - output.data[(c * OH + y) * OW + xx]) < 1e-5, `${names[k]}[${c}][${y}][${xx}]`);
            // The padded max pooling's first row reaches into the padding; the unpadded mean never does.
            if (k === 3 || y === 0) assert.equal(padded, k === 2);
          }
    }
    assert.deepEqual(windowCells(windowsOf(spec, names[2])!, 0, 0), { top: -1, left: -1, bottom: 1, right: 1 });
    assert.equal(windowsOf(spec, 'nothing'), null);
  });
});
