/**
 * Winograd convolutions on the wasm backend: the forward and input gradient of 3×3 and 5×5
 * stride-1 convolutions (assembly/winograd.ts, winograd5.ts) and the weight gradient of 3×3
 * ones (assembly/winogradgrad.ts), each in parallel steps; and the transformed weights kept
 * between calls while the weights stay the same.
 */

import type { Conv2dGeometry } from './backend.js';
import type { WasmContext } from './wasm-context.js';
import { ranges, roundUp } from './wasm-split.js';
import { MR, NR, PARALLEL_MIN_MACS, TRANSFORMED_BYTES } from './wasm-tuning.js';

interface Block {
  ptr: number;
  bytes: number;
}

export class WinogradConv {
  /**
   * Winograd-transformed weights kept per weights array, direction and shape, with a copy of
   * the weights they were made from: inference reuses them while the weights stay bit-for-bit
   * the same (checked on every call, so a weight written any way at all is seen).
   */
  private readonly transformed = new Map<string, { U: Block; copy: Block }>();

  constructor(private readonly ctx: WasmContext) {}

  /**
   * A stride-1 convolution (or its input gradient, `flip`) by Winograd, in three parallel
   * steps: transformed weights U and input V in shared blocks, then products and output tiles
   * by blocks of rows and tile columns. 3×3 kernels by F(2×2, 3×3) (assembly/winograd.ts),
   * 5×5 by F(3×3, 3×3) on four 3×3 sub-kernels sharing one input transform
   * (assembly/winograd5.ts). `gp`: the convolution's geometry record.
   */
  run(g: Conv2dGeometry, gp: number, flip: boolean, src: number, wp: number, bias: number, dst: number): void {
    const { k, run, records, scratch } = this.ctx;
    const five = g.KH === 5;
    const G = g.groups,
      Cg = g.C / G,
      Og = g.O / G;
    const Cs = flip ? Og : Cg,
      rows = flip ? Cg : Og;
    const OH = flip ? g.H : g.OH,
      OW = flip ? g.W : g.OW,
      srcC = flip ? g.O : g.C;
    // Output tiles m×m; F(2×2) keeps a multiple of 4 tiles per tile row, F(3×3) a separate,
    // one tile larger grid of transformed input (twv per row, Tv per image).
    const m = five ? 3 : 2,
      xi = five ? 25 : 16,
      K = five ? 4 * Cs : Cs,
      pad = g.KH - 1;
    const th = Math.ceil(OH / m),
      tw = five ? Math.ceil(OW / m) : roundUp(Math.ceil(OW / m), 4);
    const T = th * tw,
      J = roundUp(g.N * T, NR),
      twv = roundUp(tw + 1, 4),
      Tv = (th + 1) * twv;
    const vp = records.write('winograd', {
      Cs,
      Hs: flip ? g.OH : g.H,
      Ws: flip ? g.OW : g.W,
      pH: flip ? pad - g.padH : g.padH,
      pW: flip ? pad - g.padW : g.padW,
      OH,
      OW,
      rows,
      srcC,
      dstC: flip ? g.C : g.O,
      th,
      tw,
      T,
      J,
      twv,
      Tv,
    });
    const f = +flip;
    const rowStrips = roundUp(rows, MR) / MR;
    const kept = this.keptTransform(
      `${flip ? 'input gradient' : 'forward'} ${g.KH} ${G} ${Cg} ${Og} @${wp}`,
      wp,
      convWeights(g) * 4,
      G * xi * rowStrips * MR * K * 4,
    );
    const U = kept.U;
    const V = scratch.block('winogradV', G * xi * Cs * (five ? g.N * Tv : J) * 4);
    const parallel = run.parallel && g.N * g.O * g.OH * g.OW * Cg * g.KH * g.KW >= PARALLEL_MIN_MACS;
    const want = parallel ? run.wantPieces : 1;
    const [weights, input, multiply] = five
      ? (['winograd5Weights', 'winograd5Input', 'winograd5Multiply'] as const)
      : (['winogradWeights', 'winogradInput', 'winogradMultiply'] as const);
    // 1. Weights (memory-bound; kept from an earlier call when unchanged), 2. input planes.
    if (!kept.current) {
      run.split(weights, G * rowStrips, G * xi * rowStrips * MR * K, (q0, q1) => [gp, f, q0, q1, wp, U, vp]);
      kept.remember();
    }
    const planeBytes = five ? k.winograd5InputBytes(vp) : k.winogradInputBytes(vp);
    const planes = g.N * srcC;
    run.runPieces(
      input,
      ranges(planes, Math.min(planes, want), 1).map(([p0, p1]) => [gp, p0, p1, src, V, 0, vp]),
      planeBytes,
    );
    // 3. Products and output tiles: split tile columns when there are enough for every piece,
    // else rows (each piece then reads only its rows of U).
    const strips = J / NR,
      perGroup = Math.ceil(want / G);
    const colParts = strips >= perGroup ? perGroup : 1;
    const rowParts = Math.min(rowStrips, Math.ceil(perGroup / colParts));
    const pieces: number[][] = [];
    for (let gi = 0; gi < G; gi++) {
      for (const [r0, r1] of ranges(rows, rowParts, MR)) {
        for (const [s0, s1] of ranges(strips, colParts, 1)) pieces.push([gp, gi, r0, r1, s0, s1, U, V, bias, dst, 0, vp]);
      }
    }
    run.runPieces(multiply, pieces, five ? k.winograd5ProductsBytes(vp) : k.winogradProductsBytes());
  }

  /**
   * The weight gradient of a 3×3 stride-1 convolution by Winograd F(2×2, 3×3)
   * (assembly/winogradgrad.ts), in four parallel steps: input transform V and dy transform D
   * by planes, the 16 × groups GEMMs over the tiles, then dw = Gᵀ dU G (and dbias) by filters.
   * Every output element is one piece's sum in a fixed order: the same bits on any thread count.
   */
  weightGradient(g: Conv2dGeometry, gp: number, xp: number, dyp: number, dwp: number, dbp: number): void {
    const { k, run, records, scratch } = this.ctx;
    const G = g.groups,
      Cg = g.C / G,
      Og = g.O / G;
    const th = Math.ceil(g.OH / 2),
      tw = roundUp(Math.ceil(g.OW / 2), 4),
      T = th * tw,
      K = g.N * T;
    const vp = records.write('winograd', {
      Cs: Cg,
      Hs: g.H,
      Ws: g.W,
      pH: g.padH,
      pW: g.padW,
      OH: g.OH,
      OW: g.OW,
      rows: Og,
      srcC: g.C,
      dstC: g.O,
      th,
      tw,
      T,
      J: roundUp(K, NR),
      twv: 0,
      Tv: 0,
    });
    const V = scratch.block('winogradGradV', G * 16 * Cg * K * 4);
    const D = scratch.block('winogradGradD', G * 16 * Og * K * 4);
    const dU = scratch.block('winogradGradU', G * 16 * Og * Cg * 4);
    const planes = (count: number) => ranges(count, Math.min(count, run.wantPieces), 1);
    run.runPieces(
      'winogradGradInput',
      planes(g.N * g.C).map(([p0, p1]) => [gp, p0, p1, xp, V, 0, vp]),
      k.winogradInputBytes(vp),
    );
    run.runPieces(
      'winogradGradOutput',
      planes(g.N * g.O).map(([p0, p1]) => [gp, p0, p1, dyp, D, 0, vp]),
      k.winogradGradOutputBytes(vp),
    );
    run.runPieces(
      'winogradGradProducts',
      ranges(16 * G, Math.min(16 * G, run.wantPieces), 1).map(([q0, q1]) => [gp, q0, q1, D, V, dU, 0, vp]),
      this.ctx.gemmBytes,
    );
    run.split('winogradGradWeights', g.O, g.O * Cg * 16, (o0, o1) => [gp, o0, o1, dU, dyp, dwp, dbp, vp]);
  }

  /**
   * Where the transformed weights (uBytes) of the weights at wp (wBytes) go: a block kept for
   * `key`, `current` when it already holds the transform of exactly these weights; otherwise
   * the caller fills it and calls remember() to keep a copy of the weights it came from. The
   * oldest entries make room for new ones; one too large for the budget uses shared scratch.
   */
  private keptTransform(key: string, wp: number, wBytes: number, uBytes: number): { U: number; current: boolean; remember: () => void } {
    const { heap, k, scratch } = this.ctx;
    let entry = this.transformed.get(key);
    const fits = entry !== undefined && entry.U.bytes === uBytes && entry.copy.bytes === wBytes;
    const current = fits && k.sameBytes(entry!.copy.ptr, wp, wBytes) !== 0;
    if (fits) {
      // Most recently used last, so eviction takes the least recently used.
      this.transformed.delete(key);
      this.transformed.set(key, entry!);
    } else {
      if (entry) this.forget(key);
      if (uBytes + wBytes > TRANSFORMED_BYTES) return { U: scratch.block('winogradU', uBytes), current: false, remember: () => {} };
      let used = uBytes + wBytes;
      for (const e of this.transformed.values()) used += e.U.bytes + e.copy.bytes;
      for (const old of this.transformed.keys()) {
        if (used <= TRANSFORMED_BYTES) break;
        const e = this.transformed.get(old)!;
        used -= e.U.bytes + e.copy.bytes;
        this.forget(old);
      }
      entry = { U: { ptr: heap.allocBytes(uBytes), bytes: uBytes }, copy: { ptr: heap.allocBytes(wBytes), bytes: wBytes } };
      this.transformed.set(key, entry);
    }
    const copy = entry!.copy.ptr;
    return { U: entry!.U.ptr, current, remember: () => heap.f32(copy, wBytes / 4).set(heap.f32(wp, wBytes / 4)) };
  }

  private forget(key: string): void {
    const e = this.transformed.get(key);
    if (!e) return;
    this.ctx.heap.release(e.U.ptr);
    this.ctx.heap.release(e.copy.ptr);
    this.transformed.delete(key);
  }
}

/** Floats of a convolution's weights. */
export function convWeights(g: Conv2dGeometry): number {
  return g.O * (g.C / g.groups) * g.KH * g.KW;
}
