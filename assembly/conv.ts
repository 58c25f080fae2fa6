// Convolution over a range of images [n0, n1) via im2col + GEMM, so the host can split a batch
// across threads. Each caller passes its own workspace: GEMM packing space, then the column
// matrix (convWorkspaceBytes).

import { ConvGeometry } from './records';
import { gemm, gemmWorkspaceBytes } from './gemm';
import { col2imAdd, im2col } from './im2col';
import { directConv, packFilters, packedFloats, padPlanes, slackFloats, tapOffsets } from './direct';
import { convGemmWorkspaceBytes } from './convgemm';
import { directWeights, directWeightsBytes } from './directweights';

// Per-thread workspace, in this order: GEMM packing, im2col columns, padded input, tap offsets
// (the direct kernel's packed filters are the host's, shared by all threads: directPack).

// @ts-ignore: decorator
@inline
function colBytes(g: ConvGeometry): f64 {
  return (<f64>(g.C / g.groups) * g.KH * g.KW * g.OH * g.OW + 4) * 4;
}

// @ts-ignore: decorator
@inline
function padBytes(g: ConvGeometry): f64 {
  const Cg = g.C / g.groups, Og = g.O / g.groups;
  const Wf = g.W + 2 * g.padW, Wb = g.OW + 2 * (g.KW - 1 - g.padW);
  const forward = <f64>Cg * (g.H + 2 * g.padH) * Wf + slackFloats(Wf);
  const backward = <f64>Og * (g.OH + 2 * (g.KH - 1 - g.padH)) * Wb + slackFloats(Wb);
  return max(forward, backward) * 4;
}

// @ts-ignore: decorator
@inline
function offsetBytes(g: ConvGeometry): f64 {
  return <f64>max(g.C / g.groups, g.O / g.groups) * g.KH * g.KW * 4;
}

/**
 * Bytes of per-thread workspace the conv kernels (these and convgemm.ts's) need for this
 * geometry. Sizes are f64 (exact): the host checks them against the heap before allocating.
 */
export function convWorkspaceBytes(g: ConvGeometry): f64 {
  const direct = <f64>gemmWorkspaceBytes() + max(colBytes(g) + padBytes(g) + offsetBytes(g), directWeightsBytes(g));
  return max(direct, convGemmWorkspaceBytes(g));
}

/**
 * Stride 1 with adjacent taps runs as a direct convolution (see direct.ts, directweights.ts);
 * other strides and dilated kernels through im2col.
 */
// @ts-ignore: decorator
@inline
function isDirect(g: ConvGeometry): bool {
  return g.strideH == 1 && g.strideW == 1 && g.dilationH == 1 && g.dilationW == 1;
}

/** A 1×1, stride 1, unpadded convolution needs no im2col: the input planes are the columns. */
// @ts-ignore: decorator
@inline
function isPointwise(g: ConvGeometry): bool {
  return g.KH == 1 && g.KW == 1 && g.strideH == 1 && g.strideW == 1 && g.padH == 0 && g.padW == 0;
}

/**
 * Whether a convolution's forward (or input gradient, `flip`) runs by the direct kernel: then
 * the host packs its filters once (directPack) for all of a call's image ranges.
 */
export function usesDirect(g: ConvGeometry, flip: bool): bool {
  if (isPointwise(g) || !isDirect(g)) return false;
  return !flip || (g.padH < g.KH && g.padW < g.KW);
}

/** Bytes of the direct kernel's packed filters, every group. */
export function directPackedBytes(g: ConvGeometry, flip: bool): f64 {
  const Cg = g.C / g.groups, Og = g.O / g.groups, KK = g.KH * g.KW;
  return <f64>g.groups * (flip ? packedFloats(Cg, Og * KK) : packedFloats(Og, Cg * KK)) * 4;
}

/** Packs every group's filters for the direct kernel (flipped and transposed for the input gradient). */
export function directPack(g: ConvGeometry, flip: bool, w: usize, dst: usize): void {
  const G = g.groups, Cg = g.C / G, Og = g.O / G, KK = g.KH * g.KW;
  const rows = flip ? Cg : Og, taps = flip ? Og : Cg;
  const pg = <usize>packedFloats(rows, taps * KK) << 2;
  for (let gi = 0; gi < G; gi++) packFilters(w + (<usize>(gi * Og * Cg * KK) << 2), rows, taps, g.KH, g.KW, flip, Cg, dst + <usize>gi * pg);
}

/**
 * y[n] = conv(x[n], w) + bias for n in [n0, n1). bias may be 0 (none). `packed` holds the
 * filters packed by directPack when the direct kernel runs (usesDirect), else 0.
 */
export function conv2dForward(g: ConvGeometry, n0: i32, n1: i32, x: usize, w: usize, bias: usize, y: usize, work: usize, packed: usize): void {
  const G = g.groups, Cg = g.C / G, Og = g.O / G;
  const P = g.OH * g.OW, R = Cg * g.KH * g.KW;
  const col = work + <usize>gemmWorkspaceBytes();
  const direct = isPointwise(g);
  if (usesDirect(g, false)) { directForward(g, n0, n1, x, packed, bias, y, col); return; }
  for (let n = n0; n < n1; n++) {
    for (let gi = 0; gi < G; gi++) {
      const xg = x + (<usize>((n * g.C + gi * Cg) * g.H * g.W) << 2);
      const yg = y + (<usize>((n * g.O + gi * Og) * P) << 2);
      const wg = w + (<usize>(gi * Og * R) << 2);
      let b = xg;
      if (!direct) { im2col(g, Cg, xg, col); b = col; }
      gemm(false, false, Og, P, R, 1, wg, R, b, P, 0, yg, P, work);
      if (bias) addRowBias(Og, P, yg, bias + (<usize>(gi * Og) << 2));
    }
  }
}

/** dx[n] = convᵀ(dy[n], w) for n in [n0, n1) (write). */
export function conv2dBackwardInput(g: ConvGeometry, n0: i32, n1: i32, dy: usize, w: usize, dx: usize, work: usize, packed: usize): void {
  const G = g.groups, Cg = g.C / G, Og = g.O / G;
  const P = g.OH * g.OW, R = Cg * g.KH * g.KW, HW = g.H * g.W;
  const col = work + <usize>gemmWorkspaceBytes();
  const direct = isPointwise(g);
  // The input gradient of a stride-1 conv is a stride-1 conv of dy padded by K-1-pad (whose
  // taps that only meet that padding the direct kernel skips).
  if (usesDirect(g, true)) { directBackwardInput(g, n0, n1, dy, packed, dx, col); return; }
  for (let n = n0; n < n1; n++) {
    for (let gi = 0; gi < G; gi++) {
      const dyg = dy + (<usize>((n * g.O + gi * Og) * P) << 2);
      const dxg = dx + (<usize>((n * g.C + gi * Cg) * HW) << 2);
      const wg = w + (<usize>(gi * Og * R) << 2);
      if (direct) {
        gemm(true, false, R, P, Og, 1, wg, R, dyg, P, 0, dxg, P, work);
      } else {
        gemm(true, false, R, P, Og, 1, wg, R, dyg, P, 0, col, P, work);
        memory.fill(dxg, 0, <usize>(Cg * HW) << 2);
        col2imAdd(g, Cg, col, dxg);
      }
    }
  }
}

/**
 * dw = Σ_{n in [n0, n1)} dy[n] · im2col(x[n])ᵀ and dbias = Σ dy (write; dbias may be 0).
 * Threads each fill a partial dw/dbias for their images that the host then adds up.
 */
export function conv2dBackwardWeights(g: ConvGeometry, n0: i32, n1: i32, x: usize, dy: usize, dw: usize, dbias: usize, work: usize): void {
  const G = g.groups, Cg = g.C / G, Og = g.O / G;
  const P = g.OH * g.OW, R = Cg * g.KH * g.KW;
  const col = work + <usize>gemmWorkspaceBytes();
  const direct = isPointwise(g);
  memory.fill(dw, 0, <usize>(g.O * R) << 2);
  if (dbias) memory.fill(dbias, 0, <usize>g.O << 2);
  if (!direct && isDirect(g)) {
    directWeights(g, n0, n1, x, dy, dw, col);
    if (dbias) for (let n = n0; n < n1; n++) sumPlanes(g.O, P, dy + (<usize>(n * g.O * P) << 2), dbias);
    return;
  }
  for (let n = n0; n < n1; n++) {
    for (let gi = 0; gi < G; gi++) {
      const xg = x + (<usize>((n * g.C + gi * Cg) * g.H * g.W) << 2);
      const dyg = dy + (<usize>((n * g.O + gi * Og) * P) << 2);
      const dwg = dw + (<usize>(gi * Og * R) << 2);
      let b = xg;
      if (!direct) { im2col(g, Cg, xg, col); b = col; }
      gemm(false, true, Og, R, P, 1, dyg, P, b, P, 1, dwg, R, work);
    }
    if (dbias) sumPlanes(g.O, P, dy + (<usize>(n * g.O * P) << 2), dbias);
  }
}

/** Forward by direct convolution of filters packed by directPack; `col` is the workspace after the GEMM packing space. */
function directForward(g: ConvGeometry, n0: i32, n1: i32, x: usize, packed: usize, bias: usize, y: usize, col: usize): void {
  const G = g.groups, Cg = g.C / G, Og = g.O / G, KK = g.KH * g.KW;
  const Hp = g.H + 2 * g.padH, Wp = g.W + 2 * g.padW;
  const padded = col + <usize>colBytes(g), offs = padded + <usize>padBytes(g);
  // Unpadded input is read in place; tiles read up to one row and a tile past a plane, which
  // stays inside the next plane or the host's guard unless the last row pair is half empty.
  const inPlace = g.padH == 0 && g.padW == 0 && g.OH % 2 == 0;
  tapOffsets(Cg, g.KH, g.KW, Hp, Wp, offs);
  const pg = <usize>packedFloats(Og, Cg * KK) << 2;
  for (let n = n0; n < n1; n++) {
    for (let gi = 0; gi < G; gi++) {
      const xg = x + (<usize>((n * g.C + gi * Cg) * g.H * g.W) << 2);
      let xp = xg;
      if (!inPlace) { padPlanes(xg, Cg, g.H, g.W, g.padH, g.padW, Hp, Wp, padded); xp = padded; }
      directConv(Og, Cg, g.KH, g.KW, packed + <usize>gi * pg, offs, xp, Wp, g.padH, g.H, g.padW, g.W, g.OH, g.OW,
        bias ? bias + (<usize>(gi * Og) << 2) : 0, y + (<usize>((n * g.O + gi * Og) * g.OH * g.OW) << 2));
    }
  }
}

/** Input gradient by direct convolution of dy (padded by K-1-pad) with the flipped, transposed filters packed by directPack. */
function directBackwardInput(g: ConvGeometry, n0: i32, n1: i32, dy: usize, packed: usize, dx: usize, col: usize): void {
  const G = g.groups, Cg = g.C / G, Og = g.O / G, KK = g.KH * g.KW;
  const qt = g.KH - 1 - g.padH, ql = g.KW - 1 - g.padW;
  const Hq = g.OH + 2 * qt, Wq = g.OW + 2 * ql;
  const padded = col + <usize>colBytes(g), offs = padded + <usize>padBytes(g);
  const inPlace = qt == 0 && ql == 0 && g.H % 2 == 0;
  tapOffsets(Og, g.KH, g.KW, Hq, Wq, offs);
  const pg = <usize>packedFloats(Cg, Og * KK) << 2;
  for (let n = n0; n < n1; n++) {
    for (let gi = 0; gi < G; gi++) {
      const dyg = dy + (<usize>((n * g.O + gi * Og) * g.OH * g.OW) << 2);
      let src = dyg;
      if (!inPlace) { padPlanes(dyg, Og, g.OH, g.OW, qt, ql, Hq, Wq, padded); src = padded; }
      directConv(Cg, Og, g.KH, g.KW, packed + <usize>gi * pg, offs, src, Wq, qt, g.OH, ql, g.OW, g.H, g.W, 0,
        dx + (<usize>((n * g.C + gi * Cg) * g.H * g.W) << 2));
    }
  }
}

/** y[o, p] += bias[o] over an rows×P block. */
function addRowBias(rows: i32, P: i32, y: usize, bias: usize): void {
  for (let o = 0; o < rows; o++) {
    const b = load<f32>(bias + (<usize>o << 2));
    const vb = f32x4.splat(b);
    const row = y + (<usize>(o * P) << 2);
    let p = 0;
    for (; p + 4 <= P; p += 4) {
      const q = row + (<usize>p << 2);
      v128.store(q, f32x4.add(v128.load(q), vb));
    }
    for (; p < P; p++) {
      const q = row + (<usize>p << 2);
      store<f32>(q, load<f32>(q) + b);
    }
  }
}

/** out[o] += Σ_p planes[o, p]. */
export function sumPlanes(O: i32, P: i32, planes: usize, out: usize): void {
  for (let o = 0; o < O; o++) {
    const row = planes + (<usize>(o * P) << 2);
    let acc = f32x4.splat(0);
    let p = 0;
    for (; p + 4 <= P; p += 4) acc = f32x4.add(acc, v128.load(row + (<usize>p << 2)));
    let s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
    for (; p < P; p++) s += load<f32>(row + (<usize>p << 2));
    const q = out + (<usize>o << 2);
    store<f32>(q, load<f32>(q) + s);
  }
}
