import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type ImageDataset, interleaveClasses } from '../data/dataset.js';
import { type GreyImage, resizeArea } from '../data/preprocess.js';
import { ConvkitError } from '../errors.js';
import { readImage } from './image.js';

const IMAGE_FILE = /\.(png|jpe?g)$/i;

export interface FolderOptions {
  /** Side of the square each image is stored at (training crops are cut from it). */
  size: number;
  /** 1 for grey, 3 for RGB. */
  channels: 1 | 3;
  /** Statistics of the training split; computed from it when omitted. */
  mean?: number[];
  std?: number[];
}

/**
 * An ImageNet-style folder: ROOT/<class name>/*.png|jpg. If ROOT has `train/` and `val/` (or
 * `test/`) subfolders they are the splits; otherwise every fifth image of each class (in name
 * order) is held out for testing. Each image is decoded, its central square is resized to
 * size×size (area averaging), and it is kept as bytes. The per-channel mean and standard
 * deviation are computed from the split unless given (pass the training split's to the test split).
 */
export function loadImageFolder(root: string, split: 'train' | 'test', options: FolderOptions): ImageDataset {
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new ConvkitError(`folder dataset ${root}: no such directory`);
  const splitDir = ['train', split === 'train' ? 'train' : 'val', 'test'].map((d) => join(root, d));
  const presplit = existsSync(splitDir[0]) && (existsSync(splitDir[1]) || existsSync(splitDir[2]));
  const base = presplit ? (split === 'train' ? splitDir[0] : existsSync(splitDir[1]) ? splitDir[1] : splitDir[2]) : root;
  const trainBase = presplit ? splitDir[0] : root;
  const classes = classFolders(trainBase);
  const files: { file: string; label: number }[] = [];
  classes.forEach((name, label) => {
    const dir = join(base, name);
    const all = existsSync(dir) ? readdirSync(dir).filter((f) => IMAGE_FILE.test(f)).sort() : [];
    if (all.length === 0 && (!presplit || split === 'train')) throw new ConvkitError(`folder dataset ${root}: class folder ${dir} has no PNG or JPEG images`);
    const chosen = presplit ? all : all.filter((_, i) => (i % 5 === 4) === (split === 'test'));
    for (const f of chosen) files.push({ file: join(dir, f), label });
  });
  if (files.length === 0) throw new ConvkitError(`folder dataset ${root}: no ${split} images`);

  const { size, channels } = options;
  const px = size * size;
  const images = new Uint8Array(files.length * channels * px);
  const labels = classes.length > 256 ? new Int32Array(files.length) : new Uint8Array(files.length);
  files.forEach(({ file, label }, n) => {
    const planes = squarePlanes(file, size, channels);
    planes.forEach((plane, c) => {
      for (let i = 0; i < px; i++) images[(n * channels + c) * px + i] = Math.round(Math.min(1, Math.max(0, plane.data[i])) * 255);
    });
    labels[n] = label;
  });
  // Normalise with the training split's statistics: callers pass them in for the test split.
  const stats = options.mean && options.std ? { mean: options.mean, std: options.std } : channelStats(images, channels, px);
  return interleaveClasses({ name: `folder:${root}:${split}`, count: files.length, channels, height: size, width: size, images, labels, classes, ...stats });
}

function classFolders(dir: string): string[] {
  const classes = readdirSync(dir).filter((d) => statSync(join(dir, d)).isDirectory()).sort();
  if (classes.length < 2) throw new ConvkitError(`folder dataset ${dir}: needs at least two class folders (${dir}/<class>/*.png|jpg), found ${classes.length}`);
  return classes;
}

/** Decodes an image and returns its central square resized to size×size, one plane per channel. */
export function squarePlanes(file: string, size: number, channels: 1 | 3): GreyImage[] {
  const img = readImage(file);
  const side = Math.min(img.width, img.height);
  const x0 = (img.width - side) >> 1, y0 = (img.height - side) >> 1;
  const planes: GreyImage[] = Array.from({ length: channels }, () => ({ width: side, height: side, data: new Float32Array(side * side) }));
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const p = ((y0 + y) * img.width + x0 + x) * img.channels;
      const alpha = img.channels === 4 || img.channels === 2 ? img.pixels[p + img.channels - 1] / 255 : 1;
      const rgb = img.channels >= 3 ? [img.pixels[p], img.pixels[p + 1], img.pixels[p + 2]] : [img.pixels[p], img.pixels[p], img.pixels[p]];
      const over = rgb.map((v) => (v / 255) * alpha + (1 - alpha)); // composite over white
      if (channels === 1) planes[0].data[y * side + x] = 0.299 * over[0] + 0.587 * over[1] + 0.114 * over[2];
      else for (let c = 0; c < 3; c++) planes[c].data[y * side + x] = over[c];
    }
  }
  return planes.map((plane) => resizeArea(plane, size, size));
}

function channelStats(images: Uint8Array, channels: number, px: number): { mean: number[]; std: number[] } {
  const sum = new Float64Array(channels), sq = new Float64Array(channels);
  const count = images.length / channels;
  for (let i = 0; i < images.length; i++) {
    const c = Math.floor(i / px) % channels, v = images[i] / 255;
    sum[c] += v;
    sq[c] += v * v;
  }
  const mean = Array.from(sum, (s) => s / count);
  const std = Array.from(sq, (s, c) => Math.max(Math.sqrt(s / count - mean[c] ** 2), 1e-3));
  return { mean, std };
}
