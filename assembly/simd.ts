// Small SIMD helpers shared by the kernels.

/** c + a * b: fused (relaxed SIMD FMA) in the relaxed build, mul then add otherwise. */
// @ts-ignore: decorator
@inline
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** (Σ x0, Σ x1, Σ x2, Σ x3): four horizontal sums in one vector. */
// @ts-ignore: decorator
@inline
export function hsum4(x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const u = f32x4.add(v128.shuffle<f32>(x0, x1, 0, 4, 1, 5), v128.shuffle<f32>(x0, x1, 2, 6, 3, 7));
  const v = f32x4.add(v128.shuffle<f32>(x2, x3, 0, 4, 1, 5), v128.shuffle<f32>(x2, x3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(u, v, 0, 1, 4, 5), v128.shuffle<f32>(u, v, 2, 3, 6, 7));
}
