import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hogCells, hogDescriptor, hogLength, hogVisualisation } from '../src/image/hog.js';
import { type PlanarImage, greyImage } from '../src/image/image.js';
import { l2Hys } from '../src/image/normalise.js';
import { loadMnist } from '../src/node/mnist.js';
import { Rng } from '../src/rng.js';

function image(width: number, height: number, f: (x: number, y: number) => number): PlanarImage {
  return greyImage(width, height, Array.from({ length: width * height }, (_, i) => f(i % width, Math.floor(i / width))));
}

const total = (a: Float64Array) => a.reduce((s, v) => s + v, 0);

/** Sum of each orientation bin over all cells. */
function binTotals(img: PlanarImage, bins = 9): number[] {
  const cells = hogCells(img, { cellSize: 4, bins });
  const out = new Array<number>(bins).fill(0);
  cells.histograms.forEach((v, i) => { out[i % bins] += v; });
  return out;
}

describe('HOG', () => {
  it('has the known descriptor lengths', () => {
    // Dalal & Triggs' 64×128 pedestrian window: 7 × 15 blocks of 2 × 2 cells × 9 bins.
    assert.equal(hogLength(64, 128, { cellSize: 8, blockSize: 2, blockStride: 1, bins: 9 }), 3780);
    assert.equal(hogLength(28, 28, { cellSize: 4 }), 6 * 6 * 4 * 9);
    assert.equal(hogLength(28, 28, { cellSize: 7 }), 3 * 3 * 4 * 9);
    assert.equal(hogLength(28, 28, { cellSize: 4, blockSize: 3, blockStride: 2, bins: 12 }), 3 * 3 * 9 * 12);
    assert.equal(hogLength(8, 8, { cellSize: 8, blockSize: 2 }), 0);
    const rng = new Rng(1);
    const img = image(64, 128, () => rng.int(256));
    assert.equal(hogDescriptor(img, { cellSize: 8 }).length, 3780);
    assert.throws(() => hogDescriptor(image(8, 8, () => 0), { cellSize: 8 }), /too small/);
  });

  it('is unchanged by a brightness offset', () => {
    const rng = new Rng(2);
    const img = image(28, 28, () => rng.int(200));
    const brighter = { ...img, data: img.data.map((v) => v + 55) };
    assert.deepEqual(hogCells(brighter, { cellSize: 4 }).histograms, hogCells(img, { cellSize: 4 }).histograms);
    assert.deepEqual(hogDescriptor(brighter, { cellSize: 4 }), hogDescriptor(img, { cellSize: 4 }));
    // And block normalisation makes it (nearly) blind to contrast too.
    const contrast = { ...img, data: img.data.map((v) => 1.5 * v) };
    const a = hogDescriptor(img, { cellSize: 4 }), b = hogDescriptor(contrast, { cellSize: 4 });
    assert.ok(a.every((v, i) => Math.abs(v - b[i]) < 1e-6));
  });

  it('a vertical edge puts its energy in the horizontal-gradient (0°) bin; a horizontal edge between 80° and 100°', () => {
    const vertical = binTotals(image(28, 28, (x) => (x < 14 ? 0 : 200)));
    assert.ok(vertical[0] > 0);
    assert.ok(vertical[0] / vertical.reduce((a, b) => a + b) > 0.9999, `bins ${vertical}`);
    // Dark-to-bright and bright-to-dark edges look alike: orientations are unsigned.
    assert.deepEqual(binTotals(image(28, 28, (x) => (x < 14 ? 200 : 0))), vertical);
    const horizontal = binTotals(image(28, 28, (_, y) => (y < 14 ? 0 : 200)));
    assert.ok(Math.abs(horizontal[4] - horizontal[5]) < 1e-9 && horizontal[4] / horizontal.reduce((a, b) => a + b) > 0.4999, `bins ${horizontal}`);
    const diagonal = binTotals(image(28, 28, (x, y) => (x + y < 28 ? 0 : 200)), 4);
    assert.ok(diagonal[1] / diagonal.reduce((a, b) => a + b) > 0.95, `45° bin ${diagonal}`);
  });

  it('L2-Hys: normalise, clip at 0.2, renormalise; every block of a digit has unit length', () => {
    const v = Float64Array.from([10, 1, 1, 1]);
    l2Hys(v, 0.2);
    const first = [10, 1, 1, 1].map((x) => x / Math.sqrt(103));
    const clipped = first.map((x) => Math.min(x, 0.2));
    const norm = Math.hypot(...clipped);
    clipped.forEach((x, i) => assert.ok(Math.abs(v[i] - x / norm) < 1e-9));
    const test = loadMnist('test');
    const digit = greyImage(28, 28, test.images.subarray(0, 784));
    const d = hogDescriptor(digit, { cellSize: 4 });
    for (let b = 0; b < d.length / 36; b++) {
      const block = d.subarray(b * 36, (b + 1) * 36);
      const norm = Math.hypot(...block);
      assert.ok(norm === 0 || Math.abs(norm - 1) < 1e-6, `block ${b} has norm ${norm}`);
      assert.ok(block.every((x) => x >= 0 && x <= 1));
    }
    assert.ok(total(hogCells(digit, { cellSize: 4 }).histograms) > 0);
  });

  it('draws each cell as a star of lines along the edges', () => {
    const cells = hogCells(image(28, 28, (x) => (x < 14 ? 0 : 200)), { cellSize: 7 });
    const vis = hogVisualisation(cells, 16);
    assert.deepEqual([vis.width, vis.height, vis.channels], [64, 64, 1]);
    // Cells at the edge: a bright vertical glyph through the centre, nothing across.
    const at = (x: number, y: number) => vis.data[y * 64 + x];
    assert.ok(at(23, 18) > 150 && at(24, 28) > 150, 'vertical stroke');
    assert.ok(at(17, 23) < 30 && at(29, 23) < 30, 'no horizontal stroke');
    assert.ok(total(vis.data.subarray(0, 64 * 16).map((v, i) => (i % 64 < 16 ? v : 0))) === 0, 'flat corner cell is empty');
  });
});
