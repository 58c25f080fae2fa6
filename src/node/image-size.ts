import { FormatError } from '../errors.js';

/**
 * Image decoders allocate by the size a file's header claims: pngjs and jpeg-js happily spend
 * hundreds of megabytes on a 100-byte file that says 5000×5000. These checks read the claimed
 * size first and refuse what the file's own bytes cannot hold, and anything above a fixed cap.
 */

/** Largest image decoded, in pixels (2^25, e.g. 8192×4096). */
export const MAX_IMAGE_PIXELS = 2 ** 25;

/** zlib's deflate expands at most about 1032:1, so compressed bytes bound the decoded size. */
const DEFLATE_MAX_RATIO = 1032;

/**
 * Every 8×8 block of a JPEG's first component costs at least one bit (its DC code), so a file
 * of n bytes holds at most 8n blocks, 512n pixels; twice that leaves room for any encoder.
 */
const JPEG_MAX_PIXELS_PER_BYTE = 1024;

const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

function refuse(fileName: string, kind: string, width: number, height: number, why: string): never {
  throw new FormatError(`${fileName}: cannot decode ${kind} image: it claims ${width}×${height} pixels, ${why}`);
}

function checkCap(fileName: string, kind: string, width: number, height: number): void {
  if (width === 0 || height === 0) refuse(fileName, kind, width, height, 'an empty image');
  if (width * height > MAX_IMAGE_PIXELS) refuse(fileName, kind, width, height, `more than the ${MAX_IMAGE_PIXELS} accepted`);
}

/** Checks a PNG's IHDR (right after the 8-byte signature) against the cap and the file's length. */
export function checkPngSize(bytes: Uint8Array, fileName: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 33 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') {
    throw new FormatError(`${fileName}: cannot decode PNG image: no IHDR header${bytes.length < 33 ? ' (the file is truncated)' : ''}`);
  }
  const width = view.getUint32(16, false), height = view.getUint32(20, false);
  checkCap(fileName, 'PNG', width, height);
  const bitsPerPixel = bytes[24] * (PNG_CHANNELS[bytes[25]] ?? 1);
  // Each row is a filter byte plus its packed pixels (interlacing only adds to this).
  const raw = height * (1 + Math.ceil((width * bitsPerPixel) / 8));
  if (raw > DEFLATE_MAX_RATIO * bytes.length + 1024) {
    refuse(fileName, 'PNG', width, height, `${raw} bytes of pixel data that its ${bytes.length} bytes cannot hold (it is truncated or damaged)`);
  }
}

/** Finds a JPEG's frame header (SOFn) and checks its size against the cap and the file's length. */
export function checkJpegSize(bytes: Uint8Array, fileName: string): void {
  let at = 2;
  while (at + 9 <= bytes.length) {
    if (bytes[at] !== 0xff) return; // not a marker: leave the complaint to the decoder
    const marker = bytes[at + 1];
    if (marker === 0xff) { at++; continue; } // fill byte
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { at += 2; continue; } // no length
    if (marker === 0xda || marker === 0xd9) return; // scan or end before any frame header
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      const height = (bytes[at + 5] << 8) | bytes[at + 6], width = (bytes[at + 7] << 8) | bytes[at + 8];
      // Height 0 means "defined later by a DNL marker", which no decoder here supports anyway.
      checkCap(fileName, 'JPEG', width, height);
      if (width * height > JPEG_MAX_PIXELS_PER_BYTE * bytes.length + 65536) {
        refuse(fileName, 'JPEG', width, height, `more than its ${bytes.length} bytes can encode (it is truncated or damaged)`);
      }
      return;
    }
    at += 2 + ((bytes[at + 2] << 8) | bytes[at + 3]);
  }
}
