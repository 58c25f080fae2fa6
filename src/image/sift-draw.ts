import { type Colour, drawCircle, drawLine, sideBySide } from './draw.js';
import { type PlanarImage, toRgbImage } from './image.js';
import type { Match } from './match.js';
import type { Keypoint } from './sift.js';

const palette: Colour[] = [
  [255, 64, 64],
  [64, 220, 64],
  [64, 160, 255],
  [255, 200, 0],
  [255, 64, 255],
  [0, 230, 230],
];

/**
 * Keypoints drawn over an RGB copy of the image: a circle of radius √2·σ (the radius of the
 * blob a DoG extremum at σ responds to) and a line from the centre along the orientation.
 */
export function drawKeypoints(img: PlanarImage, keypoints: Keypoint[], colour?: Colour): PlanarImage {
  const out = toRgbImage(img);
  const canvas = out === img ? { ...img, data: img.data.slice() } : out;
  keypoints.forEach((k, i) => {
    const c = colour ?? palette[i % palette.length];
    const r = Math.max(2, Math.SQRT2 * k.sigma);
    drawCircle(canvas, k.x, k.y, r, c, { opacity: 0.9 });
    drawLine(canvas, k.x, k.y, k.x + r * Math.cos(k.angle), k.y + r * Math.sin(k.angle), c, { opacity: 0.9 });
  });
  return canvas;
}

/**
 * Two images side by side with a line for each match; `colourOf` can mark matches (e.g.
 * green when consistent with a known transform, red when not).
 */
export function drawMatches(
  a: PlanarImage,
  b: PlanarImage,
  keypointsA: Keypoint[],
  keypointsB: Keypoint[],
  matches: Match[],
  colourOf: (m: Match, i: number) => Colour = (_, i) => palette[i % palette.length],
  gap = 8,
): PlanarImage {
  const out = sideBySide(a, b, gap, 255);
  const dx = a.width + gap;
  matches.forEach((m, i) => {
    const p = keypointsA[m.a],
      q = keypointsB[m.b],
      c = colourOf(m, i);
    drawCircle(out, p.x, p.y, 3, c);
    drawCircle(out, q.x + dx, q.y, 3, c);
    drawLine(out, p.x, p.y, q.x + dx, q.y, c, { opacity: 0.8 });
  });
  return out;
}
