import { FormatError, ShapeError } from '../errors.js';
import { Rng } from '../rng.js';
import { type Tensor, shapeToString } from '../tensor.js';
import { parseIdx } from './idx.js';
import { type ResizedCropOptions, resizedCropBox, sampleBox } from './resized-crop.js';

/**
 * Images kept as bytes (count × channels × height × width, 0–255) with integer labels.
 * Pixels are converted to normalised floats one batch at a time, so a dataset costs one
 * byte per pixel in memory.
 */
export interface ImageDataset {
  name: string;
  count: number;
  channels: number;
  height: number;
  width: number;
  images: Uint8Array;
  /** Class index per example (Int32Array when there are more than 256 classes). */
  labels: Uint8Array | Int32Array;
  classes: string[];
  /** Per-channel mean and standard deviation of pixel/255, used for normalisation. */
  mean: number[];
  std: number[];
}

export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;

/** Builds a dataset from the bytes of an IDX image file and an IDX label file. */
export function datasetFromIdx(name: string, images: Uint8Array, imagesFile: string, labels: Uint8Array, labelsFile: string): ImageDataset {
  const img = parseIdx(images, imagesFile);
  const lab = parseIdx(labels, labelsFile);
  if (img.dims.length !== 3) throw new FormatError(`${imagesFile}: expected 3 dimensions (count, rows, columns), got ${img.dims.length}`);
  if (lab.dims.length !== 1) throw new FormatError(`${labelsFile}: expected 1 dimension (count), got ${lab.dims.length}`);
  if (img.dims[1] === 0 || img.dims[2] === 0) throw new FormatError(`${imagesFile}: images of ${img.dims[1]}×${img.dims[2]} pixels are empty`);
  if (img.dims[0] === 0) throw new FormatError(`${imagesFile}: the file holds no images`);
  if (img.dims[0] !== lab.dims[0]) throw new FormatError(`${imagesFile} has ${img.dims[0]} images but ${labelsFile} has ${lab.dims[0]} labels`);
  for (let i = 0; i < lab.data.length; i++) {
    if (lab.data[i] > 9) throw new FormatError(`${labelsFile}: label ${lab.data[i]} at index ${i} is not a digit 0–9`);
  }
  return {
    name,
    count: img.dims[0],
    channels: 1,
    height: img.dims[1],
    width: img.dims[2],
    images: img.data,
    labels: lab.data,
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    mean: [MNIST_MEAN],
    std: [MNIST_STD],
  };
}

/** The first `limit` examples (no copy). */
export function limitDataset(ds: ImageDataset, limit: number | undefined): ImageDataset {
  if (limit === undefined || limit >= ds.count) return ds;
  const px = ds.channels * ds.height * ds.width;
  return { ...ds, count: limit, images: ds.images.subarray(0, limit * px), labels: ds.labels.subarray(0, limit) };
}

/**
 * The same examples in a fixed pseudo-random order (seeded), for sources stored class by class,
 * so that the first N examples (--train-limit) are a fair sample of every class.
 */
export function interleaveClasses(ds: ImageDataset, seed = 20261128): ImageDataset {
  const order = new Rng(seed).shuffle(Int32Array.from({ length: ds.count }, (_, i) => i));
  const px = ds.channels * ds.height * ds.width;
  const images = new Uint8Array(ds.images.length);
  const labels = ds.labels instanceof Int32Array ? new Int32Array(ds.count) : new Uint8Array(ds.count);
  order.forEach((from, to) => {
    images.set(ds.images.subarray(from * px, (from + 1) * px), to * px);
    labels[to] = ds.labels[from];
  });
  return { ...ds, images, labels };
}

export interface BatchOptions {
  /** Where to cut a crop when the model's input is smaller than the images: 'random' for training, 'center' for evaluation. */
  crop: 'random' | 'center';
  rng?: Rng;
  /** Random translation by up to this many pixels (zero fill), for augmentation. */
  shift?: number;
  /** Mirror left-right with probability 1/2, for augmentation (natural images, not digits). */
  flip?: boolean;
  /** With crop 'random': a random resized crop (area and aspect ratio) instead of a plain crop; shift is not applied then. */
  resizedCrop?: Required<ResizedCropOptions>;
}

/**
 * Fills `x` ([N, C, h, w]) with normalised pixels of examples order[start..start+N) and
 * `labels` with their classes. If h×w is smaller than the images a crop is cut out.
 */
export function fillBatch(ds: ImageDataset, order: ArrayLike<number>, start: number, x: Tensor, labels: Uint8Array | Int32Array, opts: BatchOptions): void {
  const [N, C, h, w] = x.shape;
  if (C !== ds.channels || h > ds.height || w > ds.width) {
    throw new ShapeError(`dataset ${ds.name} has ${ds.channels}×${ds.height}×${ds.width} images, which cannot feed input ${shapeToString(x.shape.slice(1))}`);
  }
  const H = ds.height,
    W = ds.width,
    px = C * H * W;
  const out = x.data;
  for (let n = 0; n < N; n++) {
    const index = order[start + n];
    labels[n] = ds.labels[index];
    if (opts.crop === 'random' && opts.resizedCrop && opts.rng) {
      const box = resizedCropBox(opts.rng, H, W, opts.resizedCrop);
      const mirror = !!opts.flip && opts.rng.next() < 0.5;
      for (let c = 0; c < C; c++) {
        sampleBox(ds.images, index * px + c * H * W, W, box, out, (n * C + c) * h * w, h, w, mirror, 1 / (255 * ds.std[c]), ds.mean[c] / ds.std[c]);
      }
      continue;
    }
    let top = (H - h) >> 1,
      left = (W - w) >> 1;
    if (opts.crop === 'random' && opts.rng) {
      top = opts.rng.int(H - h + 1);
      left = opts.rng.int(W - w + 1);
    }
    let dy = 0,
      dx = 0;
    if (opts.shift && opts.rng) {
      dy = opts.rng.int(2 * opts.shift + 1) - opts.shift;
      dx = opts.rng.int(2 * opts.shift + 1) - opts.shift;
    }
    const mirror = !!opts.flip && !!opts.rng && opts.rng.next() < 0.5;
    for (let c = 0; c < C; c++) {
      const scale = 1 / (255 * ds.std[c]),
        offset = ds.mean[c] / ds.std[c];
      const src = index * px + c * H * W;
      const dst = (n * C + c) * h * w;
      for (let i = 0; i < h; i++) {
        const si = top + i - dy;
        for (let j = 0; j < w; j++) {
          const sj = left + (mirror ? w - 1 - j : j) - dx;
          const inside = si >= 0 && si < H && sj >= 0 && sj < W;
          out[dst + i * w + j] = (inside ? ds.images[src + si * W + sj] : 0) * scale - offset;
        }
      }
    }
  }
}
