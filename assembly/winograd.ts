// Winograd F(2×2, 3×3) for 3×3, stride-1 convolutions (Lavin & Gray 2016): each 2×2 block of
// outputs ("tile") from a 4×4 input patch with 16 multiplications per channel pair instead of
// 36. Three steps, each split across threads by the host:
//   1. weights  U_ξ = G g Gᵀ (16 values ξ per filter and channel), packed as the GEMM's A
//      operand: per group and ξ, MR-row strips over the source channels;
//   2. input    V_ξ = Bᵀ d B for every tile and source channel, packed as the B operand: per
//      group and ξ, NR-tile strips over the channels (tiles of all images in a row);
//   3. products M_ξ = U_ξ · V_ξ (16 GEMMs on the 4×8 micro-kernel of gemm.ts), then the output
//      tiles Y = Aᵀ M A (+ bias), for a block of rows and tiles at a time.
// The input gradient of such a convolution is one too (dy padded by 2 − pad, flipped and
// transposed weights): `flip` selects that view, as in convgemm.ts.
//
// Tiles: a tile row holds ⌈OW/2⌉ tiles rounded up to a multiple of 4 (four tiles are one
// vector), so four consecutive tiles always share an image and a tile row; tiles past the
// output are computed from padding and not stored. Every output element is one piece's sum in
// a fixed order, so the split does not change the result.

import { ConvGeometry, WinogradView } from './records';
import { roundUp } from './util';
import { KC, MR, NR, microTile } from './gemm';

/** Rows and tiles of products kept per block (16 × RB × CB floats of workspace, in L2). */
// @ts-ignore: decorator
@inline const RB: i32 = 128;
// @ts-ignore: decorator
@inline const CB: i32 = 64;

/** Bytes of per-thread workspace for winogradMultiply: a block of products and an edge tile. */
export function winogradProductsBytes(): i32 {
  return (16 * RB * CB + MR * NR) * 4;
}

/** Bytes of per-thread workspace for the input transforms: the zero-bordered plane (with slack for the last loads). */
export function winogradInputBytes(v: WinogradView): f64 {
  return (<f64>(2 * v.th + 2) * (2 * v.tw + 4) + 16) * 4;
}

/**
 * Step 1: U for strips [q0, q1) (group-major). Forward: rows are filters o, the K index a
 * channel c, g = w[o, c]; flipped: rows are channels c, K a filter o, g = w[o, c] rotated 180°.
 */
export function winogradWeights(g: ConvGeometry, flip: bool, q0: i32, q1: i32, w: usize, U: usize, v: WinogradView): void {
  const Cg = g.C / g.groups, Og = g.O / g.groups;
  const rows = v.rows, Cs = v.Cs, padded = roundUp(rows, MR), perGroup = padded / MR;
  const xiBytes = <usize>(padded * Cs) << 2;
  const half = f32x4.splat(0.5);
  for (let q = q0; q < q1; q++) {
    const gi = q / perGroup, s = (q - gi * perGroup) * MR;
    const valid = min(MR, rows - s);
    const wg = w + (<usize>(gi * Og * Cg * 9) << 2);
    let dst = U + <usize>(gi * 16) * xiBytes + (<usize>(s * Cs) << 2);
    // Row r's 3×3 kernel for K index k starts at base + r·rowStep + k·kStep (rows past `valid`
    // read row 0 and are masked to zero).
    const rowStep = <usize>((flip ? 1 : Cg) * 9) << 2, kStep = <usize>((flip ? Cg : 1) * 9) << 2;
    const base = wg + (<usize>((flip ? s : s * Cg) * 9) << 2);
    const p1 = valid > 1 ? rowStep : 0, p2 = valid > 2 ? 2 * rowStep : 0, p3 = valid > 3 ? 3 * rowStep : 0;
    const keep = i32x4(-1, valid > 1 ? -1 : 0, valid > 2 ? -1 : 0, valid > 3 ? -1 : 0);
    for (let k = 0; k < Cs; k++) {
      const p = base + <usize>k * kStep;
      // Flipped: tap (kh, kw) takes w[2 − kh, 2 − kw].
      const g00 = tap4(p, p1, p2, p3, flip ? 32 : 0, keep), g01 = tap4(p, p1, p2, p3, flip ? 28 : 4, keep), g02 = tap4(p, p1, p2, p3, flip ? 24 : 8, keep);
      const g10 = tap4(p, p1, p2, p3, flip ? 20 : 12, keep), g11 = tap4(p, p1, p2, p3, 16, keep), g12 = tap4(p, p1, p2, p3, flip ? 12 : 20, keep);
      const g20 = tap4(p, p1, p2, p3, flip ? 8 : 24, keep), g21 = tap4(p, p1, p2, p3, flip ? 4 : 28, keep), g22 = tap4(p, p1, p2, p3, flip ? 0 : 32, keep);
      // G g: rows g0, (g0 + g1 + g2)/2, (g0 − g1 + g2)/2, g2 (per kernel column).
      const a00 = g00, a01 = g01, a02 = g02;
      const a10 = f32x4.mul(half, f32x4.add(f32x4.add(g00, g10), g20));
      const a11 = f32x4.mul(half, f32x4.add(f32x4.add(g01, g11), g21));
      const a12 = f32x4.mul(half, f32x4.add(f32x4.add(g02, g12), g22));
      const a20 = f32x4.mul(half, f32x4.add(f32x4.sub(g00, g10), g20));
      const a21 = f32x4.mul(half, f32x4.add(f32x4.sub(g01, g11), g21));
      const a22 = f32x4.mul(half, f32x4.add(f32x4.sub(g02, g12), g22));
      const a30 = g20, a31 = g21, a32 = g22;
      // (G g) Gᵀ: the same along each row; ξ = 4·row + column.
      let d = dst + (<usize>k << 4);
      storeRowU(d, xiBytes, a00, a01, a02, half);
      storeRowU(d + 4 * xiBytes, xiBytes, a10, a11, a12, half);
      storeRowU(d + 8 * xiBytes, xiBytes, a20, a21, a22, half);
      storeRowU(d + 12 * xiBytes, xiBytes, a30, a31, a32, half);
    }
  }
}

/** One tap of four rows' kernels (rows at p, p + p1, p + p2, p + p3; byte offset t), lanes outside `keep` zero. */
// @ts-ignore: decorator
@inline
function tap4(p: usize, p1: usize, p2: usize, p3: usize, t: i32, keep: v128): v128 {
  const q = p + <usize>t;
  return v128.and(f32x4(load<f32>(q), load<f32>(q + p1), load<f32>(q + p2), load<f32>(q + p3)), keep);
}

// @ts-ignore: decorator
@inline
function storeRowU(d: usize, xiBytes: usize, a0: v128, a1: v128, a2: v128, half: v128): void {
  v128.store(d, a0);
  v128.store(d + xiBytes, f32x4.mul(half, f32x4.add(f32x4.add(a0, a1), a2)));
  v128.store(d + 2 * xiBytes, f32x4.mul(half, f32x4.add(f32x4.sub(a0, a1), a2)));
  v128.store(d + 3 * xiBytes, a2);
}

/**
 * Step 2: V for source planes [p0, p1) of all images (plane = image · srcC + channel), each
 * copied into a zero-bordered plane in the workspace and transformed four tiles at a time.
 */
export function winogradInput(g: ConvGeometry, p0: i32, p1: i32, src: usize, V: usize, work: usize, v: WinogradView): void {
  transformInput(g, p0, p1, src, V, work, v, false);
}

/**
 * V for the weight gradient (winogradgrad.ts): the same transform, stored as plain rows of
 * tiles, V[group][ξ][channel][image · T + tile], the B operand of Σ_tiles dy'·Vᵀ.
 */
export function winogradGradInput(g: ConvGeometry, p0: i32, p1: i32, src: usize, V: usize, work: usize, v: WinogradView): void {
  transformInput(g, p0, p1, src, V, work, v, true);
}

/** Input transforms of planes [p0, p1), into the forward's GEMM panels or (`tileRows`) rows of tiles. */
function transformInput(g: ConvGeometry, p0: i32, p1: i32, src: usize, V: usize, work: usize, v: WinogradView, tileRows: bool): void {
  const Cs = v.Cs, Hs = v.Hs, Ws = v.Ws, pH = v.pH, pW = v.pW, th = v.th, tw = v.tw, T = v.T, J = v.J;
  const Hp = 2 * th + 2, Wp = 2 * tw + 4;
  const rowBytes = <usize>Wp << 2;
  const tilesPerRow = g.N * T;
  const xiBytes = <usize>(tileRows ? Cs * tilesPerRow : Cs * J) << 2;
  for (let p = p0; p < p1; p++) {
    const n = p / v.srcC, ch = p - n * v.srcC, gi = ch / Cs, c = ch - gi * Cs;
    // Zero-bordered copy of the plane.
    memory.fill(work, 0, <usize>(Hp * Wp) << 2);
    const plane = src + (<usize>(p * Hs * Ws) << 2);
    const rowsIn = min(Hs, Hp - pH), colsIn = min(Ws, Wp - pW);
    for (let h = 0; h < rowsIn; h++) {
      const from = plane + (<usize>(h * Ws) << 2), to = work + (<usize>((h + pH) * Wp + pW) << 2);
      let i = 0;
      for (; i + 4 <= colsIn; i += 4) v128.store(to + (<usize>i << 2), v128.load(from + (<usize>i << 2)));
      for (; i < colsIn; i++) store<f32>(to + (<usize>i << 2), load<f32>(from + (<usize>i << 2)));
    }
    const Vg = V + <usize>(gi * 16) * xiBytes + (<usize>(tileRows ? c * tilesPerRow : c * NR) << 2);
    for (let ty = 0; ty < th; ty++) {
      const r0 = work + <usize>(2 * ty) * rowBytes;
      for (let tx = 0; tx < tw; tx += 4) {
        const q = r0 + (<usize>(2 * tx) << 2);
        // Rows of the four 4×4 patches, columns as vectors over the tiles.
        let a = v128.load(q), b = v128.load(q, 16), e = v128.load(q, 32);
        let x0 = v128.shuffle<f32>(a, b, 0, 2, 4, 6), x1 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
        let x2 = v128.shuffle<f32>(x0, e, 1, 2, 3, 4), x3 = v128.shuffle<f32>(x1, e, 1, 2, 3, 5);
        const t00 = f32x4.sub(x0, x2), t01 = f32x4.add(x1, x2), t02 = f32x4.sub(x2, x1), t03 = f32x4.sub(x1, x3);
        a = v128.load(q + rowBytes); b = v128.load(q + rowBytes, 16); e = v128.load(q + rowBytes, 32);
        x0 = v128.shuffle<f32>(a, b, 0, 2, 4, 6); x1 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
        x2 = v128.shuffle<f32>(x0, e, 1, 2, 3, 4); x3 = v128.shuffle<f32>(x1, e, 1, 2, 3, 5);
        const t10 = f32x4.sub(x0, x2), t11 = f32x4.add(x1, x2), t12 = f32x4.sub(x2, x1), t13 = f32x4.sub(x1, x3);
        a = v128.load(q + 2 * rowBytes); b = v128.load(q + 2 * rowBytes, 16); e = v128.load(q + 2 * rowBytes, 32);
        x0 = v128.shuffle<f32>(a, b, 0, 2, 4, 6); x1 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
        x2 = v128.shuffle<f32>(x0, e, 1, 2, 3, 4); x3 = v128.shuffle<f32>(x1, e, 1, 2, 3, 5);
        const t20 = f32x4.sub(x0, x2), t21 = f32x4.add(x1, x2), t22 = f32x4.sub(x2, x1), t23 = f32x4.sub(x1, x3);
        a = v128.load(q + 3 * rowBytes); b = v128.load(q + 3 * rowBytes, 16); e = v128.load(q + 3 * rowBytes, 32);
        x0 = v128.shuffle<f32>(a, b, 0, 2, 4, 6); x1 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
        x2 = v128.shuffle<f32>(x0, e, 1, 2, 3, 4); x3 = v128.shuffle<f32>(x1, e, 1, 2, 3, 5);
        const t30 = f32x4.sub(x0, x2), t31 = f32x4.add(x1, x2), t32 = f32x4.sub(x2, x1), t33 = f32x4.sub(x1, x3);
        // Bᵀ (·): rows t0 − t2, t1 + t2, t2 − t1, t1 − t3. Tile column jj of the GEMM.
        const jj = n * T + ty * tw + tx;
        const d = Vg + (<usize>(tileRows ? jj : (jj >> 3) * Cs * NR + (jj & 7)) << 2);
        v128.store(d, f32x4.sub(t00, t20)); v128.store(d + xiBytes, f32x4.sub(t01, t21));
        v128.store(d + 2 * xiBytes, f32x4.sub(t02, t22)); v128.store(d + 3 * xiBytes, f32x4.sub(t03, t23));
        v128.store(d + 4 * xiBytes, f32x4.add(t10, t20)); v128.store(d + 5 * xiBytes, f32x4.add(t11, t21));
        v128.store(d + 6 * xiBytes, f32x4.add(t12, t22)); v128.store(d + 7 * xiBytes, f32x4.add(t13, t23));
        v128.store(d + 8 * xiBytes, f32x4.sub(t20, t10)); v128.store(d + 9 * xiBytes, f32x4.sub(t21, t11));
        v128.store(d + 10 * xiBytes, f32x4.sub(t22, t12)); v128.store(d + 11 * xiBytes, f32x4.sub(t23, t13));
        v128.store(d + 12 * xiBytes, f32x4.sub(t10, t30)); v128.store(d + 13 * xiBytes, f32x4.sub(t11, t31));
        v128.store(d + 14 * xiBytes, f32x4.sub(t12, t32)); v128.store(d + 15 * xiBytes, f32x4.sub(t13, t33));
      }
    }
  }
  // Tile columns past the last image's tiles (up to a whole strip) must not hold NaN garbage
  // that the products would carry into stored outputs: they only meet unstored outputs, but
  // zero them once anyway when this piece holds the last plane.
  if (!tileRows && p1 == g.N * v.srcC) {
    const used = g.N * T;
    for (let jj = used; jj < J; jj++) {
      for (let gi = 0; gi < g.groups; gi++) {
        for (let xi = 0; xi < 16; xi++) {
          const base = V + <usize>(gi * 16 + xi) * xiBytes + (<usize>((jj >> 3) * Cs * NR + (jj & 7)) << 2);
          for (let c = 0; c < Cs; c++) store<f32>(base + (<usize>(c * NR) << 2), 0);
        }
      }
    }
  }
}

/**
 * Step 3: rows [r0, r1) of group gi (multiples of MR but the last) and tile strips [s0, s1):
 * the 16 products, then the output tiles written to dst (+ bias, which may be 0).
 */
export function winogradMultiply(g: ConvGeometry, gi: i32, r0: i32, r1: i32, s0: i32, s1: i32,
  U: usize, V: usize, bias: usize, dst: usize, work: usize, v: WinogradView): void {
  const Cs = v.Cs, rows = v.rows, padded = roundUp(rows, MR), J = v.J;
  const uXi = <usize>(padded * Cs) << 2, vXi = <usize>(Cs * J) << 2;
  const Ug = U + <usize>(gi * 16) * uXi, Vg = V + <usize>(gi * 16) * vXi;
  const M = work, tile = work + (<usize>(16 * RB * CB) << 2);
  const mXi = <usize>(RB * CB) << 2;
  for (let rb = r0; rb < r1; rb += RB) {
    const re = min(r1, rb + RB);
    for (let sb = s0; sb < s1; sb += CB / NR) {
      const se = min(s1, sb + CB / NR);
      for (let xi = 0; xi < 16; xi++) {
        const Ux = Ug + <usize>xi * uXi, Vx = Vg + <usize>xi * vXi, Mx = M + <usize>xi * mXi;
        for (let pc = 0; pc < Cs; pc += KC) {
          const kc = min(KC, Cs - pc);
          const beta: f32 = pc == 0 ? 0 : 1;
          for (let s = sb; s < se; s++) {
            const pbs = Vx + (<usize>((s * Cs + pc) * NR) << 2);
            for (let r = rb; r < re; r += MR) {
              const mr = min(MR, rows - r);
              const pas = Ux + (<usize>(r * Cs + pc * MR) << 2);
              const c = Mx + (<usize>((r - rb) * CB + (s - sb) * NR) << 2);
              microTile(kc, pas, pbs, c, CB, beta, mr, NR, tile);
            }
          }
        }
      }
      outputTiles(g, v, gi, rb, re, sb * NR, se * NR, M, bias, dst);
    }
  }
}

/** Y = Aᵀ M A for rows [rb, re) and tile columns [j0, j1) of the products block M. */
function outputTiles(g: ConvGeometry, v: WinogradView, gi: i32, rb: i32, re: i32, j0: i32, j1: i32, M: usize, bias: usize, dst: usize): void {
  const T = v.T, tw = v.tw, OH = v.OH, OW = v.OW, P = OH * OW;
  const mXi = <usize>(RB * CB) << 2;
  const used = min(j1, g.N * T);
  for (let jj = j0; jj < used; jj += 4) {
    const n = jj / T, t = jj - n * T, ty = t / tw, tx = t - ty * tw;
    const oh = 2 * ty, ow = 2 * tx;
    if (ow >= OW) continue;
    const cols = min(8, OW - ow);
    const two = oh + 1 < OH;
    const out0 = dst + (<usize>((n * v.dstC + gi * v.rows) * P + oh * OW + ow) << 2);
    for (let r = rb; r < re; r++) {
      const m = M + (<usize>((r - rb) * CB + jj - j0) << 2);
      const m0 = v128.load(m), m1 = v128.load(m + mXi), m2 = v128.load(m + 2 * mXi), m3 = v128.load(m + 3 * mXi);
      const m4 = v128.load(m + 4 * mXi), m5 = v128.load(m + 5 * mXi), m6 = v128.load(m + 6 * mXi), m7 = v128.load(m + 7 * mXi);
      const m8 = v128.load(m + 8 * mXi), m9 = v128.load(m + 9 * mXi), m10 = v128.load(m + 10 * mXi), m11 = v128.load(m + 11 * mXi);
      const m12 = v128.load(m + 12 * mXi), m13 = v128.load(m + 13 * mXi), m14 = v128.load(m + 14 * mXi), m15 = v128.load(m + 15 * mXi);
      // Aᵀ (·): rows s0 = m0 + m1 + m2, s1 = m1 − m2 − m3 (of the 4×4 block), per column.
      const s00 = f32x4.add(f32x4.add(m0, m4), m8), s01 = f32x4.add(f32x4.add(m1, m5), m9);
      const s02 = f32x4.add(f32x4.add(m2, m6), m10), s03 = f32x4.add(f32x4.add(m3, m7), m11);
      const s10 = f32x4.sub(f32x4.sub(m4, m8), m12), s11 = f32x4.sub(f32x4.sub(m5, m9), m13);
      const s12 = f32x4.sub(f32x4.sub(m6, m10), m14), s13 = f32x4.sub(f32x4.sub(m7, m11), m15);
      const b = bias ? v128.load32_splat(bias + (<usize>(gi * v.rows + r) << 2)) : f32x4.splat(0);
      const y00 = f32x4.add(f32x4.add(f32x4.add(s00, s01), s02), b), y01 = f32x4.add(f32x4.sub(f32x4.sub(s01, s02), s03), b);
      const y10 = f32x4.add(f32x4.add(f32x4.add(s10, s11), s12), b), y11 = f32x4.add(f32x4.sub(f32x4.sub(s11, s12), s13), b);
      const o = out0 + <usize>r * (<usize>P << 2);
      storeRow8(o, v128.shuffle<f32>(y00, y01, 0, 4, 1, 5), v128.shuffle<f32>(y00, y01, 2, 6, 3, 7), cols);
      if (two) storeRow8(o + (<usize>OW << 2), v128.shuffle<f32>(y10, y11, 0, 4, 1, 5), v128.shuffle<f32>(y10, y11, 2, 6, 3, 7), cols);
    }
  }
}

/** Stores the first `n` (1..8) of the eight values lo, hi at p. */
// @ts-ignore: decorator
@inline
function storeRow8(p: usize, lo: v128, hi: v128, n: i32): void {
  if (n == 8) {
    v128.store(p, lo);
    v128.store(p, hi, 16);
    return;
  }
  let x = lo;
  for (let i = 0; i < n; i++) {
    if (i == 4) x = hi;
    const l = i & 3;
    const e = l == 0 ? f32x4.extract_lane(x, 0) : l == 1 ? f32x4.extract_lane(x, 1) : l == 2 ? f32x4.extract_lane(x, 2) : f32x4.extract_lane(x, 3);
    store<f32>(p + (<usize>i << 2), e);
  }
}
