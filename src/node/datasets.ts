import type { ImageDataset } from '../data/dataset.js';
import { ConfigError } from '../errors.js';
import type { DataInfo } from '../io/data-info.js';

export type { DataInfo };
import { loadFashionMnist } from './fashion-mnist.js';
import { loadImageFolder } from './folder.js';
import { loadMnist } from './mnist.js';

export const datasetNames = ['mnist', 'fashion-mnist', 'folder:PATH'];

export interface DatasetOptions {
  /** For folder datasets: stored image side and channels, and normalisation statistics. */
  size?: number;
  channels?: 1 | 3;
  mean?: number[];
  std?: number[];
  /** For folder datasets: most bytes the stored images may take (checked before decoding any). */
  maxBytes?: number;
}

/** Loads a named dataset's training or test split: mnist, fashion-mnist or folder:PATH. */
export function loadDataset(name: string, split: 'train' | 'test', options: DatasetOptions = {}): ImageDataset {
  if (name === 'mnist') return loadMnist(split);
  if (name === 'fashion-mnist') return loadFashionMnist(split);
  if (name.startsWith('folder:')) {
    return loadImageFolder(name.slice('folder:'.length), split, {
      size: options.size ?? 32,
      channels: options.channels ?? 3,
      mean: options.mean,
      std: options.std,
      maxBytes: options.maxBytes,
    });
  }
  throw new ConfigError(`unknown dataset "${name}" (available: ${datasetNames.join(', ')})`);
}

/** Both splits, the test split normalised with the training split's statistics. */
export function loadDatasetSplits(name: string, options: DatasetOptions = {}): { train: ImageDataset; test: ImageDataset } {
  const train = loadDataset(name, 'train', options);
  const test = loadDataset(name, 'test', { ...options, mean: train.mean, std: train.std });
  return { train, test };
}

export function dataInfo(ds: ImageDataset, name: string): DataInfo {
  return { dataset: name, channels: ds.channels, height: ds.height, width: ds.width, mean: ds.mean, std: ds.std, classes: ds.classes };
}
