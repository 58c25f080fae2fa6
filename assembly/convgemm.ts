// Convolution as a packed GEMM whose image operand is packed straight from the image
// ("implicit im2col"): no column matrix is written and read back, and the GEMM's 4×8
// micro-kernel (gemm.ts) does the arithmetic. Any stride and padding.
//
// Forward, for one image and group: Y[Og × P] = W[Og × R] · X̂[R × P], R = Cg·KH·KW taps
// (c, kh, kw), P = OH·OW positions. The weights are packed once per call by the host thread
// (convPackWeights) into MR-row strips shared by all threads; each piece of work packs the
// KC × NR slivers of X̂ for its own positions. The input gradient of a stride-1 convolution
// is the same computation (a stride-1 convolution of dy padded by K−1−pad with the flipped,
// transposed kernel), so it runs here too with `flip` set.
//
// The weight gradient, the other GEMM over the same image packing, is in convgemmweights.ts.

import { ConvGeometry } from './records';
import { KC, MR, NR, microTile } from './gemm';
import { roundUp } from './util';

/** Columns (positions or taps) per packed B block: KC × NCB floats, 1 MiB, kept in L2/L3. */
// @ts-ignore: decorator
@inline export const NCB: i32 = 1024;
/** Rows of packed A swept per B sliver while it sits in L1. */
// @ts-ignore: decorator
@inline const MCB: i32 = 256;
/** An invalid lane's row/column base: far outside any image. */
// @ts-ignore: decorator
@inline export const FAR: i32 = -(1 << 28);

/** Bytes of per-thread workspace (here and in convgemmweights.ts): a packed B block, an edge tile, lane tables. */
export function convGemmWorkspaceBytes(g: ConvGeometry): f64 {
  return (KC * NCB + MR * NR + 64) * 4;
}

/** Floats of packed weights: groups × rows (rounded up to MR) × taps; rows are filters, or input channels when flipped. */
export function convPackedWeightsFloats(g: ConvGeometry, flip: bool): f64 {
  const G = g.groups, Cg = g.C / G, Og = g.O / G, KK = g.KH * g.KW;
  return flip ? <f64>G * roundUp(Cg, MR) * Og * KK : <f64>G * roundUp(Og, MR) * Cg * KK;
}

/** MR-row strips of packed weights over all groups (the unit convPackWeights splits by). */
export function convPackedStrips(g: ConvGeometry, flip: bool): i32 {
  const G = g.groups;
  return G * (roundUp(flip ? g.C / G : g.O / G, MR) / MR);
}

/**
 * Packs strips [q0, q1) (of convPackedStrips, group-major) of the weights as the GEMM's A
 * operand: per group, MR-row strips over all taps, tap-major inside a strip, rows past the end
 * zero. Taps run (kh, kw, channel), channel fastest, so that packImage handles one kernel
 * position for a run of channels at once. Forward: A[o, (kh, kw, c)] = w[o, c, kh, kw].
 * Flipped (input gradient): A[c, (kh, kw, o)] = w[o, c, KH−1−kh, KW−1−kw].
 */
export function convPackWeights(g: ConvGeometry, flip: bool, q0: i32, q1: i32, w: usize, dst: usize): void {
  const G = g.groups, Cg = g.C / G, Og = g.O / G, KH = g.KH, KW = g.KW, KK = KH * KW;
  const rows = flip ? Cg : Og, Cs = flip ? Og : Cg, K = Cs * KK;
  const perGroup = roundUp(rows, MR) / MR;
  // Element (row, channel, tap t) of the weights, in floats from the group's start.
  const rowStep = flip ? KK : Cg * KK, chStep = flip ? Cg * KK : KK;
  for (let q = q0; q < q1; q++) {
    const gi = q / perGroup, s = (q - gi * perGroup) * MR;
    const wg = w + (<usize>(gi * Og * Cg * KK) << 2);
    const valid = min(MR, rows - s);
    const r0 = wg + (<usize>(s * rowStep) << 2), rs = <usize>rowStep << 2;
    const r1 = valid > 1 ? r0 + rs : r0, r2 = valid > 2 ? r0 + 2 * rs : r0, r3 = valid > 3 ? r0 + 3 * rs : r0;
    const cs = <usize>chStep << 2;
    let d = dst + (<usize>(q * K * MR) << 2);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const t = flip ? (KH - 1 - kh) * KW + KW - 1 - kw : kh * KW + kw;
        let o = <usize>t << 2;
        for (let c = 0; c < Cs; c++) {
          store<f32>(d, load<f32>(r0 + o));
          store<f32>(d, valid > 1 ? load<f32>(r1 + o) : 0, 4);
          store<f32>(d, valid > 2 ? load<f32>(r2 + o) : 0, 8);
          store<f32>(d, valid > 3 ? load<f32>(r3 + o) : 0, 12);
          d += 16;
          o += cs;
        }
      }
    }
  }
}

/** Rows a, b, c, e of four values each, stored as columns of a 4-row block whose rows are NR floats apart. */
// @ts-ignore: decorator
@inline
export function transpose4(d: usize, a: v128, b: v128, c: v128, e: v128): void {
  const ab01 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), ab23 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
  const ce01 = v128.shuffle<f32>(c, e, 0, 4, 1, 5), ce23 = v128.shuffle<f32>(c, e, 2, 6, 3, 7);
  v128.store(d, v128.shuffle<f32>(ab01, ce01, 0, 1, 4, 5));
  v128.store(d, v128.shuffle<f32>(ab01, ce01, 2, 3, 6, 7), NR << 2);
  v128.store(d, v128.shuffle<f32>(ab23, ce23, 0, 1, 4, 5), 2 * NR << 2);
  v128.store(d, v128.shuffle<f32>(ab23, ce23, 2, 3, 6, 7), 3 * NR << 2);
}

/**
 * y (or dx when flipped) for images [n0, n1) and output positions [j0, j1) of each, from the
 * source x (or dy) and weights packed by convPackWeights. bias may be 0 (none). j0 is a
 * multiple of NR.
 */
export function convGemmForward(g: ConvGeometry, flip: bool, n0: i32, n1: i32, j0: i32, j1: i32,
  src: usize, pw: usize, bias: usize, dst: usize, work: usize): void {
  const G = g.groups, Cg = g.C / G, Og = g.O / G, KH = g.KH, KW = g.KW;
  // The source, kernel window and output as this GEMM sees them.
  const Cs = flip ? Og : Cg, Hs = flip ? g.OH : g.H, Ws = flip ? g.OW : g.W;
  const pH = flip ? KH - 1 - g.padH : g.padH, pW = flip ? KW - 1 - g.padW : g.padW;
  const sH = flip ? 1 : g.strideH, sW = flip ? 1 : g.strideW;
  const OH = flip ? g.H : g.OH, OW = flip ? g.W : g.OW;
  const rows = flip ? Cg : Og, srcC = flip ? g.O : g.C, dstC = flip ? g.C : g.O;
  const K = Cs * KH * KW, P = OH * OW;
  const pb = work, tile = pb + (<usize>(KC * NCB) << 2), lanes = tile + (<usize>(MR * NR) << 2);
  const groupBytes = <usize>(roundUp(rows, MR) * K) << 2;
  for (let n = n0; n < n1; n++) {
    for (let gi = 0; gi < G; gi++) {
      const s = src + (<usize>((n * srcC + gi * Cs) * Hs * Ws) << 2);
      const out = dst + (<usize>((n * dstC + gi * rows) * P) << 2);
      const pa = pw + <usize>gi * groupBytes;
      for (let jc = j0; jc < j1; jc += NCB) {
        const nc = min(NCB, j1 - jc);
        for (let pc = 0; pc < K; pc += KC) {
          const kc = min(KC, K - pc);
          packImage(s, Cs, Hs, Ws, KW, sH, sW, pH, pW, OW, pc, kc, jc, nc, pb, lanes);
          const beta: f32 = pc == 0 ? 0 : 1;
          for (let ic = 0; ic < rows; ic += MCB) {
            const ie = min(rows, ic + MCB);
            for (let jr = 0; jr < nc; jr += NR) {
              const nr = min(NR, nc - jr);
              const pbs = pb + (<usize>(jr * kc) << 2);
              for (let ir = ic; ir < ie; ir += MR) {
                const mr = min(MR, rows - ir);
                const pas = pa + (<usize>(ir * K + pc * MR) << 2);
                const c = out + (<usize>(ir * P + jc + jr) << 2);
                microTile(kc, pas, pbs, c, P, beta, mr, nr, tile);
              }
            }
          }
        }
        if (bias) addBias(rows, P, jc, nc, out, bias + (<usize>(gi * rows) << 2));
      }
    }
  }
}

/** out[r, j] += bias[r] for rows × columns [j, j + n). */
function addBias(rows: i32, P: i32, j: i32, n: i32, out: usize, bias: usize): void {
  for (let r = 0; r < rows; r++) {
    const b = load<f32>(bias + (<usize>r << 2));
    const vb = f32x4.splat(b);
    const row = out + (<usize>(r * P + j) << 2);
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const q = row + (<usize>i << 2);
      v128.store(q, f32x4.add(v128.load(q), vb));
    }
    for (; i < n; i++) {
      const q = row + (<usize>i << 2);
      store<f32>(q, load<f32>(q) + b);
    }
  }
}

/**
 * Packs X̂[k0 .. k0+kc, j0 .. j0+nc] as NR-column strips, tap-major inside a strip, taps in
 * convPackWeights's order (kh, kw, c): X̂[(kh, kw, c), (oh, ow)] = s[c, oh·sH − pH + kh,
 * ow·sW − pW + kw], zero outside the image and past the last column. A kernel position
 * decides which lanes are inside the image once for a run of channels. `lanes` is 16 i32s of
 * scratch.
 */
function packImage(s: usize, Cs: i32, Hs: i32, Ws: i32, KW: i32, sH: i32, sW: i32, pH: i32, pW: i32, OW: i32,
  k0: i32, kc: i32, j0: i32, nc: i32, dst: usize, lanes: usize): void {
  const planeBytes = <usize>(Hs * Ws) << 2, rowBytes = <usize>Ws << 2;
  const perRow = KW * Cs;
  const kh0 = k0 / perRow, t0 = k0 - kh0 * perRow, kw0 = t0 / Cs, c0 = t0 - kw0 * Cs;
  for (let s0 = 0; s0 < nc; s0 += NR) {
    const j = j0 + s0, cols = min(NR, nc - s0);
    const oh = j / OW, ow = j - oh * OW;
    const ihB = oh * sH - pH, iwB = ow * sW - pW;
    // Lanes in the strip's first output row, and whether the rest fit in the next one.
    const first = min(cols, OW - ow);
    const second = cols - first;
    let kh = kh0, kw = kw0, c = c0;
    let k = 0;
    if (sW == 1 && second <= OW) {
      // Stride 1: each row's lanes are a contiguous run; a strip spans at most two rows.
      // Lane i < first: column iwB + i; first ≤ i < cols: iw2 + i − first; past cols: never inside.
      const iw2 = -pW;
      const lane = i32x4(0, 1, 2, 3), lane4 = i32x4(4, 5, 6, 7);
      const vFirst = i32x4.splat(first), vCols = i32x4.splat(cols);
      const in0 = i32x4.lt_s(lane, vFirst), in1 = i32x4.lt_s(lane4, vFirst);
      let iw0 = v128.bitselect(i32x4.add(i32x4.splat(iwB), lane), i32x4.add(i32x4.splat(iw2 - first), lane), in0);
      let iw1 = v128.bitselect(i32x4.add(i32x4.splat(iwB), lane4), i32x4.add(i32x4.splat(iw2 - first), lane4), in1);
      iw0 = v128.bitselect(iw0, i32x4.splat(FAR), i32x4.lt_s(lane, vCols));
      iw1 = v128.bitselect(iw1, i32x4.splat(FAR), i32x4.lt_s(lane4, vCols));
      const vWs = i32x4.splat(Ws);
      // Kernel columns kw for which every lane's column is inside [0, Ws).
      const minCol = second > 0 ? min(iwB, iw2) : iwB;
      const maxCol = second > 0 ? max(iwB + first - 1, iw2 + second - 1) : iwB + cols - 1;
      const kwLo = max(0, -minCol), kwHi = min(KW, Ws - maxCol);
      const simple = second == 0 && cols == NR;
      // Byte offsets (from a tap's row/column origin) of the two runs.
      const run1 = (<isize>ihB * Ws + iwB) << 2;
      const run2 = (<isize>(ihB + sH) * Ws + iw2 - first) << 2;
      while (k < kc) {
        const n = min(Cs - c, kc - k);
        const ih = ihB + kh;
        const ok1 = <u32>ih < <u32>Hs, ok2 = second > 0 && <u32>(ih + sH) < <u32>Hs;
        let p = s + <usize>c * planeBytes + (<usize>(kh * Ws + kw) << 2);
        if (simple && ok1 && kw >= kwLo && kw < kwHi) {
          // The common case: one run of eight inside the image, for each channel.
          p += run1;
          for (let i = 0; i < n; i++) {
            v128.store(dst, v128.load(p));
            v128.store(dst, v128.load(p, 16), 16);
            p += planeBytes;
            dst += NR << 2;
          }
        } else if (!ok1 && !ok2) {
          memory.fill(dst, 0, <usize>(n * NR) << 2);
          dst += <usize>(n * NR) << 2;
        } else {
          const vkw = i32x4.splat(kw);
          const m0 = i32x4.lt_u(i32x4.add(iw0, vkw), vWs), m1 = i32x4.lt_u(i32x4.add(iw1, vkw), vWs);
          for (let i = 0; i < n; i++) {
            let a0 = f32x4.splat(0), a1 = a0, b0 = a0, b1 = a0;
            if (ok1) { a0 = v128.load(p + run1); a1 = v128.load(p + run1, 16); }
            if (ok2) { b0 = v128.load(p + run2); b1 = v128.load(p + run2, 16); }
            v128.store(dst, v128.and(v128.bitselect(a0, b0, in0), m0));
            v128.store(dst, v128.and(v128.bitselect(a1, b1, in1), m1), 16);
            p += planeBytes;
            dst += NR << 2;
          }
        }
        k += n;
        c += n;
        if (c == Cs) { c = 0; if (++kw == KW) { kw = 0; ++kh; } }
      }
      continue;
    }
    // Any stride: lane bases in `lanes` (row bases, then column bases).
    for (let i = 0; i < NR; i++) {
      let rb = FAR, cb = FAR;
      if (i < cols) {
        const jj = j + i, o = jj / OW;
        rb = o * sH - pH;
        cb = (jj - o * OW) * sW - pW;
      }
      store<i32>(lanes + (<usize>i << 2), rb);
      store<i32>(lanes + (<usize>(NR + i) << 2), cb);
    }
    const sameRow = cols == NR && ow + NR <= OW;
    const span = (NR - 1) * sW;
    const step = <usize>sW << 2;
    while (k < kc) {
      const n = min(Cs - c, kc - k);
      const ih = ihB + kh, iw = iwB + kw;
      let p = s + <usize>c * planeBytes;
      if (sameRow && <u32>ih < <u32>Hs && iw >= 0 && iw + span < Ws) {
        p += <usize>ih * rowBytes + (<usize>iw << 2);
        for (let i = 0; i < n; i++) {
          store<f32>(dst, load<f32>(p));
          store<f32>(dst, load<f32>(p + step), 4);
          store<f32>(dst, load<f32>(p + 2 * step), 8);
          store<f32>(dst, load<f32>(p + 3 * step), 12);
          store<f32>(dst, load<f32>(p + 4 * step), 16);
          store<f32>(dst, load<f32>(p + 5 * step), 20);
          store<f32>(dst, load<f32>(p + 6 * step), 24);
          store<f32>(dst, load<f32>(p + 7 * step), 28);
          p += planeBytes;
          dst += NR << 2;
        }
      } else {
        for (let i = 0; i < n; i++) {
          for (let l = 0; l < NR; l++) {
            const r = load<i32>(lanes + (<usize>l << 2)) + kh, q = load<i32>(lanes + (<usize>(NR + l) << 2)) + kw;
            let v: f32 = 0;
            if (<u32>r < <u32>Hs && <u32>q < <u32>Ws) v = load<f32>(p + <usize>r * rowBytes + (<usize>q << 2));
            store<f32>(dst + (<usize>l << 2), v);
          }
          p += planeBytes;
          dst += NR << 2;
        }
      }
      k += n;
      c += n;
      if (c == Cs) { c = 0; if (++kw == KW) { kw = 0; ++kh; } }
    }
  }
}
