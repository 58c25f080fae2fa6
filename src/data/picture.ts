import type { Tensor } from '../tensor.js';
import { type ImageDataset, fillBatch } from './dataset.js';
import { type GreyImage, invert, meanValue, mnistStyle, resizeArea, toGrey } from './preprocess.js';

/**
 * A picture (any size, decoded elsewhere) prepared as model input exactly as the training data
 * were: first stored as the dataset stores its images (bytes at the dataset's size), then cut
 * and normalised by `fillBatch` itself, so a prediction sees what training saw.
 */

/** Decoded 8-bit pixels, channels interleaved (1–4; alpha composites over white). */
export interface Picture {
  width: number;
  height: number;
  channels: number;
  pixels: Uint8Array | Uint8ClampedArray;
}

/** How a model's training images were stored: channels, size, and the statistics they were normalised with. */
export interface StoredImageLayout {
  channels: number;
  height: number;
  width: number;
  mean: number[];
  std: number[];
}

export interface PictureOptions {
  /** Grey images: 'mnist' centres the ink by mass in a 20×20 box like MNIST (default); 'resize' resizes the whole picture. */
  preprocess?: 'mnist' | 'resize';
  /** Grey images: invert dark-on-light pictures ('auto': when the mean is light; default). */
  invert?: 'auto' | 'yes' | 'no';
}

/** The picture's central square resized to size×size (area averaging), one plane of values 0–1 per channel; grey by luma (BT.601). */
export function squarePlanes(img: Picture, size: number, channels: 1 | 3): GreyImage[] {
  const side = Math.min(img.width, img.height);
  const x0 = (img.width - side) >> 1,
    y0 = (img.height - side) >> 1;
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

/** Planes of values 0–1 as stored bytes (clamped, rounded), written at `offset` of `out`. */
export function planeBytes(planes: GreyImage[], out: Uint8Array, offset = 0): Uint8Array {
  planes.forEach((plane, c) => {
    const px = plane.data.length;
    for (let i = 0; i < px; i++) out[offset + c * px + i] = Math.round(Math.min(1, Math.max(0, plane.data[i])) * 255);
  });
  return out;
}

/**
 * The picture as one image of a dataset stored with `layout`. Grey: converted to grey, inverted
 * when dark on light, then MNIST-style centring or a plain resize (as `convkit predict` and the
 * playground's canvas prepare digits). Colour: its central square resized, as image folders are
 * stored. The result feeds `fillBatch` like any dataset.
 */
export function pictureDataset(img: Picture, layout: StoredImageLayout, o: PictureOptions = {}): { dataset: ImageDataset; inverted: boolean } {
  const one = (channels: number, height: number, width: number, images: Uint8Array): ImageDataset => ({
    name: 'picture',
    count: 1,
    channels,
    height,
    width,
    images,
    labels: new Uint8Array(1),
    classes: [],
    mean: layout.mean,
    std: layout.std,
  });
  if (layout.channels === 3) {
    const side = layout.height;
    return { dataset: one(3, side, side, planeBytes(squarePlanes(img, side, 3), new Uint8Array(3 * side * side))), inverted: false };
  }
  let grey = toGrey(img.pixels, img.width, img.height, img.channels);
  const inverted = o.invert === 'yes' || ((o.invert ?? 'auto') === 'auto' && meanValue(grey) > 0.5);
  if (inverted) grey = invert(grey);
  if (o.preprocess === 'resize') {
    const small = resizeArea(grey, layout.width, layout.height);
    return { dataset: one(1, layout.height, layout.width, planeBytes([small], new Uint8Array(layout.height * layout.width))), inverted };
  }
  const side = layout.width;
  return { dataset: one(1, side, side, mnistStyle(grey, side)), inverted };
}

/** Fills `x` ([1, C, h, w]) with the picture prepared for a model trained on `layout`'s images: their central crop, normalised. */
export function pictureInput(img: Picture, layout: StoredImageLayout, x: Tensor, o: PictureOptions = {}): { inverted: boolean } {
  const { dataset, inverted } = pictureDataset(img, layout, o);
  fillBatch(dataset, [0], 0, x, new Uint8Array(1), { crop: 'center' });
  return { inverted };
}
