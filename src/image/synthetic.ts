import { Rng } from '../rng.js';
import { type Colour, drawLine } from './draw.js';
import { type PlanarImage, createImage } from './image.js';

/**
 * A procedurally generated, photograph-like colour test image: sky and ground gradients,
 * hills, a sun, a house with windows and bricks, a tree, a striped ball, a sign with
 * handwriting-like strokes, textured grass and film grain. It has what filters and feature
 * detectors need to show their character — smooth regions, hard edges, corners, blobs of
 * many sizes, fine texture — and needs no file, so the gallery and tests are reproducible.
 */
export interface SceneOptions {
  seed?: number;
  /** Amplitude of the film grain (uniform noise, ± half this; default 6). Grain makes PNGs large. */
  grain?: number;
}

export function syntheticScene(width = 320, height = 240, { seed = 7, grain = 6 }: SceneOptions = {}): PlanarImage {
  const rng = new Rng(seed);
  const img = createImage(width, height, 3);
  const sx = width / 320,
    sy = height / 240,
    s = Math.min(sx, sy);
  const horizon = 150 * sy;
  const grass = valueNoise(width, height, 24 * s, 4, rng);
  // Sky and ground.
  fill(
    img,
    () => 0,
    (x, y) => {
      if (y < horizon) return mix([60, 110, 200], [235, 190, 150], y / horizon);
      const n = grass[Math.floor(y) * width + Math.floor(x)];
      return mix([85, 135, 50], [175, 185, 85], n).map((v) => v * (0.8 + (0.3 * (y - horizon)) / (height - horizon)));
    },
  );
  // Sun with a soft glow.
  const sun = [255 * sx, 45 * sy, 20 * s];
  fill(
    img,
    () => -1,
    (x, y) => {
      const d = Math.max(0, Math.hypot(x - sun[0], y - sun[1]) - sun[2]);
      return [255, 225, 160, 0.7 * Math.exp(-((d / (0.9 * sun[2])) ** 2))];
    },
  );
  fill(
    img,
    (x, y) => Math.hypot(x - sun[0], y - sun[1]) - sun[2],
    () => [255, 230, 120],
  );
  // Hills on the horizon.
  fill(
    img,
    (x, y) => horizon - (18 + 16 * Math.sin(x / (30 * sx)) + 10 * Math.sin(x / (11 * sx) + 1)) * sy - y,
    (_, y) => mix([90, 110, 150], [70, 100, 80], (y - (horizon - 45 * sy)) / (45 * sy)),
  );
  fill(
    img,
    (_, y) => Math.max(y - horizon - 0.5, horizon - 0.5 - y),
    () => [60, 95, 50],
  );
  // House: wall with bricks, roof, door and a four-pane window.
  const wall = box(55 * sx, 105 * sy, 150 * sx, 195 * sy);
  fill(img, wall, (x, y) => {
    const row = Math.floor(y / (6 * sy)),
      brick = Math.floor((x + (row % 2) * 6 * sx) / (12 * sx));
    const mortar = y % (6 * sy) < 1 || (x + (row % 2) * 6 * sx) % (12 * sx) < 1;
    return mortar ? [200, 190, 175] : [170 + ((brick * 7 + row * 13) % 5) * 6, 75, 55];
  });
  fill(img, triangle([45 * sx, 107 * sy], [102 * sx, 62 * sy], [160 * sx, 107 * sy]), (_, y) => mix([60, 35, 30], [110, 60, 45], (y - 62 * sy) / (45 * sy)));
  fill(img, box(72 * sx, 148 * sy, 94 * sx, 195 * sy), () => [80, 50, 35]);
  fillCircleAt(img, 90 * sx, 172 * sy, 1.8 * s, [230, 200, 80]);
  fill(img, box(108 * sx, 125 * sy, 138 * sx, 155 * sy), (x, y) => {
    const frame = Math.abs(x - 123 * sx) < 1.5 * s || Math.abs(y - 140 * sy) < 1.5 * s;
    return frame ? [240, 240, 230] : mix([150, 200, 240], [60, 90, 140], (y - 125 * sy) / (30 * sy));
  });
  // Tree: trunk and a textured crown.
  fill(img, box(178 * sx, 120 * sy, 188 * sx, 175 * sy), () => [95, 65, 40]);
  const leaves = valueNoise(width, height, 5 * s, 3, rng);
  fill(
    img,
    (x, y) => Math.hypot(x - 183 * sx, (y - 100 * sy) * 1.2) - 28 * s,
    (x, y) => mix([25, 70, 25], [90, 160, 60], leaves[Math.floor(y) * width + Math.floor(x)]),
  );
  // A striped ball on the grass.
  const ball = [40 * sx, 215 * sy, 14 * s];
  fill(
    img,
    (x, y) => Math.hypot(x - ball[0], y - ball[1]) - ball[2],
    (x, y) => {
      const shade = 0.65 + 0.35 * (1 - Math.hypot(x - ball[0] + 5 * s, y - ball[1] + 5 * s) / (2 * ball[2]));
      const stripe = Math.sin((x + y) / (2.2 * s)) > 0;
      return (stripe ? [230, 60, 50] : [245, 235, 210]).map((v) => v * shade);
    },
  );
  // A sign on a post, with rows of handwriting-like strokes.
  fill(img, box(248 * sx, 178 * sy, 254 * sx, 228 * sy), () => [110, 90, 70]);
  fill(img, box(205 * sx, 140 * sy, 300 * sx, 185 * sy), () => [245, 240, 225]);
  scribble(img, rng, 211 * sx, 146 * sy, 295 * sx, 9 * s, 3);
  // A checkerboard tile and film grain.
  fill(img, box(260 * sx, 95 * sy, 300 * sx, 125 * sy), (x, y) => ((Math.floor(x / (5 * sx)) + Math.floor(y / (5 * sy))) % 2 ? [30, 30, 40] : [220, 220, 210]));
  if (grain > 0) for (let i = 0; i < img.data.length; i++) img.data[i] = Math.min(255, Math.max(0, img.data[i] + grain * (rng.next() - 0.5)));
  return img;
}

type Sdf = (x: number, y: number) => number;

/** Paints where the signed distance is negative, anti-aliased over one pixel; a colour's optional 4th value is its opacity. */
function fill(img: PlanarImage, sdf: Sdf, colour: (x: number, y: number) => readonly number[]): void {
  const n = img.width * img.height;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const coverage = Math.min(1, Math.max(0, 0.5 - sdf(x, y)));
      if (coverage <= 0) continue;
      const c = colour(x, y);
      const a = coverage * (c[3] ?? 1);
      for (let k = 0; k < 3; k++) img.data[k * n + y * img.width + x] = img.data[k * n + y * img.width + x] * (1 - a) + c[k] * a;
    }
  }
}

function fillCircleAt(img: PlanarImage, cx: number, cy: number, r: number, colour: Colour): void {
  fill(
    img,
    (x, y) => Math.hypot(x - cx, y - cy) - r,
    () => colour,
  );
}

function box(x0: number, y0: number, x1: number, y1: number): Sdf {
  return (x, y) => Math.max(x0 - x, x - x1, y0 - y, y - y1);
}

function triangle(...p: [number, number][]): Sdf {
  // Signed distances to the three edge lines, oriented so that the centroid is inside;
  // their maximum is exact enough for anti-aliasing straight edges.
  const edge = (i: number, x: number, y: number) => {
    const [ax, ay] = p[i],
      [bx, by] = p[(i + 1) % 3];
    return ((x - ax) * (by - ay) - (y - ay) * (bx - ax)) / Math.hypot(bx - ax, by - ay);
  };
  const cx = (p[0][0] + p[1][0] + p[2][0]) / 3,
    cy = (p[0][1] + p[1][1] + p[2][1]) / 3;
  const sign = edge(0, cx, cy) < 0 ? 1 : -1;
  return (x, y) => Math.max(...[0, 1, 2].map((i) => sign * edge(i, x, y)));
}

function mix(a: readonly number[], b: readonly number[], t: number): number[] {
  const u = Math.min(1, Math.max(0, t));
  return a.map((v, i) => v + (b[i] - v) * u);
}

/** Smooth random texture in 0–1: bilinearly interpolated random lattices, halving in size per octave. */
function valueNoise(width: number, height: number, cell: number, octaves: number, rng: Rng): Float64Array {
  const out = new Float64Array(width * height);
  let amplitude = 1,
    total = 0;
  for (let o = 0; o < octaves; o++, cell /= 2, amplitude /= 2) {
    const gw = Math.ceil(width / cell) + 2,
      gh = Math.ceil(height / cell) + 2;
    const grid = Float64Array.from({ length: gw * gh }, () => rng.next());
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const fx = x / cell,
          fy = y / cell,
          ix = Math.floor(fx),
          iy = Math.floor(fy);
        const tx = smooth(fx - ix),
          ty = smooth(fy - iy);
        const g = (i: number, j: number) => grid[(iy + j) * gw + ix + i];
        out[y * width + x] += amplitude * ((g(0, 0) * (1 - tx) + g(1, 0) * tx) * (1 - ty) + (g(0, 1) * (1 - tx) + g(1, 1) * tx) * ty);
      }
    }
    total += amplitude;
  }
  return out.map((v) => v / total);
}

const smooth = (t: number) => t * t * (3 - 2 * t);

/** Rows of pseudo-words in joined-up strokes: each letter a stem (some with ascenders) and a hook or diagonal. */
function scribble(img: PlanarImage, rng: Rng, x0: number, y0: number, x1: number, glyph: number, rows: number): void {
  const ink: Colour = [25, 30, 70];
  for (let r = 0; r < rows; r++) {
    const base = y0 + r * glyph * 1.5 + glyph;
    let x = x0;
    while (x + glyph < x1) {
      const letters = 2 + rng.int(4);
      let penX = x,
        penY = base;
      for (let l = 0; l < letters && x + glyph * 0.6 < x1; l++, x += glyph * 0.6) {
        const top = base - glyph * (rng.next() < 0.3 ? 1 : 0.55);
        const stem = x + glyph * 0.15;
        drawLine(img, penX, penY, stem, base, ink, { width: 1.2 });
        drawLine(img, stem, base, stem + glyph * 0.05, top, ink, { width: 1.2 });
        const hookX = stem + glyph * (0.25 + 0.2 * rng.next()),
          hookY = base - glyph * 0.5 * rng.next();
        drawLine(img, stem + glyph * 0.05, top, hookX, hookY, ink, { width: 1.2 });
        penX = hookX;
        penY = hookY;
      }
      x += glyph * 0.7;
    }
  }
}
