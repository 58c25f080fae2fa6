import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import jpeg from 'jpeg-js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RefBackend } from '../src/backend/ref.js';
import { limitDataset } from '../src/data/dataset.js';
import { Model } from '../src/model/model.js';
import { zoo } from '../src/model/zoo.js';
import { encodePng } from '../src/node/image.js';
import { loadMnist } from '../src/node/mnist.js';
import { train } from '../src/train/trainer.js';

const backend = new RefBackend();
const trainSet = loadMnist('train');

async function trainSmall(seed: number) {
  const model = new Model(zoo['convnetjs-mnist'].build(), backend, seed);
  await train(model, limitDataset(trainSet, 256), {
    epochs: 1,
    batchSize: 32,
    lr: 0.01,
    seed,
    optimizer: { type: 'sgd', momentum: 0.9, weightDecay: 5e-4 },
    schedule: { type: 'cosine' },
  });
  return model.parameters().flatMap((p) => Array.from(p.value.data));
}

describe('training', () => {
  it('is deterministic: the same seed gives bit-identical weights, another seed does not', async () => {
    const a = await trainSmall(11);
    const b = await trainSmall(11);
    const c = await trainSmall(12);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('Adam reduces the loss on a small batch it sees repeatedly', async () => {
    const model = new Model(zoo.lenet5.build(), backend, 3);
    const small = limitDataset(trainSet, 64);
    const r1 = await train(model, small, { epochs: 1, batchSize: 64, lr: 1e-3, seed: 1, optimizer: { type: 'adam' }, schedule: { type: 'constant' } });
    const r2 = await train(model, small, { epochs: 15, batchSize: 64, lr: 1e-3, seed: 1, optimizer: { type: 'adam' }, schedule: { type: 'constant' } });
    assert.ok(r2.trainLoss < 0.5 * r1.trainLoss, `loss ${r1.trainLoss} → ${r2.trainLoss}`);
  });
});

describe('CLI end to end (real MNIST subset)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convkit-cli-'));
  const modelFile = join(dir, 'lenet.convkit');
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(process.cwd(), 'bin/convkit.js'), ...args], { encoding: 'utf8', cwd: dir });

  it('train reaches ≥ 85 % test accuracy on 1 000 test images after 2 epochs on 3 200 training images', () => {
    const r = cli(
      'train',
      '--model',
      'lenet5',
      '--train-limit',
      '3200',
      '--test-limit',
      '1000',
      '--epochs',
      '2',
      '--lr',
      '0.01',
      '--shift',
      '0',
      '--out',
      modelFile,
      '--json',
    );
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const result = lines.at(-1);
    for (const key of ['testAccuracy', 'trainLoss', 'imagesPerSecond', 'seconds', 'epochs']) assert.equal(typeof result[key], 'number', key);
    assert.equal(result.epochs, 2);
    assert.ok(result.testAccuracy >= 0.85, `test accuracy ${result.testAccuracy}`);
    assert.ok(lines.some((l) => l.type === 'batch' && typeof l.imagesPerSecond === 'number'));
    assert.equal(lines.filter((l) => l.type === 'epoch').length, 2);
    assert.ok(existsSync(modelFile));
  });

  it('eval prints accuracy and a 10×10 confusion matrix', () => {
    const r = cli('eval', '--model-file', modelFile, '--test-limit', '500', '--json');
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.equal(result.confusion.length, 10);
    assert.ok(result.confusion.every((row: number[]) => row.length === 10));
    assert.equal(
      result.confusion.flat().reduce((a: number, b: number) => a + b, 0),
      500,
    );
    assert.ok(result.accuracy > 0.8);
    const text = cli('eval', '--model-file', modelFile, '--test-limit', '100');
    assert.match(text.stdout, /accuracy \d+\.\d+ %/);
    assert.match(text.stdout, /Confusion matrix/);
  });

  it('predict classifies PNG and JPEG pictures of real test digits (any size, dark on light)', () => {
    const test = loadMnist('test');
    const files: string[] = [];
    for (let i = 0; i < 3; i++) {
      // Scale each digit ×3 and invert it, as a person's scan or drawing would look.
      const size = 84,
        rgba = new Uint8Array(size * size * 4);
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) {
          const v = 255 - test.images[i * 784 + Math.floor(y / 3) * 28 + Math.floor(x / 3)];
          rgba.set([v, v, v, 255], (y * size + x) * 4);
        }
      const file = join(dir, `digit${i}.${i === 2 ? 'jpg' : 'png'}`);
      const bytes =
        i === 2 ? jpeg.encode({ data: rgba, width: size, height: size }, 95).data : encodePng({ width: size, height: size, channels: 4, pixels: rgba });
      writeFileSync(file, bytes);
      files.push(file);
    }
    const r = cli('predict', '--model-file', modelFile, ...files, '--json');
    assert.equal(r.status, 0, r.stderr);
    const { predictions } = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.equal(predictions.length, 3);
    predictions.forEach((p: { top: { class: string; probability: number }[]; inverted: boolean }, i: number) => {
      assert.equal(p.top.length, 3);
      assert.ok(p.inverted);
      assert.ok(p.top[0].probability >= p.top[1].probability && p.top[1].probability >= p.top[2].probability);
      assert.equal(p.top[0].class, String(test.labels[i]), `image ${i}: predicted ${p.top[0].class}, label ${test.labels[i]}`);
    });
    const text = cli('predict', '--model-file', modelFile, files[0]);
    assert.match(text.stdout, /digit0\.png: 7 \d+\.\d %, \d \d+\.\d %, \d \d+\.\d %/);
    writeFileSync(join(dir, 'broken.png'), readFileSync(files[0]).subarray(0, 100));
    const broken = cli('predict', '--model-file', modelFile, join(dir, 'broken.png'));
    assert.equal(broken.status, 1);
    assert.match(broken.stderr, /broken\.png: cannot decode PNG/);
  });

  it('summary prints the per-layer table with LeNet-5 parameter count', () => {
    const r = cli('summary', '--model', 'lenet5');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /conv1 \(conv2d\)\s+\[N, 6, 28, 28\]\s+156/);
    assert.match(r.stdout, /Total params: 61,706/);
    // Receptive field size and jump: 5×5 conv, 2×2 pool, 5×5 conv sees 14 pixels, 2 apart.
    assert.match(r.stdout, /Layer \(type\)\s+Output shape\s+Param #\s+RF size\s+Jump\n/);
    assert.match(r.stdout, /conv2 \(conv2d\)\s+\[N, 16, 10, 10\]\s+2,416\s+14\s+2\n/);
    assert.match(r.stdout, /fc1 \(dense\)\s+\[N, 120\]\s+48,120\s+32\s+—\n/);
    const j = JSON.parse(cli('summary', '--model', 'convnetjs-mnist', '--json').stdout);
    assert.equal(j.totalParams, 5994);
    const conv2 = j.layers.find((l: { name: string }) => l.name === 'conv2');
    assert.deepEqual(conv2, {
      name: 'conv2',
      type: 'conv2d',
      inputs: ['pool1'],
      outputShape: [16, 12, 12],
      params: 3216,
      receptiveField: { size: [14, 14], jump: [2, 2], start: [-6, -6] },
    });
  });

  it('bad input: unknown model, missing model file, bad flag — clear errors, non-zero exit', () => {
    const unknown = cli('train', '--model', 'nonet');
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.stderr, /unknown model "nonet"/);
    const missing = cli('eval', '--model-file', join(dir, 'nope.convkit'));
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /nope\.convkit: no such file/);
    const flag = cli('train', '--epochs', 'many');
    assert.equal(flag.status, 2);
    assert.match(flag.stderr, /epochs must be an integer/);
  });
});
