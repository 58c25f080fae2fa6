// im2col / col2im for one image and one channel group. The column matrix has one row per
// (channel, kh, kw) and one column per output position (oh, ow), so convolution becomes
// weights [O × C·KH·KW] times columns [C·KH·KW × OH·OW]. Tap (kh, kw) sits kh·dilationH rows and
// kw·dilationW columns into the window.

import { ConvGeometry } from './records';

/** Writes the Cg·KH·KW × OH·OW column matrix of x (Cg channels of H×W starting at x). */
export function im2col(g: ConvGeometry, Cg: i32, x: usize, col: usize): void {
  const H = g.H, W = g.W, KH = g.KH, KW = g.KW, OH = g.OH, OW = g.OW;
  const sH = g.strideH, sW = g.strideW, pH = g.padH, pW = g.padW, dH = g.dilationH, dW = g.dilationW;
  let dst = col;
  for (let c = 0; c < Cg; c++) {
    const plane = x + (<usize>(c * H * W) << 2);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        // Output columns whose input column iw = ow*sW - pW + kw*dW lies inside the image.
        const tw = kw * dW;
        const owLo = clampDiv(pW - tw, sW, OW);
        const owHi = clampDiv(W + pW - tw, sW, OW);
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * sH - pH + kh * dH;
          // Rows are short (tens of floats): inline loops beat memory.copy/fill, which V8 calls out of line.
          if (ih < 0 || ih >= H || owLo >= owHi) {
            zero(dst, OW);
          } else {
            zero(dst, owLo);
            const src = plane + (<usize>(ih * W + owLo * sW - pW + tw) << 2);
            const out = dst + (<usize>owLo << 2);
            const n = owHi - owLo;
            if (sW == 1) {
              // Whole vectors: the overrun lands where the next write (or the buffer's slack) goes.
              for (let i = 0; i < n; i += 4) v128.store(out + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
            } else {
              const step = <usize>sW << 2;
              for (let i = 0; i < n; i++) store<f32>(out + (<usize>i << 2), load<f32>(src + <usize>i * step));
            }
            zero(dst + (<usize>owHi << 2), OW - owHi);
          }
          dst += <usize>OW << 2;
        }
      }
    }
  }
}

/** dx (Cg channels of H×W) += the column matrix scattered back to the pixels it was read from. */
export function col2imAdd(g: ConvGeometry, Cg: i32, col: usize, dx: usize): void {
  const H = g.H, W = g.W, KH = g.KH, KW = g.KW, OH = g.OH, OW = g.OW;
  const sH = g.strideH, sW = g.strideW, pH = g.padH, pW = g.padW, dH = g.dilationH, dW = g.dilationW;
  let src = col;
  for (let c = 0; c < Cg; c++) {
    const plane = dx + (<usize>(c * H * W) << 2);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const tw = kw * dW;
        const owLo = clampDiv(pW - tw, sW, OW);
        const owHi = clampDiv(W + pW - tw, sW, OW);
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * sH - pH + kh * dH;
          if (ih >= 0 && ih < H && owLo < owHi) {
            const out = plane + (<usize>(ih * W + owLo * sW - pW + tw) << 2);
            const from = src + (<usize>owLo << 2);
            const n = owHi - owLo;
            if (sW == 1) addInto(out, from, n);
            else {
              const step = <usize>sW << 2;
              for (let i = 0; i < n; i++) {
                const p = out + <usize>i * step;
                store<f32>(p, load<f32>(p) + load<f32>(from + (<usize>i << 2)));
              }
            }
          }
          src += <usize>OW << 2;
        }
      }
    }
  }
}

// @ts-ignore: decorator
@inline
function zero(dst: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), f32x4.splat(0));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), 0);
}

/** The smallest ow ≥ 0 with ow * stride ≥ v, clamped to [0, limit]. */
// @ts-ignore: decorator
@inline
function clampDiv(v: i32, stride: i32, limit: i32): i32 {
  if (v <= 0) return 0;
  const q = (v + stride - 1) / stride;
  return q < limit ? q : limit;
}

/** dst[i] += src[i] for n floats. */
export function addInto(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}
