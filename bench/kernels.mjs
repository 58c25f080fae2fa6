// Kernel throughput of the wasm backend: GEMM GFLOP/s at square sizes, per thread count.
// Run: node --import tsx bench/kernels.mjs [threads...]   (needs dist-wasm/: node assembly/build.mjs)
import { createBackend } from '../src/backend/index.ts';

const threadCounts = process.argv.slice(2).map(Number);
if (threadCounts.length === 0) threadCounts.push(1, 2);

for (const threads of threadCounts) {
  const be = await createBackend('wasm', { threads });
  console.log(`wasm backend: ${be.variant} build, ${be.threads} thread(s)`);
  for (const n of [64, 128, 256, 512, 1024]) {
    for (const [tA, tB] of [[false, false], [false, true], [true, false]]) {
      const a = be.alloc(n * n), b = be.alloc(n * n), c = be.alloc(n * n);
      a.fill(0.5); b.fill(0.25);
      const flops = 2 * n * n * n;
      be.gemm(tA, tB, n, n, n, 1, a, b, 0, c);
      let reps = 0, best = Infinity;
      const end = performance.now() + 400;
      while (performance.now() < end || reps < 3) {
        const t0 = performance.now();
        be.gemm(tA, tB, n, n, n, 1, a, b, 0, c);
        best = Math.min(best, performance.now() - t0);
        reps++;
      }
      console.log(`  gemm ${n}³ ${tA ? 'Aᵀ' : 'A '}${tB ? 'Bᵀ' : 'B '}  ${(flops / best / 1e6).toFixed(1)} GFLOP/s (best of ${reps})`);
    }
  }
  be.dispose();
}
