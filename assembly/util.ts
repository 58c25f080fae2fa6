// Integer helpers shared by the kernels.

/** n rounded up to a multiple of m. */
// @ts-ignore: decorator
@inline
export function roundUp(n: i32, m: i32): i32 {
  return (n + m - 1) / m * m;
}
