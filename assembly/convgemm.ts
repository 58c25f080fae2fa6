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
// Weight gradient: dW[Og × R] = Σ_images dY[Og × P] · X̂ᵀ[P × R], one GEMM whose K runs over
// (image, position): dY is packed as the A operand, X̂ᵀ gathered as B. Work splits over
// columns of dW (taps), so no thread's partial sums need adding up: every element is one
// thread's sum in a fixed order, whatever the split (bit-identical across thread counts).

import { ConvGeometry } from './geometry';
import { KC, MR, NR, microTile } from './gemm';

/** Columns (positions or taps) per packed B block: KC × NCB floats, 1 MiB, kept in L2/L3. */
// @ts-ignore: decorator
@inline const NCB: i32 = 1024;
/** Rows of packed A swept per B sliver while it sits in L1. */
// @ts-ignore: decorator
@inline const MCB: i32 = 256;
/** An invalid lane's row/column base: far outside any image. */
// @ts-ignore: decorator
@inline const FAR: i32 = -(1 << 28);

// @ts-ignore: decorator
@inline
function roundMR(n: i32): i32 {
  return (n + MR - 1) & ~(MR - 1);
}

/** Bytes of per-thread workspace: a packed B block, an edge tile, lane tables, and for the weight gradient a packed dY block. */
export function convGemmWorkspaceBytes(g: ConvGeometry): i32 {
  const Og = g.O / g.groups;
  return (KC * NCB + MR * NR + 64) * 4;
}

/** Floats of packed weights: groups × rows (rounded up to MR) × taps; rows are filters, or input channels when flipped. */
export function convPackedWeightsFloats(g: ConvGeometry, flip: bool): i32 {
  const G = g.groups, Cg = g.C / G, Og = g.O / G, KK = g.KH * g.KW;
  return flip ? G * roundMR(Cg) * Og * KK : G * roundMR(Og) * Cg * KK;
}

/** MR-row strips of packed weights over all groups (the unit convPackWeights splits by). */
export function convPackedStrips(g: ConvGeometry, flip: bool): i32 {
  const G = g.groups;
  return G * (roundMR(flip ? g.C / G : g.O / G) / MR);
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
  const perGroup = roundMR(rows) / MR;
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
function transpose4(d: usize, a: v128, b: v128, c: v128, e: v128): void {
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
  const groupBytes = <usize>(roundMR(rows) * K) << 2;
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

/**
 * dw[:, j0 .. j1) of groups [g0, g1) (and their dbias when j0 is 0 and dbias is not 0) for all
 * images of the batch, as sums over (image, position) in a fixed order. j0 is a multiple of
 * NR; dw is written, not added to.
 */
export function convGemmWeights(g: ConvGeometry, g0: i32, g1: i32, j0: i32, j1: i32, x: usize, dy: usize, pdy: usize,
  dw: usize, dbias: usize, work: usize): void {
  const G = g.groups, Cg = g.C / G, Og = g.O / G, KH = g.KH, KW = g.KW;
  const R = Cg * KH * KW, P = g.OH * g.OW, Kt = g.N * P;
  const pb = work, tile = pb + (<usize>(KC * NCB) << 2), lanes = tile + (<usize>(MR * NR) << 2);
  for (let gi = g0; gi < g1; gi++) {
    for (let kb = 0; kb < Kt; kb += KC) {
      const kc = min(KC, Kt - kb);
      // dy of this group, packed whole by convPackGradient: strip ir at its rows' offset.
      const pa = pdy + (<usize>(gi * roundMR(Og) * Kt + kb * MR) << 2);
      const beta: f32 = kb == 0 ? 0 : 1;
      for (let jc = j0; jc < j1; jc += NCB) {
        const nc = min(NCB, j1 - jc);
        packPatches(g, gi, Cg, P, kb, kc, jc, nc, x, pb, lanes);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const pbs = pb + (<usize>(jr * kc) << 2);
          for (let ir = 0; ir < Og; ir += MR) {
            const mr = min(MR, Og - ir);
            const pas = pa + (<usize>(ir * Kt) << 2);
            const c = dw + (<usize>((gi * Og + ir) * R + jc + jr) << 2);
            microTile(kc, pas, pbs, c, R, beta, mr, nr, tile);
          }
        }
      }
    }
  }
  if (dbias && j0 == 0) {
    for (let o = g0 * Og; o < g1 * Og; o++) {
      let acc = f32x4.splat(0);
      let s: f32 = 0;
      for (let n = 0; n < g.N; n++) {
        const row = dy + (<usize>((n * g.O + o) * P) << 2);
        let p = 0;
        for (; p + 4 <= P; p += 4) acc = f32x4.add(acc, v128.load(row + (<usize>p << 2)));
        for (; p < P; p++) s += load<f32>(row + (<usize>p << 2));
      }
      store<f32>(dbias + (<usize>o << 2), f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3) + s);
    }
  }
}

/** Floats convPackGradient writes: dy of every group in MR-row strips over the whole batch. */
export function convPackedGradientFloats(g: ConvGeometry): i32 {
  return g.groups * roundMR(g.O / g.groups) * g.N * g.OH * g.OW;
}

/**
 * Packs strips [q0, q1) (MR rows of one group, group-major) of dy as the weight gradient's A
 * operand, once per call and shared by its pieces: strip q holds rows × all (image, position).
 */
export function convPackGradient(g: ConvGeometry, q0: i32, q1: i32, dy: usize, dst: usize): void {
  const Og = g.O / g.groups, P = g.OH * g.OW, Kt = g.N * P, perGroup = roundMR(Og) / MR;
  for (let q = q0; q < q1; q++) {
    const gi = q / perGroup, s = (q - gi * perGroup) * MR;
    packGradient(g, gi, Og, P, s, s + MR, 0, Kt, dy, dst + (<usize>(gi * roundMR(Og) * Kt) << 2));
  }
}

/**
 * Packs dY of group gi as the A operand: rows o in [s0, s1) (multiples of MR) in MR-row strips
 * (rows past Og zero), columns k in [kb, kb + kc) of (image, position), k-major inside a
 * strip; strip s starts at dst + s·kc floats.
 */
function packGradient(g: ConvGeometry, gi: i32, Og: i32, P: i32, s0: i32, s1: i32, kb: i32, kc: i32, dy: usize, dst: usize): void {
  const stride = <usize>P << 2;
  for (let s = s0; s < s1; s += MR) {
    const valid = min(MR, Og - s);
    let d = dst + (<usize>(s * kc) << 2);
    let k = kb;
    const end = kb + kc;
    while (k < end) {
      const n = k / P, p = k - n * P;
      const seg = min(end - k, P - p);
      const r0 = dy + (<usize>((n * g.O + gi * Og + s) * P + p) << 2);
      if (valid == MR) {
        const r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride;
        let i = 0;
        for (; i + 4 <= seg; i += 4) {
          const o = <usize>i << 2;
          const a = v128.load(r0 + o), b = v128.load(r1 + o), c = v128.load(r2 + o), e = v128.load(r3 + o);
          const ab01 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), ab23 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
          const ce01 = v128.shuffle<f32>(c, e, 0, 4, 1, 5), ce23 = v128.shuffle<f32>(c, e, 2, 6, 3, 7);
          v128.store(d, v128.shuffle<f32>(ab01, ce01, 0, 1, 4, 5));
          v128.store(d, v128.shuffle<f32>(ab01, ce01, 2, 3, 6, 7), 16);
          v128.store(d, v128.shuffle<f32>(ab23, ce23, 0, 1, 4, 5), 32);
          v128.store(d, v128.shuffle<f32>(ab23, ce23, 2, 3, 6, 7), 48);
          d += 64;
        }
        for (; i < seg; i++) {
          const o = <usize>i << 2;
          store<f32>(d, load<f32>(r0 + o));
          store<f32>(d, load<f32>(r1 + o), 4);
          store<f32>(d, load<f32>(r2 + o), 8);
          store<f32>(d, load<f32>(r3 + o), 12);
          d += 16;
        }
      } else {
        for (let i = 0; i < seg; i++) {
          const o = <usize>i << 2;
          for (let r = 0; r < MR; r++) store<f32>(d + (<usize>r << 2), r < valid ? load<f32>(r0 + <usize>r * stride + o) : 0);
          d += 16;
        }
      }
      k += seg;
    }
  }
}

/**
 * Packs X̂ᵀ of group gi as the B operand: rows k in [kb, kb + kc) of (image, position),
 * columns taps j in [j0, j0 + nc) in NR-column strips (taps past R zero), k-major inside a strip.
 * Positions go by runs along an output row: the ones whose windows lie inside the image take
 * eight loads at fixed offsets (four positions at a time, transposed, at stride 1), the others
 * check each lane.
 */
function packPatches(g: ConvGeometry, gi: i32, Cg: i32, P: i32, kb: i32, kc: i32, j0: i32, nc: i32, x: usize, dst: usize, lanes: usize): void {
  const H = g.H, W = g.W, KH = g.KH, KW = g.KW, KK = KH * KW, R = Cg * KK;
  const OW = g.OW, OH = g.OH, sH = g.strideH, sW = g.strideW, pH = g.padH, pW = g.padW;
  const imageBytes = <usize>(g.C * H * W) << 2, groupOffset = <usize>(gi * Cg * H * W) << 2;
  // Output columns whose windows lie inside the image's columns.
  const owLo = min(OW, (pW + sW - 1) / sW), owHi = max(owLo, min(OW, (W + pW - KW) / sW + 1));
  const step = <usize>sW << 2;
  for (let s0 = 0; s0 < nc; s0 += NR) {
    const j = j0 + s0;
    const cols = min(NR, min(nc - s0, R - j));
    // Per lane: the tap's offset within an image's group, its kernel row and column.
    for (let i = 0; i < NR; i++) {
      let off = 0, kh = FAR, kw = FAR;
      if (i < cols) {
        const r = j + i, c = r / KK, t = r - c * KK;
        kh = t / KW; kw = t - kh * KW;
        off = (c * H + kh) * W + kw;
      }
      store<i32>(lanes + (<usize>i << 2), off);
      store<i32>(lanes + (<usize>(NR + i) << 2), kh);
      store<i32>(lanes + (<usize>(2 * NR + i) << 2), kw);
    }
    // Byte offsets of the eight taps.
    const o0 = <usize>load<i32>(lanes) << 2, o1 = <usize>load<i32>(lanes, 4) << 2, o2 = <usize>load<i32>(lanes, 8) << 2, o3 = <usize>load<i32>(lanes, 12) << 2;
    const o4 = <usize>load<i32>(lanes, 16) << 2, o5 = <usize>load<i32>(lanes, 20) << 2, o6 = <usize>load<i32>(lanes, 24) << 2, o7 = <usize>load<i32>(lanes, 28) << 2;
    const full = cols == NR;
    let n = kb / P, p = kb - n * P;
    let oh = p / OW, ow = p - oh * OW;
    let image = x + <usize>n * imageBytes + groupOffset;
    let k = 0;
    while (k < kc) {
      const seg = min(OW - ow, kc - k);
      const end = ow + seg;
      const ihB = oh * sH - pH;
      // Positions [ow, end) of this output row: inside ones in [a, b).
      let a = end, b = end;
      if (full && ihB >= 0 && ihB + KH <= H) { a = min(end, max(ow, owLo)); b = max(a, min(end, owHi)); }
      for (let q = ow; q < end; ) {
        if (q == a && a < b) {
          let base = image + (<usize>(ihB * W + a * sW - pW) << 2);
          let m = b - a;
          if (sW == 1) {
            for (; m >= 4; m -= 4) {
              transpose4(dst, v128.load(base + o0), v128.load(base + o1), v128.load(base + o2), v128.load(base + o3));
              transpose4(dst + 16, v128.load(base + o4), v128.load(base + o5), v128.load(base + o6), v128.load(base + o7));
              dst += 4 * NR << 2;
              base += 16;
            }
          }
          for (; m > 0; m--) {
            store<f32>(dst, load<f32>(base + o0));
            store<f32>(dst, load<f32>(base + o1), 4);
            store<f32>(dst, load<f32>(base + o2), 8);
            store<f32>(dst, load<f32>(base + o3), 12);
            store<f32>(dst, load<f32>(base + o4), 16);
            store<f32>(dst, load<f32>(base + o5), 20);
            store<f32>(dst, load<f32>(base + o6), 24);
            store<f32>(dst, load<f32>(base + o7), 28);
            dst += NR << 2;
            base += step;
          }
          q = b;
          continue;
        }
        // A position whose window meets padding (or a strip past R): lane by lane.
        const iwB = q * sW - pW;
        for (let i = 0; i < NR; i++) {
          const ih = ihB + load<i32>(lanes + (<usize>(NR + i) << 2)), iw = iwB + load<i32>(lanes + (<usize>(2 * NR + i) << 2));
          let v: f32 = 0;
          if (<u32>ih < <u32>H && <u32>iw < <u32>W) v = load<f32>(image + (<usize>(ihB * W + iwB + load<i32>(lanes + (<usize>i << 2))) << 2));
          store<f32>(dst + (<usize>i << 2), v);
        }
        dst += NR << 2;
        q++;
      }
      k += seg;
      ow = end;
      if (ow == OW) {
        ow = 0;
        if (++oh == OH) { oh = 0; image += imageBytes; }
      }
    }
  }
}
