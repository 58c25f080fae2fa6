/**
 * The playground page's logic in Node, no browser: map sizes, colour-scale and chart ranges,
 * the low-confidence cue, settings checks and links, and the page's own copy of the network.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ConfigError } from '../src/index.js';
import { loadMnist } from '../src/node/index.js';
import { parseNetwork, validateNetwork } from '../web/src/network-def.js';
import { PageModel, fieldsOf } from '../web/src/page-model.js';
import { defaultSettings } from '../web/src/protocol.js';
import { parseTestIndex, settingsFromQuery, settingsFromText, settingsToQuery } from '../web/src/settings-query.js';
import { accuracyAxis, confidenceCue, lossAxisMax, mapScreenSize, pixelsPerCell } from '../web/src/ui/scales.js';

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
