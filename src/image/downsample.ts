import type { Backend, Pool2dGeometry } from '../backend/backend.js';
import { RefBackend } from '../backend/ref.js';
import { ConfigError } from '../errors.js';
import type { PlanarImage } from './image.js';

export type DownsampleMode = 'average' | 'max';

export interface DownsampleOptions {
  mode?: DownsampleMode;
  factor?: number;
  backend?: Backend;
}

const float64 = new RefBackend('float64');

/**
 * Shrinks every channel by an integer factor with the pooling kernels: each output pixel is
 * the mean or the maximum of a factor × factor block. Blocks are cut from the top-left; a
 * partial block at the right or bottom edge still counts (its mean is over the pixels it
 * has), so no pixel is dropped and the size is ceil(size / factor). Not clamped: the mean and
 * the maximum of 0–255 values stay in 0–255.
 */
export function downsample(img: PlanarImage, opts: DownsampleOptions = {}): PlanarImage {
  const factor = opts.factor ?? 2;
  const mode = opts.mode ?? 'average';
  if (!Number.isInteger(factor) || factor < 1) throw new ConfigError(`downsampling factor must be a positive integer, got ${factor}`);
  if (mode !== 'average' && mode !== 'max') throw new ConfigError(`unknown downsampling mode "${mode}" (known: average, max)`);
  const OH = Math.ceil(img.height / factor),
    OW = Math.ceil(img.width / factor);
  const g: Pool2dGeometry = {
    N: 1,
    C: img.channels,
    H: img.height,
    W: img.width,
    KH: factor,
    KW: factor,
    strideH: factor,
    strideW: factor,
    padH: 0,
    padW: 0,
    OH,
    OW,
  };
  const backend = opts.backend ?? float64;
  const x = backend.alloc(img.data.length);
  x.set(img.data);
  const y = backend.alloc(img.channels * OH * OW);
  if (mode === 'max') backend.maxPool2dForward(g, x, y, new Int32Array(y.length));
  else backend.avgPool2dForward(g, x, y, false);
  return { width: OW, height: OH, channels: img.channels, data: Float64Array.from(y) };
}
