import type { ImageDataset } from '../data/dataset.js';
import { ConfigError } from '../errors.js';
import { denseSift, denseSiftLength, type DenseSiftOptions } from './dense-sift.js';
import { type HogOptions, hogDescriptor, hogLength } from './hog.js';
import { type PlanarImage, createImage } from './image.js';

export type FeatureKind = 'pixels' | 'hog' | 'sift';
export const featureKinds: FeatureKind[] = ['pixels', 'hog', 'sift'];

/** Features of many images as one row-major matrix (count × dim), with the images' labels. */
export interface FeatureMatrix {
  count: number;
  dim: number;
  data: Float32Array;
  labels: Uint8Array;
}

/**
 * HOG settings for 28×28 digits: 4-pixel cells (7 × 7) and 7-pixel cells (4 × 4), each in
 * 2 × 2-cell blocks with 9 unsigned bins, concatenated — fine strokes and coarse layout.
 * 1 296 + 324 = 1 620 values.
 */
export const digitHog: HogOptions[] = [
  { cellSize: 4, blockSize: 2, bins: 9 },
  { cellSize: 7, blockSize: 2, bins: 9 },
];

/** Dense SIFT for 28×28 digits: 3 × 3 descriptors of 16 × 16 pixels, 6 pixels apart (1 152 values). */
export const digitDenseSift: DenseSiftOptions = { binSize: 4, step: 6 };

interface Extractor {
  dim: number;
  extract(img: PlanarImage, out: Float32Array): void;
}

function extractor(kind: FeatureKind, width: number, height: number): Extractor {
  switch (kind) {
    case 'pixels':
      return { dim: width * height, extract: (img, out) => out.set(img.data) };
    case 'hog': {
      const lengths = digitHog.map((o) => hogLength(width, height, o));
      return {
        dim: lengths.reduce((a, b) => a + b, 0),
        extract: (img, out) => {
          let offset = 0;
          digitHog.forEach((o, i) => {
            out.set(hogDescriptor(img, o), offset);
            offset += lengths[i];
          });
        },
      };
    }
    case 'sift':
      return { dim: denseSiftLength(width, height, digitDenseSift), extract: (img, out) => out.set(denseSift(img, digitDenseSift)) };
    default:
      throw new ConfigError(`unknown features "${kind}" (known: ${featureKinds.join(', ')})`);
  }
}

/** The features of every image of a grey dataset (pixel values 0–255). */
export function extractFeatures(ds: ImageDataset, kind: FeatureKind): FeatureMatrix {
  if (ds.channels !== 1) throw new ConfigError(`hand-made features are computed on grey images; ${ds.name} has ${ds.channels} channels`);
  const ex = extractor(kind, ds.width, ds.height);
  const px = ds.width * ds.height;
  const data = new Float32Array(ds.count * ex.dim);
  const img = createImage(ds.width, ds.height, 1);
  for (let n = 0; n < ds.count; n++) {
    for (let i = 0; i < px; i++) img.data[i] = ds.images[n * px + i];
    ex.extract(img, data.subarray(n * ex.dim, (n + 1) * ex.dim));
  }
  return { count: ds.count, dim: ex.dim, data, labels: Uint8Array.from(ds.labels.subarray(0, ds.count)) };
}

/**
 * Standardises every feature to zero mean and unit variance using the training set's
 * statistics, applied in place to the training set and the others; constant features
 * (an always-blank corner) become 0.
 */
export function standardise(train: FeatureMatrix, ...others: FeatureMatrix[]): { mean: Float64Array; std: Float64Array } {
  const { count, dim, data } = train;
  const mean = new Float64Array(dim),
    sq = new Float64Array(dim);
  for (let n = 0; n < count; n++) {
    for (let j = 0; j < dim; j++) {
      const v = data[n * dim + j];
      mean[j] += v;
      sq[j] += v * v;
    }
  }
  const std = new Float64Array(dim);
  for (let j = 0; j < dim; j++) {
    mean[j] /= count;
    std[j] = Math.sqrt(Math.max(sq[j] / count - mean[j] * mean[j], 0));
  }
  for (const m of [train, ...others]) {
    for (let n = 0; n < m.count; n++) {
      for (let j = 0; j < dim; j++) {
        const i = n * dim + j;
        m.data[i] = std[j] > 1e-8 ? (m.data[i] - mean[j]) / std[j] : 0;
      }
    }
  }
  return { mean, std };
}
