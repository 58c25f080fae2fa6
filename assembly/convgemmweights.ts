// The weight gradient of a convolution as one packed GEMM (the forward and input gradient
// are in convgemm.ts): dW[Og × R] = Σ_images dY[Og × P] · X̂ᵀ[P × R], R = Cg·KH·KW taps,
// P = OH·OW positions, whose K runs over (image, position): dY is packed once as the A operand
// (convPackGradient), X̂ᵀ gathered as B straight from the images. Work splits over columns of
// dW (taps), so no thread's partial sums need adding up: every element is one thread's sum in
// a fixed order, whatever the split (bit-identical across thread counts).

import { ConvGeometry } from './records';
import { KC, MR, NR, microTile } from './gemm';
import { FAR, NCB, transpose4 } from './convgemm';
import { roundUp } from './util';

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
      const pa = pdy + (<usize>(gi * roundUp(Og, MR) * Kt + kb * MR) << 2);
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
export function convPackedGradientFloats(g: ConvGeometry): f64 {
  return <f64>g.groups * roundUp(g.O / g.groups, MR) * g.N * g.OH * g.OW;
}

/**
 * Packs strips [q0, q1) (MR rows of one group, group-major) of dy as the weight gradient's A
 * operand, once per call and shared by its pieces: strip q holds rows × all (image, position).
 */
export function convPackGradient(g: ConvGeometry, q0: i32, q1: i32, dy: usize, dst: usize): void {
  const Og = g.O / g.groups, P = g.OH * g.OW, Kt = g.N * P, perGroup = roundUp(Og, MR) / MR;
  for (let q = q0; q < q1; q++) {
    const gi = q / perGroup, s = (q - gi * perGroup) * MR;
    packGradient(g, gi, Og, P, s, s + MR, 0, Kt, dy, dst + (<usize>(gi * roundUp(Og, MR) * Kt) << 2));
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
