/**
 * Builds the picture gallery in docs/img/: a procedurally generated test scene filtered with
 * each named kernel, downsampled, convolved with a colour (3-D) kernel; HOG of an MNIST digit;
 * SIFT keypoints on the scene and matches against a rotated, scaled copy.
 *
 *   node --import tsx scripts/gallery.ts [output folder]
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { downsample } from '../src/image/downsample.js';
import { sideBySide, upscaleNearest } from '../src/image/draw.js';
import { convolve3d, filterImage } from '../src/image/filter.js';
import { hogCells, hogVisualisation } from '../src/image/hog.js';
import { type PlanarImage, greyImage, toGreyImage, toPixels } from '../src/image/image.js';
import { kernelNames, namedKernel } from '../src/image/kernels.js';
import { matchDescriptors } from '../src/image/match.js';
import { sift } from '../src/image/sift.js';
import { drawKeypoints, drawMatches } from '../src/image/sift-draw.js';
import { syntheticScene } from '../src/image/synthetic.js';
import { applyAffine, rotationAbout, upsample, warpAffine } from '../src/image/transform.js';
import { writePng } from '../src/node/image.js';
import { loadMnist } from '../src/node/mnist.js';

const out = process.argv[2] ?? 'docs/img';
mkdirSync(out, { recursive: true });

function save(name: string, img: PlanarImage): void {
  writePng(join(out, name), { width: img.width, height: img.height, channels: img.channels, pixels: toPixels(img) });
}

// No film grain: it would triple the size of every PNG and add nothing to the pictures.
const scene = syntheticScene(240, 180, { grain: 0 });
save('scene.png', scene);

// Each named kernel on every colour channel (identity would give scene.png back); mirrored borders avoid dark frames.
for (const name of kernelNames.filter((n) => n !== 'identity')) save(`filter-${name}.png`, filterImage(scene, namedKernel(name), { border: 'reflect' }));

// Downsampling: plain stride (every 4th pixel, which aliases) against block averaging and maximum.
save('downsample-stride4.png', filterImage(scene, namedKernel('identity'), { stride: 4, padding: 'valid' }));
save('downsample-average4.png', downsample(scene, { mode: 'average', factor: 4 }));
save('downsample-max4.png', downsample(scene, { mode: 'max', factor: 4 }));

// A colour (3 × 3 × 3) kernel: red minus the mean of green and blue, slightly blurred — one
// feature map that lights up red things (bricks, the ball's stripes).
const blur = namedKernel('gaussian3');
const redness = convolve3d(scene, [blur, blur.map((r) => r.map((v) => -v / 2)), blur.map((r) => r.map((v) => -v / 2))], { border: 'reflect', clamp: false });
save('conv3d-redness.png', { ...redness, data: redness.data.map((v) => 2 * v) });

// HOG of the first MNIST test digit: the digit enlarged, and its cell glyphs (4-pixel cells, 9 bins).
const test = loadMnist('test');
const digit = greyImage(28, 28, test.images.subarray(0, 784));
save('hog-digit.png', sideBySide(upscaleNearest(digit, 8), hogVisualisation(hogCells(digit, { cellSize: 4, bins: 9 }), 32), 8, 255));

// SIFT on the grey scene and on a copy rotated by 30° and scaled by 0.8.
const grey = toGreyImage(scene);
const features = sift(grey);
// Keypoints of scale σ ≥ 1.5 pixels (about a quarter of them: most are tiny, on bricks and
// letters), drawn on the scene shown twice as large so that the circles are readable.
const large = features.map((f) => f.keypoint).filter((k) => k.sigma >= 1.5);
save(
  'sift-keypoints.png',
  drawKeypoints(
    upsample(scene, 2),
    large.map((k) => ({ ...k, x: 2 * k.x, y: 2 * k.y, sigma: 2 * k.sigma })),
  ),
);
const T = rotationAbout(30, 0.8, (grey.width - 1) / 2, (grey.height - 1) / 2);
const copy = warpAffine(grey, T, grey.width, grey.height, 128);
const copyFeatures = sift(copy);
const matches = matchDescriptors(
  features.map((f) => f.descriptor),
  copyFeatures.map((f) => f.descriptor),
);
const correct = (m: { a: number; b: number }) => {
  const [x, y] = applyAffine(T, features[m.a].keypoint.x, features[m.a].keypoint.y);
  return Math.hypot(x - copyFeatures[m.b].keypoint.x, y - copyFeatures[m.b].keypoint.y) < 3;
};
// Every third match (a fair sample: wrong ones are kept), green when the known transform confirms it, red when not.
const shown = matches.filter((_, i) => i % 3 === 0);
save(
  'sift-matches.png',
  drawMatches(
    grey,
    copy,
    features.map((f) => f.keypoint),
    copyFeatures.map((f) => f.keypoint),
    shown,
    (m) => (correct(m) ? [40, 200, 40] : [230, 40, 40]),
  ),
);
const good = matches.filter(correct).length;
console.log(
  `SIFT: ${features.length} and ${copyFeatures.length} keypoints, ${matches.length} matches, ${good} correct (${((100 * good) / matches.length).toFixed(0)} %)`,
);
const files = readdirSync(out).filter((f) => f.endsWith('.png'));
const bytes = files.reduce((s, f) => s + statSync(join(out, f)).size, 0);
console.log(`${files.length} pictures in ${out}, ${(bytes / 1024).toFixed(0)} KB`);
