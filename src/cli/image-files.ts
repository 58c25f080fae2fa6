import { type PlanarImage, fromPixels, toPixels } from '../image/image.js';
import { readImage, writePng } from '../node/image.js';

/** A PNG or JPEG file as planes of floats (the image commands' working form). */
export function readPlanar(path: string): PlanarImage {
  const img = readImage(path);
  return fromPixels(img.pixels, img.width, img.height, img.channels);
}

/** Planes of floats written as a PNG. */
export function writePlanar(path: string, img: PlanarImage): void {
  writePng(path, { width: img.width, height: img.height, channels: img.channels, pixels: toPixels(img) });
}
