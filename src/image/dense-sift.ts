import { ConfigError, ShapeError } from '../errors.js';
import { gaussianBlur } from './filter.js';
import { polarGradients } from './gradients.js';
import { type PlanarImage, toGreyImage } from './image.js';
import { SIFT_CELLS, SIFT_LENGTH, siftDescriptorAt } from './sift-descriptor.js';

/**
 * Dense SIFT: SIFT descriptors on a fixed grid at one fixed scale and orientation 0, no
 * detection, as in bag-of-words and pyramid-matching pipelines (vlfeat's dsift). Each
 * descriptor covers 4 × 4 cells of `binSize` pixels.
 */
export interface DenseSiftOptions {
  /** Cell side in pixels (default 4: a descriptor covers 16 × 16). */
  binSize?: number;
  /** Grid step in pixels (default 6). */
  step?: number;
  /** Pre-smoothing σ (default binSize / 3, vlfeat's magnification factor). 0 = none. */
  smoothing?: number;
  /** Gaussian window over the descriptor (default false, vlfeat's flat window). */
  gaussianWindow?: boolean;
}

function resolve(o: DenseSiftOptions): Required<DenseSiftOptions> {
  const binSize = o.binSize ?? 4;
  const r = { binSize, step: 6, smoothing: binSize / 3, gaussianWindow: false, ...o };
  if (!Number.isInteger(r.binSize) || r.binSize < 1 || !Number.isInteger(r.step) || r.step < 1)
    throw new ConfigError('dense SIFT binSize and step must be positive integers');
  return r;
}

/** Descriptor centres along one axis: a grid of `step` that keeps each whole descriptor inside the image, centred. */
function gridCentres(size: number, extent: number, step: number): number[] {
  const span = size - extent;
  if (span < 0) return [];
  const count = Math.floor(span / step) + 1;
  const first = (span - (count - 1) * step) / 2 + extent / 2 - 0.5;
  return Array.from({ length: count }, (_, i) => first + i * step);
}

/** Number of values dense SIFT gives for a width × height image. */
export function denseSiftLength(width: number, height: number, options: DenseSiftOptions = {}): number {
  const o = resolve(options);
  const extent = SIFT_CELLS * o.binSize;
  return gridCentres(width, extent, o.step).length * gridCentres(height, extent, o.step).length * SIFT_LENGTH;
}

/** All grid descriptors, concatenated row by row (128 values each). */
export function denseSift(img: PlanarImage, options: DenseSiftOptions = {}): Float32Array {
  const o = resolve(options);
  let grey = toGreyImage(img);
  if (o.smoothing > 0) grey = gaussianBlur(grey, o.smoothing);
  const field = polarGradients(grey);
  const extent = SIFT_CELLS * o.binSize;
  const xs = gridCentres(img.width, extent, o.step),
    ys = gridCentres(img.height, extent, o.step);
  if (xs.length === 0 || ys.length === 0) throw new ShapeError(`a ${img.width}×${img.height} image is smaller than one ${extent}-pixel dense SIFT descriptor`);
  const out = new Float32Array(xs.length * ys.length * SIFT_LENGTH);
  let k = 0;
  for (const y of ys) {
    for (const x of xs) {
      siftDescriptorAt(field, x, y, o.binSize, 0, { gaussianWindow: o.gaussianWindow }, out.subarray(k, k + SIFT_LENGTH));
      k += SIFT_LENGTH;
    }
  }
  return out;
}
