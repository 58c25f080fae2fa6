import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fillBatch } from '../src/data/dataset.js';
import { loadFashionMnist } from '../src/node/fashion-mnist.js';
import { loadImageFolder } from '../src/node/folder.js';
import { encodePng } from '../src/node/image.js';
import { Rng } from '../src/rng.js';
import { Tensor } from '../src/tensor.js';

/** Writes ROOT/<class>/<i>.png: red discs, green squares and blue bars on noise, at random sizes. */
function makeFolder(perClass: number): string {
  const root = mkdtempSync(join(tmpdir(), 'convkit-folder-'));
  const rng = new Rng(4);
  const classes = ['disc', 'square', 'bar'];
  classes.forEach((name, k) => {
    mkdirSync(join(root, name));
    for (let i = 0; i < perClass; i++) {
      const w = 30 + rng.int(20),
        h = 30 + rng.int(20);
      const px = new Uint8Array(w * h * 3);
      const cx = w / 2 + rng.uniform(-3, 3),
        cy = h / 2 + rng.uniform(-3, 3),
        r = 6 + rng.uniform(0, 4);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const inside = k === 0 ? (x - cx) ** 2 + (y - cy) ** 2 < r * r : k === 1 ? Math.abs(x - cx) < r && Math.abs(y - cy) < r : Math.abs(x - cx) < r / 3;
          const noise = rng.int(40);
          const colour = inside ? [k === 0 ? 220 : 30, k === 1 ? 220 : 30, k === 2 ? 220 : 30] : [noise, noise, noise];
          px.set(
            colour.map((v) => Math.min(255, v + (inside ? noise : 0))),
            (y * w + x) * 3,
          );
        }
      writeFileSync(join(root, name, `${String(i).padStart(3, '0')}.png`), encodePng({ width: w, height: h, channels: 3, pixels: px }));
    }
  });
  return root;
}

describe('Fashion-MNIST', () => {
  it('has a deterministic 60 000 / 10 000 split with 1 000 test images per class', () => {
    const train = loadFashionMnist('train');
    const test = loadFashionMnist('test');
    assert.equal(train.count, 60000);
    assert.equal(test.count, 10000);
    const perClass = new Array(10).fill(0);
    for (const l of test.labels) perClass[l]++;
    assert.deepEqual(perClass, new Array(10).fill(1000));
    // Classes are interleaved, so a --train-limit sample sees every class.
    assert.equal(new Set(train.labels.subarray(0, 200)).size, 10);
    assert.deepEqual(Array.from(loadFashionMnist('test').labels.subarray(0, 20)), Array.from(test.labels.subarray(0, 20)));
  });
});

describe('image folder datasets', () => {
  const root = makeFolder(10);

  it('loads class folders, holds out every fifth image, and computes per-channel statistics', () => {
    const train = loadImageFolder(root, 'train', { size: 24, channels: 3 });
    const test = loadImageFolder(root, 'test', { size: 24, channels: 3, mean: train.mean, std: train.std });
    assert.deepEqual(train.classes, ['bar', 'disc', 'square']);
    assert.equal(train.count, 24);
    assert.equal(test.count, 6);
    assert.equal(train.images.length, 24 * 3 * 24 * 24);
    assert.equal(train.mean.length, 3);
    assert.ok(train.mean.every((m) => m > 0 && m < 1) && train.std.every((s) => s > 0));
    assert.deepEqual(test.mean, train.mean);
  });

  it('random crops and flips come from the stored image', () => {
    const ds = loadImageFolder(root, 'train', { size: 24, channels: 3 });
    const x = new Tensor([2, 3, 20, 20], new Float32Array(2 * 3 * 400));
    const labels = new Int32Array(2);
    fillBatch(ds, [0, 1], 0, x, labels, { crop: 'random', rng: new Rng(1), flip: true });
    assert.ok(x.data.some((v) => v !== 0));
    const center = new Tensor([1, 3, 24, 24], new Float32Array(3 * 576));
    const flipped = new Tensor([1, 3, 24, 24], new Float32Array(3 * 576));
    fillBatch(ds, [0], 0, center, labels, { crop: 'center' });
    // Find a seed whose first draw flips, and check the mirror image.
    let seed = 0;
    while (new Rng(seed).next() >= 0.5) seed++;
    fillBatch(ds, [0], 0, flipped, labels, { crop: 'center', rng: new Rng(seed), flip: true });
    for (let y = 0; y < 24; y++) for (let xx = 0; xx < 24; xx++) assert.equal(flipped.data[y * 24 + xx], center.data[y * 24 + 23 - xx]);
  });

  it('convkit train --dataset folder:PATH learns the shapes and reports top-1/top-5', () => {
    const bin = join(process.cwd(), 'bin/convkit.js');
    const out = join(root, 'm.convkit');
    const r = spawnSync(
      process.execPath,
      [
        bin,
        'train',
        '--model',
        'lenet5',
        '--dataset',
        `folder:${root}`,
        '--input-size',
        '28',
        '--epochs',
        '12',
        '--batch',
        '8',
        '--lr',
        '0.01',
        '--flip',
        '--out',
        out,
        '--json',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.ok(result.testAccuracy >= 0.8, `test accuracy ${result.testAccuracy}`);
    const ev = spawnSync(process.execPath, [bin, 'eval', '--model-file', out, '--json'], { encoding: 'utf8' });
    assert.equal(ev.status, 0, ev.stderr);
    const e = JSON.parse(ev.stdout.trim().split('\n').at(-1)!);
    assert.equal(e.top5, 1);
    assert.equal(e.confusion.length, 3);
  });

  it('a bad folder gives a clear error naming the path', () => {
    const empty = mkdtempSync(join(tmpdir(), 'convkit-empty-'));
    assert.throws(() => loadImageFolder(empty, 'train', { size: 16, channels: 3 }), /needs at least two class folders/);
    assert.throws(() => loadImageFolder(join(empty, 'missing'), 'train', { size: 16, channels: 3 }), /missing: no such directory/);
    const broken = makeFolder(2);
    writeFileSync(join(broken, 'disc', 'zzz.png'), 'not a png at all');
    assert.throws(
      () => loadImageFolder(broken, 'train', { size: 16, channels: 3 }),
      (e: Error) => e.message.includes(join(broken, 'disc', 'zzz.png')),
    );
    mkdirSync(join(broken, 'empty-class'));
    assert.throws(() => loadImageFolder(broken, 'train', { size: 16, channels: 3 }), /empty-class has no PNG or JPEG images/);
  });
});
