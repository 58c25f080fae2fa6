import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { hogBinCentre, hogCells, hogDescriptor, hogLength, hogVisualisation } from '../src/image/hog.js';
import { type PlanarImage, fromPixels, greyImage } from '../src/image/image.js';
import { l2Hys } from '../src/image/normalise.js';
import { readImage } from '../src/node/image.js';
import { loadMnist } from '../src/node/mnist.js';
import { Rng } from '../src/rng.js';

function image(width: number, height: number, f: (x: number, y: number) => number): PlanarImage {
  return greyImage(
    width,
    height,
    Array.from({ length: width * height }, (_, i) => f(i % width, Math.floor(i / width))),
  );
}

const total = (a: Float64Array) => a.reduce((s, v) => s + v, 0);

/** Sum of each orientation bin over all cells. */
function binTotals(img: PlanarImage, bins = 9): number[] {
  const cells = hogCells(img, { cellSize: 4, bins });
  const out = new Array<number>(bins).fill(0);
  cells.histograms.forEach((v, i) => {
    out[i % bins] += v;
  });
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
    assert.throws(
      () =>
        hogDescriptor(
          image(8, 8, () => 0),
          { cellSize: 8 },
        ),
      /too small/,
    );
  });

  it('is unchanged by a brightness offset', () => {
    const rng = new Rng(2);
    const img = image(28, 28, () => rng.int(200));
    const brighter = { ...img, data: img.data.map((v) => v + 55) };
    assert.deepEqual(hogCells(brighter, { cellSize: 4 }).histograms, hogCells(img, { cellSize: 4 }).histograms);
    assert.deepEqual(hogDescriptor(brighter, { cellSize: 4 }), hogDescriptor(img, { cellSize: 4 }));
    // And block normalisation makes it (nearly) blind to contrast too.
    const contrast = { ...img, data: img.data.map((v) => 1.5 * v) };
    const a = hogDescriptor(img, { cellSize: 4 }),
      b = hogDescriptor(contrast, { cellSize: 4 });
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
    const diagonal = binTotals(
      image(28, 28, (x, y) => (x + y < 28 ? 0 : 200)),
      4,
    );
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
    const cells = hogCells(
      image(28, 28, (x) => (x < 14 ? 0 : 200)),
      { cellSize: 7 },
    );
    const vis = hogVisualisation(cells, 16);
    assert.deepEqual([vis.width, vis.height, vis.channels], [64, 64, 1]);
    // Cells at the edge: a bright vertical glyph through the centre, nothing across.
    const at = (x: number, y: number) => vis.data[y * 64 + x];
    assert.ok(at(23, 18) > 150 && at(24, 28) > 150, 'vertical stroke');
    assert.ok(at(17, 23) < 30 && at(29, 23) < 30, 'no horizontal stroke');
    assert.ok(total(vis.data.subarray(0, 64 * 16).map((v, i) => (i % 64 < 16 ? v : 0))) === 0, 'flat corner cell is empty');
  });

  it("agrees with scikit-image's cell histograms once its bin centres, half a bin later, are accounted for", (t) => {
    const fixtures = new URL('./fixtures/', import.meta.url);
    const sk = JSON.parse(readFileSync(new URL('skimage-hog-camera.json', fixtures), 'utf8')) as {
      cellSize: number;
      bins: number;
      cellsX: number;
      cellsY: number;
      histograms: number[];
    };
    const decoded = readImage(new URL('camera-256.png', fixtures).pathname);
    // scikit-image votes each pixel into its own cell only.
    const ours = hogCells(fromPixels(decoded.pixels, decoded.width, decoded.height, decoded.channels), {
      cellSize: sk.cellSize,
      bins: sk.bins,
      spatialInterpolation: false,
    });
    assert.deepEqual([ours.cellsX, ours.cellsY], [sk.cellsX, sk.cellsY]);
    const n = sk.bins,
      binWidth = Math.PI / n;
    // Each cell's mean gradient direction (unsigned: angles doubled) from its histogram and
    // the bin centres, and how strongly the cell agrees on it (resultant length 0–1).
    const direction = (h: ArrayLike<number>, centre: (b: number) => number) => {
      let x = 0,
        y = 0,
        total = 0;
      for (let b = 0; b < n; b++) {
        x += h[b] * Math.cos(2 * centre(b));
        y += h[b] * Math.sin(2 * centre(b));
        total += h[b];
      }
      return { angle: Math.atan2(y, x) / 2, strength: Math.hypot(x, y) / total };
    };
    const turn = (a: number, b: number) => (Math.abs(Math.atan2(Math.sin(2 * (a - b)), Math.cos(2 * (a - b))) / 2) * 180) / Math.PI;
    const mine: number[] = [],
      ignoringOffset: number[] = [];
    for (let cy = 1; cy < sk.cellsY - 1; cy++) {
      for (let cx = 1; cx < sk.cellsX - 1; cx++) {
        // Interior cells only: scikit-image sets the image's outermost gradients to zero.
        const i = (cy * sk.cellsX + cx) * n;
        const theirs = direction(sk.histograms.slice(i, i + n), (b) => (b + 0.5) * binWidth);
        const our = direction(ours.histograms.subarray(i, i + n), (b) => hogBinCentre(b, n));
        if (theirs.strength < 0.5) continue;
        mine.push(turn(our.angle, theirs.angle));
        ignoringOffset.push(turn(our.angle, direction(sk.histograms.slice(i, i + n), (b) => b * binWidth).angle));
      }
    }
    const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
    t.diagnostic(
      `${mine.length} cells with a clear direction: median difference ${median(mine).toFixed(2)}° (${median(ignoringOffset).toFixed(2)}° taking both libraries' bin b as the same direction)`,
    );
    assert.ok(mine.length > 100, `${mine.length} cells`);
    // scikit-image's hard votes quantise each pixel's direction by up to half a bin (10°); a cell averages that out.
    assert.ok(median(mine) < 2, `median ${median(mine)}°`);
    assert.ok(mine.filter((d) => d < 5).length > 0.9 * mine.length, 'most cells within 5°');
    assert.ok(median(ignoringOffset) > 7, 'the half-bin offset is visible');
  });
});
