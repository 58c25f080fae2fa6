import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { limitDataset } from '../src/data/dataset.js';
import { type FeatureMatrix, extractFeatures, standardise } from '../src/image/features.js';
import { linearAccuracy, trainLinear } from '../src/image/linear.js';
import { loadMnist } from '../src/node/mnist.js';

// Small runs only: the full-MNIST comparison is in docs/BENCHMARKS.md (convkit baseline).
describe('hand-made features + linear classifier', () => {
  const train = limitDataset(loadMnist('train'), 2000);
  const test = limitDataset(loadMnist('test'), 500);

  it('standardises features with the training statistics; constant features become 0', () => {
    const a: FeatureMatrix = { count: 3, dim: 2, data: Float32Array.from([1, 5, 2, 5, 3, 5]), labels: new Uint8Array(3) };
    const b: FeatureMatrix = { count: 1, dim: 2, data: Float32Array.from([4, 7]), labels: new Uint8Array(1) };
    const { mean, std } = standardise(a, b);
    assert.deepEqual(Array.from(mean), [2, 5]);
    assert.ok(Math.abs(std[0] - Math.sqrt(2 / 3)) < 1e-12);
    assert.deepEqual(
      Array.from(a.data, (v) => Math.round(v * 1e6) / 1e6),
      [-1.224745, 0, 0, 0, 1.224745, 0],
    );
    assert.deepEqual(
      Array.from(b.data, (v) => Math.round(v * 1e6) / 1e6),
      [2.44949, 0],
    );
  });

  it('HOG features beat raw pixels with the same linear classifier (2 000 training images)', async () => {
    const accuracy: Record<string, number> = {};
    for (const kind of ['pixels', 'hog', 'sift'] as const) {
      const f = extractFeatures(train, kind),
        g = extractFeatures(test, kind);
      assert.equal(f.dim, { pixels: 784, hog: 1620, sift: 1152 }[kind]);
      standardise(f, g);
      const model = await trainLinear(f, 10, { epochs: 4, seed: 1 });
      accuracy[kind] = await linearAccuracy(model, g);
    }
    assert.ok(accuracy.hog > 0.9, `HOG ${accuracy.hog}`);
    assert.ok(accuracy.sift > 0.85, `dense SIFT ${accuracy.sift}`);
    assert.ok(accuracy.hog > accuracy.pixels + 0.03, `HOG ${accuracy.hog} vs pixels ${accuracy.pixels}`);
  });

  it('convkit baseline prints test accuracy and times as JSON', () => {
    const r = spawnSync(
      process.execPath,
      [join(process.cwd(), 'bin/convkit.js'), 'baseline', '--features', 'hog', '--train-limit', '1000', '--test-limit', '200', '--epochs', '2', '--json'],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const result = lines.at(-1);
    assert.equal(result.type, 'result');
    for (const key of ['testAccuracy', 'featureSeconds', 'trainSeconds', 'seconds', 'featureLength']) assert.equal(typeof result[key], 'number', key);
    assert.equal(result.featureLength, 1620);
    assert.equal(result.trainExamples, 1000);
    assert.equal(result.testExamples, 200);
    assert.ok(result.testAccuracy > 0.8, `accuracy ${result.testAccuracy}`);
    assert.equal(lines.filter((l) => l.type === 'epoch').length, 2);
    const text = spawnSync(
      process.execPath,
      [join(process.cwd(), 'bin/convkit.js'), 'baseline', '--features', 'pixels', '--train-limit', '500', '--test-limit', '100', '--epochs', '1'],
      { encoding: 'utf8' },
    );
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /raw pixels \+ linear: test accuracy \d+\.\d+ %; features \d+\.\d s, training \d+\.\d s/);
    const bad = spawnSync(process.execPath, [join(process.cwd(), 'bin/convkit.js'), 'baseline', '--features', 'surf'], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
  });
});
