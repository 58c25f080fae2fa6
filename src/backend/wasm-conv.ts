/**
 * Convolutions on the wasm backend, on pointers: the route (wasm-routes.ts) and how each
 * route's kernels are split across threads. Every output element is one piece's sum in a fixed
 * order, or (the kernel route's weight gradient) partial sums added in range order: results do
 * not depend on the thread count's scheduling.
 */

import type { Conv2dGeometry } from './backend.js';
import type { WasmContext } from './wasm-context.js';
import { convRoute } from './wasm-routes.js';
import { ranges } from './wasm-split.js';
import { MR, NR, PARALLEL_MIN_MACS, PARTIALS_BYTES } from './wasm-tuning.js';
import { WinogradConv, convWeights } from './wasm-winograd.js';

export class ConvOrchestrator {
  private readonly winograd: WinogradConv;

  constructor(private readonly ctx: WasmContext) {
    this.winograd = new WinogradConv(ctx);
  }

  forward(g: Conv2dGeometry, xp: number, wp: number, bp: number, yp: number): void {
    const gp = this.ctx.records.conv(g);
    const route = convRoute(g, 'forward');
    if (route === 'winograd') {
      this.winograd.run(g, gp, false, xp, wp, bp, yp);
    } else if (route === 'convgemm') {
      const packed = this.packWeights(gp, false, wp);
      this.convGemmSplit(g, gp, g.OH * g.OW, (n0, n1, j0, j1) => [gp, 0, n0, n1, j0, j1, xp, packed, bp, yp, 0]);
    } else {
      const packed = this.directPacked(gp, false, wp);
      this.batchSplit(g, gp, 'conv2dForward', (n0, n1) => [gp, n0, n1, xp, wp, bp, yp, 0, packed]);
    }
  }

  backwardInput(g: Conv2dGeometry, dyp: number, wp: number, dxp: number): void {
    const gp = this.ctx.records.conv(g);
    const route = convRoute(g, 'input');
    if (route === 'winograd') {
      this.winograd.run(g, gp, true, dyp, wp, 0, dxp);
    } else if (route === 'convgemm') {
      const packed = this.packWeights(gp, true, wp);
      this.convGemmSplit(g, gp, g.H * g.W, (n0, n1, j0, j1) => [gp, 1, n0, n1, j0, j1, dyp, packed, 0, dxp, 0]);
    } else {
      const packed = this.directPacked(gp, true, wp);
      this.batchSplit(g, gp, 'conv2dBackwardInput', (n0, n1) => [gp, n0, n1, dyp, wp, dxp, 0, packed]);
    }
  }

  backwardWeights(g: Conv2dGeometry, xp: number, dyp: number, dwp: number, dbp: number): void {
    const { k, run, scratch, heap } = this.ctx;
    const gp = this.ctx.records.conv(g);
    const route = convRoute(g, 'weights');
    if (route === 'winograd') {
      this.winograd.weightGradient(g, gp, xp, dyp, dwp, dbp);
      return;
    }
    const workBytes = k.convWorkspaceBytes(gp);
    const what = describe(g, 'weight gradient', route);
    if (route === 'convgemm') {
      // dy packed once (in parallel) and shared; pieces split groups, then the gradient's columns
      // (taps): no partial sums, the same bits on any thread count.
      const G = g.groups,
        R = (g.C / G) * g.KH * g.KW;
      const packedFloats = k.convPackedGradientFloats(gp);
      heap.checkFits(packedFloats * 4 + run.threads * workBytes, what);
      const pdy = scratch.block('convDy', packedFloats * 4, what);
      const strips = G * Math.ceil(g.O / G / MR);
      run.split('convPackGradient', strips, packedFloats, (q0, q1) => [gp, q0, q1, dyp, pdy]);
      const pieces: number[][] = [];
      if (!run.parallel || macs(g) < PARALLEL_MIN_MACS) {
        pieces.push([gp, 0, G, 0, R, xp, dyp, pdy, dwp, dbp, 0]);
      } else {
        const perGroup = Math.ceil(run.wantPieces / G);
        for (let gi = 0; gi < G; gi++) {
          for (const [j0, j1] of ranges(R, perGroup, NR)) pieces.push([gp, gi, gi + 1, j0, j1, xp, dyp, pdy, dwp, dbp, 0]);
        }
      }
      run.runPieces('convGemmWeights', pieces, workBytes);
      return;
    }
    heap.checkFits(workBytes, what);
    if (!run.parallel || !worthSplitting(g)) {
      k.conv2dBackwardWeights(gp, 0, g.N, xp, dyp, dwp, dbp, scratch.workspace(0, workBytes));
      return;
    }
    heap.checkFits(run.threads * workBytes, what);
    // Image ranges, each into its own partial gradient, summed here in range order: the result
    // does not depend on which thread ran which range (reproducible training). A few ranges per
    // thread balance the load, as memory for the partials allows.
    const wn = convWeights(g);
    const stride = (wn + g.O) * 4;
    const count = Math.max(run.threads, Math.min(run.wantPieces, Math.floor(PARTIALS_BYTES / stride)));
    const parts = ranges(g.N, Math.min(g.N, count), 1);
    const partials = scratch.block('partials', parts.length * stride);
    run.runPieces(
      'conv2dBackwardWeights',
      parts.map(([n0, n1], i) => {
        const p = partials + i * stride;
        return [gp, n0, n1, xp, dyp, p, dbp ? p + wn * 4 : 0, 0];
      }),
      workBytes,
    );
    heap.f32(dwp, wn).set(heap.f32(partials, wn));
    if (dbp) heap.f32(dbp, g.O).set(heap.f32(partials + wn * 4, g.O));
    for (let i = 1; i < parts.length; i++) {
      k.add(dwp, partials + i * stride, dwp, wn);
      if (dbp) k.add(dbp, partials + i * stride + wn * 4, dbp, g.O);
    }
  }

  /**
   * The direct kernel's filters (flipped for the input gradient) packed once into a shared
   * block for all image ranges of a call, or 0 when the call does not take the direct route.
   */
  private directPacked(gp: number, flip: boolean, wp: number): number {
    const { k, scratch } = this.ctx;
    if (!k.usesDirect(gp, +flip)) return 0;
    const ptr = scratch.block('directFilters', k.directPackedBytes(gp, +flip));
    k.directPack(gp, +flip, wp, ptr);
    return ptr;
  }

  /** Packs conv weights (flipped for the input gradient) for the GEMM micro-kernel into a block shared by all threads of the call. */
  private packWeights(gp: number, flip: boolean, wp: number): number {
    const { k, run, scratch } = this.ctx;
    const floats = k.convPackedWeightsFloats(gp, +flip);
    const packed = scratch.block('convWeights', floats * 4);
    // Memory-bound: split across threads when large (a strip is MR rows of all taps).
    run.split('convPackWeights', k.convPackedStrips(gp, +flip), floats, (q0, q1) => [gp, +flip, q0, q1, wp, packed]);
    return packed;
  }

  /**
   * Runs a conv kernel over the batch: here, or in image ranges spread over the threads
   * (a few per thread, so that a late thread leaves its share to the others).
   */
  private batchSplit(g: Conv2dGeometry, gp: number, kernel: 'conv2dForward' | 'conv2dBackwardInput', args: (n0: number, n1: number) => number[]): void {
    const { k, run } = this.ctx;
    const pieces = run.parallel && worthSplitting(g) ? ranges(g.N, Math.min(g.N, run.wantPieces), 1).map(([n0, n1]) => args(n0, n1)) : [args(0, g.N)];
    const workBytes = k.convWorkspaceBytes(gp);
    this.ctx.heap.checkFits(
      (pieces.length > 1 ? run.threads : 1) * workBytes,
      describe(g, kernel === 'conv2dForward' ? 'forward' : 'input gradient', 'kernel'),
    );
    run.runPieces(kernel, pieces, workBytes);
  }

  /**
   * Runs convGemmForward over the batch: image ranges when the batch has enough images for
   * every thread, otherwise each image's output positions in column ranges (batch 1 uses all
   * threads too). Every output element is computed whole by one piece, so the split does not
   * change the result.
   */
  private convGemmSplit(g: Conv2dGeometry, gp: number, P: number, args: (n0: number, n1: number, j0: number, j1: number) => number[]): void {
    const { k, run } = this.ctx;
    const parts: [number, number, number, number][] = [];
    if (!run.parallel || macs(g) < PARALLEL_MIN_MACS) {
      parts.push([0, g.N, 0, P]);
    } else {
      const want = run.wantPieces;
      if (g.N >= want) {
        for (const [n0, n1] of ranges(g.N, want, 1)) parts.push([n0, n1, 0, P]);
      } else {
        const cols = ranges(P, Math.ceil(want / g.N), NR);
        for (let n = 0; n < g.N; n++) for (const [j0, j1] of cols) parts.push([n, n + 1, j0, j1]);
      }
    }
    run.runPieces(
      'convGemmForward',
      parts.map(([n0, n1, j0, j1]) => args(n0, n1, j0, j1)),
      k.convWorkspaceBytes(gp),
    );
  }
}

/** A convolution call as errors name it: what is computed, its shape, the route that needs the memory. */
function describe(g: Conv2dGeometry, what: string, route: string): string {
  const pad = g.padH === g.padW ? `${g.padH}` : `${g.padH}×${g.padW}`;
  return (
    `the convolution ${what} (${g.KH}×${g.KW} kernel, ${g.C}→${g.O} channels, ${g.H}×${g.W} input padded by ${pad}, ` +
    `batch ${g.N}, ${route} route) workspace`
  );
}

/** Multiply-adds of a convolution. */
function macs(g: Conv2dGeometry): number {
  return g.N * g.O * g.OH * g.OW * (g.C / g.groups) * g.KH * g.KW;
}

/** Whether a convolution has enough work to split across threads. */
function worthSplitting(g: Conv2dGeometry): boolean {
  return g.N > 1 && macs(g) >= PARALLEL_MIN_MACS;
}
