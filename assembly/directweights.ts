// Weight gradient of a stride-1 convolution without im2col: dw[o, t] = Σ_p dy[o, p] · x(t)[p],
// where x(t) is the padded input shifted by tap t = (c, kh, kw). A GEMM whose reduction runs
// over output positions, with both operands read in place: dy rows (copied with rows rounded
// up to whole vectors, the extra lanes zero) and the padded input at each tap's offset.
//
// A tile is 2 filters × 4 taps, 8 f32x4 accumulators over four positions at a time (6 loads per
// 8 multiply-adds, like gemm.ts' micro-kernel), summed across lanes once per image. For the
// small convolutions of LeNet-5 and the ConvNetJS net (6–16 filters, 25–200 taps) this beats
// im2col + GEMM, which writes and re-reads a K×P column matrix per image for a tiny GEMM.

import { ConvGeometry } from './geometry';
import { padPlanes, slackFloats } from './direct';
import { hsum4, madd } from './simd';

// @ts-ignore: decorator
@inline
function roundUp4(n: i32): i32 {
  return (n + 3) & ~3;
}

/** Padded-input row width: every shifted vector of a row (up to OW rounded up, plus KW − 1) stays inside it. */
// @ts-ignore: decorator
@inline
function paddedWidth(g: ConvGeometry): i32 {
  return roundUp4(g.OW) + g.KW - 1;
}

/** Bytes of workspace directWeights needs: one group's padded input planes and dy planes, the tap offsets. */
export function directWeightsBytes(g: ConvGeometry): i32 {
  const Cg = g.C / g.groups, Og = g.O / g.groups;
  const Wp = paddedWidth(g), Hp = g.OH + g.KH - 1;
  return (Cg * Hp * Wp + slackFloats(Wp) + Og * g.OH * roundUp4(g.OW) + roundUp4(Cg * g.KH * g.KW)) * 4;
}

/** dw += Σ_{n ∈ [n0, n1)} of each image's gradient (stride 1; dw zeroed by the caller). */
export function directWeights(g: ConvGeometry, n0: i32, n1: i32, x: usize, dy: usize, dw: usize, work: usize): void {
  const G = g.groups, Cg = g.C / G, Og = g.O / G, KK = g.KH * g.KW, R = Cg * KK;
  const OH = g.OH, OW = g.OW, OWr = roundUp4(OW);
  const Wp = paddedWidth(g), Hp = OH + g.KH - 1;
  const xp = work, dyp = work + (<usize>(Cg * Hp * Wp + slackFloats(Wp)) << 2);
  // Byte offsets of the taps in dw's order (c, kh, kw); a last partial quad repeats the last tap.
  const offs = dyp + (<usize>(Og * OH * OWr) << 2);
  for (let t = 0; t < roundUp4(R); t++) {
    const u = min(t, R - 1), c = u / KK, r = u - c * KK, kh = r / g.KW, kw = r - kh * g.KW;
    store<i32>(offs + (<usize>t << 2), ((c * Hp + kh) * Wp + kw) << 2);
  }
  for (let n = n0; n < n1; n++) {
    for (let gi = 0; gi < G; gi++) {
      // Rows of x past H (when pad + KH − 1 > …) and columns past W + pad stay zero.
      padPlanes(x + (<usize>((n * g.C + gi * Cg) * g.H * g.W) << 2), Cg, g.H, g.W, g.padH, g.padW, Hp, Wp, xp);
      copyRows(dy + (<usize>((n * g.O + gi * Og) * OH * OW) << 2), Og * OH, OW, OWr, dyp);
      const dwg = dw + (<usize>(gi * Og * R) << 2);
      for (let o = 0; o < Og; o += 2) {
        const d0 = dyp + (<usize>(o * OH * OWr) << 2);
        const pair = o + 1 < Og;
        const d1 = pair ? d0 + (<usize>(OH * OWr) << 2) : d0; // a lone last filter repeats; not stored
        for (let t = 0; t < R; t += 4) {
          const taps = min(4, R - t);
          const f = offs + (<usize>t << 2);
          tile(d0, d1, xp, <usize>load<i32>(f), <usize>load<i32>(f, 4), <usize>load<i32>(f, 8), <usize>load<i32>(f, 12),
            OH, OWr, Wp, dwg + (<usize>(o * R + t) << 2), pair ? dwg + (<usize>((o + 1) * R + t) << 2) : 0, taps);
        }
      }
    }
  }
}

/** Copies `rows` rows of `width` floats to rows of `stride` (a multiple of 4), zeroing the extra lanes. */
function copyRows(src: usize, rows: i32, width: i32, stride: i32, dst: usize): void {
  const vec = width & ~3;
  for (let r = 0; r < rows; r++) {
    const s = src + (<usize>(r * width) << 2), d = dst + (<usize>(r * stride) << 2);
    for (let i = 0; i < vec; i += 4) v128.store(d + (<usize>i << 2), v128.load(s + (<usize>i << 2)));
    if (vec < stride) {
      v128.store(d + (<usize>vec << 2), f32x4.splat(0));
      for (let i = vec; i < width; i++) store<f32>(d + (<usize>i << 2), load<f32>(s + (<usize>i << 2)));
    }
  }
}

/**
 * Two filters' dy planes (d0, d1) against four taps (byte offsets f0..f3 into xp), over all
 * OH × OWr positions; adds the sums to out0[0..taps) and, when out1 is not 0, out1[0..taps).
 */
// @ts-ignore: decorator
@inline
function tile(d0: usize, d1: usize, xp: usize, f0: usize, f1: usize, f2: usize, f3: usize,
  OH: i32, OWr: i32, Wp: i32, out0: usize, out1: usize, taps: i32): void {
  let a00 = f32x4.splat(0), a01 = a00, a02 = a00, a03 = a00;
  let a10 = a00, a11 = a00, a12 = a00, a13 = a00;
  const rowBytes = <usize>OWr << 2, xRowBytes = <usize>Wp << 2;
  let xr = xp;
  const end = d0 + <usize>OH * rowBytes;
  while (d0 < end) {
    for (let q: usize = 0; q < rowBytes; q += 16) {
      const y0 = v128.load(d0 + q), y1 = v128.load(d1 + q);
      const p = xr + q;
      let v = v128.load(p + f0);
      a00 = madd(y0, v, a00); a10 = madd(y1, v, a10);
      v = v128.load(p + f1);
      a01 = madd(y0, v, a01); a11 = madd(y1, v, a11);
      v = v128.load(p + f2);
      a02 = madd(y0, v, a02); a12 = madd(y1, v, a12);
      v = v128.load(p + f3);
      a03 = madd(y0, v, a03); a13 = madd(y1, v, a13);
    }
    d0 += rowBytes;
    d1 += rowBytes;
    xr += xRowBytes;
  }
  addSums(out0, hsum4(a00, a01, a02, a03), taps);
  if (out1) addSums(out1, hsum4(a10, a11, a12, a13), taps);
}

/** p[0..n) += the first n lanes of s. */
// @ts-ignore: decorator
@inline
function addSums(p: usize, s: v128, n: i32): void {
  if (n == 4) { v128.store(p, f32x4.add(v128.load(p), s)); return; }
  store<f32>(p, load<f32>(p) + f32x4.extract_lane(s, 0));
  if (n > 1) store<f32>(p, load<f32>(p, 4) + f32x4.extract_lane(s, 1), 4);
  if (n > 2) store<f32>(p, load<f32>(p, 8) + f32x4.extract_lane(s, 2), 8);
}
