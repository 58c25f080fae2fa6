/**
 * The numbers behind the views, kept free of the DOM so they can be tested in Node: how big a
 * feature map is drawn, the ranges of the colour scale and of the chart axes, and when a
 * prediction deserves a low-confidence warning.
 */

/**
 * Screen pixels per map pixel for maps of a layer view: one factor for every map of a view, so
 * a 28×28 map is always drawn larger than a 14×14 one. `largest` is the biggest map side of
 * the view and `budget` the screen size it may take.
 */
export function pixelsPerCell(largest: number, budget: number): number {
  return Math.max(1, Math.floor(budget / Math.max(1, largest)));
}

/** Screen size of an h×w map (or a vector drawn as a strip) at a view's scale, with a floor so 1×1 maps stay visible. */
export function mapScreenSize(h: number, w: number, perCell: number, minimum = 8): { width: number; height: number } {
  return { width: Math.max(minimum, w * perCell), height: Math.max(minimum, h * perCell) };
}

/** The symmetric range ±m of a diverging colour scale: zero is white, the largest magnitude is full colour. */
export function symmetricExtent(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]);
    if (a > m && Number.isFinite(a)) m = a;
  }
  return m || 1;
}

/**
 * The accuracy chart's y axis: zoomed onto the values (97–99 % is not a flat line at the top),
 * with a margin, never beyond [0, 1], at least 1 % tall.
 */
export function accuracyAxis(values: readonly number[]): { min: number; max: number } {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return { min: 0, max: 1 };
  const lo = Math.min(...finite),
    hi = Math.max(...finite);
  const margin = Math.max(0.005, (hi - lo) * 0.1);
  let min = Math.max(0, Math.floor((lo - margin) * 100) / 100);
  const max = Math.min(1, Math.ceil((hi + margin) * 100) / 100);
  if (max - min < 0.01) min = Math.max(0, max - 0.01);
  return { min, max };
}

/**
 * The loss chart's upper bound: the first values of a fresh network (loss 2.3 and above) would
 * flatten the rest of the curve, so the axis follows the values after the first tenth of the
 * run (the earliest points run off the top).
 */
export function lossAxisMax(values: readonly number[]): number | undefined {
  const finite = values.filter(Number.isFinite);
  if (finite.length < 5) return undefined;
  const rest = finite.slice(Math.max(1, Math.floor(finite.length / 10)));
  return Math.max(...rest) * 1.1;
}

/** How much of the drawing canvas the ink covers: its bounding box as fractions of the canvas side. */
export interface InkExtent {
  width: number;
  height: number;
}

export type Confidence = { level: 'ok' } | { level: 'low'; reason: string };

/** Below this top probability the network is unsure. */
export const UNSURE_BELOW = 0.6;
/** Ink smaller than this fraction of the canvas in both directions is a dot, not a digit. */
export const TINY_INK = 0.15;

/**
 * A cue for predictions not to trust. The network only knows the ten digits and always picks
 * one: a dot, scaled up like MNIST, can come out as "0" at 95 %. So the cue looks at the
 * drawing (too little ink) as well as the probabilities.
 */
export function confidenceCue(probs: readonly number[], ink?: InkExtent): Confidence {
  if (ink && Math.max(ink.width, ink.height) < TINY_INK) {
    return { level: 'low', reason: 'The drawing is very small: the network only knows digits and guesses one anyway. Draw larger.' };
  }
  const sorted = [...probs].sort((a, b) => b - a);
  if (sorted[0] < UNSURE_BELOW) {
    return { level: 'low', reason: `The network is unsure: its best guess has only ${(sorted[0] * 100).toFixed(0)} %.` };
  }
  return { level: 'ok' };
}
