// Packed, register-blocked single-precision GEMM (GotoBLAS structure) for 128-bit SIMD.
//
// C = alpha * op(A) * op(B) + beta * C, row-major with leading dimensions. op(A) is M×K,
// op(B) is K×N. Panels of op(A) (MR rows) and op(B) (NR columns) are packed into a caller-
// provided workspace so the 4×8 micro-kernel streams both contiguously. 4×8 = 8 f32x4
// accumulators: more spill on V8 (15 xmm registers), measured at half speed.

import { hsum4, madd } from './simd';

// @ts-ignore: decorator
@inline export const MR: i32 = 4;
// @ts-ignore: decorator
@inline export const NR: i32 = 8;
// Cache blocking: an MC×KC block of A (128 KiB) stays in L2, a KC×NR sliver of B (8 KiB) in L1.
// @ts-ignore: decorator
@inline export const KC: i32 = 256;
// @ts-ignore: decorator
@inline export const MC: i32 = 128;
// @ts-ignore: decorator
@inline export const NC: i32 = 1024;

/**
 * Below this many outputs, A·Bᵀ runs as plain dot products: both operands are read along
 * their contiguous K rows, so nothing is packed and small M or N waste no tile lanes (conv
 * weight gradients: M = filters, N = C·KH·KW, K = positions).
 */
// @ts-ignore: decorator
@inline const DOT_MAX_OUTPUTS: i32 = 4096;
/** Or with at most this many rows of A (a dense layer's batch), whatever N: no packing of the large B. */
// @ts-ignore: decorator
@inline const DOT_MAX_ROWS: i32 = 16;
/** K per block of the dot products: 4 rows of B (16 KiB) stay in L1 while the rows of A pass. */
// @ts-ignore: decorator
@inline const DOT_KB: i32 = 1024;

/** Bytes of workspace gemm needs: packed A block, packed B block, one edge tile. */
export function gemmWorkspaceBytes(): i32 {
  return (MC * KC + KC * NC + MR * NR) * 4;
}

/** Packs op(A)[i0..i0+mc, p0..p0+kc] as MR-row strips, k-major inside a strip, scaled by alpha; rows past M are zero. */
function packA(transA: bool, A: usize, lda: i32, i0: i32, mc: i32, p0: i32, kc: i32, alpha: f32, dst: usize): void {
  const va = f32x4.splat(alpha);
  if (transA) {
    // op(A)[i, k] = A[k * lda + i]: walk A's rows (contiguous in i) and deal each quad of
    // them to its strip, rather than striding down columns (a page per k on large matrices).
    const full = mc & ~(MR - 1);
    const stripBytes = <usize>(kc * MR) << 2;
    for (let k = 0; k < kc; k++) {
      const src = A + ((<usize>(p0 + k) * lda + i0) << 2);
      let d = dst + (<usize>(k * MR) << 2);
      for (let s = 0; s < full; s += MR) {
        v128.store(d, f32x4.mul(v128.load(src + (<usize>s << 2)), va));
        d += stripBytes;
      }
      if (full < mc) {
        for (let r = 0; r < MR; r++) store<f32>(d + (<usize>r << 2), full + r < mc ? load<f32>(src + (<usize>(full + r) << 2)) * alpha : 0);
      }
    }
    return;
  }
  for (let s = 0; s < mc; s += MR) {
    const rows = min(MR, mc - s);
    const i = i0 + s;
    // op(A)[i, k] = A[i * lda + k]: MR row streams, interleaved.
    const r0 = A + ((<usize>i * lda + p0) << 2);
    const stride = <usize>lda << 2;
    if (rows == MR) {
      const r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride;
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        // 4×4 transpose of row quads into k-major order.
        const o = <usize>k << 2;
        const a = v128.load(r0 + o), b = v128.load(r1 + o), c = v128.load(r2 + o), d = v128.load(r3 + o);
        const ab01 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), ab23 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
        const cd01 = v128.shuffle<f32>(c, d, 0, 4, 1, 5), cd23 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
        v128.store(dst, f32x4.mul(v128.shuffle<f32>(ab01, cd01, 0, 1, 4, 5), va));
        v128.store(dst, f32x4.mul(v128.shuffle<f32>(ab01, cd01, 2, 3, 6, 7), va), 16);
        v128.store(dst, f32x4.mul(v128.shuffle<f32>(ab23, cd23, 0, 1, 4, 5), va), 32);
        v128.store(dst, f32x4.mul(v128.shuffle<f32>(ab23, cd23, 2, 3, 6, 7), va), 48);
        dst += 64;
      }
      for (; k < kc; k++) {
        const o = <usize>k << 2;
        store<f32>(dst, load<f32>(r0 + o) * alpha);
        store<f32>(dst, load<f32>(r1 + o) * alpha, 4);
        store<f32>(dst, load<f32>(r2 + o) * alpha, 8);
        store<f32>(dst, load<f32>(r3 + o) * alpha, 12);
        dst += 16;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const o = <usize>k << 2;
        for (let r = 0; r < MR; r++) store<f32>(dst + (r << 2), r < rows ? load<f32>(r0 + <usize>r * stride + o) * alpha : 0);
        dst += 16;
      }
    }
  }
}

/** Packs op(B)[p0..p0+kc, j0..j0+nc] as NR-column strips, k-major inside a strip; columns past N are zero. */
function packB(transB: bool, B: usize, ldb: i32, j0: i32, nc: i32, p0: i32, kc: i32, dst: usize): void {
  for (let s = 0; s < nc; s += NR) {
    const cols = min(NR, nc - s);
    const j = j0 + s;
    if (!transB) {
      // op(B)[k, j] = B[k * ldb + j]: NR contiguous values per k.
      let src = B + ((<usize>p0 * ldb + j) << 2);
      const stride = <usize>ldb << 2;
      if (cols == NR) {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, v128.load(src));
          v128.store(dst, v128.load(src, 16), 16);
          src += stride;
          dst += 32;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let c = 0; c < NR; c++) store<f32>(dst + (c << 2), c < cols ? load<f32>(src + (c << 2)) : 0);
          src += stride;
          dst += 32;
        }
      }
    } else {
      // op(B)[k, j] = B[j * ldb + k]: NR column streams; transpose 4×4 blocks.
      const stride = <usize>ldb << 2;
      const base = B + ((<usize>j * ldb + p0) << 2);
      if (cols == NR) {
        let k = 0;
        for (; k + 4 <= kc; k += 4) {
          const o = <usize>k << 2;
          for (let h = 0; h < 2; h++) {
            const q = base + <usize>(h * 4) * stride + o;
            const a = v128.load(q), b = v128.load(q + stride), c = v128.load(q + 2 * stride), d = v128.load(q + 3 * stride);
            const ab01 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), ab23 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
            const cd01 = v128.shuffle<f32>(c, d, 0, 4, 1, 5), cd23 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
            const hd = dst + (h << 4);
            v128.store(hd, v128.shuffle<f32>(ab01, cd01, 0, 1, 4, 5));
            v128.store(hd, v128.shuffle<f32>(ab01, cd01, 2, 3, 6, 7), 32);
            v128.store(hd, v128.shuffle<f32>(ab23, cd23, 0, 1, 4, 5), 64);
            v128.store(hd, v128.shuffle<f32>(ab23, cd23, 2, 3, 6, 7), 96);
          }
          dst += 128;
        }
        for (; k < kc; k++) {
          const o = <usize>k << 2;
          for (let c = 0; c < NR; c++) store<f32>(dst + (c << 2), load<f32>(base + <usize>c * stride + o));
          dst += 32;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          const o = <usize>k << 2;
          for (let c = 0; c < NR; c++) store<f32>(dst + (c << 2), c < cols ? load<f32>(base + <usize>c * stride + o) : 0);
          dst += 32;
        }
      }
    }
  }
}

/**
 * The 4×8 micro-kernel: acc = packed A strip × packed B strip over kc (≥ 1), then
 * C = acc + beta * C for a full tile (beta 0 never reads C, so garbage or NaN there is ignored),
 * or the tile goes to `tile` for the caller to merge an edge.
 */
// @ts-ignore: decorator
@inline
export function microKernel(kc: i32, pa: usize, pb: usize, C: usize, ldc: i32, beta: f32, full: bool, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let k = kc;
  do {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    pa += 16;
    pb += 32;
  } while (--k);
  if (full) {
    const ld = <usize>ldc << 2;
    storeRow(C, c00, c01, beta);
    storeRow(C + ld, c10, c11, beta);
    storeRow(C + 2 * ld, c20, c21, beta);
    storeRow(C + 3 * ld, c30, c31, beta);
  } else {
    v128.store(tile, c00); v128.store(tile, c01, 16);
    v128.store(tile, c10, 32); v128.store(tile, c11, 48);
    v128.store(tile, c20, 64); v128.store(tile, c21, 80);
    v128.store(tile, c30, 96); v128.store(tile, c31, 112);
  }
}

// @ts-ignore: decorator
@inline
function storeRow(p: usize, x0: v128, x1: v128, beta: f32): void {
  if (beta == 0) {
    v128.store(p, x0);
    v128.store(p, x1, 16);
  } else if (beta == 1) {
    v128.store(p, f32x4.add(x0, v128.load(p)));
    v128.store(p, f32x4.add(x1, v128.load(p, 16)), 16);
  } else {
    const vb = f32x4.splat(beta);
    v128.store(p, madd(vb, v128.load(p), x0));
    v128.store(p, madd(vb, v128.load(p, 16), x1), 16);
  }
}

/** Scales an M×N block of C by beta (beta 0 writes zeros, ignoring what was there). */
function scaleC(M: i32, N: i32, beta: f32, C: usize, ldc: i32): void {
  for (let i = 0; i < M; i++) {
    const row = C + ((<usize>i * ldc) << 2);
    for (let j = 0; j < N; j++) {
      const p = row + (<usize>j << 2);
      store<f32>(p, beta == 0 ? 0 : beta * load<f32>(p));
    }
  }
}

/**
 * C[M×N] = alpha * op(A) * op(B) + beta * C. Row-major; lda/ldb/ldc are row strides of the
 * stored matrices, so callers can pass sub-blocks (a thread's slice, one group of a conv).
 * `work` must hold gemmWorkspaceBytes().
 */
export function gemm(transA: bool, transB: bool, M: i32, N: i32, K: i32, alpha: f32,
  A: usize, lda: i32, B: usize, ldb: i32, beta: f32, C: usize, ldc: i32, work: usize): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0) { scaleC(M, N, beta, C, ldc); return; }
  if (!transA && transB && (M * N <= DOT_MAX_OUTPUTS || M <= DOT_MAX_ROWS) && K >= 16) {
    gemmDotNT(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  const pa = work;
  const pb = work + (<usize>(MC * KC) << 2);
  const tile = pb + (<usize>(KC * NC) << 2);
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      // Later K blocks accumulate onto what the first one wrote.
      const b = pc == 0 ? beta : <f32>1;
      packB(transB, B, ldb, jc, nc, pc, kc, pb);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        packA(transA, A, lda, ic, mc, pc, kc, alpha, pa);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const pbs = pb + (<usize>(jr * kc) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const c = C + ((<usize>(ic + ir) * ldc + jc + jr) << 2);
            const pas = pa + (<usize>(ir * kc) << 2);
            microTile(kc, pas, pbs, c, ldc, b, mr, nr, tile);
          }
        }
      }
    }
  }
}

/**
 * Packs strips [s0, s1) of op(B) (K × N) whole, for gemmPacked: strip s holds columns
 * [s·NR, s·NR + NR) over all K, k-major (K × NR floats at dst + s·K·NR; columns past N zero).
 * Threads share one packed B instead of each packing all of it.
 */
export function gemmPackB(transB: bool, K: i32, N: i32, B: usize, ldb: i32, s0: i32, s1: i32, dst: usize): void {
  for (let s = s0; s < s1; s++) {
    const j = s * NR;
    packB(transB, B, ldb, j, min(NR, N - j), 0, K, dst + (<usize>(s * K * NR) << 2));
  }
}

/**
 * C[M×N] = alpha·op(A)·B + beta·C with B packed whole by gemmPackB: a block of rows of a larger
 * GEMM. Same blocks and order of sums as gemm, so the same bits whichever rows a thread takes.
 * `work` must hold gemmWorkspaceBytes().
 */
export function gemmPacked(transA: bool, M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32, PB: usize,
  beta: f32, C: usize, ldc: i32, work: usize): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0) { scaleC(M, N, beta, C, ldc); return; }
  const pa = work;
  const tile = work + (<usize>(MC * KC + KC * NC) << 2);
  for (let ic = 0; ic < M; ic += MC) {
    const mc = min(MC, M - ic);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      const b = pc == 0 ? beta : <f32>1;
      packA(transA, A, lda, ic, mc, pc, kc, alpha, pa);
      for (let jr = 0; jr < N; jr += NR) {
        const nr = min(NR, N - jr);
        const pbs = PB + (<usize>(jr * K + pc * NR) << 2);
        for (let ir = 0; ir < mc; ir += MR) {
          const mr = min(MR, mc - ir);
          const c = C + ((<usize>(ic + ir) * ldc + jr) << 2);
          const pas = pa + (<usize>(ir * kc) << 2);
          microTile(kc, pas, pbs, c, ldc, b, mr, nr, tile);
        }
      }
    }
  }
}

/**
 * An mr×nr block of C (at most MR×NR) by the micro-kernel: written straight into C when whole,
 * through `tile` and mergeTile at an edge.
 */
// @ts-ignore: decorator
@inline
export function microTile(kc: i32, pa: usize, pb: usize, C: usize, ldc: i32, beta: f32, mr: i32, nr: i32, tile: usize): void {
  if (mr == MR && nr == NR) {
    microKernel(kc, pa, pb, C, ldc, beta, true, tile);
  } else {
    microKernel(kc, pa, pb, C, ldc, beta, false, tile);
    mergeTile(tile, mr, nr, C, ldc, beta);
  }
}

/** Merges the valid mr×nr corner of an edge tile into C. */
export function mergeTile(tile: usize, mr: i32, nr: i32, C: usize, ldc: i32, beta: f32): void {
  for (let r = 0; r < mr; r++) {
    const row = C + ((<usize>r * ldc) << 2);
    const t = tile + (<usize>(r * NR) << 2);
    for (let c = 0; c < nr; c++) {
      const p = row + (<usize>c << 2);
      const v = load<f32>(t + (<usize>c << 2));
      store<f32>(p, beta == 0 ? v : v + beta * load<f32>(p));
    }
  }
}

/**
 * C = alpha·A·Bᵀ + beta·C as dot products of rows, 2 rows of A × 4 rows of B at a time: for
 * each 4 rows of B, all rows of A, in blocks of DOT_KB along K so that the B rows stay in L1
 * while every row of A passes (a dense layer's few rows of a large weight matrix read it once).
 */
function gemmDotNT(M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32, B: usize, ldb: i32, beta: f32, C: usize, ldc: i32): void {
  const sa = <usize>lda << 2, sb = <usize>ldb << 2;
  const K4 = K & ~3;
  const va = f32x4.splat(alpha);
  for (let j = 0; j < N; j += 4) {
    const cols = min(4, N - j);
    const b0 = B + <usize>j * sb;
    const b1 = cols > 1 ? b0 + sb : b0, b2 = cols > 2 ? b0 + 2 * sb : b0, b3 = cols > 3 ? b0 + 3 * sb : b0;
    for (let kb = 0; kb < K; kb += DOT_KB) {
      const ke = min(K, kb + DOT_KB), ve = min(ke, K4);
      // The first block applies beta; later ones add to what it stored.
      const bt: f32 = kb == 0 ? beta : 1;
      for (let i = 0; i < M; i += 2) {
        const rows = min(2, M - i);
        const a0 = A + <usize>i * sa;
        const a1 = rows > 1 ? a0 + sa : a0; // a missing row repeats row 0; its results are not stored
        let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
        let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
        for (let k = kb; k < ve; k += 4) {
          const o = <usize>k << 2;
          const x0 = v128.load(a0 + o), x1 = v128.load(a1 + o);
          let y = v128.load(b0 + o);
          c00 = madd(x0, y, c00); c10 = madd(x1, y, c10);
          y = v128.load(b1 + o);
          c01 = madd(x0, y, c01); c11 = madd(x1, y, c11);
          y = v128.load(b2 + o);
          c02 = madd(x0, y, c02); c12 = madd(x1, y, c12);
          y = v128.load(b3 + o);
          c03 = madd(x0, y, c03); c13 = madd(x1, y, c13);
        }
        let r0 = hsum4(c00, c01, c02, c03), r1 = hsum4(c10, c11, c12, c13);
        for (let k = max(kb, K4); k < ke; k++) {
          const o = <usize>k << 2;
          const y = f32x4(load<f32>(b0 + o), load<f32>(b1 + o), load<f32>(b2 + o), load<f32>(b3 + o));
          r0 = madd(f32x4.splat(load<f32>(a0 + o)), y, r0);
          r1 = madd(f32x4.splat(load<f32>(a1 + o)), y, r1);
        }
        r0 = f32x4.mul(r0, va);
        r1 = f32x4.mul(r1, va);
        const c0 = C + ((<usize>i * ldc + j) << 2);
        if (cols == 4) {
          storeRow4(c0, r0, bt);
          if (rows > 1) storeRow4(c0 + (<usize>ldc << 2), r1, bt);
        } else {
          storeLanes(c0, r0, cols, bt);
          if (rows > 1) storeLanes(c0 + (<usize>ldc << 2), r1, cols, bt);
        }
      }
    }
  }
}

// @ts-ignore: decorator
@inline
function storeRow4(p: usize, x: v128, beta: f32): void {
  if (beta == 0) v128.store(p, x);
  else v128.store(p, madd(f32x4.splat(beta), v128.load(p), x));
}

function storeLanes(p: usize, x: v128, n: i32, beta: f32): void {
  for (let c = 0; c < n; c++) {
    const q = p + (<usize>c << 2);
    let v: f32;
    if (c == 0) v = f32x4.extract_lane(x, 0);
    else if (c == 1) v = f32x4.extract_lane(x, 1);
    else v = f32x4.extract_lane(x, 2);
    store<f32>(q, beta == 0 ? v : v + beta * load<f32>(q));
  }
}
