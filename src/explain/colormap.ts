/**
 * Viridis (van der Walt and Smith, matplotlib's default): perceptually uniform, readable in grey
 * and by most colour-blind viewers. 17 samples of matplotlib's table, linearly interpolated.
 */
const VIRIDIS = [
  68, 1, 84, 72, 24, 106, 71, 45, 123, 66, 64, 134, 59, 82, 139, 51, 99, 141, 44, 114, 142, 38, 130, 142, 33, 145, 140,
  31, 160, 136, 40, 174, 128, 63, 188, 115, 94, 201, 98, 132, 212, 75, 173, 220, 48, 216, 226, 25, 253, 231, 37,
];

/** The colour of t in [0, 1] (clamped; NaN gives the lowest colour), as [r, g, b] bytes. */
export function viridis(t: number): [number, number, number] {
  const u = Number.isNaN(t) ? 0 : Math.min(1, Math.max(0, t)) * 16;
  const i = Math.min(15, Math.floor(u)), f = u - i;
  const at = (c: number) => Math.round(VIRIDIS[i * 3 + c] * (1 - f) + VIRIDIS[(i + 1) * 3 + c] * f);
  return [at(0), at(1), at(2)];
}
