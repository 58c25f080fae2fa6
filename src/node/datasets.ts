import type { ImageDataset } from '../data/dataset.js';
import { ConfigError } from '../errors.js';
import { loadMnist } from './mnist.js';

export const datasetNames = ['mnist'];

/** Loads a named dataset's training or test split from the files installed with convkit. */
export function loadDataset(name: string, split: 'train' | 'test'): ImageDataset {
  switch (name) {
    case 'mnist': return loadMnist(split);
    default: throw new ConfigError(`unknown dataset "${name}" (available: ${datasetNames.join(', ')})`);
  }
}

/** What a model file records about its training data, so that prediction prepares images the same way. */
export interface DataInfo {
  dataset: string;
  channels: number;
  height: number;
  width: number;
  mean: number[];
  std: number[];
  classes: string[];
}

export function dataInfo(ds: ImageDataset, name: string): DataInfo {
  return { dataset: name, channels: ds.channels, height: ds.height, width: ds.width, mean: ds.mean, std: ds.std, classes: ds.classes };
}
