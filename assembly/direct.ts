// Direct (implicit-GEMM) convolution for stride 1: output = packed weights × shifted rows of a
// zero-padded input, with no im2col matrix and no packing of the input. For output row oh the
// "column" of tap k = (c, kh, kw) starts at xp + c·plane + (oh + kh)·Wp + kw, so one table of
// per-tap offsets turns the reduction into a GEMM micro-kernel whose B operand is read straight
// from the input. A tile is 4 output channels × 8 positions of one output row; a last strip of
// 2 or 3 channels runs with zero weight rows, a lone last channel as 1×16. (Wider tiles such
// as 2×16 or 1×32 spill an accumulator on V8 and ran at half speed.) Positions past the row's
// end are computed from padding/next-row garbage and not stored.

import { madd } from './simd';

/** Floats of slack after a padded input so that full-width tiles may read past its end. */
// @ts-ignore: decorator
@inline export const SLACK: i32 = 64;

/**
 * Copies `planes` H×W planes into zero-bordered Hp×Wp planes (pad pt/pl top/left), followed
 * by SLACK zeros.
 */
export function padPlanes(x: usize, planes: i32, H: i32, W: i32, pt: i32, pl: i32, Hp: i32, Wp: i32, xp: usize): void {
  memory.fill(xp, 0, <usize>(planes * Hp * Wp + SLACK) << 2);
  for (let c = 0; c < planes; c++) {
    for (let h = 0; h < H; h++) {
      const src = x + (<usize>((c * H + h) * W) << 2);
      const dst = xp + (<usize>((c * Hp + h + pt) * Wp + pl) << 2);
      let i = 0;
      for (; i + 4 <= W; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
      for (; i < W; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
    }
  }
}

/** Byte offsets of the taps k = (c, kh, kw) within a padded input: c·Hp·Wp + kh·Wp + kw. */
export function tapOffsets(C: i32, KH: i32, KW: i32, Hp: i32, Wp: i32, offs: usize): void {
  let k = 0;
  for (let c = 0; c < C; c++) {
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        store<i32>(offs + (<usize>k << 2), ((c * Hp + kh) * Wp + kw) << 2);
        k++;
      }
    }
  }
}

/** Rows in the weight strip starting at row r0: 4 (zero-padded past the end) or a lone 1. */
// @ts-ignore: decorator
@inline
export function stripRows(rows: i32, r0: i32): i32 {
  return rows - r0 == 1 ? 1 : 4;
}

/** Floats of packed weights for rows × K (padded strips). */
export function packedFloats(rows: i32, K: i32): i32 {
  return ((rows + 3) & ~3) * K;
}

/** Packs rows × K weights (row r, tap k at w[r·K + k]) into strips, tap-major within a strip. */
export function packWeights(w: usize, rows: i32, K: i32, dst: usize): void {
  for (let r0 = 0; r0 < rows; ) {
    const R = stripRows(rows, r0);
    for (let k = 0; k < K; k++) {
      for (let r = 0; r < R; r++) {
        store<f32>(dst, r0 + r < rows ? load<f32>(w + ((<usize>(r0 + r) * K + k) << 2)) : 0);
        dst += 4;
      }
    }
    r0 += R;
  }
}

/**
 * Packs the kernel of the input gradient: rows are the Cg input channels of a group, taps are
 * (o, kh, kw) over its Og filters, value w[o, c, KH-1-kh, KW-1-kw] (transposed, rotated 180°).
 */
export function packFlipped(w: usize, Og: i32, Cg: i32, KH: i32, KW: i32, dst: usize): void {
  for (let r0 = 0; r0 < Cg; ) {
    const R = stripRows(Cg, r0);
    for (let o = 0; o < Og; o++) {
      for (let kh = 0; kh < KH; kh++) {
        for (let kw = 0; kw < KW; kw++) {
          for (let r = 0; r < R; r++) {
            const c = r0 + r;
            store<f32>(dst, c < Cg ? load<f32>(w + (<usize>(((o * Cg + c) * KH + KH - 1 - kh) * KW + KW - 1 - kw) << 2)) : 0);
            dst += 4;
          }
        }
      }
    }
    r0 += R;
  }
}

/**
 * out[r, oh, ow] = bias[r] + Σ_k wp[r, k] · xp[offs[k] + oh·Wp + ow] for all rows, OH×OW
 * outputs per row (plane stride OH·OW). bias may be 0.
 */
export function directConv(rows: i32, K: i32, wp: usize, offs: usize, xp: usize, Wp: i32,
  OH: i32, OW: i32, bias: usize, out: usize): void {
  const plane = <usize>(OH * OW) << 2;
  for (let r0 = 0; r0 < rows; ) {
    const R = stripRows(rows, r0);
    const valid = min(R, rows - r0);
    const ws = wp + (<usize>(r0 * K) << 2);
    const TW = R == 4 ? 8 : 16;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow += TW) {
        const xrow = xp + (<usize>(oh * Wp + ow) << 2);
        const o = out + <usize>r0 * plane + (<usize>(oh * OW + ow) << 2);
        const n = min(TW, OW - ow);
        const b = bias ? bias + (<usize>r0 << 2) : 0;
        if (R == 4) tile4x8(K, ws, offs, xrow, b, valid, o, plane, n);
        else tile1x16(K, ws, offs, xrow, b, o, n);
      }
    }
    r0 += R;
  }
}

// @ts-ignore: decorator
@inline
function initAcc(bias: usize, r: i32, rows: i32): v128 {
  return bias && r < rows ? v128.load32_splat(bias + (<usize>r << 2)) : f32x4.splat(0);
}

/** A 4-channel × 8-position tile; only the first `rows` channels and n positions are stored. */
function tile4x8(K: i32, wp: usize, offs: usize, xrow: usize, bias: usize, rows: i32, out: usize, plane: usize, n: i32): void {
  let c00 = initAcc(bias, 0, rows), c10 = initAcc(bias, 1, rows), c20 = initAcc(bias, 2, rows), c30 = initAcc(bias, 3, rows);
  let c01 = c00, c11 = c10, c21 = c20, c31 = c30;
  let k = K;
  do {
    const p = xrow + <usize>load<i32>(offs);
    const b0 = v128.load(p), b1 = v128.load(p, 16);
    let a = v128.load32_splat(wp);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(wp, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(wp, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(wp, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    wp += 16;
    offs += 4;
  } while (--k);
  storeRow(out, c00, c01, n);
  if (rows > 1) storeRow(out + plane, c10, c11, n);
  if (rows > 2) storeRow(out + 2 * plane, c20, c21, n);
  if (rows > 3) storeRow(out + 3 * plane, c30, c31, n);
}

/** A 1-channel × 16-position tile. */
function tile1x16(K: i32, wp: usize, offs: usize, xrow: usize, bias: usize, out: usize, n: i32): void {
  let c0 = initAcc(bias, 0, 1);
  let c1 = c0, c2 = c0, c3 = c0;
  let k = K;
  do {
    const p = xrow + <usize>load<i32>(offs);
    const a = v128.load32_splat(wp);
    c0 = madd(a, v128.load(p), c0); c1 = madd(a, v128.load(p, 16), c1);
    c2 = madd(a, v128.load(p, 32), c2); c3 = madd(a, v128.load(p, 48), c3);
    wp += 4;
    offs += 4;
  } while (--k);
  storeRow(out, c0, c1, n);
  if (n > 8) storeRow(out + 32, c2, c3, n - 8);
}

/** Stores the first min(n, 8) lanes of (x0, x1) at p. */
// @ts-ignore: decorator
@inline
function storeRow(p: usize, x0: v128, x1: v128, n: i32): void {
  if (n >= 8) {
    v128.store(p, x0);
    v128.store(p, x1, 16);
  } else if (n >= 4) {
    v128.store(p, x0);
    storeLanes(p + 16, x1, n - 4);
  } else {
    storeLanes(p, x0, n);
  }
}

function storeLanes(p: usize, x: v128, n: i32): void {
  if (n > 0) store<f32>(p, f32x4.extract_lane(x, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(x, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(x, 2), 8);
}
