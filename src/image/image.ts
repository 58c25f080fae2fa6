import { ConfigError, ShapeError } from '../errors.js';

/**
 * A planar float image: the value of channel c at row y, column x is
 * data[(c * height + y) * width + x] — the CHW layout of one NCHW tensor, so it feeds the
 * convolution and pooling kernels without reshuffling. Values are nominally 0–255 (bytes
 * as read from a file); filters may produce anything, and `toPixels` clamps.
 */
export interface PlanarImage {
  width: number;
  height: number;
  channels: number;
  data: Float64Array;
}

export function createImage(width: number, height: number, channels = 1): PlanarImage {
  if (![width, height, channels].every((d) => Number.isInteger(d) && d > 0)) {
    throw new ShapeError(`invalid image size ${width}×${height}×${channels}`);
  }
  return { width, height, channels, data: new Float64Array(width * height * channels) };
}

/** One channel of an image as a 1-channel image (a copy). */
export function channel(img: PlanarImage, c: number): PlanarImage {
  const n = img.width * img.height;
  return { width: img.width, height: img.height, channels: 1, data: img.data.slice(c * n, (c + 1) * n) };
}

/**
 * Interleaved 8-bit pixels (1–4 channels, as decoders return them) to a planar image.
 * Alpha is composited over white (as `toGrey` does for prediction), and an RGB image whose
 * pixels are all grey becomes 1 channel: PNG and JPEG decoders always hand back RGBA, and
 * this recovers what the picture really has.
 */
export function fromPixels(pixels: ArrayLike<number>, width: number, height: number, channels: number): PlanarImage {
  if (channels < 1 || channels > 4) throw new ShapeError(`images have 1 to 4 channels, got ${channels}`);
  if (pixels.length !== width * height * channels) {
    throw new ShapeError(`${width}×${height}×${channels} image needs ${width * height * channels} values, got ${pixels.length}`);
  }
  const hasAlpha = channels === 2 || channels === 4;
  const colours = hasAlpha ? channels - 1 : channels;
  const n = width * height;
  let grey = colours === 1;
  if (!grey) {
    grey = true;
    for (let i = 0; i < n && grey; i++) {
      const p = i * channels;
      grey = pixels[p] === pixels[p + 1] && pixels[p] === pixels[p + 2];
    }
  }
  const out = createImage(width, height, grey ? 1 : 3);
  for (let c = 0; c < out.channels; c++) {
    for (let i = 0; i < n; i++) {
      const p = i * channels;
      const v = pixels[p + c];
      const a = hasAlpha ? pixels[p + channels - 1] / 255 : 1;
      out.data[c * n + i] = a === 1 ? v : v * a + 255 * (1 - a);
    }
  }
  return out;
}

/** Planar image to interleaved bytes: values rounded and clamped to 0–255. */
export function toPixels(img: PlanarImage): Uint8Array {
  const n = img.width * img.height,
    C = img.channels;
  const out = new Uint8Array(n * C);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < n; i++) out[i * C + c] = clampByte(img.data[c * n + i]);
  }
  return out;
}

export function clampByte(v: number): number {
  return v <= 0 || Number.isNaN(v) ? 0 : v >= 255 ? 255 : Math.round(v);
}

/** The same image with every value clamped to 0–255 and rounded, as an output file would hold it. */
export function clampImage(img: PlanarImage): PlanarImage {
  return { ...img, data: img.data.map(clampByte) };
}

/** Luma (ITU-R BT.601) of an RGB image; a 1-channel image is returned as is. */
export function toGreyImage(img: PlanarImage): PlanarImage {
  if (img.channels === 1) return img;
  if (img.channels !== 3) throw new ShapeError(`cannot convert a ${img.channels}-channel image to grey (expected 1 or 3)`);
  const n = img.width * img.height;
  const out = createImage(img.width, img.height, 1);
  for (let i = 0; i < n; i++) out.data[i] = 0.299 * img.data[i] + 0.587 * img.data[n + i] + 0.114 * img.data[2 * n + i];
  return out;
}

/** An RGB image: a grey image's channel repeated three times. */
export function toRgbImage(img: PlanarImage): PlanarImage {
  if (img.channels === 3) return img;
  if (img.channels !== 1) throw new ShapeError(`cannot convert a ${img.channels}-channel image to RGB (expected 1 or 3)`);
  const n = img.width * img.height;
  const out = createImage(img.width, img.height, 3);
  for (let c = 0; c < 3; c++) out.data.set(img.data, c * n);
  return out;
}

/** An image with `channels` channels (1 = grey, 3 = RGB), converting if needed. */
export function withChannels(img: PlanarImage, channels: number): PlanarImage {
  if (channels === 1) return toGreyImage(img);
  if (channels === 3) return toRgbImage(img);
  throw new ConfigError(`images here have 1 (grey) or 3 (RGB) channels, not ${channels}`);
}

/** A 1-channel image from row-major values. */
export function greyImage(width: number, height: number, values: ArrayLike<number>): PlanarImage {
  if (values.length !== width * height) throw new ShapeError(`${width}×${height} image needs ${width * height} values, got ${values.length}`);
  return { width, height, channels: 1, data: Float64Array.from(values) };
}
