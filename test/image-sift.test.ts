import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { denseSift, denseSiftLength } from '../src/image/dense-sift.js';
import { fillCircle } from '../src/image/draw.js';
import { type PlanarImage, greyImage, toGreyImage } from '../src/image/image.js';
import { matchDescriptors } from '../src/image/match.js';
import { type SiftFeature, sift } from '../src/image/sift.js';
import { drawKeypoints, drawMatches } from '../src/image/sift-draw.js';
import { SIFT_LENGTH } from '../src/image/sift-descriptor.js';
import { syntheticScene } from '../src/image/synthetic.js';
import { applyAffine, rotationAbout, warpAffine } from '../src/image/transform.js';
import { fromPixels } from '../src/image/image.js';
import { readImage } from '../src/node/image.js';

const fixtures = new URL('./fixtures/', import.meta.url);

/** scikit-image's `camera` photograph downscaled to 256 × 256 (scripts/opencv-sift-fixtures.py). */
function camera(): PlanarImage {
  const decoded = readImage(new URL('camera-256.png', fixtures).pathname);
  return fromPixels(decoded.pixels, decoded.width, decoded.height, decoded.channels);
}

const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
};

function blob(size: number, cx: number, cy: number, r: number, fg = 255, bg = 0): PlanarImage {
  const img = greyImage(size, size, new Float64Array(size * size).fill(bg));
  fillCircle(img, cx, cy, r, [fg]);
  return img;
}

const strongest = (features: SiftFeature[]) => features.reduce((a, b) => (Math.abs(b.keypoint.response) > Math.abs(a.keypoint.response) ? b : a));

describe('SIFT keypoints', () => {
  it('finds a disc of radius r at its centre, at scale σ ≈ r/√2', () => {
    // Centred on a pixel corner (the symmetric case), and off the grid; bright and dark.
    for (const [r, cx, cy, fg, bg] of [
      [4, 47.5, 47.5, 255, 0],
      [6, 40.3, 52.7, 255, 0],
      [10, 50.2, 45.6, 0, 220],
    ]) {
      const features = sift(blob(96, cx, cy, r, fg, bg));
      assert.ok(features.length > 0, `radius ${r}: no keypoint`);
      const k = strongest(features).keypoint;
      assert.ok(Math.hypot(k.x - cx, k.y - cy) < 1, `radius ${r}: keypoint at (${k.x}, ${k.y}), blob at (${cx}, ${cy})`);
      const expected = r / Math.SQRT2;
      assert.ok(Math.abs(k.sigma / expected - 1) < 0.15, `radius ${r}: σ = ${k.sigma}, expected ≈ ${expected}`);
      // A bright blob is a DoG minimum, a dark one a maximum.
      assert.equal(Math.sign(k.response), fg > bg ? -1 : 1);
    }
  });

  it('finds nothing on a flat image and gives unit-length 128-value descriptors', () => {
    assert.equal(sift(greyImage(64, 64, new Float64Array(64 * 64).fill(90))).length, 0);
    const features = sift(blob(64, 30.2, 33.7, 5));
    for (const f of features) {
      assert.equal(f.descriptor.length, SIFT_LENGTH);
      assert.ok(Math.abs(Math.hypot(...f.descriptor) - 1) < 1e-4);
    }
  });
});

describe('SIFT matching between an image and a rotated, scaled copy', () => {
  it('recovers most correspondences, consistent with the known transform', (t) => {
    const scene = toGreyImage(syntheticScene());
    const degrees = 30,
      scale = 0.8;
    const T = rotationAbout(degrees, scale, 159.5, 119.5);
    const copy = warpAffine(scene, T, scene.width, scene.height, 128);
    const a = sift(scene),
      b = sift(copy);
    assert.ok(a.length > 200 && b.length > 200, `${a.length} and ${b.length} keypoints`);
    const matches = matchDescriptors(
      a.map((f) => f.descriptor),
      b.map((f) => f.descriptor),
    );
    const where = (i: number) => applyAffine(T, a[i].keypoint.x, a[i].keypoint.y);
    const correct = matches.filter((m) => {
      const [x, y] = where(m.a);
      return Math.hypot(x - b[m.b].keypoint.x, y - b[m.b].keypoint.y) < 3;
    });
    // Correspondences that exist: keypoints of the original with a keypoint of the copy where the transform puts them.
    const existing = a.filter((_, i) => {
      const [x, y] = where(i);
      return b.some((q) => Math.hypot(q.keypoint.x - x, q.keypoint.y - y) < 3);
    }).length;
    const precision = correct.length / matches.length,
      recall = correct.length / existing;
    t.diagnostic(
      `${a.length} / ${b.length} keypoints, ${existing} correspondences exist, ${matches.length} matches pass the ratio test, ` +
        `${correct.length} correct (within 3 px): ${(100 * recall).toFixed(0)} % of correspondences recovered, ${(100 * precision).toFixed(0)} % of matches correct`,
    );
    // Measured: 59 % recovered and 85 % correct; misses are mostly on repetitive bricks, text and checks.
    assert.ok(recall > 0.5, `recovered ${recall}`);
    assert.ok(precision > 0.8, `precision ${precision}`);
    // Correct matches also agree on scale (σ × 0.8) and orientation (+30°).
    const ratios = correct.map((m) => b[m.b].keypoint.sigma / a[m.a].keypoint.sigma).sort((p, q) => p - q);
    const turns = correct
      .map((m) => {
        const d = b[m.b].keypoint.angle - a[m.a].keypoint.angle;
        return (Math.atan2(Math.sin(d), Math.cos(d)) * 180) / Math.PI;
      })
      .sort((p, q) => p - q);
    assert.ok(Math.abs(ratios[ratios.length >> 1] - scale) < 0.05, `median scale ratio ${ratios[ratios.length >> 1]}`);
    assert.ok(Math.abs(turns[turns.length >> 1] - degrees) < 3, `median rotation ${turns[turns.length >> 1]}°`);
    // The pictures draw without error and keep their sizes.
    const vis = drawKeypoints(
      scene,
      a.map((f) => f.keypoint),
    );
    assert.deepEqual([vis.width, vis.height, vis.channels], [320, 240, 3]);
    assert.equal(
      drawMatches(
        scene,
        copy,
        a.map((f) => f.keypoint),
        b.map((f) => f.keypoint),
        correct,
      ).width,
      648,
    );
  });

  it('the ratio test keeps distinctive matches and drops ambiguous ones', () => {
    const first = [
      [0, 0],
      [5, 5],
    ];
    const second = [
      [0.1, 0],
      [10, 0],
      [5, 5.11],
      [5.1, 5],
    ];
    const matches = matchDescriptors(first, second, 0.8);
    assert.deepEqual(
      matches.map((m) => [m.a, m.b]),
      [[0, 0]],
    );
    assert.ok(matches[0].ratio < 0.02);
  });
});

describe('SIFT on a photograph, against OpenCV', () => {
  const features = sift(camera());

  it('gives each keypoint once: no two share position, scale and orientation', () => {
    const seen = new Set(features.map(({ keypoint: k }) => [k.x, k.y, k.sigma, k.angle].join()));
    assert.ok(features.length > 200, `${features.length} keypoints`);
    assert.equal(features.length - seen.size, 0, 'exact duplicate keypoints');
  });

  it("describes keypoints as OpenCV does: the same 4 × 4 × 8 layout, orientation bins in OpenCV's order", (t) => {
    // OpenCV 4.6's SIFT compute() at convkit's own keypoints, from its own scale space.
    const fixture = JSON.parse(readFileSync(new URL('opencv-sift-camera.json', fixtures), 'utf8')) as {
      keypoints: { x: number; y: number; sigma: number; angle: number }[];
      descriptorsBase64: string;
    };
    const bytes = Buffer.from(fixture.descriptorsBase64, 'base64');
    const opencv = fixture.keypoints.map((_, i) => Float32Array.from(bytes.subarray(i * SIFT_LENGTH, (i + 1) * SIFT_LENGTH), (v) => v / 512));
    const ours = fixture.keypoints.map((k) => features.find(({ keypoint: f }) => f.x === k.x && f.y === k.y && f.sigma === k.sigma && f.angle === k.angle));
    const paired = ours.flatMap((f, i) => (f ? [{ ours: f.descriptor, opencv: opencv[i] }] : []));
    assert.ok(
      paired.length >= 0.95 * fixture.keypoints.length,
      `only ${paired.length} of the fixture's ${fixture.keypoints.length} keypoints detected (regenerate the fixture if detection changed)`,
    );
    // Not identical: OpenCV samples at whole-pixel offsets from the rounded keypoint, doubles
    // the image with a quarter-pixel different sampling grid, computes in float32 and rounds
    // each value to a byte. Measured: every cosine ≥ 0.97, median 0.996 (with the orientation
    // bins reversed, as before: median 0.55).
    const similarity = paired.map((p) => cosine(p.ours, p.opencv)).sort((a, b) => a - b);
    t.diagnostic(`${paired.length} keypoints: cosine similarity min ${similarity[0].toFixed(3)}, median ${similarity[similarity.length >> 1].toFixed(3)}`);
    assert.ok(similarity[0] > 0.95, `least similar descriptor: cosine ${similarity[0]}`);
    assert.ok(similarity[similarity.length >> 1] > 0.99, `median cosine ${similarity[similarity.length >> 1]}`);
    // Matching convkit's descriptors against OpenCV's finds each keypoint's own.
    const matches = matchDescriptors(
      paired.map((p) => p.ours),
      paired.map((p) => p.opencv),
    );
    const correct = matches.filter((m) => m.a === m.b).length;
    t.diagnostic(`${matches.length} matches pass the ratio test, ${correct} correct`);
    assert.ok(correct >= 0.9 * paired.length, `${correct} of ${paired.length} matched to their own keypoint`);
    assert.ok(correct >= 0.98 * matches.length, `${matches.length - correct} wrong matches`);
  });
});

describe('dense SIFT', () => {
  it('has a descriptor per grid point, zero on flat images, and sees a vertical edge as 0° gradients', () => {
    assert.equal(denseSiftLength(28, 28, { binSize: 4, step: 6 }), 9 * 128);
    assert.equal(denseSiftLength(16, 16, { binSize: 4, step: 6 }), 128);
    assert.ok(denseSift(greyImage(28, 28, new Float64Array(784).fill(40))).every((v) => v === 0));
    const edge = denseSift(
      greyImage(
        16,
        16,
        Array.from({ length: 256 }, (_, i) => (i % 16 < 8 ? 0 : 255)),
      ),
      { binSize: 4, step: 6 },
    );
    let bin0 = 0,
      all = 0;
    edge.forEach((v, i) => {
      all += v;
      if (i % 8 === 0) bin0 += v;
    });
    assert.ok(bin0 / all > 0.99, `${bin0} of ${all}`);
  });
});
