import type { Rng } from './rng.js';
import type { FloatArray } from './tensor.js';

/**
 * Weight initialisation. fanIn/fanOut count the connections into and out of one unit
 * (for a conv: channels-per-group × kernel area, and filters × kernel area).
 *  - he (Kaiming, 2015): N(0, 2/fanIn), the right scale for ReLU networks;
 *  - glorot (Xavier, 2010): U(±sqrt(6/(fanIn+fanOut))), for tanh/sigmoid;
 *  - lecun: N(0, 1/fanIn).
 */
export const INIT_NAMES = ['he', 'glorot', 'lecun'] as const;
export type InitName = (typeof INIT_NAMES)[number];

export function initWeights(kind: InitName, w: FloatArray, fanIn: number, fanOut: number, rng: Rng): void {
  if (kind === 'glorot') {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-limit, limit);
    return;
  }
  const std = Math.sqrt((kind === 'he' ? 2 : 1) / fanIn);
  for (let i = 0; i < w.length; i++) w[i] = std * rng.normal();
}
