// Max and average pooling on NCHW planes, matching the reference backend exactly
// (first maximum wins, NaN propagates, -1 argmax for all-padding windows). Each kernel covers
// planes (n, c) in [p0, p1), so the host can split a batch across threads.

import { PoolGeometry } from './records';

export function maxPool2dForward(g: PoolGeometry, p0: i32, p1: i32, x: usize, y: usize, argmax: usize): void {
  // The shortcut reads whole 2×2 windows: only when none is clipped (ceil mode's last row or
  // column of windows can hang past the input; those take the general path, which clips).
  if (g.KH == 2 && g.KW == 2 && g.strideH == 2 && g.strideW == 2 && g.padH == 0 && g.padW == 0
    && 2 * g.OH <= g.H && 2 * g.OW <= g.W) {
    maxPool2x2(g, p0, p1, x, y, argmax);
    return;
  }
  const H = g.H, W = g.W, OH = g.OH, OW = g.OW;
  const KH = g.KH, KW = g.KW, sH = g.strideH, sW = g.strideW, pH = g.padH, pW = g.padW;
  // Output columns whose windows lie inside the image: four at a time when the stride is 1 or 2,
  // or 3 with 3 columns (ConvNetJS's pooling).
  const owLo = min(OW, (pW + sW - 1) / sW), owHi = max(owLo, min(OW, (W + pW - KW) / sW + 1));
  const thirds = sW == 3 && KW == 3;
  const vector = sW <= 2 || thirds;
  let o = p0 * OH * OW;
  for (let nc = p0; nc < p1; nc++) {
    const base = nc * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const hs = oh * sH - pH;
      const h0 = max(hs, 0), h1 = min(hs + KH, H);
      const inside = vector && hs >= 0 && hs + KH <= H;
      for (let ow = 0; ow < OW; ow++) {
        if (inside && ow == owLo) {
          for (; ow + 4 <= owHi; ow += 4) {
            const i0 = base + hs * W + ow * sW - pW;
            if (thirds) maxWindow4Thirds(x, i0, W, KH, y + (<usize>o << 2), argmax + (<usize>o << 2));
            else maxWindow4(x, i0, W, KH, KW, sW, y + (<usize>o << 2), argmax + (<usize>o << 2));
            o += 4;
          }
          if (ow == OW) break;
        }
        const ws = ow * sW - pW;
        const w0 = max(ws, 0), w1 = min(ws + KW, W);
        let best: f32 = 0;
        let bestIndex = -1;
        if (h0 < h1 && w0 < w1) {
          // The window's first element wins unless a later one is larger or NaN. Selects, not
          // branches: on real data the comparison is unpredictable.
          bestIndex = base + h0 * W + w0;
          best = load<f32>(x + (<usize>bestIndex << 2));
          for (let ih = h0; ih < h1; ih++) {
            const rowIndex = base + ih * W;
            for (let iw = ih == h0 ? w0 + 1 : w0; iw < w1; iw++) {
              const i = rowIndex + iw;
              const v = load<f32>(x + (<usize>i << 2));
              const take = v > best || v != v;
              best = select<f32>(v, best, take);
              bestIndex = select<i32>(i, bestIndex, take);
            }
          }
        }
        store<f32>(y + (<usize>o << 2), best);
        store<i32>(argmax + (<usize>o << 2), bestIndex);
        o++;
      }
    }
  }
}

/** Lanes where v takes the place of the running maximum: larger, or NaN (which then propagates; ties keep the first). */
// @ts-ignore: decorator
@inline
function replaces(v: v128, best: v128): v128 {
  return v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
}

/**
 * Four outputs of windows inside the image, the first starting at element i0 of x (a global
 * index, like argmax), the next ones sW (1 or 2) columns apart: the elements in reading order,
 * the first kept unless a later one is larger or NaN, as in the scalar loop.
 */
// @ts-ignore: decorator
@inline
function maxWindow4(x: usize, i0: i32, W: i32, KH: i32, KW: i32, sW: i32, y: usize, argmax: usize): void {
  const step = sW == 1 ? i32x4(0, 1, 2, 3) : i32x4(0, 2, 4, 6);
  let best = f32x4.splat(0), index = i32x4.splat(0);
  for (let kh = 0; kh < KH; kh++) {
    const row = i0 + kh * W;
    for (let kw = 0; kw < KW; kw++) {
      const i = row + kw;
      const p = x + (<usize>i << 2);
      const v = sW == 1 ? v128.load(p) : v128.shuffle<f32>(v128.load(p), v128.load(p, 16), 0, 2, 4, 6);
      const vi = i32x4.add(i32x4.splat(i), step);
      if (kh == 0 && kw == 0) {
        best = v; index = vi;
      } else {
        const take = replaces(v, best);
        best = v128.bitselect(v, best, take);
        index = v128.bitselect(vi, index, take);
      }
    }
  }
  v128.store(y, best);
  v128.store(argmax, index);
}

/** Four 2×2 windows side by side, the first at element i0 of x (a global index, like argmax). */
// @ts-ignore: decorator
@inline
function max2x2Quad(x: usize, i0: i32, W: i32, y: usize, argmax: usize): void {
  const p0 = x + (<usize>i0 << 2), p1 = p0 + (<usize>W << 2);
  const a0 = v128.load(p0), a1 = v128.load(p0, 16), b0 = v128.load(p1), b1 = v128.load(p1, 16);
  // Window elements in reading order: top-left, top-right, bottom-left, bottom-right.
  const tl = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6), tr = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
  const bl = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6), br = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
  const itl = i32x4.add(i32x4.splat(i0), i32x4(0, 2, 4, 6));
  let best = tl, index = itl;
  let take = replaces(tr, best);
  best = v128.bitselect(tr, best, take); index = v128.bitselect(i32x4.add(itl, i32x4.splat(1)), index, take);
  take = replaces(bl, best);
  best = v128.bitselect(bl, best, take); index = v128.bitselect(i32x4.add(itl, i32x4.splat(W)), index, take);
  take = replaces(br, best);
  best = v128.bitselect(br, best, take); index = v128.bitselect(i32x4.add(itl, i32x4.splat(W + 1)), index, take);
  v128.store(y, best);
  v128.store(argmax, index);
}

/**
 * maxWindow4 for 3 columns at stride 3: the four windows' rows are 12 consecutive elements,
 * loaded once per row and dealt to columns 0, 1, 2 of each window by shuffles.
 */
// @ts-ignore: decorator
@inline
function maxWindow4Thirds(x: usize, i0: i32, W: i32, KH: i32, y: usize, argmax: usize): void {
  const step = i32x4(0, 3, 6, 9);
  let best = f32x4.splat(0), index = i32x4.splat(0);
  for (let kh = 0; kh < KH; kh++) {
    const row = i0 + kh * W;
    const p = x + (<usize>row << 2);
    const v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32);
    const c0 = v128.shuffle<f32>(v128.shuffle<f32>(v0, v1, 0, 3, 6, 0), v2, 0, 1, 2, 5);
    const c1 = v128.shuffle<f32>(v128.shuffle<f32>(v0, v1, 1, 4, 7, 0), v2, 0, 1, 2, 6);
    const c2 = v128.shuffle<f32>(v128.shuffle<f32>(v0, v1, 2, 5, 0, 0), v2, 0, 1, 4, 7);
    const i = i32x4.add(i32x4.splat(row), step);
    if (kh == 0) {
      best = c0; index = i;
    } else {
      const take = replaces(c0, best);
      best = v128.bitselect(c0, best, take);
      index = v128.bitselect(i, index, take);
    }
    let take = replaces(c1, best);
    best = v128.bitselect(c1, best, take);
    index = v128.bitselect(i32x4.add(i, i32x4.splat(1)), index, take);
    take = replaces(c2, best);
    best = v128.bitselect(c2, best, take);
    index = v128.bitselect(i32x4.add(i, i32x4.splat(2)), index, take);
  }
  v128.store(y, best);
  v128.store(argmax, index);
}

/** The common 2×2, stride 2, unpadded window, four outputs per step; every window inside the input. */
function maxPool2x2(g: PoolGeometry, p0: i32, p1: i32, x: usize, y: usize, argmax: usize): void {
  const H = g.H, W = g.W, OH = g.OH, OW = g.OW;
  let o = p0 * OH * OW;
  for (let nc = p0; nc < p1; nc++) {
    const base = nc * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const top = base + 2 * oh * W;
      let ow = 0;
      for (; ow + 4 <= OW; ow += 4) max2x2Quad(x, top + 2 * ow, W, y + (<usize>(o + ow) << 2), argmax + (<usize>(o + ow) << 2));
      // A last partial quad overlaps the previous one (the same values written twice).
      if (ow < OW && OW >= 4) {
        ow = OW - 4;
        max2x2Quad(x, top + 2 * ow, W, y + (<usize>(o + ow) << 2), argmax + (<usize>(o + ow) << 2));
        ow = OW;
      }
      for (; ow < OW; ow++) {
        const i0 = top + 2 * ow;
        let bestIndex = i0;
        let best = load<f32>(x + (<usize>i0 << 2));
        for (let k = 1; k < 4; k++) {
          const i = i0 + (k >> 1) * W + (k & 1);
          const v = load<f32>(x + (<usize>i << 2));
          const take = v > best || v != v;
          best = select<f32>(v, best, take);
          bestIndex = select<i32>(i, bestIndex, take);
        }
        store<f32>(y + (<usize>(o + ow) << 2), best);
        store<i32>(argmax + (<usize>(o + ow) << 2), bestIndex);
      }
      o += OW;
    }
  }
}

/** Planes [p0, p1): argmax indices stay inside their plane, so ranges of planes are independent. */
export function maxPool2dBackward(g: PoolGeometry, p0: i32, p1: i32, dy: usize, argmax: usize, dx: usize): void {
  const HW = g.H * g.W, OHW = g.OH * g.OW;
  memory.fill(dx + (<usize>(p0 * HW) << 2), 0, <usize>((p1 - p0) * HW) << 2);
  const end = p1 * OHW;
  for (let o = p0 * OHW; o < end; o++) {
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

export function avgPool2dForward(g: PoolGeometry, p0: i32, p1: i32, x: usize, y: usize, countPad: bool): void {
  const H = g.H, W = g.W, OH = g.OH, OW = g.OW;
  let o = p0 * OH * OW;
  for (let nc = p0; nc < p1; nc++) {
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

export function avgPool2dBackward(g: PoolGeometry, p0: i32, p1: i32, dy: usize, dx: usize, countPad: bool): void {
  const H = g.H, W = g.W, OH = g.OH, OW = g.OW;
  memory.fill(dx + (<usize>(p0 * H * W) << 2), 0, <usize>((p1 - p0) * H * W) << 2);
  let o = p0 * OH * OW;
  for (let nc = p0; nc < p1; nc++) {
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

/** Adaptive average pooling: output cell i covers rows [⌊i·H/OH⌋, ⌈(i+1)·H/OH⌉), likewise columns. */
export function adaptiveAvgPool2dForward(g: PoolGeometry, p0: i32, p1: i32, x: usize, y: usize): void {
  const H = g.H, W = g.W, OH = g.OH, OW = g.OW;
  let o = p0 * OH * OW;
  for (let nc = p0; nc < p1; nc++) {
    const base = nc * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * H / OH, h1 = ((oh + 1) * H + OH - 1) / OH;
      for (let ow = 0; ow < OW; ow++) {
        const w0 = ow * W / OW, w1 = ((ow + 1) * W + OW - 1) / OW;
        let sum: f64 = 0;
        for (let ih = h0; ih < h1; ih++) {
          for (let iw = w0; iw < w1; iw++) sum += <f64>load<f32>(x + (<usize>(base + ih * W + iw) << 2));
        }
        store<f32>(y + (<usize>o << 2), <f32>(sum / <f64>((h1 - h0) * (w1 - w0))));
        o++;
      }
    }
  }
}

export function adaptiveAvgPool2dBackward(g: PoolGeometry, p0: i32, p1: i32, dy: usize, dx: usize): void {
  const H = g.H, W = g.W, OH = g.OH, OW = g.OW;
  memory.fill(dx + (<usize>(p0 * H * W) << 2), 0, <usize>((p1 - p0) * H * W) << 2);
  let o = p0 * OH * OW;
  for (let nc = p0; nc < p1; nc++) {
    const base = nc * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * H / OH, h1 = ((oh + 1) * H + OH - 1) / OH;
      for (let ow = 0; ow < OW; ow++) {
        const w0 = ow * W / OW, w1 = ((ow + 1) * W + OW - 1) / OW;
        const v = <f32>(<f64>load<f32>(dy + (<usize>o << 2)) / <f64>((h1 - h0) * (w1 - w0)));
        o++;
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
