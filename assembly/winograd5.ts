// Winograd for 5×5, stride-1 convolutions, built from F(3×3, 3×3): each 3×3 block of outputs
// ("tile") from 5×5 input patches. The 5×5 kernel, zero-padded to 6×6, is four 3×3 sub-kernels
// at offsets (0,0), (0,3), (3,0), (3,3). As those offsets are multiples of the tile size, the
// sub-kernel at (3·sy, 3·sx) meets exactly the input patch of tile (ty + sy, tx + sx): one
// input transform V per tile serves all four, and output tile (ty, tx) is
//   Y = Aᵀ [ Σ_sub Σ_c U_sub,c ⊙ V_c,(ty+sy, tx+sx) ] A,
// per frequency ξ (25) one GEMM with K = 4·channels: 100 multiplications per 9 outputs instead
// of 225. Points 0, ±1, ±2 (no point at infinity): of the sets simulated in float32 (C = 128)
// the smallest error, rms 3.0e-6 against 3.4e-6 for ±1, ±½, ∞ and 4–6e-6 for 0, ±1, 2 or ½, ∞.
// The factors of G are applied once per ξ:
//   Bᵀ = [4 0 −5 0 1; 0 −4 −4 1 1; 0 4 −4 −1 1; 0 −2 −1 2 1; 0 2 −1 −2 1]
//   G  = diag(¼ −⅙ −⅙ 1/24 1/24) G′,  G′ = [1 0 0; 1 1 1; 1 −1 1; 1 2 4; 1 −2 4]
//   Aᵀ = [1 1 1 1 1; 0 1 −1 2 −2; 0 1 1 4 4]
// Three steps, split across threads by the host (src/backend/wasm-winograd.ts):
//   1. weights U (per group and ξ: MR-row strips over K = sub-kernel · channel, the GEMM's A);
//   2. input V for every tile of a grid one tile larger than the output's, per group and ξ by
//      image and grid row, within which the channels' rows of twv tiles follow one another:
//      a GEMM column's K values (all channels, shifted tiles at fixed offsets + sy·Cs·twv + sx)
//      then lie in a few kilobytes, not one page apart each;
//   3. products, per ξ an NR-tile sliver of B gathered from V for all of K (where each strip's
//      tiles lie in V is worked out once per block of strips), then output tiles.
// The input gradient is the same convolution of dy (padded by 4 − pad) with flipped and
// transposed weights (`flip`), as in winograd.ts. Every output is one piece's sum in a fixed
// order, so the split over threads does not change the result.

import { ConvGeometry, WinogradView } from './records';
import { roundUp } from './util';
import { MR, NR, microTile } from './gemm';

/** Rows and tiles of products kept per block (25 × RB × CB floats of workspace, in L2). */
// @ts-ignore: decorator
@inline const RB: i32 = 128;
// @ts-ignore: decorator
@inline const CB: i32 = 32;
/**
 * K per block of the products, each block's sum then added to the products: the transformed
 * values are large next to the outputs that the output transform recovers from them, and one
 * long float32 chain over K = 4·C (512 for AlexNet's input gradient) reached 1.2e-4 scaled
 * error; blocks of 32 make the error about sqrt-of-K-like (3–4× smaller, simulated and measured).
 */
// @ts-ignore: decorator
@inline const KB: i32 = 32;
/** Frequencies: 5 × 5 transformed values per tile. */
// @ts-ignore: decorator
@inline const XI: i32 = 25;

/** i32s per strip in the strip table: NR column offsets, the two runs' bases, a flag, the lane mask. */
// @ts-ignore: decorator
@inline const STRIP: i32 = 20;

/** Bytes of per-thread workspace for winograd5Multiply: products block, edge tile, an output block, strip table, B sliver (all of K). */
export function winograd5ProductsBytes(viewPtr: usize): f64 {
  const v = changetype<WinogradView>(viewPtr);
  return (<f64>(XI * RB * CB + MR * NR + 36 + STRIP * (CB / NR)) + <f64>v.Cs * 4 * NR) * 4;
}

/** Bytes of per-thread workspace for winograd5Input: the zero-bordered plane and five transformed rows. */
export function winograd5InputBytes(viewPtr: usize): f64 {
  const v = changetype<WinogradView>(viewPtr);
  const Wp = roundUp(3 * v.twv + 2, 4);
  return <f64>(3 * v.th + 10) * Wp * 4;
}

/**
 * Step 1: U for strips [q0, q1) (group-major). Forward: rows are filters o, K index
 * sub · Cs + channel c, g = w[o, c]; flipped: rows are channels c, K filters o, g = w[o, c]
 * rotated 180°. U_ξ(a, b) = σ_a σ_b (G′ g G′ᵀ)_ab with G = diag(σ) G′.
 */
export function winograd5Weights(g: ConvGeometry, flip: bool, q0: i32, q1: i32, w: usize, U: usize, v: WinogradView): void {
  const Cg = g.C / g.groups, Og = g.O / g.groups;
  const rows = v.rows, Cs = v.Cs, K = 4 * Cs, padded = roundUp(rows, MR), perGroup = padded / MR;
  const xiBytes = <usize>(padded * K) << 2;
  for (let q = q0; q < q1; q++) {
    const gi = q / perGroup, s = (q - gi * perGroup) * MR;
    const valid = min(MR, rows - s);
    const wg = w + (<usize>(gi * Og * Cg * 25) << 2);
    const dst = U + <usize>(gi * XI) * xiBytes + (<usize>(s * K) << 2);
    // Row r's 5×5 kernel for channel k starts at base + r·rowStep + k·kStep (rows past `valid`
    // read row 0 and are masked to zero).
    const rowStep = <usize>((flip ? 1 : Cg) * 25) << 2, kStep = <usize>((flip ? Cg : 1) * 25) << 2;
    const base = wg + (<usize>((flip ? s : s * Cg) * 25) << 2);
    const p1 = valid > 1 ? rowStep : 0, p2 = valid > 2 ? 2 * rowStep : 0, p3 = valid > 3 ? 3 * rowStep : 0;
    const keep = i32x4(-1, valid > 1 ? -1 : 0, valid > 2 ? -1 : 0, valid > 3 ? -1 : 0);
    for (let c = 0; c < Cs; c++) {
      const p = base + <usize>c * kStep;
      for (let sub = 0; sub < 4; sub++) {
        const y0 = 3 * (sub >> 1), x0 = 3 * (sub & 1);
        // G′ along the kernel's columns: a_ij for transformed row i, kernel column j.
        let d = dst + (<usize>((sub * Cs + c) * MR) << 2);
        const g00 = tap(p, p1, p2, p3, y0, x0, flip, keep), g01 = tap(p, p1, p2, p3, y0, x0 + 1, flip, keep), g02 = tap(p, p1, p2, p3, y0, x0 + 2, flip, keep);
        const g10 = tap(p, p1, p2, p3, y0 + 1, x0, flip, keep), g11 = tap(p, p1, p2, p3, y0 + 1, x0 + 1, flip, keep), g12 = tap(p, p1, p2, p3, y0 + 1, x0 + 2, flip, keep);
        const g20 = tap(p, p1, p2, p3, y0 + 2, x0, flip, keep), g21 = tap(p, p1, p2, p3, y0 + 2, x0 + 1, flip, keep), g22 = tap(p, p1, p2, p3, y0 + 2, x0 + 2, flip, keep);
        storeRowU(d, xiBytes, g00, g01, g02, 0.25);
        storeRowU(d + 5 * xiBytes, xiBytes, sum3(g00, g10, g20), sum3(g01, g11, g21), sum3(g02, g12, g22), <f32>-1 / 6);
        storeRowU(d + 10 * xiBytes, xiBytes, alt3(g00, g10, g20), alt3(g01, g11, g21), alt3(g02, g12, g22), <f32>-1 / 6);
        storeRowU(d + 15 * xiBytes, xiBytes, pos3(g00, g10, g20), pos3(g01, g11, g21), pos3(g02, g12, g22), <f32>1 / 24);
        storeRowU(d + 20 * xiBytes, xiBytes, neg3(g00, g10, g20), neg3(g01, g11, g21), neg3(g02, g12, g22), <f32>1 / 24);
      }
    }
  }
}

/**
 * Tap (kh, kw) of four rows' 5×5 kernels (flipped: w[4 − kh, 4 − kw]); zero past the kernel
 * (the 6×6 padding) and in lanes outside `keep`.
 */
// @ts-ignore: decorator
@inline
function tap(p: usize, p1: usize, p2: usize, p3: usize, kh: i32, kw: i32, flip: bool, keep: v128): v128 {
  if (kh > 4 || kw > 4) return f32x4.splat(0);
  const q = p + (<usize>(flip ? 24 - 5 * kh - kw : 5 * kh + kw) << 2);
  return v128.and(f32x4(load<f32>(q), load<f32>(q + p1), load<f32>(q + p2), load<f32>(q + p3)), keep);
}

// Rows 1–4 of G′ applied to three values (row 0 takes the first): 1 1 1; 1 −1 1; 1 2 4; 1 −2 4.
// @ts-ignore: decorator
@inline function sum3(a: v128, b: v128, c: v128): v128 { return f32x4.add(f32x4.add(a, b), c); }
// @ts-ignore: decorator
@inline function alt3(a: v128, b: v128, c: v128): v128 { return f32x4.add(f32x4.sub(a, b), c); }
// @ts-ignore: decorator
@inline function pos3(a: v128, b: v128, c: v128): v128 {
  return f32x4.add(f32x4.add(a, f32x4.add(b, b)), f32x4.mul(f32x4.splat(4), c));
}
// @ts-ignore: decorator
@inline function neg3(a: v128, b: v128, c: v128): v128 {
  return f32x4.add(f32x4.sub(a, f32x4.add(b, b)), f32x4.mul(f32x4.splat(4), c));
}

/** G′ along a transformed row (a0, a1, a2), scaled by σ_row · σ_column: the five ξ of that row. */
// @ts-ignore: decorator
@inline
function storeRowU(d: usize, xiBytes: usize, a0: v128, a1: v128, a2: v128, rowScale: f32): void {
  const s0 = f32x4.splat(rowScale * 0.25), s6 = f32x4.splat(rowScale * (<f32>-1 / 6)), s24 = f32x4.splat(rowScale * (<f32>1 / 24));
  v128.store(d, f32x4.mul(s0, a0));
  v128.store(d + xiBytes, f32x4.mul(s6, sum3(a0, a1, a2)));
  v128.store(d + 2 * xiBytes, f32x4.mul(s6, alt3(a0, a1, a2)));
  v128.store(d + 3 * xiBytes, f32x4.mul(s24, pos3(a0, a1, a2)));
  v128.store(d + 4 * xiBytes, f32x4.mul(s24, neg3(a0, a1, a2)));
}

/**
 * Bᵀ on five values: 4·d0 − 5·d2 + d4, (d3 + d4) ∓ 4·(d1 ± d2)… as the rows of Bᵀ above,
 * stored at d + i·step.
 */
// @ts-ignore: decorator
@inline
function storeBt(d: usize, step: usize, d0: v128, d1: v128, d2: v128, d3: v128, d4: v128): void {
  const four = f32x4.splat(4);
  const s34 = f32x4.add(d3, d4), e = f32x4.sub(d4, d2), f = f32x4.sub(d1, d3);
  v128.store(d, f32x4.add(f32x4.sub(f32x4.mul(four, d0), f32x4.mul(f32x4.splat(5), d2)), d4));
  v128.store(d + step, f32x4.sub(s34, f32x4.mul(four, f32x4.add(d1, d2))));
  v128.store(d + 2 * step, f32x4.add(f32x4.mul(four, f32x4.sub(d1, d2)), f32x4.sub(d4, d3)));
  v128.store(d + 3 * step, f32x4.sub(e, f32x4.add(f, f)));
  v128.store(d + 4 * step, f32x4.add(e, f32x4.add(f, f)));
}

/**
 * Step 2: V for source planes [p0, p1) of all images (plane = image · srcC + channel): the
 * plane copied into a zero-bordered one, then per grid row Bᵀ down the columns (contiguous
 * vectors) into five rows, and B along them, four tiles a vector.
 */
export function winograd5Input(g: ConvGeometry, p0: i32, p1: i32, src: usize, V: usize, work: usize, v: WinogradView): void {
  const Cs = v.Cs, Hs = v.Hs, Ws = v.Ws, pH = v.pH, pW = v.pW, th = v.th, twv = v.twv, Tv = v.Tv;
  const Jv = g.N * Tv;
  const Hp = 3 * th + 5, Wp = roundUp(3 * twv + 2, 4);
  const rowBytes = <usize>Wp << 2;
  const xiBytes = <usize>(Cs * Jv) << 2;
  const rows5 = work + <usize>Hp * rowBytes;
  for (let p = p0; p < p1; p++) {
    const n = p / v.srcC, ch = p - n * v.srcC, gi = ch / Cs, c = ch - gi * Cs;
    memory.fill(work, 0, <usize>Hp * rowBytes);
    const plane = src + (<usize>(p * Hs * Ws) << 2);
    const rowsIn = min(Hs, Hp - pH), colsIn = min(Ws, Wp - pW);
    for (let h = 0; h < rowsIn; h++) {
      memory.copy(work + <usize>(h + pH) * rowBytes + (<usize>pW << 2), plane + (<usize>(h * Ws) << 2), <usize>colsIn << 2);
    }
    const Vc = V + <usize>(gi * XI) * xiBytes + (<usize>(n * Cs * Tv + c * twv) << 2);
    for (let vy = 0; vy <= th; vy++) {
      const r0 = work + <usize>(3 * vy) * rowBytes;
      for (let i = 0; i < Wp; i += 4) {
        const q = r0 + (<usize>i << 2);
        storeBt(rows5 + (<usize>i << 2), rowBytes, v128.load(q), v128.load(q + rowBytes), v128.load(q + 2 * rowBytes),
          v128.load(q + 3 * rowBytes), v128.load(q + 4 * rowBytes));
      }
      const out = Vc + (<usize>(vy * Cs * twv) << 2);
      for (let vx = 0; vx < twv; vx += 4) {
        for (let r = 0; r < 5; r++) {
          // Column k of four patches: values 3·tile + k.
          const q = rows5 + <usize>r * rowBytes + (<usize>(3 * vx) << 2);
          storeBt(out + (<usize>vx << 2) + <usize>(5 * r) * xiBytes, xiBytes, col4(q), col4(q + 4), col4(q + 8), col4(q + 12), col4(q + 16));
        }
      }
    }
  }
}

/** (q[0], q[3], q[6], q[9]): one column of four consecutive patches. */
// @ts-ignore: decorator
@inline
function col4(q: usize): v128 {
  return f32x4(load<f32>(q), load<f32>(q, 12), load<f32>(q, 24), load<f32>(q, 36));
}

/**
 * Step 3: rows [r0, r1) of group gi (multiples of MR but the last) and tile strips [s0, s1):
 * the 25 products, then the output tiles written to dst (+ bias, which may be 0).
 */
export function winograd5Multiply(g: ConvGeometry, gi: i32, r0: i32, r1: i32, s0: i32, s1: i32,
  U: usize, V: usize, bias: usize, dst: usize, work: usize, v: WinogradView): void {
  const Cs = v.Cs, K = 4 * Cs, rows = v.rows, padded = roundUp(rows, MR), Jv = g.N * v.Tv;
  const uXi = <usize>(padded * K) << 2, vXi = <usize>(Cs * Jv) << 2;
  const Ug = U + <usize>(gi * XI) * uXi, Vg = V + <usize>(gi * XI) * vXi;
  const M = work, tile = M + (<usize>(XI * RB * CB) << 2), out = tile + (<usize>(MR * NR) << 2);
  const offs = out + 36 * 4, pb = offs + (<usize>(STRIP * (CB / NR)) << 2);
  const mXi = <usize>(RB * CB) << 2;
  for (let rb = r0; rb < r1; rb += RB) {
    const re = min(r1, rb + RB);
    for (let sb = s0; sb < s1; sb += CB / NR) {
      const se = min(s1, sb + CB / NR);
      // Where each strip's columns lie in V, worked out once for all ξ and K blocks.
      for (let s = sb; s < se; s++) stripTable(v, g.N, s, offs + (<usize>((s - sb) * STRIP) << 2));
      for (let xi = 0; xi < XI; xi++) {
        const Ux = Ug + <usize>xi * uXi, Vx = Vg + <usize>xi * vXi, Mx = M + <usize>xi * mXi;
        for (let s = sb; s < se; s++) {
          // The sliver for all of K (in L1, read once per row strip); K blocks innermost, so
          // the 4×8 products that each block adds to stay in L1 too.
          packSliver(v, 0, K, Vx, pb, offs + (<usize>((s - sb) * STRIP) << 2));
          for (let r = rb; r < re; r += MR) {
            const mr = min(MR, rows - r);
            const c = Mx + (<usize>((r - rb) * CB + (s - sb) * NR) << 2);
            for (let pc = 0; pc < K; pc += KB) {
              const kc = min(KB, K - pc);
              const beta: f32 = pc == 0 ? 0 : 1;
              const pas = Ux + (<usize>(r * K + pc * MR) << 2), pbs = pb + (<usize>(pc * NR) << 2);
              microTile(kc, pas, pbs, c, CB, beta, mr, NR, tile);
            }
          }
        }
      }
      outputTiles(g, v, gi, rb, re, sb * NR, se * NR, M, bias, dst, out);
    }
  }
}

/**
 * Strip s's entry of the strip table at `e` (GEMM columns = output tiles [s·NR, s·NR + NR)):
 * each tile's grid position in V (i32 0–7), and whether the eight form at most two runs of
 * consecutive positions (a tile row or an image ends inside the strip, as when a row has 9
 * tiles): then lanes below the break come from run base o0 (i32 8), the rest from o1 (i32 9)
 * and the mask (i32 12–19) picks the first (flag i32 10 = 1). Columns past the last tile read
 * tile 0 (their products are not stored) and make the strip gathered element by element.
 */
function stripTable(v: WinogradView, N: i32, s: i32, e: usize): void {
  const T = v.T, tw = v.tw, twv = v.twv, used = N * T;
  let j = s * NR, n = j / T, t = j - n * T, ty = t / tw, tx = t - ty * tw;
  for (let i = 0; i < NR; i++, j++) {
    store<i32>(e + (<usize>i << 2), j < used ? (n * v.Tv + ty * twv) * v.Cs + tx : 0);
    if (++tx == tw) { tx = 0; if (++ty == v.th) { ty = 0; n++; } }
  }
  const o0 = load<i32>(e);
  let b = 1;
  while (b < NR && load<i32>(e + (<usize>b << 2)) == o0 + b) b++;
  const o1 = b < NR ? load<i32>(e + (<usize>b << 2)) - b : o0;
  let runs = s * NR + NR <= used;
  for (let i = b; i < NR; i++) runs = runs && load<i32>(e + (<usize>i << 2)) == o1 + i;
  store<i32>(e, o0, 32);
  store<i32>(e, o1, 36);
  store<i32>(e, runs ? 1 : 0, 40);
  for (let i = 0; i < 4; i++) store<i32>(e + (<usize>(48 + 4 * i)), i < b ? -1 : 0);
  for (let i = 4; i < NR; i++) store<i32>(e + (<usize>(48 + 4 * (i - 4))), i < b ? -1 : 0, 16);
}

/**
 * The B operand of a strip (table entry `e`) for K indices [pc, pc + kc), k-major: row
 * k = sub · Cs + c is channel c's V at each tile's grid position + sy·Cs·twv + sx. Two runs (the
 * usual case): four vector loads and two selects per k instead of eight scalar loads.
 */
function packSliver(v: WinogradView, pc: i32, kc: i32, Vx: usize, pb: usize, e: usize): void {
  const Cs = v.Cs, twv = v.twv, rowBelow = Cs * twv;
  const o0 = <usize>load<i32>(e, 32) << 2, o1 = <usize>load<i32>(e, 36) << 2;
  let sub = pc / Cs, c = pc - sub * Cs;
  let d = pb;
  if (load<i32>(e, 40)) {
    const m0 = v128.load(e, 48), m1 = v128.load(e, 64);
    for (let k = 0; k < kc; k++) {
      const row = Vx + (<usize>(c * twv + (sub >> 1) * rowBelow + (sub & 1)) << 2);
      const p = row + o0, q = row + o1;
      v128.store(d, v128.bitselect(v128.load(p), v128.load(q), m0));
      v128.store(d, v128.bitselect(v128.load(p, 16), v128.load(q, 16), m1), 16);
      d += 32;
      if (++c == Cs) { c = 0; sub++; }
    }
    return;
  }
  for (let k = 0; k < kc; k++) {
    const row = Vx + (<usize>(c * twv + (sub >> 1) * rowBelow + (sub & 1)) << 2);
    v128.store(d, f32x4(load<f32>(row + (<usize>load<i32>(e) << 2)), load<f32>(row + (<usize>load<i32>(e, 4) << 2)),
      load<f32>(row + (<usize>load<i32>(e, 8) << 2)), load<f32>(row + (<usize>load<i32>(e, 12) << 2))));
    v128.store(d, f32x4(load<f32>(row + (<usize>load<i32>(e, 16) << 2)), load<f32>(row + (<usize>load<i32>(e, 20) << 2)),
      load<f32>(row + (<usize>load<i32>(e, 24) << 2)), load<f32>(row + (<usize>load<i32>(e, 28) << 2))), 16);
    d += 32;
    if (++c == Cs) { c = 0; sub++; }
  }
}

/** Aᵀ on five vectors: m0 + (m1 + m2) + (m3 + m4), (m1 − m2) + 2·(m3 − m4), (m1 + m2) + 4·(m3 + m4). */
// @ts-ignore: decorator
@inline function at0(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128): v128 {
  return f32x4.add(m0, f32x4.add(f32x4.add(m1, m2), f32x4.add(m3, m4)));
}
// @ts-ignore: decorator
@inline function at1(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128): v128 {
  const e = f32x4.sub(m3, m4);
  return f32x4.add(f32x4.sub(m1, m2), f32x4.add(e, e));
}
// @ts-ignore: decorator
@inline function at2(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128): v128 {
  return f32x4.add(f32x4.add(m1, m2), f32x4.mul(f32x4.splat(4), f32x4.add(m3, m4)));
}

/**
 * Y = Aᵀ M A (+ bias) for rows [rb, re) and tile columns [j0, j1) of the products block M,
 * four tiles a vector: stored as three vectors per output row when the four tiles lie whole
 * in one tile row, else element by element through `out` (9 vectors).
 */
function outputTiles(g: ConvGeometry, v: WinogradView, gi: i32, rb: i32, re: i32, j0: i32, j1: i32, M: usize, bias: usize, dst: usize, out: usize): void {
  const T = v.T, tw = v.tw, OH = v.OH, OW = v.OW, P = OH * OW;
  const mXi = <usize>(RB * CB) << 2;
  const used = min(j1, g.N * T);
  for (let jj = j0; jj < used; jj += 4) {
    const n = jj / T, t = jj - n * T, ty = t / tw, tx = t - ty * tw;
    const whole = tx + 4 <= tw && 3 * tx + 12 <= OW && 3 * ty + 3 <= OH;
    const out0 = dst + (<usize>((n * v.dstC + gi * v.rows) * P + 3 * ty * OW + 3 * tx) << 2);
    for (let r = rb; r < re; r++) {
      const m = M + (<usize>((r - rb) * CB + jj - j0) << 2);
      // Aᵀ down the columns (ξ = 5·row + column), then along the rows.
      const a0 = v128.load(m), a1 = v128.load(m + mXi), a2 = v128.load(m + 2 * mXi), a3 = v128.load(m + 3 * mXi), a4 = v128.load(m + 4 * mXi);
      const b0 = v128.load(m + 5 * mXi), b1 = v128.load(m + 6 * mXi), b2 = v128.load(m + 7 * mXi), b3 = v128.load(m + 8 * mXi), b4 = v128.load(m + 9 * mXi);
      const c0 = v128.load(m + 10 * mXi), c1 = v128.load(m + 11 * mXi), c2 = v128.load(m + 12 * mXi), c3 = v128.load(m + 13 * mXi), c4 = v128.load(m + 14 * mXi);
      const d0 = v128.load(m + 15 * mXi), d1 = v128.load(m + 16 * mXi), d2 = v128.load(m + 17 * mXi), d3 = v128.load(m + 18 * mXi), d4 = v128.load(m + 19 * mXi);
      const e0 = v128.load(m + 20 * mXi), e1 = v128.load(m + 21 * mXi), e2 = v128.load(m + 22 * mXi), e3 = v128.load(m + 23 * mXi), e4 = v128.load(m + 24 * mXi);
      const s00 = at0(a0, b0, c0, d0, e0), s01 = at0(a1, b1, c1, d1, e1), s02 = at0(a2, b2, c2, d2, e2), s03 = at0(a3, b3, c3, d3, e3), s04 = at0(a4, b4, c4, d4, e4);
      const s10 = at1(a0, b0, c0, d0, e0), s11 = at1(a1, b1, c1, d1, e1), s12 = at1(a2, b2, c2, d2, e2), s13 = at1(a3, b3, c3, d3, e3), s14 = at1(a4, b4, c4, d4, e4);
      const s20 = at2(a0, b0, c0, d0, e0), s21 = at2(a1, b1, c1, d1, e1), s22 = at2(a2, b2, c2, d2, e2), s23 = at2(a3, b3, c3, d3, e3), s24 = at2(a4, b4, c4, d4, e4);
      const bv = bias ? v128.load32_splat(bias + (<usize>(gi * v.rows + r) << 2)) : f32x4.splat(0);
      const o = out0 + <usize>r * (<usize>P << 2);
      if (whole) {
        const ow = <usize>OW << 2;
        storeRow12(o, f32x4.add(at0(s00, s01, s02, s03, s04), bv), f32x4.add(at1(s00, s01, s02, s03, s04), bv), f32x4.add(at2(s00, s01, s02, s03, s04), bv));
        storeRow12(o + ow, f32x4.add(at0(s10, s11, s12, s13, s14), bv), f32x4.add(at1(s10, s11, s12, s13, s14), bv), f32x4.add(at2(s10, s11, s12, s13, s14), bv));
        storeRow12(o + 2 * ow, f32x4.add(at0(s20, s21, s22, s23, s24), bv), f32x4.add(at1(s20, s21, s22, s23, s24), bv), f32x4.add(at2(s20, s21, s22, s23, s24), bv));
      } else {
        v128.store(out, f32x4.add(at0(s00, s01, s02, s03, s04), bv)); v128.store(out, f32x4.add(at1(s00, s01, s02, s03, s04), bv), 16);
        v128.store(out, f32x4.add(at2(s00, s01, s02, s03, s04), bv), 32);
        v128.store(out, f32x4.add(at0(s10, s11, s12, s13, s14), bv), 48); v128.store(out, f32x4.add(at1(s10, s11, s12, s13, s14), bv), 64);
        v128.store(out, f32x4.add(at2(s10, s11, s12, s13, s14), bv), 80);
        v128.store(out, f32x4.add(at0(s20, s21, s22, s23, s24), bv), 96); v128.store(out, f32x4.add(at1(s20, s21, s22, s23, s24), bv), 112);
        v128.store(out, f32x4.add(at2(s20, s21, s22, s23, s24), bv), 128);
        scatterTiles(v, jj, used, dst + (<usize>((gi * v.rows + r) * P) << 2), out);
      }
    }
  }
}

/** 12 outputs of one row of four tiles from their columns y0, y1, y2 (lane = tile). */
// @ts-ignore: decorator
@inline
function storeRow12(p: usize, a: v128, b: v128, c: v128): void {
  const ab = v128.shuffle<f32>(a, b, 0, 4, 1, 5), ab2 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
  const bc = v128.shuffle<f32>(b, c, 1, 5, 2, 6);
  v128.store(p, v128.shuffle<f32>(ab, c, 0, 1, 4, 2));
  v128.store(p, v128.shuffle<f32>(bc, a, 0, 1, 6, 2), 16);
  v128.store(p, v128.shuffle<f32>(c, ab2, 2, 6, 7, 3), 32);
}

/** Stores the valid outputs of tiles [jj, jj + 4) (< used) of filter/channel plane `plane` (image 0) from `out` (9 vectors, y_ik at 4·(3i + k)). */
function scatterTiles(v: WinogradView, jj: i32, used: i32, plane: usize, out: usize): void {
  const T = v.T, tw = v.tw, OH = v.OH, OW = v.OW;
  const imageBytes = <usize>(v.dstC * OH * OW) << 2;
  for (let l = 0; l < 4 && jj + l < used; l++) {
    const j = jj + l, n = j / T, t = j - n * T, ty = t / tw, tx = t - ty * tw;
    const oh = 3 * ty, ow = 3 * tx;
    const ih = min(3, OH - oh), iw = min(3, OW - ow);
    const base = plane + <usize>n * imageBytes + (<usize>(oh * OW + ow) << 2);
    for (let i = 0; i < ih; i++) {
      for (let k = 0; k < iw; k++) {
        store<f32>(base + (<usize>(i * OW + k) << 2), load<f32>(out + (<usize>((3 * i + k) * 4 + l) << 2)));
      }
    }
  }
}
