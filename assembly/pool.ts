// Max and average pooling on NCHW planes, matching the reference backend exactly
// (first maximum wins, NaN propagates, -1 argmax for all-padding windows).

import { PoolGeometry } from './geometry';

export function maxPool2dForward(g: PoolGeometry, x: usize, y: usize, argmax: usize): void {
  const H = g.H, W = g.W, OH = g.OH, OW = g.OW, planes = g.N * g.C;
  let o = 0;
  for (let nc = 0; nc < planes; nc++) {
    const base = nc * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const hs = oh * g.strideH - g.padH;
      const h0 = max(hs, 0), h1 = min(hs + g.KH, H);
      for (let ow = 0; ow < OW; ow++) {
        const ws = ow * g.strideW - g.padW;
        const w0 = max(ws, 0), w1 = min(ws + g.KW, W);
        let best: f32 = -Infinity;
        let bestIndex = -1;
        for (let ih = h0; ih < h1; ih++) {
          const rowIndex = base + ih * W;
          for (let iw = w0; iw < w1; iw++) {
            const i = rowIndex + iw;
            const v = load<f32>(x + (<usize>i << 2));
            if (v > best || bestIndex < 0 || v != v) { best = v; bestIndex = i; }
          }
        }
        store<f32>(y + (<usize>o << 2), bestIndex < 0 ? 0 : best);
        store<i32>(argmax + (<usize>o << 2), bestIndex);
        o++;
      }
    }
  }
}

export function maxPool2dBackward(g: PoolGeometry, dy: usize, argmax: usize, dx: usize): void {
  memory.fill(dx, 0, <usize>(g.N * g.C * g.H * g.W) << 2);
  const n = g.N * g.C * g.OH * g.OW;
  for (let o = 0; o < n; o++) {
    const i = load<i32>(argmax + (<usize>o << 2));
    if (i >= 0) {
      const p = dx + (<usize>i << 2);
      store<f32>(p, load<f32>(p) + load<f32>(dy + (<usize>o << 2)));
    }
  }
}

/** Window bounds of output (oh, ow): clipped rows/cols and the divisor, like ref.ts poolWindow. */
// @ts-ignore: decorator
@inline
function windowCount(g: PoolGeometry, hs: i32, ws: i32, countPad: bool): i32 {
  const he = min(hs + g.KH, g.H + g.padH), we = min(ws + g.KW, g.W + g.padW);
  if (countPad) return (he - hs) * (we - ws);
  return (min(he, g.H) - max(hs, 0)) * (min(we, g.W) - max(ws, 0));
}

export function avgPool2dForward(g: PoolGeometry, x: usize, y: usize, countPad: bool): void {
  const H = g.H, W = g.W, OH = g.OH, OW = g.OW, planes = g.N * g.C;
  let o = 0;
  for (let nc = 0; nc < planes; nc++) {
    const base = nc * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const hs = oh * g.strideH - g.padH;
      const he = min(hs + g.KH, H + g.padH);
      const h0 = max(hs, 0), h1 = min(he, H);
      for (let ow = 0; ow < OW; ow++) {
        const ws = ow * g.strideW - g.padW;
        const we = min(ws + g.KW, W + g.padW);
        const w0 = max(ws, 0), w1 = min(we, W);
        let sum: f64 = 0;
        for (let ih = h0; ih < h1; ih++) {
          for (let iw = w0; iw < w1; iw++) sum += <f64>load<f32>(x + (<usize>(base + ih * W + iw) << 2));
        }
        const count = windowCount(g, hs, ws, countPad);
        store<f32>(y + (<usize>o << 2), count > 0 ? <f32>(sum / count) : 0);
        o++;
      }
    }
  }
}

export function avgPool2dBackward(g: PoolGeometry, dy: usize, dx: usize, countPad: bool): void {
  const H = g.H, W = g.W, OH = g.OH, OW = g.OW, planes = g.N * g.C;
  memory.fill(dx, 0, <usize>(planes * H * W) << 2);
  let o = 0;
  for (let nc = 0; nc < planes; nc++) {
    const base = nc * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const hs = oh * g.strideH - g.padH;
      const h0 = max(hs, 0), h1 = min(min(hs + g.KH, H + g.padH), H);
      for (let ow = 0; ow < OW; ow++) {
        const ws = ow * g.strideW - g.padW;
        const w0 = max(ws, 0), w1 = min(min(ws + g.KW, W + g.padW), W);
        const count = windowCount(g, hs, ws, countPad);
        const d = load<f32>(dy + (<usize>o << 2));
        o++;
        if (count <= 0) continue;
        const v = <f32>(<f64>d / count);
        for (let ih = h0; ih < h1; ih++) {
          for (let iw = w0; iw < w1; iw++) {
            const p = dx + (<usize>(base + ih * W + iw) << 2);
            store<f32>(p, load<f32>(p) + v);
          }
        }
      }
    }
  }
}
