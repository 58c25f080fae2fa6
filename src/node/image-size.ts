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
/** The bit depths each PNG colour type allows. */
const PNG_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
/** Adam7's passes: first column, first row, column step, row step. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];
/**
 * pngjs holds the inflated data, the 8-bit RGBA result and, for interlaced images, each pass
 * unfiltered: the decode costs about 4 bytes per pixel plus the raw bytes per pixel (twice
 * when interlaced). That cost may not exceed an 8-bit RGBA image of MAX_IMAGE_PIXELS
 * (8 bytes per pixel), which measured under 600 MB of peak memory whatever the layout.
 */
const PNG_MAX_DECODE_COST = 8 * MAX_IMAGE_PIXELS;

function refuse(fileName: string, kind: string, width: number, height: number, why: string): never {
  throw new FormatError(`${fileName}: cannot decode ${kind} image: it claims ${width}×${height} pixels, ${why}`);
}

function damaged(fileName: string, kind: string, why: string): never {
  throw new FormatError(`${fileName}: cannot decode ${kind} image: ${why}`);
}

function checkCap(fileName: string, kind: string, width: number, height: number): void {
  if (width === 0 || height === 0) refuse(fileName, kind, width, height, 'an empty image');
  if (width * height > MAX_IMAGE_PIXELS) refuse(fileName, kind, width, height, `more than the ${MAX_IMAGE_PIXELS} accepted`);
}

/**
 * Walks a PNG's chunks before any decoding: IHDR must come first and only once (a decoder
 * would otherwise use a later one, unchecked), every chunk must lie within the file, and the
 * size IHDR claims must fit the cap, the decoder's memory budget and the compressed data
 * (IDAT bytes) that must hold it.
 */
export function checkPngSize(bytes: Uint8Array, fileName: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 33 || type(12) !== 'IHDR' || view.getUint32(8, false) !== 13) {
    damaged(fileName, 'PNG', `no IHDR header${bytes.length < 33 ? ' (the file is truncated)' : ' at the start'}`);
  }
  let compressed = 0;
  for (let at = 33; at + 8 <= bytes.length; ) {
    const length = view.getUint32(at, false),
      chunk = type(at + 4);
    if (chunk === 'IHDR') damaged(fileName, 'PNG', `a second IHDR header at byte ${at} (only one is allowed)`);
    if (at + 12 + length > bytes.length) damaged(fileName, 'PNG', `the file is truncated: chunk "${chunk}" at byte ${at} claims ${length} bytes, past its end`);
    if (chunk === 'IDAT') compressed += length;
    if (chunk === 'IEND') break;
    at += 12 + length;
  }
  const width = view.getUint32(16, false),
    height = view.getUint32(20, false);
  checkCap(fileName, 'PNG', width, height);
  const depth = bytes[24],
    colorType = bytes[25],
    interlaced = bytes[28] === 1;
  if (!PNG_DEPTHS[colorType]?.includes(depth)) damaged(fileName, 'PNG', `colour type ${colorType} with bit depth ${depth} does not exist`);
  if (bytes[28] > 1) damaged(fileName, 'PNG', `unknown interlace method ${bytes[28]}`);
  const bitsPerPixel = depth * PNG_CHANNELS[colorType];
  // Each row of each pass is a filter byte plus its packed pixels.
  let raw = 0;
  for (const [x0, y0, dx, dy] of interlaced ? ADAM7 : [[0, 0, 1, 1]]) {
    const w = Math.ceil((width - x0) / dx),
      h = Math.ceil((height - y0) / dy);
    if (w > 0 && h > 0) raw += h * (1 + Math.ceil((w * bitsPerPixel) / 8));
  }
  if (raw > DEFLATE_MAX_RATIO * compressed + 1024) {
    refuse(
      fileName,
      'PNG',
      width,
      height,
      `${raw} bytes of pixel data that its ${compressed} bytes of compressed data cannot hold (it is truncated or damaged)`,
    );
  }
  const cost = 4 * width * height + (interlaced ? 2 : 1) * raw;
  if (cost > PNG_MAX_DECODE_COST) {
    refuse(
      fileName,
      'PNG',
      width,
      height,
      `${depth}-bit${interlaced ? ' interlaced' : ''}: decoding it would need about ${Math.round(cost / 2 ** 20)} MiB, more than the ${PNG_MAX_DECODE_COST / 2 ** 20} MiB allowed`,
    );
  }
}

const isFrameMarker = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/**
 * Walks a JPEG's marker sequence before decoding, the way a decoder reads it: segments by
 * their lengths, entropy-coded data after each scan up to the next marker, stray bytes up to
 * the next 0xFF. There must be exactly one frame header (SOFn) — a decoder given two
 * allocates for both — and its size must fit the cap and the file's length.
 */
export function checkJpegSize(bytes: Uint8Array, fileName: string): void {
  let frames = 0;
  let at = 2;
  while (at + 1 < bytes.length) {
    if (bytes[at] !== 0xff) {
      at++;
      continue;
    } // stray byte: decoders skip to the next marker
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at++;
      continue;
    } // fill byte
    if (marker === 0xd9) break; // end of image
    if (marker === 0x00 || marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    } // no length
    if (at + 4 > bytes.length) break;
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (isFrameMarker(marker)) {
      if (++frames > 1) damaged(fileName, 'JPEG', `a second frame header (SOF marker 0x${marker.toString(16)}) at byte ${at} (only one is allowed)`);
      if (at + 9 > bytes.length) damaged(fileName, 'JPEG', 'the frame header is truncated');
      const height = (bytes[at + 5] << 8) | bytes[at + 6],
        width = (bytes[at + 7] << 8) | bytes[at + 8];
      // Height 0 means "defined later by a DNL marker", which no decoder here supports anyway.
      checkCap(fileName, 'JPEG', width, height);
      if (width * height > JPEG_MAX_PIXELS_PER_BYTE * bytes.length + 65536) {
        refuse(fileName, 'JPEG', width, height, `more than its ${bytes.length} bytes can encode (it is truncated or damaged)`);
      }
    }
    at += 2 + length;
    if (marker === 0xda) {
      // Entropy-coded data: 0xFF is followed by 0x00 (a stuffed byte) or a restart marker inside it.
      while (at + 1 < bytes.length && !(bytes[at] === 0xff && bytes[at + 1] !== 0x00 && !(bytes[at + 1] >= 0xd0 && bytes[at + 1] <= 0xd7))) at++;
    }
  }
}
