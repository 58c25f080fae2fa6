/** WGSL snippets shared by several kernel families. */

/**
 * NaN-safe predicates on the bits: WGSL lets compilers assume floats are finite, so `x != x`
 * and comparisons against NaN may be folded away.
 */
export const FLOAT_BITS = `
fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn gtZero(x: f32) -> bool { let b = bitcast<i32>(x); return (b > 0) & (b <= 0x7f800000); }
`;

/**
 * A workgroup-wide sum in a fixed order (a tree over the invocations), so results are
 * deterministic. Must be called in uniform control flow by every invocation.
 */
export function workgroupSum(size: number, name = 'wgSum', type = 'f32'): string {
  return `
var<workgroup> ${name}Scratch: array<${type}, ${size}>;
fn ${name}(lid: u32, v: ${type}) -> ${type} {
  ${name}Scratch[lid] = v;
  workgroupBarrier();
  for (var s = ${size / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { ${name}Scratch[lid] = ${name}Scratch[lid] + ${name}Scratch[lid + s]; }
    workgroupBarrier();
  }
  let r = ${name}Scratch[0];
  workgroupBarrier();
  return r;
}
`;
}

/** A workgroup-wide maximum that keeps NaN (like Math.max). */
export function workgroupMax(size: number, name = 'wgMax'): string {
  return `
var<workgroup> ${name}Scratch: array<f32, ${size}>;
fn ${name}Pair(a: f32, b: f32) -> f32 { if (isNan(a)) { return a; } if (isNan(b)) { return b; } return max(a, b); }
fn ${name}(lid: u32, v: f32) -> f32 {
  ${name}Scratch[lid] = v;
  workgroupBarrier();
  for (var s = ${size / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { ${name}Scratch[lid] = ${name}Pair(${name}Scratch[lid], ${name}Scratch[lid + s]); }
    workgroupBarrier();
  }
  let r = ${name}Scratch[0];
  workgroupBarrier();
  return r;
}
`;
}
