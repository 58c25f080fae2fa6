import type { Backend, Conv2dGeometry } from '../backend/backend.js';
import { RefBackend } from '../backend/ref.js';
import { ConfigError, ShapeError } from '../errors.js';
import type { FloatArray } from '../tensor.js';
import { type PlanarImage, clampImage, toGreyImage, withChannels } from './image.js';
import { type Kernel2d, type Kernel3d, checkKernel2d, checkKernel3d, gaussianKernel1d } from './kernels.js';

/** 'same' keeps the size at stride 1 (odd kernels only), 'valid' adds none, a number pads each side by that much. */
export type Padding = 'same' | 'valid' | number;
/** What lies outside the image: zeros, the nearest edge pixel, or the mirror image (edge pixel not repeated: d c b | a b c d). */
export type Border = 'zero' | 'clamp' | 'reflect';
export const borders: Border[] = ['zero', 'clamp', 'reflect'];

export interface ConvolveOptions {
  stride?: number;
  padding?: Padding;
  border?: Border;
  /** Round and clamp the result to 0–255, as an 8-bit output file holds it (default true). */
  clamp?: boolean;
  /** Backend whose conv2dForward does the arithmetic (default: the reference backend in float64, so results are exact to double precision). */
  backend?: Backend;
}

export interface FilterOptions extends ConvolveOptions {
  /** Filter each channel of a colour image separately (default), or the grey (luma) image. */
  mode?: 'per-channel' | 'grey';
}

const float64 = new RefBackend('float64');

/**
 * Applies a 2-D kernel to every channel of an image (or to its grey version), as a
 * depthwise convolution: one conv2dForward call with groups = channels. Returns an image
 * with as many channels as it filtered.
 */
export function filterImage(img: PlanarImage, kernel: Kernel2d, opts: FilterOptions = {}): PlanarImage {
  checkKernel2d(kernel);
  const src = opts.mode === 'grey' ? toGreyImage(img) : img;
  const C = src.channels;
  const flat = kernel.flat();
  const weights = new Float64Array(C * flat.length);
  for (let c = 0; c < C; c++) weights.set(flat, c * flat.length);
  return convolve(src, weights, { O: C, KH: kernel.length, KW: kernel[0].length, groups: C }, opts);
}

/**
 * Colour (3-D) convolution: a C_in × k × k kernel slid over all channels at once, summing
 * across them, giving one feature map. A grey image is expanded to RGB for a 3-deep kernel
 * and an RGB image reduced to grey for a 1-deep one.
 */
export function convolve3d(img: PlanarImage, kernel: Kernel3d, opts: ConvolveOptions = {}): PlanarImage {
  checkKernel3d(kernel);
  const src = withChannels(img, kernel.length);
  const weights = Float64Array.from(kernel.flat(2));
  return convolve(src, weights, { O: 1, KH: kernel[0].length, KW: kernel[0][0].length, groups: 1 }, opts);
}

/** Padding on each side (rows, columns) for a kernel of this size. */
export function paddingAmount(padding: Padding, KH: number, KW: number): [number, number] {
  if (padding === 'same') {
    if (KH % 2 === 0 || KW % 2 === 0) throw new ConfigError(`padding 'same' needs a kernel of odd size, got ${KH}×${KW}`);
    return [(KH - 1) / 2, (KW - 1) / 2];
  }
  if (padding === 'valid') return [0, 0];
  if (!Number.isInteger(padding) || padding < 0) throw new ConfigError(`padding must be 'same', 'valid' or a non-negative integer, got ${padding}`);
  return [padding, padding];
}

function convolve(img: PlanarImage, weights: Float64Array, k: { O: number; KH: number; KW: number; groups: number }, opts: ConvolveOptions): PlanarImage {
  const stride = opts.stride ?? 1;
  if (!Number.isInteger(stride) || stride < 1) throw new ConfigError(`stride must be a positive integer, got ${stride}`);
  const border = opts.border ?? 'zero';
  if (!borders.includes(border)) throw new ConfigError(`unknown border "${border}" (known: ${borders.join(', ')})`);
  const [padH, padW] = paddingAmount(opts.padding ?? 'same', k.KH, k.KW);
  // conv2d pads with zeros itself; other borders are made by padding the image first.
  const x = border === 'zero' ? img : padImage(img, padH, padW, border);
  const pad = border === 'zero' ? [padH, padW] : [0, 0];
  const OH = Math.floor((x.height + 2 * pad[0] - k.KH) / stride) + 1;
  const OW = Math.floor((x.width + 2 * pad[1] - k.KW) / stride) + 1;
  if (OH < 1 || OW < 1) {
    throw new ShapeError(`a ${k.KH}×${k.KW} kernel does not fit a ${img.width}×${img.height} image with padding ${padH}×${padW}`);
  }
  const g: Conv2dGeometry = {
    N: 1,
    C: x.channels,
    H: x.height,
    W: x.width,
    O: k.O,
    KH: k.KH,
    KW: k.KW,
    strideH: stride,
    strideW: stride,
    padH: pad[0],
    padW: pad[1],
    OH,
    OW,
    groups: k.groups,
    dilationH: 1,
    dilationW: 1,
  };
  const backend = opts.backend ?? float64;
  const y = backend.alloc(k.O * OH * OW);
  backend.conv2dForward(g, onBackend(backend, x.data), onBackend(backend, weights), null, y);
  const out: PlanarImage = { width: OW, height: OH, channels: k.O, data: Float64Array.from(y) };
  return opts.clamp === false ? out : clampImage(out);
}

/** The array in the backend's own storage (a copy unless it already is its type). */
function onBackend(backend: Backend, a: Float64Array): FloatArray {
  if (backend.dtype === 'float64') return a;
  const b = backend.alloc(a.length);
  b.set(a);
  return b;
}

/** Index of the source pixel for a coordinate outside 0..n-1 under a border rule (never called for 'zero'). */
export function borderIndex(i: number, n: number, border: 'clamp' | 'reflect'): number {
  if (i >= 0 && i < n) return i;
  if (border === 'clamp' || n === 1) return i < 0 ? 0 : n - 1;
  // Mirror without repeating the edge: the pattern has period 2(n − 1).
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/** The image surrounded by padH rows and padW columns on each side, filled by the border rule. */
export function padImage(img: PlanarImage, padH: number, padW: number, border: Border): PlanarImage {
  if (padH === 0 && padW === 0) return img;
  const { width: W, height: H, channels: C } = img;
  const PW = W + 2 * padW,
    PH = H + 2 * padH;
  const data = new Float64Array(C * PH * PW);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < PH; y++) {
      const sy = y - padH;
      if (border === 'zero' && (sy < 0 || sy >= H)) continue;
      const row = border === 'zero' ? sy : borderIndex(sy, H, border);
      for (let x = 0; x < PW; x++) {
        const sx = x - padW;
        if (border === 'zero' && (sx < 0 || sx >= W)) continue;
        const col = border === 'zero' ? sx : borderIndex(sx, W, border);
        data[(c * PH + y) * PW + x] = img.data[(c * H + row) * W + col];
      }
    }
  }
  return { width: PW, height: PH, channels: C, data };
}

/**
 * Gaussian blur of every channel, as two 1-D passes (the Gaussian is separable), each a
 * conv2d with a 1×k or k×1 kernel; unclamped, so it can work on any value range.
 */
export function gaussianBlur(img: PlanarImage, sigma: number, border: Border = 'reflect'): PlanarImage {
  const k = gaussianKernel1d(sigma);
  const rows = filterImage(img, [k], { border, clamp: false });
  return filterImage(
    rows,
    k.map((v) => [v]),
    { border, clamp: false },
  );
}
