// Direct (implicit-GEMM) convolution for stride 1: output = packed weights × shifted rows of a
// zero-padded input, with no im2col matrix and no packing of the input. For output row oh the
// "column" of tap t = (kh, kw, c) starts at xp + c·plane + (oh + kh)·Wp + kw, so one table of
// per-tap offsets turns the reduction into a GEMM micro-kernel whose B operand is read straight
// from the input.
//
// A tile is 4 output channels × 2 output rows × 4 columns (8 accumulators; wider tiles spill
// on V8's 15 xmm registers and ran at half speed). Two rows of four fit narrow outputs (10, 14
// or 28 wide) better than one row of eight. A last strip of 3 channels runs with a zero weight
// row; a last pair (LeNet's 6 channels) as 2 × 2 rows × 8 columns, a lone last channel as 1 × 2 × 8. Taps are ordered (kh, kw, c) so
// that a tile skips, as contiguous runs, the kernel rows and columns that only meet zero
// padding: the input gradient pads by K-1 and would otherwise multiply mostly zeros near the
// borders. Lanes past the output's edge are computed from padding or neighbouring garbage and
// not stored.

import { madd } from './simd';

/** Floats of slack after a padded input, for tiles reading one row and one tile past its end. */
// @ts-ignore: decorator
@inline
export function slackFloats(Wp: i32): i32 {
  return Wp + 64;
}

/**
 * Copies `planes` H×W planes into zero-bordered Hp×Wp planes (pad pt/pl top/left), followed
 * by slackFloats(Wp) zeros.
 */
export function padPlanes(x: usize, planes: i32, H: i32, W: i32, pt: i32, pl: i32, Hp: i32, Wp: i32, xp: usize): void {
  memory.fill(xp, 0, <usize>(planes * Hp * Wp + slackFloats(Wp)) << 2);
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

/** Byte offsets of the taps t = (kh, kw, c) within a padded input: c·Hp·Wp + kh·Wp + kw. */
export function tapOffsets(C: i32, KH: i32, KW: i32, Hp: i32, Wp: i32, offs: usize): void {
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      for (let c = 0; c < C; c++) {
        store<i32>(offs, ((c * Hp + kh) * Wp + kw) << 2);
        offs += 4;
      }
    }
  }
}

/** Rows in the weight strip starting at row r0: 4 (zero-padded past the end), or a last 2 or lone 1. */
// @ts-ignore: decorator
@inline
function stripRows(rows: i32, r0: i32): i32 {
  const left = rows - r0;
  return left == 1 || left == 2 ? left : 4;
}

/** Floats of packed weights for rows × K (padded strips). */
export function packedFloats(rows: i32, K: i32): f64 {
  return <f64>((rows + 3) & ~3) * K;
}

/**
 * Packs filters into strips, tap-major (t = (kh, kw, c)) within a strip. Forward: rows are the
 * Og filters w[o, c, kh, kw] of a group (w at the group's first filter, C = Cg). Input gradient
 * (`flip`): rows are the Cg input channels, taps run over the Og filters, and the value is
 * w[o, row, KH-1-kh, KW-1-kw], the transposed kernel rotated by 180°.
 */
export function packFilters(w: usize, rows: i32, C: i32, KH: i32, KW: i32, flip: bool, Cg: i32, dst: usize): void {
  for (let r0 = 0; r0 < rows; ) {
    const R = stripRows(rows, r0);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        for (let c = 0; c < C; c++) {
          for (let r = 0; r < R; r++) {
            const row = r0 + r;
            let v: f32 = 0;
            if (row < rows) {
              const i = flip ? ((c * Cg + row) * KH + KH - 1 - kh) * KW + KW - 1 - kw : ((row * C + c) * KH + kh) * KW + kw;
              v = load<f32>(w + (<usize>i << 2));
            }
            store<f32>(dst, v);
            dst += 4;
          }
        }
      }
    }
    r0 += R;
  }
}

/**
 * out[r, oh, ow] = bias[r] + Σ_t wp[r, t] · xp[offs[t] + oh·Wp + ow] for `rows` output planes
 * of OH×OW (bias may be 0). xp holds C planes whose real data is rows [top, top + Hin) and
 * columns [left, left + Win); taps that only meet padding around it are skipped.
 */
export function directConv(rows: i32, C: i32, KH: i32, KW: i32, wp: usize, offs: usize, xp: usize, Wp: i32,
  top: i32, Hin: i32, left: i32, Win: i32, OH: i32, OW: i32, bias: usize, out: usize): void {
  const plane = <usize>(OH * OW) << 2;
  const K = KH * KW * C;
  for (let r0 = 0; r0 < rows; ) {
    const R = stripRows(rows, r0);
    const valid = min(R, rows - r0);
    const ws = wp + (<usize>(r0 * K) << 2);
    const b = bias ? bias + (<usize>r0 << 2) : 0;
    const TW = R == 4 ? 4 : 8;
    for (let oh = 0; oh < OH; oh += 2) {
      // Kernel rows meeting real input for output row oh or oh + 1.
      const kh0 = max(0, top - oh - 1), kh1 = min(KH, top + Hin - oh);
      for (let ow = 0; ow < OW; ow += TW) {
        const n = min(TW, OW - ow);
        // Kernel columns meeting real input for any of the tile's n columns.
        const kw0 = max(0, left - ow - n + 1), kw1 = min(KW, left + Win - ow);
        let first = kw0 * C, run = max(kw1 - kw0, 0) * C, khFrom = kh0, khTo = kh1, perRow = K / KH;
        if (run == perRow) {
          // Whole kernel rows: one contiguous run over all of them (fewer, longer inner loops).
          first = kh0 * perRow; run = max(kh1 - kh0, 0) * perRow; khFrom = 0; khTo = 1; perRow = 0;
        }
        const xrow = xp + (<usize>(oh * Wp + ow) << 2);
        const o = out + <usize>r0 * plane + (<usize>(oh * OW + ow) << 2);
        const o2 = oh + 1 < OH ? o + (<usize>OW << 2) : 0;
        if (R == 4) tile4(khFrom, khTo, perRow, first, run, ws, offs, xrow, <usize>Wp << 2, b, valid, o, o2, plane, n);
        else if (R == 2) tile2(khFrom, khTo, perRow, first, run, ws, offs, xrow, <usize>Wp << 2, b, o, o2, plane, n);
        else tile1(khFrom, khTo, perRow, first, run, ws, offs, xrow, <usize>Wp << 2, b, o, o2, n);
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

/**
 * 4 channels × rows (oh, oh + 1) × 4 columns; stores the first `rows` channels, n ≤ 4
 * columns, and the second row only when o2 is not 0. Runs, for each kernel row kh in
 * [kh0, kh1), the `run` taps from kh·perRow + first (the kernel columns meeting real input).
 */
// @ts-ignore: decorator
@inline
function tile4(kh0: i32, kh1: i32, perRow: i32, first: i32, run: i32, wp: usize, offs: usize, xrow: usize, rowBytes: usize, bias: usize, rows: i32,
  o1: usize, o2: usize, plane: usize, n: i32): void {
  let c00 = initAcc(bias, 0, rows), c10 = initAcc(bias, 1, rows), c20 = initAcc(bias, 2, rows), c30 = initAcc(bias, 3, rows);
  let c01 = c00, c11 = c10, c21 = c20, c31 = c30;
  const xrow2 = xrow + rowBytes;
  for (let kh = kh0; kh < kh1; kh++) {
    const t = kh * perRow + first;
    let w = wp + (<usize>t << 4), o = offs + (<usize>t << 2);
    for (let k = run; k > 0; k--) {
      const off = <usize>load<i32>(o);
      const b0 = v128.load(xrow + off), b1 = v128.load(xrow2 + off);
      let a = v128.load32_splat(w);
      c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
      a = v128.load32_splat(w, 4);
      c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
      a = v128.load32_splat(w, 8);
      c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
      a = v128.load32_splat(w, 12);
      c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
      w += 16;
      o += 4;
    }
  }
  storeQuad(o1, c00, n);
  if (rows > 1) storeQuad(o1 + plane, c10, n);
  if (rows > 2) storeQuad(o1 + 2 * plane, c20, n);
  if (rows > 3) storeQuad(o1 + 3 * plane, c30, n);
  if (o2) {
    storeQuad(o2, c01, n);
    if (rows > 1) storeQuad(o2 + plane, c11, n);
    if (rows > 2) storeQuad(o2 + 2 * plane, c21, n);
    if (rows > 3) storeQuad(o2 + 3 * plane, c31, n);
  }
}

/** 2 channels × rows (oh, oh + 1) × 8 columns: a last pair of channels wastes no tile rows. */
// @ts-ignore: decorator
@inline
function tile2(kh0: i32, kh1: i32, perRow: i32, first: i32, run: i32, wp: usize, offs: usize, xrow: usize, rowBytes: usize, bias: usize,
  o1: usize, o2: usize, plane: usize, n: i32): void {
  let c00 = initAcc(bias, 0, 2), c10 = initAcc(bias, 1, 2);
  let c01 = c00, c02 = c00, c03 = c00, c11 = c10, c12 = c10, c13 = c10;
  const xrow2 = xrow + rowBytes;
  for (let kh = kh0; kh < kh1; kh++) {
    const t = kh * perRow + first;
    let w = wp + (<usize>t << 3), o = offs + (<usize>t << 2);
    for (let k = run; k > 0; k--) {
      const off = <usize>load<i32>(o);
      const b0 = v128.load(xrow + off), b1 = v128.load(xrow + off, 16);
      const b2 = v128.load(xrow2 + off), b3 = v128.load(xrow2 + off, 16);
      let a = v128.load32_splat(w);
      c00 = madd(a, b0, c00); c01 = madd(a, b1, c01); c02 = madd(a, b2, c02); c03 = madd(a, b3, c03);
      a = v128.load32_splat(w, 4);
      c10 = madd(a, b0, c10); c11 = madd(a, b1, c11); c12 = madd(a, b2, c12); c13 = madd(a, b3, c13);
      w += 8;
      o += 4;
    }
  }
  storeOctet(o1, c00, c01, n);
  storeOctet(o1 + plane, c10, c11, n);
  if (o2) {
    storeOctet(o2, c02, c03, n);
    storeOctet(o2 + plane, c12, c13, n);
  }
}

/** Stores the first min(n, 8) lanes of (lo, hi) at p. */
// @ts-ignore: decorator
@inline
function storeOctet(p: usize, lo: v128, hi: v128, n: i32): void {
  storeQuad(p, lo, n);
  if (n > 4) storeQuad(p + 16, hi, n - 4);
}

/** 1 channel × rows (oh, oh + 1) × 8 columns. */
// @ts-ignore: decorator
@inline
function tile1(kh0: i32, kh1: i32, perRow: i32, first: i32, run: i32, wp: usize, offs: usize, xrow: usize, rowBytes: usize, bias: usize, o1: usize, o2: usize, n: i32): void {
  let c00 = initAcc(bias, 0, 1);
  let c01 = c00, c10 = c00, c11 = c00;
  const xrow2 = xrow + rowBytes;
  for (let kh = kh0; kh < kh1; kh++) {
    const t = kh * perRow + first;
    let w = wp + (<usize>t << 2), o = offs + (<usize>t << 2);
    for (let k = run; k > 0; k--) {
      const off = <usize>load<i32>(o);
      const a = v128.load32_splat(w);
      c00 = madd(a, v128.load(xrow + off), c00); c01 = madd(a, v128.load(xrow + off, 16), c01);
      c10 = madd(a, v128.load(xrow2 + off), c10); c11 = madd(a, v128.load(xrow2 + off, 16), c11);
      w += 4;
      o += 4;
    }
  }
  storeOctet(o1, c00, c01, n);
  if (o2) storeOctet(o2, c10, c11, n);
}

/** Stores the first min(n, 4) lanes of x at p. */
// @ts-ignore: decorator
@inline
function storeQuad(p: usize, x: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, x);
  } else {
    store<f32>(p, f32x4.extract_lane(x, 0));
    if (n > 1) store<f32>(p, f32x4.extract_lane(x, 1), 4);
    if (n > 2) store<f32>(p, f32x4.extract_lane(x, 2), 8);
  }
}
