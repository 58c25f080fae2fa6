/**
 * L2-Hys normalisation in place, shared by HOG blocks and SIFT descriptors: scale to unit
 * length, clip each value at `clip` so that a few strong gradients (a lighting edge) cannot
 * dominate, then scale to unit length again. An all-zero vector stays zero.
 */
export function l2Hys(v: Float64Array | Float32Array, clip: number, eps = 1e-6): void {
  const normalise = () => {
    let s = 0;
    for (const x of v) s += x * x;
    const scale = 1 / Math.sqrt(s + eps * eps);
    for (let i = 0; i < v.length; i++) v[i] *= scale;
  };
  normalise();
  for (let i = 0; i < v.length; i++) if (v[i] > clip) v[i] = clip;
  normalise();
}
