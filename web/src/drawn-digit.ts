/** A drawn digit as the data the network was trained on, for the page and the worker alike. */
import { type ImageDataset, MNIST_MEAN, MNIST_STD } from 'convkit';
import { CLASSES } from './network-def.js';

/** A one-image dataset around a drawn 28×28 digit, so it is normalised and cropped exactly like MNIST. */
export function drawnDataset(pixels: Uint8Array): ImageDataset {
  if (pixels.length !== 28 * 28) throw new Error(`a drawn digit must be 28×28 bytes, got ${pixels.length}`);
  return {
    name: 'drawn',
    count: 1,
    channels: 1,
    height: 28,
    width: 28,
    images: pixels,
    labels: new Uint8Array(1),
    classes: CLASSES,
    mean: [MNIST_MEAN],
    std: [MNIST_STD],
  };
}
