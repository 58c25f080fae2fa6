// Weight gradient of 3×3, stride-1 convolutions by Winograd F(2×2, 3×3): the forward's
// transforms (winograd.ts) run backwards. The forward computes each 2×2 output tile as
// Y_t = Aᵀ [Σ_c U[o, c] ⊙ V[c, t]] A with U = G g Gᵀ, so
//   dL/dU[o, c] = Σ_t (A dY[o, t] Aᵀ) ⊙ V[c, t]   and   dL/dg = Gᵀ (dL/dU) G:
// per ξ (16 of them) one GEMM whose reduction runs over the tiles of every image, 16
// multiplications per tile and channel pair instead of the direct gradient's 36. Four steps,
// each split across threads by the host (src/backend/wasm-winograd.ts):
//   1. V as in the forward (winograd.ts winogradGradInput), stored as rows of tiles;
//   2. D[o, t] = A dY_t Aᵀ for every 2×2 tile of dy (zero past the output's edge);
//   3. dU_ξ = D_ξ · V_ξᵀ for each group and ξ (gemm.ts);
//   4. dw = Gᵀ dU G, and dbias = Σ dy.
// Tile rows are rounded up to 4 tiles as in the forward; the extra tiles meet zero dy.

import { sumPlanes } from './conv';
import { ConvGeometry, WinogradView } from './records';
import { gemm } from './gemm';

/** Bytes of per-thread workspace winogradGradOutput needs: one zero-bordered dy plane. */
export function winogradGradOutputBytes(v: WinogradView): f64 {
  return (<f64>v.th * v.tw * 4 + 16) * 4;
}

/** Step 2: D for dy planes [p0, p1) (plane = image · O + filter), four tiles at a time. */
export function winogradGradOutput(g: ConvGeometry, p0: i32, p1: i32, dy: usize, D: usize, work: usize, v: WinogradView): void {
  const OH = g.OH, OW = g.OW, th = v.th, tw = v.tw, T = v.T, Og = v.rows;
  const Wp = 2 * tw, rowBytes = <usize>Wp << 2;
  const K = g.N * T;
  const xiBytes = <usize>(Og * K) << 2;
  for (let p = p0; p < p1; p++) {
    const n = p / g.O, o = p - n * g.O, gi = o / Og, ol = o - gi * Og;
    // Zero-bordered copy: tiles past the output read zeros.
    memory.fill(work, 0, <usize>(2 * th * Wp) << 2);
    const plane = dy + (<usize>(p * OH * OW) << 2);
    for (let h = 0; h < OH; h++) memory.copy(work + <usize>h * rowBytes, plane + (<usize>(h * OW) << 2), <usize>OW << 2);
    const Dg = D + <usize>(gi * 16) * xiBytes + (<usize>(ol * K + n * T) << 2);
    for (let ty = 0; ty < th; ty++) {
      const r0 = work + <usize>(2 * ty) * rowBytes, r1 = r0 + rowBytes;
      for (let tx = 0; tx < tw; tx += 4) {
        const q = <usize>(2 * tx) << 2;
        // The four tiles' elements as vectors over the tiles: y_rs = dY[r][s].
        let a = v128.load(r0 + q), b = v128.load(r0 + q, 16);
        const y00 = v128.shuffle<f32>(a, b, 0, 2, 4, 6), y01 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
        a = v128.load(r1 + q); b = v128.load(r1 + q, 16);
        const y10 = v128.shuffle<f32>(a, b, 0, 2, 4, 6), y11 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
        // A (·): rows d0, d0 + d1, d0 − d1, −d1 of the 2×2 tile; then the same along each row.
        const d = Dg + (<usize>(ty * tw + tx) << 2);
        storeRowD(d, xiBytes, y00, y01);
        storeRowD(d + 4 * xiBytes, xiBytes, f32x4.add(y00, y10), f32x4.add(y01, y11));
        storeRowD(d + 8 * xiBytes, xiBytes, f32x4.sub(y00, y10), f32x4.sub(y01, y11));
        storeRowD(d + 12 * xiBytes, xiBytes, f32x4.neg(y10), f32x4.neg(y11));
      }
    }
  }
}

/** Row (p, q) of A dY times Aᵀ: p, p + q, p − q, −q at ξ = 4·row + 0..3. */
// @ts-ignore: decorator
@inline
function storeRowD(d: usize, xiBytes: usize, p: v128, q: v128): void {
  v128.store(d, p);
  v128.store(d + xiBytes, f32x4.add(p, q));
  v128.store(d + 2 * xiBytes, f32x4.sub(p, q));
  v128.store(d + 3 * xiBytes, f32x4.neg(q));
}

/** Step 3: dU_ξ[o, c] = Σ_t D_ξ[o, t] · V_ξ[c, t] for pairs q = group · 16 + ξ in [q0, q1). */
export function winogradGradProducts(g: ConvGeometry, q0: i32, q1: i32, D: usize, V: usize, dU: usize, work: usize, v: WinogradView): void {
  const Og = v.rows, Cg = v.Cs, K = g.N * v.T;
  for (let q = q0; q < q1; q++) {
    gemm(false, true, Og, Cg, K, 1, D + (<usize>(q * Og * K) << 2), K, V + (<usize>(q * Cg * K) << 2), K,
      0, dU + (<usize>(q * Og * Cg) << 2), Cg, work);
  }
}

/** Step 4: dw[o] = Gᵀ dU[o] G for filters o in [o0, o1), four channels at a time; dbias[o] = Σ dy (dbias may be 0). */
export function winogradGradWeights(g: ConvGeometry, o0: i32, o1: i32, dU: usize, dy: usize, dw: usize, dbias: usize, v: WinogradView): void {
  const Og = v.rows, Cg = v.Cs;
  const xiBytes = <usize>(Og * Cg) << 2;
  const half = f32x4.splat(0.5);
  for (let o = o0; o < o1; o++) {
    const gi = o / Og, ol = o - gi * Og;
    const row = dU + <usize>(gi * 16) * xiBytes + (<usize>(ol * Cg) << 2);
    const out = dw + (<usize>(o * Cg * 9) << 2);
    for (let c = 0; c < Cg; c += 4) {
      const lanes = min(4, Cg - c);
      const m = row + (<usize>c << 2);
      for (let k = 0; k < 3; k++) {
        // Row k of Gᵀ M (Gᵀ rows: M0 + (M1 + M2)/2, (M1 − M2)/2, (M1 + M2)/2 + M3), per column b ...
        const x0 = gtRow(m, xiBytes, k, 0, half, lanes), x1 = gtRow(m, xiBytes, k, 1, half, lanes);
        const x2 = gtRow(m, xiBytes, k, 2, half, lanes), x3 = gtRow(m, xiBytes, k, 3, half, lanes);
        // ... times G: the same combination along the row.
        const s = f32x4.mul(half, f32x4.add(x1, x2));
        storeTaps(out + (<usize>(c * 9 + k * 3) << 2), lanes, f32x4.add(x0, s), f32x4.mul(half, f32x4.sub(x1, x2)), f32x4.add(s, x3));
      }
    }
    if (dbias) {
      const P = g.OH * g.OW, b = dbias + (<usize>o << 2);
      store<f32>(b, 0);
      for (let n = 0; n < g.N; n++) sumPlanes(1, P, dy + (<usize>((n * g.O + o) * P) << 2), b);
    }
  }
}

/** Element (k, b) of Gᵀ M, M[a][b] at m + (4a + b)·xiBytes, as a vector over `lanes` channels. */
// @ts-ignore: decorator
@inline
function gtRow(m: usize, xiBytes: usize, k: i32, b: i32, half: v128, lanes: i32): v128 {
  const m1 = load4(m + <usize>(4 + b) * xiBytes, lanes), m2 = load4(m + <usize>(8 + b) * xiBytes, lanes);
  if (k == 1) return f32x4.mul(half, f32x4.sub(m1, m2));
  const s = f32x4.mul(half, f32x4.add(m1, m2));
  return k == 0 ? f32x4.add(load4(m + <usize>b * xiBytes, lanes), s) : f32x4.add(s, load4(m + <usize>(12 + b) * xiBytes, lanes));
}

/** `lanes` (1..4) floats at p as a vector (the rest zero): never reads past the row. */
// @ts-ignore: decorator
@inline
function load4(p: usize, lanes: i32): v128 {
  if (lanes == 4) return v128.load(p);
  return f32x4(load<f32>(p), lanes > 1 ? load<f32>(p, 4) : 0, lanes > 2 ? load<f32>(p, 8) : 0, 0);
}

/** Taps (k, 0..2) of `lanes` channels, nine floats apart: dw[c + lane][k][l] = w_l[lane]. */
// @ts-ignore: decorator
@inline
function storeTaps(p: usize, lanes: i32, w0: v128, w1: v128, w2: v128): void {
  storeLane(p, w0, w1, w2, 0);
  if (lanes > 1) storeLane(p + 36, w0, w1, w2, 1);
  if (lanes > 2) storeLane(p + 72, w0, w1, w2, 2);
  if (lanes > 3) storeLane(p + 108, w0, w1, w2, 3);
}

// @ts-ignore: decorator
@inline
function storeLane(p: usize, w0: v128, w1: v128, w2: v128, lane: i32): void {
  if (lane == 0) { store<f32>(p, f32x4.extract_lane(w0, 0)); store<f32>(p, f32x4.extract_lane(w1, 0), 4); store<f32>(p, f32x4.extract_lane(w2, 0), 8); }
  else if (lane == 1) { store<f32>(p, f32x4.extract_lane(w0, 1)); store<f32>(p, f32x4.extract_lane(w1, 1), 4); store<f32>(p, f32x4.extract_lane(w2, 1), 8); }
  else if (lane == 2) { store<f32>(p, f32x4.extract_lane(w0, 2)); store<f32>(p, f32x4.extract_lane(w1, 2), 4); store<f32>(p, f32x4.extract_lane(w2, 2), 8); }
  else { store<f32>(p, f32x4.extract_lane(w0, 3)); store<f32>(p, f32x4.extract_lane(w1, 3), 4); store<f32>(p, f32x4.extract_lane(w2, 3), 8); }
}
