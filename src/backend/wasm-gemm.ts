import type { WasmContext } from './wasm-context.js';
import { ranges } from './wasm-split.js';
import { GEMM_PIECE_MACS, MR, NR, PARALLEL_MIN_MACS } from './wasm-tuning.js';

/** C = alpha·op(A)·op(B) + beta·C on pointers, split over rows or columns of C across threads when large. */
export function gemmOnPointers(
  ctx: WasmContext,
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  a: number,
  lda: number,
  b: number,
  ldb: number,
  beta: number,
  c: number,
  ldc: number,
): void {
  const { k, run, scratch } = ctx;
  const tA = +transA,
    tB = +transB;
  // Split the larger side of C in whole micro-tiles: each block packs all of the other
  // operand, so that redundant packing falls on the smaller one.
  const byRows = M >= N;
  const tile = byRows ? MR : NR,
    side = byRows ? M : N;
  const macs = M * N * K;
  if (!run.parallel || macs < PARALLEL_MIN_MACS || side <= tile) {
    k.gemm(tA, tB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, scratch.workspace(0, ctx.gemmBytes));
    return;
  }
  if (byRows) {
    // B packed once, in parallel, and shared: each block of rows packs only its own A.
    const strips = Math.ceil(N / NR);
    const pb = scratch.block('gemmB', strips * NR * K * 4);
    run.split('gemmPackB', strips, N * K, (s0, s1) => [tB, K, N, b, ldb, s0, s1, pb]);
    const rowParts = Math.min(Math.ceil(M / MR), run.wantPieces);
    run.runPieces(
      'gemmPacked',
      ranges(M, rowParts, MR).map(([r0, r1]) => [tA, r1 - r0, N, K, alpha, a + (transA ? r0 : r0 * lda) * 4, lda, pb, beta, c + r0 * ldc * 4, ldc, 0]),
      ctx.gemmBytes,
    );
    return;
  }
  // By columns: one block per thread, or up to a few per thread when large (balance beats packing then).
  const threads = run.threads;
  const parts = Math.min(Math.ceil(side / tile), Math.max(threads, Math.min(run.wantPieces, Math.floor(macs / GEMM_PIECE_MACS))));
  const chunk = Math.ceil(side / tile / parts) * tile;
  const pieces: number[][] = [];
  for (let s0 = 0; s0 < side; s0 += chunk) {
    const n = Math.min(side, s0 + chunk) - s0;
    pieces.push([tA, tB, M, n, K, alpha, a, lda, b + (transB ? s0 * ldb : s0) * 4, ldb, beta, c + s0 * 4, ldc, 0]);
  }
  run.runPieces('gemm', pieces, ctx.gemmBytes);
}
