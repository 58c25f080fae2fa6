/**
 * Viridis (van der Walt and Smith, matplotlib's default): perceptually uniform, readable in grey
 * and by most colour-blind viewers. 17 samples of matplotlib's table, linearly interpolated.
 */
const VIRIDIS = [
  68, 1, 84, 72, 24, 106, 71, 45, 123, 66, 64, 134, 59, 82, 139, 51, 99, 141, 44, 114, 142, 38, 130, 142, 33, 145, 140, 31, 160, 136, 40, 174, 128, 63, 188,
  115, 94, 201, 98, 132, 212, 75, 173, 220, 48, 216, 226, 25, 253, 231, 37,
];

/** The colour of t in [0, 1] (clamped; NaN gives the lowest colour), as [r, g, b] bytes. */
export function viridis(t: number): [number, number, number] {
  const u = Number.isNaN(t) ? 0 : Math.min(1, Math.max(0, t)) * 16;
  const i = Math.min(15, Math.floor(u)),
    f = u - i;
  const at = (c: number) => Math.round(VIRIDIS[i * 3 + c] * (1 - f) + VIRIDIS[(i + 1) * 3 + c] * f);
  return [at(0), at(1), at(2)];
}

/**
 * A diverging map for signed values (ColorBrewer's RdBu, reversed): t = 0 blue, 0.5 white,
 * 1 red — so that zero reads as "nothing" and the sign as the hue. Filters and reconstructions.
 */
const BLUE_WHITE_RED = [
  5, 48, 97, 33, 102, 172, 67, 147, 195, 146, 197, 222, 209, 229, 240, 247, 247, 247, 253, 219, 199, 244, 165, 130, 214, 96, 77, 178, 24, 43, 103, 0, 31,
];

export function diverging(t: number): [number, number, number] {
  const u = Number.isNaN(t) ? 5 : Math.min(1, Math.max(0, t)) * 10;
  const i = Math.min(9, Math.floor(u)),
    f = u - i;
  const at = (c: number) => Math.round(BLUE_WHITE_RED[i * 3 + c] * (1 - f) + BLUE_WHITE_RED[(i + 1) * 3 + c] * f);
  return [at(0), at(1), at(2)];
}

/** Black to white, for values that are pixel intensities. */
export function greys(t: number): [number, number, number] {
  const v = Math.round((Number.isNaN(t) ? 0 : Math.min(1, Math.max(0, t))) * 255);
  return [v, v, v];
}

/** A colour map: t in [0, 1] to [r, g, b] bytes. */
export type ColourMap = (t: number) => [number, number, number];
