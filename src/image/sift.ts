import { ConfigError } from '../errors.js';
import { gaussianBlur } from './filter.js';
import { polarGradients } from './gradients.js';
import { type PlanarImage, toGreyImage } from './image.js';
import { type GradientField, siftDescriptorAt } from './sift-descriptor.js';
import { decimate, upsample } from './transform.js';

/**
 * SIFT (Lowe, IJCV 2004): keypoints at extrema of a difference-of-Gaussians scale space,
 * refined by a quadratic fit, filtered for contrast and edge response, given a dominant
 * orientation, and described by 128-value gradient histograms. Parameters and constants
 * follow the paper (and OpenCV's implementation of it).
 */
export interface SiftOptions {
  /** Octaves (halvings of the image); default: as many as leave at least 16 pixels per side. */
  octaves?: number;
  /** DoG layers searched per octave, s (default 3). */
  scalesPerOctave?: number;
  /** Blur of each octave's first image (default 1.6). */
  sigma?: number;
  /** Blur the input is assumed to have already (default 0.5, the pixel's own). */
  assumedBlur?: number;
  /** Double the image first, which finds about four times more keypoints (default true). */
  upsample?: boolean;
  /** Minimum |DoG| at the refined extremum, for image values 0–1, divided by s (default 0.04). */
  contrastThreshold?: number;
  /** Maximum ratio of principal curvatures, r (default 10): rejects points on edges. */
  edgeThreshold?: number;
  /** Pixels at each octave's border where no extremum is sought (default 5). */
  border?: number;
}

/** A keypoint in the input image's pixel coordinates (x right, y down). */
export interface Keypoint {
  x: number;
  y: number;
  /** Scale: the blur, in input pixels, at which it was found. A blob of radius r is found at σ ≈ r/√2. */
  sigma: number;
  /** Dominant gradient direction in radians (0 = pointing right, π/2 = down). */
  angle: number;
  /** DoG value at the refined extremum (signed; image values 0–1). */
  response: number;
  octave: number;
  /** Fractional DoG layer within the octave. */
  layer: number;
}

export interface SiftFeature {
  keypoint: Keypoint;
  descriptor: Float32Array;
}

type Resolved = Required<SiftOptions>;

interface Octave {
  /** Gaussian images at σ_i = sigma · 2^(i/s), i = 0 … s + 2 (values 0–1). */
  gaussians: PlanarImage[];
  /** DoG images D_i = G_{i+1} − G_i, i = 0 … s + 1. */
  dogs: PlanarImage[];
  /** Input pixels per octave pixel. */
  step: number;
}

function resolve(o: SiftOptions): Resolved {
  const r: Resolved = {
    octaves: 0,
    scalesPerOctave: 3,
    sigma: 1.6,
    assumedBlur: 0.5,
    upsample: true,
    contrastThreshold: 0.04,
    edgeThreshold: 10,
    border: 5,
    ...o,
  };
  if (!Number.isInteger(r.scalesPerOctave) || r.scalesPerOctave < 1)
    throw new ConfigError(`SIFT scalesPerOctave must be a positive integer, got ${r.scalesPerOctave}`);
  if (!Number.isInteger(r.octaves) || r.octaves < 0) throw new ConfigError(`SIFT octaves must be a non-negative integer (0 = automatic), got ${r.octaves}`);
  if (!(r.sigma > 0) || !(r.assumedBlur >= 0) || !(r.edgeThreshold > 0) || !(r.contrastThreshold >= 0))
    throw new ConfigError('SIFT sigma, edgeThreshold must be positive and assumedBlur, contrastThreshold non-negative');
  return r;
}

/** The Gaussian and DoG pyramid of a grey image with values 0–1. */
function scaleSpace(grey: PlanarImage, o: Resolved): Octave[] {
  const s = o.scalesPerOctave;
  let base = o.upsample ? upsample(grey, 2) : grey;
  const have = o.upsample ? 2 * o.assumedBlur : o.assumedBlur;
  base = gaussianBlur(base, Math.sqrt(Math.max(o.sigma * o.sigma - have * have, 0.01)));
  const maxOctaves = Math.max(1, Math.floor(Math.log2(Math.min(base.width, base.height) / 16)) + 1);
  const count = o.octaves > 0 ? Math.min(o.octaves, maxOctaves) : maxOctaves;
  const octaves: Octave[] = [];
  let step = o.upsample ? 0.5 : 1;
  for (let oc = 0; oc < count; oc++) {
    const gaussians = [base];
    for (let i = 1; i < s + 3; i++) {
      // Blur the previous image by just enough to reach σ_i (variances add).
      const prev = o.sigma * 2 ** ((i - 1) / s),
        next = o.sigma * 2 ** (i / s);
      gaussians.push(gaussianBlur(gaussians[i - 1], Math.sqrt(next * next - prev * prev)));
    }
    const dogs = gaussians.slice(1).map((g, i) => ({ ...g, data: g.data.map((v, j) => v - gaussians[i].data[j]) }));
    octaves.push({ gaussians, dogs, step });
    // G_s has twice the first image's blur: decimated, it starts the next octave.
    base = decimate(gaussians[s]);
    step *= 2;
  }
  return octaves;
}

/** Detects keypoints and computes their descriptors. */
export function sift(img: PlanarImage, options: SiftOptions = {}): SiftFeature[] {
  const o = resolve(options);
  const grey = toGreyImage(img);
  const unit = { ...grey, data: grey.data.map((v) => v / 255) };
  const octaves = scaleSpace(unit, o);
  const features: SiftFeature[] = [];
  octaves.forEach((octave, index) => {
    const fields = new Map<number, GradientField>();
    const fieldFor = (layer: number) => {
      let f = fields.get(layer);
      if (!f) fields.set(layer, (f = polarGradients(octave.gaussians[layer])));
      return f;
    };
    // Neighbouring candidates often refine to the same extremum; it is described once
    // (duplicates would give identical descriptors, which the ratio test always rejects).
    const found = new Set<string>();
    for (const candidate of findExtrema(octave, o)) {
      const refined = refine(octave, candidate, o);
      if (!refined || found.has(refined.sample)) continue;
      found.add(refined.sample);
      const layer = Math.min(Math.max(Math.round(refined.layer), 0), o.scalesPerOctave + 2);
      const field = fieldFor(layer);
      // Scale within the octave, in octave pixels.
      const scale = o.sigma * 2 ** (refined.layer / o.scalesPerOctave);
      for (const angle of dominantOrientations(field, refined.x, refined.y, scale)) {
        const descriptor = siftDescriptorAt(field, refined.x, refined.y, 3 * scale, angle);
        features.push({
          keypoint: {
            x: refined.x * octave.step,
            y: refined.y * octave.step,
            sigma: scale * octave.step,
            angle,
            response: refined.response,
            octave: index,
            layer: refined.layer,
          },
          descriptor,
        });
      }
    }
  });
  return features;
}

/** Just the keypoints (the descriptors are computed anyway: orientation and description share the work). */
export function siftKeypoints(img: PlanarImage, options: SiftOptions = {}): Keypoint[] {
  return sift(img, options).map((f) => f.keypoint);
}

/** Pixels that are larger or smaller than all 26 neighbours in space and scale. */
function* findExtrema(octave: Octave, o: Resolved): Generator<{ x: number; y: number; layer: number }> {
  const { width: W, height: H } = octave.dogs[0];
  const threshold = (0.5 * o.contrastThreshold) / o.scalesPerOctave;
  for (let layer = 1; layer <= o.scalesPerOctave; layer++) {
    const [below, here, above] = [octave.dogs[layer - 1].data, octave.dogs[layer].data, octave.dogs[layer + 1].data];
    for (let y = o.border; y < H - o.border; y++) {
      for (let x = o.border; x < W - o.border; x++) {
        const i = y * W + x;
        const v = here[i];
        if (Math.abs(v) <= threshold) continue;
        let extremum = true;
        for (let dy = -1; dy <= 1 && extremum; dy++) {
          for (let dx = -1; dx <= 1 && extremum; dx++) {
            const j = i + dy * W + dx;
            for (const d of [below[j], here[j], above[j]]) {
              if (v > 0 ? d > v : d < v) {
                extremum = false;
                break;
              }
            }
          }
        }
        if (extremum) yield { x, y, layer };
      }
    }
  }
}

/**
 * Sub-pixel, sub-scale position by fitting a quadratic to D around the sample (Brown & Lowe
 * 2002): x̂ = −H⁻¹∇D, moving to the neighbouring sample while an offset exceeds 0.5. Rejects
 * low contrast |D(x̂)| < threshold / s and edges, where tr(H)²/det(H) ≥ (r + 1)²/r.
 */
function refine(octave: Octave, start: { x: number; y: number; layer: number }, o: Resolved) {
  const s = o.scalesPerOctave;
  const { width: W, height: H } = octave.dogs[0];
  let { x, y, layer } = start;
  const visited = new Set<string>();
  for (let iteration = 0; iteration < 5; iteration++) {
    const [D0, D1, D2] = [octave.dogs[layer - 1].data, octave.dogs[layer].data, octave.dogs[layer + 1].data];
    const at = (img: Float64Array, dx: number, dy: number) => img[(y + dy) * W + x + dx];
    const v = at(D1, 0, 0);
    const g = [(at(D1, 1, 0) - at(D1, -1, 0)) / 2, (at(D1, 0, 1) - at(D1, 0, -1)) / 2, (at(D2, 0, 0) - at(D0, 0, 0)) / 2];
    const dxx = at(D1, 1, 0) + at(D1, -1, 0) - 2 * v;
    const dyy = at(D1, 0, 1) + at(D1, 0, -1) - 2 * v;
    const dss = at(D2, 0, 0) + at(D0, 0, 0) - 2 * v;
    const dxy = (at(D1, 1, 1) - at(D1, -1, 1) - at(D1, 1, -1) + at(D1, -1, -1)) / 4;
    const dxs = (at(D2, 1, 0) - at(D2, -1, 0) - at(D0, 1, 0) + at(D0, -1, 0)) / 4;
    const dys = (at(D2, 0, 1) - at(D2, 0, -1) - at(D0, 0, 1) + at(D0, 0, -1)) / 4;
    const offset = solve3(
      [
        [dxx, dxy, dxs],
        [dxy, dyy, dys],
        [dxs, dys, dss],
      ],
      g.map((v) => -v),
    );
    if (!offset) return null;
    // Converged — or about to step back to a sample already tried: then the extremum lies
    // between the two (a symmetric blob centred between pixels) and this fit is kept.
    const here = [x, y, layer].join();
    const next = [x + Math.round(offset[0]), y + Math.round(offset[1]), layer + Math.round(offset[2])].join();
    const between = visited.has(next) && offset.every((d) => Math.abs(d) < 1);
    if (offset.every((d) => Math.abs(d) < 0.5) || between) {
      const response = v + 0.5 * (g[0] * offset[0] + g[1] * offset[1] + g[2] * offset[2]);
      if (Math.abs(response) * s < o.contrastThreshold) return null;
      const trace = dxx + dyy,
        det = dxx * dyy - dxy * dxy;
      const r = o.edgeThreshold;
      if (det <= 0 || trace * trace * r >= (r + 1) ** 2 * det) return null;
      // Identifies the extremum: the sample the fit converged at, or both samples it lies
      // between (reached from either side, it is the same extremum).
      const sample = between ? [here, next].sort().join('|') : here;
      return { x: x + offset[0], y: y + offset[1], layer: layer + offset[2], response, sample };
    }
    if (offset.some((d) => Math.abs(d) > 1e6)) return null;
    visited.add(here);
    x += Math.round(offset[0]);
    y += Math.round(offset[1]);
    layer += Math.round(offset[2]);
    if (layer < 1 || layer > s || x < o.border || x >= W - o.border || y < o.border || y >= H - o.border) return null;
  }
  return null;
}

/** Solves the 3×3 system A x = b by Cramer's rule; null when A is singular. */
function solve3(A: number[][], b: number[]): number[] | null {
  const det = (m: number[][]) =>
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  const d = det(A);
  if (Math.abs(d) < 1e-15) return null;
  return [0, 1, 2].map((col) => det(A.map((row, i) => row.map((v, j) => (j === col ? b[i] : v)))) / d);
}

const ORIENTATION_BINS = 36;

/**
 * Orientation assignment (Lowe section 5): a 36-bin histogram of gradient directions within
 * a radius of 3 × 1.5σ, weighted by magnitude and a Gaussian of 1.5σ, smoothed; every peak
 * within 80 % of the highest gives a keypoint, its angle refined by a parabola through
 * the peak bin and its neighbours.
 */
function dominantOrientations(field: GradientField, x: number, y: number, scale: number): number[] {
  const { width: W, height: H, magnitude, angle } = field;
  const n = ORIENTATION_BINS;
  const sigma = 1.5 * scale,
    radius = Math.round(3 * sigma);
  const hist = new Float64Array(n);
  const cx = Math.round(x),
    cy = Math.round(y);
  for (let py = Math.max(1, cy - radius); py <= Math.min(H - 2, cy + radius); py++) {
    for (let px = Math.max(1, cx - radius); px <= Math.min(W - 2, cx + radius); px++) {
      const i = py * W + px;
      const w = Math.exp(-((px - cx) ** 2 + (py - cy) ** 2) / (2 * sigma * sigma));
      const bin = Math.round((n * angle[i]) / (2 * Math.PI));
      hist[((bin % n) + n) % n] += w * magnitude[i];
    }
  }
  const smooth = hist.map((_, i) => (hist[(i + n - 2) % n] + hist[(i + 2) % n] + 4 * (hist[(i + n - 1) % n] + hist[(i + 1) % n]) + 6 * hist[i]) / 16);
  let max = 0;
  for (const v of smooth) max = Math.max(max, v);
  if (max === 0) return [0];
  const angles: number[] = [];
  for (let i = 0; i < n; i++) {
    const left = smooth[(i + n - 1) % n],
      right = smooth[(i + 1) % n],
      v = smooth[i];
    if (v > left && v > right && v >= 0.8 * max) {
      const bin = i + (0.5 * (left - right)) / (left - 2 * v + right);
      let a = (2 * Math.PI * bin) / n;
      if (a > Math.PI) a -= 2 * Math.PI;
      angles.push(a);
    }
  }
  return angles;
}
