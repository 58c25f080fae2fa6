// Weight gradient of a stride-1 convolution without im2col: dw[o, t] = Σ_p dy[o, p] · x(t)[p],
// where x(t) is the zero-padded input shifted by tap t = (c, kh, kw). A GEMM whose reduction
// runs over output positions, with the input read in place at each tap's offset.
//
// Vectors run over filters: dy is transposed position-major (8 filters of a position in two
// vectors), each tap's input value is broadcast, and a tile of 8 filters × 4 taps keeps 8 f32x4
// accumulators (6 loads per 8 multiply-adds, like gemm.ts' micro-kernel) over every position of
// a chunk of images; no lane is wasted on row ends and nothing is summed across lanes. For the
// small convolutions of LeNet-5 and the ConvNetJS net (6–16 filters, 25–200 taps) this beats
// im2col + GEMM, which writes and re-reads a K×P column matrix per image for a tiny GEMM.

import { ConvGeometry } from './records';
import { roundUp } from './util';
import { padPlanes, slackFloats } from './direct';
import { madd } from './simd';

/** Filters per tile (two vectors) and taps per tile. */
// @ts-ignore: decorator
@inline const FB: i32 = 8;
// @ts-ignore: decorator
@inline const TB: i32 = 4;
/** Workspace per chunk of images at most (L2-resident while every tile passes over it). */
// @ts-ignore: decorator
@inline const CHUNK_BYTES: i32 = 256 << 10;
// @ts-ignore: decorator
@inline const CHUNK_MAX: i32 = 16;

/** Floats of one image's padded input planes (one group) and of its transposed dy. */
// @ts-ignore: decorator
@inline
function imageFloats(g: ConvGeometry): f64 {
  const Cg = g.C / g.groups, Og = g.O / g.groups;
  return <f64>Cg * (g.H + 2 * g.padH) * (g.W + 2 * g.padW) + <f64>g.OH * g.OW * roundUp(Og, FB);
}

/** Images per chunk: a tile sums over all of them before it touches dw. */
// @ts-ignore: decorator
@inline
function chunkImages(g: ConvGeometry): i32 {
  return max(1, min(CHUNK_MAX, min(g.N, <i32>Math.min(<f64>CHUNK_MAX, Math.floor(<f64>CHUNK_BYTES / (imageFloats(g) * 4))))));
}

/** Bytes of workspace directWeights needs: a chunk's padded input and transposed dy, the tap offsets. */
export function directWeightsBytes(g: ConvGeometry): f64 {
  return (<f64>chunkImages(g) * imageFloats(g) + slackFloats(g.W + 2 * g.padW) + roundUp((g.C / g.groups) * g.KH * g.KW, TB)) * 4;
}

/** dw += Σ_{n ∈ [n0, n1)} of each image's gradient (stride 1; dw zeroed by the caller). */
export function directWeights(g: ConvGeometry, n0: i32, n1: i32, x: usize, dy: usize, dw: usize, work: usize): void {
  const G = g.groups, Cg = g.C / G, Og = g.O / G, KK = g.KH * g.KW, R = Cg * KK;
  const OH = g.OH, OW = g.OW, P = OH * OW;
  const Hp = g.H + 2 * g.padH, Wp = g.W + 2 * g.padW;
  const Of = roundUp(Og, FB), B = chunkImages(g);
  // Chunk layout: image-major padded input planes (then slack), image-major transposed dy
  // (P rows of Of filters, the filters past Og zero), tap offsets.
  const xImg = Cg * Hp * Wp;
  const xp = work, dyt = work + (<usize>(B * xImg + slackFloats(Wp)) << 2);
  const offs = dyt + (<usize>(B * P * Of) << 2);
  // Byte offsets of the taps in dw's order (c, kh, kw); a last partial quad repeats the last tap.
  for (let t = 0; t < roundUp(R, TB); t++) {
    const u = min(t, R - 1), c = u / KK, r = u - c * KK, kh = r / g.KW, kw = r - kh * g.KW;
    store<i32>(offs + (<usize>t << 2), ((c * Hp + kh) * Wp + kw) << 2);
  }
  for (let n = n0; n < n1; n += B) {
    const imgs = min(B, n1 - n);
    for (let gi = 0; gi < G; gi++) {
      for (let i = 0; i < imgs; i++) {
        const img = n + i;
        padPlanes(x + (<usize>((img * g.C + gi * Cg) * g.H * g.W) << 2), Cg, g.H, g.W, g.padH, g.padW, Hp, Wp, xp + (<usize>(i * xImg) << 2));
        transpose(dy + (<usize>((img * g.O + gi * Og) * P) << 2), Og, P, Of, dyt + (<usize>(i * P * Of) << 2));
      }
      const dwg = dw + (<usize>(gi * Og * R) << 2);
      for (let o = 0; o < Og; o += FB) {
        for (let t = 0; t < R; t += TB) {
          const f = offs + (<usize>t << 2);
          tile(dyt + (<usize>o << 2), Of, xp, <usize>load<i32>(f), <usize>load<i32>(f, 4), <usize>load<i32>(f, 8), <usize>load<i32>(f, 12),
            imgs, OH, OW, Wp, <usize>xImg << 2, dwg + (<usize>(o * R + t) << 2), R, min(FB, Og - o), min(TB, R - t));
        }
      }
    }
  }
}

/** dst[p, r] = src[r, p] for `rows` rows of P, dst rows `stride` (a multiple of 4) wide, rows past `rows` zero. */
function transpose(src: usize, rows: i32, P: i32, stride: i32, dst: usize): void {
  const zero = f32x4.splat(0), rowBytes = <usize>P << 2, dstRow = <usize>stride << 2;
  const P4 = P & ~3;
  for (let r = 0; r < stride; r += 4) {
    // Four source rows (missing ones read as zero vectors).
    const s0 = src + <usize>r * rowBytes;
    const n = rows - r;
    for (let p = 0; p < P4; p += 4) {
      const o = <usize>p << 2;
      const a = n > 0 ? v128.load(s0 + o) : zero, b = n > 1 ? v128.load(s0 + rowBytes + o) : zero;
      const c = n > 2 ? v128.load(s0 + 2 * rowBytes + o) : zero, e = n > 3 ? v128.load(s0 + 3 * rowBytes + o) : zero;
      const ab01 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), ab23 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
      const ce01 = v128.shuffle<f32>(c, e, 0, 4, 1, 5), ce23 = v128.shuffle<f32>(c, e, 2, 6, 3, 7);
      const q = dst + <usize>p * dstRow + (<usize>r << 2);
      v128.store(q, v128.shuffle<f32>(ab01, ce01, 0, 1, 4, 5));
      v128.store(q + dstRow, v128.shuffle<f32>(ab01, ce01, 2, 3, 6, 7));
      v128.store(q + 2 * dstRow, v128.shuffle<f32>(ab23, ce23, 0, 1, 4, 5));
      v128.store(q + 3 * dstRow, v128.shuffle<f32>(ab23, ce23, 2, 3, 6, 7));
    }
    for (let p = P4; p < P; p++) {
      const q = dst + <usize>p * dstRow + (<usize>r << 2);
      for (let k = 0; k < 4; k++) store<f32>(q + (<usize>k << 2), k < n ? load<f32>(s0 + <usize>k * rowBytes + (<usize>p << 2)) : 0);
    }
  }
}

/**
 * Eight filters (two vectors at dy, rows `Of` floats apart, one per position) against four taps
 * (byte offsets f0..f3 into each image's padded planes, xImgBytes apart from xp), over every
 * position of `imgs` images; adds the sums to dw[r, t] (rows R apart) for r < rows, t < taps.
 */
// @ts-ignore: decorator
@inline
function tile(dy: usize, Of: i32, xp: usize, f0: usize, f1: usize, f2: usize, f3: usize,
  imgs: i32, OH: i32, OW: i32, Wp: i32, xImgBytes: usize, dw: usize, R: i32, rows: i32, taps: i32): void {
  let a00 = f32x4.splat(0), a01 = a00, a02 = a00, a03 = a00;
  let a10 = a00, a11 = a00, a12 = a00, a13 = a00;
  const step = <usize>Of << 2, rowBytes = <usize>OW << 2, skip = <usize>(Wp - OW) << 2;
  let d = dy;
  for (let i = 0; i < imgs; i++) {
    let xr = xp + <usize>i * xImgBytes;
    for (let oh = 0; oh < OH; oh++) {
      const end = xr + rowBytes;
      do {
        const y0 = v128.load(d), y1 = v128.load(d, 16);
        let v = v128.load32_splat(xr + f0);
        a00 = madd(y0, v, a00); a10 = madd(y1, v, a10);
        v = v128.load32_splat(xr + f1);
        a01 = madd(y0, v, a01); a11 = madd(y1, v, a11);
        v = v128.load32_splat(xr + f2);
        a02 = madd(y0, v, a02); a12 = madd(y1, v, a12);
        v = v128.load32_splat(xr + f3);
        a03 = madd(y0, v, a03); a13 = madd(y1, v, a13);
        d += step;
        xr += 4;
      } while (xr < end);
      xr += skip;
    }
  }
  addColumn(dw, R, 0, rows, a00, a10, taps > 0);
  addColumn(dw, R, 1, rows, a01, a11, taps > 1);
  addColumn(dw, R, 2, rows, a02, a12, taps > 2);
  addColumn(dw, R, 3, rows, a03, a13, taps > 3);
}

/** dw[r, t] += lane r of (lo, hi) for r < rows (rows R apart), when `on`. */
// @ts-ignore: decorator
@inline
function addColumn(dw: usize, R: i32, t: i32, rows: i32, lo: v128, hi: v128, on: bool): void {
  if (!on) return;
  const base = dw + (<usize>t << 2), s = <usize>R << 2;
  addTo(base, f32x4.extract_lane(lo, 0));
  if (rows > 1) addTo(base + s, f32x4.extract_lane(lo, 1));
  if (rows > 2) addTo(base + 2 * s, f32x4.extract_lane(lo, 2));
  if (rows > 3) addTo(base + 3 * s, f32x4.extract_lane(lo, 3));
  if (rows > 4) addTo(base + 4 * s, f32x4.extract_lane(hi, 0));
  if (rows > 5) addTo(base + 5 * s, f32x4.extract_lane(hi, 1));
  if (rows > 6) addTo(base + 6 * s, f32x4.extract_lane(hi, 2));
  if (rows > 7) addTo(base + 7 * s, f32x4.extract_lane(hi, 3));
}

// @ts-ignore: decorator
@inline
function addTo(p: usize, v: f32): void {
  store<f32>(p, load<f32>(p) + v);
}
