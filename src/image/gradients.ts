import { filterImage } from './filter.js';
import { type PlanarImage, toGreyImage } from './image.js';

export interface Gradients {
  width: number;
  height: number;
  gx: Float64Array;
  gy: Float64Array;
}

/**
 * Gradients by centred differences, computed as convolutions with [-1, 0, 1] and its
 * transpose (edges replicated). x runs right and y down, so angle 0 is a gradient pointing
 * right (a vertical edge, dark to bright) and +90° one pointing down. Colour images are
 * converted to grey first.
 */
export function imageGradients(img: PlanarImage): Gradients {
  const grey = toGreyImage(img);
  const gx = filterImage(grey, [[-1, 0, 1]], { border: 'clamp', clamp: false }).data;
  const gy = filterImage(grey, [[-1], [0], [1]], { border: 'clamp', clamp: false }).data;
  return { width: img.width, height: img.height, gx, gy };
}

/** Gradient magnitude and direction (radians in (−π, π]) at every pixel. */
export function polarGradients(img: PlanarImage): { width: number; height: number; magnitude: Float64Array; angle: Float64Array } {
  const { gx, gy } = imageGradients(img);
  const magnitude = new Float64Array(gx.length),
    angle = new Float64Array(gx.length);
  for (let i = 0; i < gx.length; i++) {
    magnitude[i] = Math.hypot(gx[i], gy[i]);
    angle[i] = Math.atan2(gy[i], gx[i]);
  }
  return { width: img.width, height: img.height, magnitude, angle };
}
