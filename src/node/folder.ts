import { type Stats, existsSync, lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type ImageDataset, interleaveClasses } from '../data/dataset.js';
import type { GreyImage } from '../data/preprocess.js';
import { planeBytes, squarePlanes as squareOf } from '../data/picture.js';
import { ConvkitError, ResourceError } from '../errors.js';
import { formatBytes } from '../model/memory.js';
import { readImage } from './image.js';
import { fileKind } from './mnist.js';

const IMAGE_FILE = /\.(png|jpe?g)$/i;

export interface FolderOptions {
  /** Side of the square each image is stored at (training crops are cut from it). */
  size: number;
  /** 1 for grey, 3 for RGB. */
  channels: 1 | 3;
  /** Statistics of the training split; computed from it when omitted. */
  mean?: number[];
  std?: number[];
  /** Most bytes the stored images may take; checked from the file count before any is decoded. */
  maxBytes?: number;
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
    const all = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => IMAGE_FILE.test(f))
          .sort()
      : [];
    for (const f of all) {
      const stats = entryStats(join(dir, f), root);
      if (!stats.isFile()) throw new ConvkitError(`folder dataset ${root}: ${join(dir, f)} is ${fileKind(stats)}, not an image file`);
    }
    if (all.length === 0 && (!presplit || split === 'train')) throw new ConvkitError(`folder dataset ${root}: class folder ${dir} has no PNG or JPEG images`);
    const chosen = presplit ? all : all.filter((_, i) => (i % 5 === 4) === (split === 'test'));
    for (const f of chosen) files.push({ file: join(dir, f), label });
  });
  if (files.length === 0) throw new ConvkitError(`folder dataset ${root}: no ${split} images`);

  const { size, channels } = options;
  const px = size * size;
  const bytes = files.length * channels * px;
  if (options.maxBytes !== undefined && bytes > options.maxBytes) {
    throw new ResourceError(
      `folder dataset ${root}: ${files.length} ${split} images stored at ${size}×${size}×${channels} need ${formatBytes(bytes)}, more than the memory limit of ${formatBytes(options.maxBytes)} (a smaller input size needs less, or raise the limit with --memory-limit)`,
    );
  }
  const images = new Uint8Array(files.length * channels * px);
  const labels = classes.length > 256 ? new Int32Array(files.length) : new Uint8Array(files.length);
  files.forEach(({ file, label }, n) => {
    planeBytes(squarePlanes(file, size, channels), images, n * channels * px);
    labels[n] = label;
  });
  // Normalise with the training split's statistics: callers pass them in for the test split.
  const stats = options.mean && options.std ? { mean: options.mean, std: options.std } : channelStats(images, channels, px);
  return interleaveClasses({ name: `folder:${root}:${split}`, count: files.length, channels, height: size, width: size, images, labels, classes, ...stats });
}

function classFolders(dir: string): string[] {
  const classes = readdirSync(dir)
    .filter((d) => entryStats(join(dir, d), dir).isDirectory())
    .sort();
  if (classes.length < 2) throw new ConvkitError(`folder dataset ${dir}: needs at least two class folders (${dir}/<class>/*.png|jpg), found ${classes.length}`);
  return classes;
}

/**
 * What a folder entry is, following symbolic links. A link that leads nowhere or loops is an
 * error naming it (not skipped: a dataset silently missing images would train on the wrong data).
 */
function entryStats(path: string, root: string): Stats {
  try {
    return statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    let link = false;
    try {
      link = lstatSync(path).isSymbolicLink();
    } catch {
      /* vanished meanwhile */
    }
    if (link && code === 'ENOENT')
      throw new ConvkitError(`folder dataset ${root}: ${path} is a broken symbolic link (it points to ${readlinkSync(path)}, which does not exist)`);
    if (code === 'ELOOP') throw new ConvkitError(`folder dataset ${root}: ${path} is a symbolic link loop`);
    throw new ConvkitError(`folder dataset ${root}: cannot read ${path}: ${(e as Error).message}`);
  }
}

/** Decodes an image and returns its central square resized to size×size, one plane per channel. */
export function squarePlanes(file: string, size: number, channels: 1 | 3): GreyImage[] {
  return squareOf(readImage(file), size, channels);
}

function channelStats(images: Uint8Array, channels: number, px: number): { mean: number[]; std: number[] } {
  const sum = new Float64Array(channels),
    sq = new Float64Array(channels);
  const count = images.length / channels;
  for (let i = 0; i < images.length; i++) {
    const c = Math.floor(i / px) % channels,
      v = images[i] / 255;
    sum[c] += v;
    sq[c] += v * v;
  }
  const mean = Array.from(sum, (s) => s / count);
  const std = Array.from(sq, (s, c) => Math.max(Math.sqrt(s / count - mean[c] ** 2), 1e-3));
  return { mean, std };
}
