import { extname } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { FormatError } from '../errors.js';
import { type GreyImage, toGrey } from '../data/preprocess.js';
import { writeFileAtomic } from './files.js';
import { MAX_IMAGE_PIXELS, checkJpegSize, checkPngSize } from './image-size.js';
import { readBytes } from './mnist.js';

export { MAX_IMAGE_PIXELS };

/** Decoded 8-bit image, channels interleaved. */
export interface DecodedImage {
  width: number;
  height: number;
  channels: number;
  pixels: Uint8Array;
}

/** Decodes a PNG or JPEG (chosen by its signature, not its name); errors name the file. */
export function decodeImage(bytes: Uint8Array, fileName: string): DecodedImage {
  const isPng = bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  // Refuse sizes the file cannot back before a decoder allocates for them.
  if (isPng) checkPngSize(bytes, fileName);
  if (isJpeg) checkJpegSize(bytes, fileName);
  try {
    if (isPng) {
      // pngjs converts every colour type and bit depth to 8-bit RGBA.
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, channels: 4, pixels: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    }
    if (isJpeg) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6, maxMemoryUsageInMB: 512 });
      return { width: img.width, height: img.height, channels: 4, pixels: img.data };
    }
  } catch (e) {
    // pngjs reports a file that ends early as pending reads on a finished stream.
    const raw = e instanceof Error ? e.message : String(e);
    const message = /read requests waiti?n?g on finished stream/.test(raw) ? 'the file is truncated' : raw;
    throw new FormatError(`${fileName}: cannot decode ${isPng ? 'PNG' : 'JPEG'} image: ${message}`);
  }
  throw new FormatError(`${fileName}: not a PNG or JPEG image${extname(fileName) ? ` (despite the ${extname(fileName)} name)` : ''}`);
}

export function readImage(path: string): DecodedImage {
  return decodeImage(readBytes(path), path);
}

export function readGreyImage(path: string): GreyImage {
  const img = readImage(path);
  return toGrey(img.pixels, img.width, img.height, img.channels);
}

/** Encodes 8-bit pixels (1, 3 or 4 channels) as PNG. */
export function encodePng(img: DecodedImage): Uint8Array {
  const png = new PNG({ width: img.width, height: img.height });
  for (let i = 0; i < img.width * img.height; i++) {
    const p = i * img.channels;
    const rgb = img.channels >= 3 ? [img.pixels[p], img.pixels[p + 1], img.pixels[p + 2]] : [img.pixels[p], img.pixels[p], img.pixels[p]];
    png.data.set([...rgb, img.channels === 4 ? img.pixels[p + 3] : 255], i * 4);
  }
  return PNG.sync.write(png);
}

/**
 * Encodes 8-bit pixels (1, 3 or 4 channels) as PNG of the matching colour type (grey, RGB or
 * RGBA), so files hold no more channels than the image has and stay small.
 */
export function encodePngCompact(img: DecodedImage): Uint8Array {
  const colorType = ({ 1: 0, 3: 2, 4: 6 } as Record<number, 0 | 2 | 6 | undefined>)[img.channels];
  if (colorType === undefined) throw new FormatError(`cannot encode a ${img.channels}-channel image as PNG (1, 3 or 4 channels)`);
  if (img.pixels.length !== img.width * img.height * img.channels) {
    throw new FormatError(`a ${img.width}×${img.height}×${img.channels} image needs ${img.width * img.height * img.channels} bytes, got ${img.pixels.length}`);
  }
  const data = Buffer.from(img.pixels.buffer, img.pixels.byteOffset, img.pixels.byteLength);
  const png = { width: img.width, height: img.height, data } as unknown as PNG;
  return PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: colorType === 6 });
}

/** Writes a PNG atomically: on any failure no partial file is left at `path`. */
export function writePng(path: string, img: DecodedImage): void {
  writeFileAtomic(path, encodePngCompact(img));
}
