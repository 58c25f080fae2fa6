// Kernel throughput of the wasm backend: GEMM GFLOP/s at square sizes, and every kernel of a
// LeNet-5 training step at batch 64, for each thread count given (default: 1 and 2).
// Reports the best and the median of repeated runs: on a shared machine the best is the
// kernel's speed, the median what a run sees.
// Run: node --import tsx bench/kernels.mjs [threads...]    (needs dist-wasm/: node assembly/build.mjs)
// Add --experimental-wasm-relaxed-simd before --import on Node 20 to measure the FMA build.
import { createBackend } from '../src/backend/index.ts';

const threadCounts = process.argv.slice(2).map(Number);
if (threadCounts.length === 0) threadCounts.push(1, 2);

function time(label, f, flops = 0, ms = 400) {
  f();
  const runs = [];
  const end = performance.now() + ms;
  while (performance.now() < end || runs.length < 5) {
    const t0 = performance.now();
    f();
    runs.push(performance.now() - t0);
  }
  runs.sort((a, b) => a - b);
  const best = runs[0],
    median = runs[runs.length >> 1];
  const rate = (t) => (flops ? `${(flops / t / 1e6).toFixed(1).padStart(6)} GFLOP/s` : '');
  console.log(
    `  ${label.padEnd(30)} best ${(best * 1000).toFixed(0).padStart(6)} µs ${rate(best)}   median ${(median * 1000).toFixed(0).padStart(6)} µs ${rate(median)}`,
  );
}

function random(be, n) {
  const a = be.alloc(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() - 0.5;
  return a;
}

for (const threads of threadCounts) {
  const be = await createBackend('wasm', { threads });
  console.log(`wasm backend: ${be.variant} build, ${be.threads} thread(s)`);
  for (const n of [64, 256, 1024]) {
    const a = random(be, n * n),
      b = random(be, n * n),
      c = be.alloc(n * n);
    for (const [tA, tB] of [
      [false, false],
      [false, true],
      [true, false],
    ]) {
      time(`gemm ${n}³ ${tA ? 'T' : 'N'}${tB ? 'T' : 'N'}`, () => be.gemm(tA, tB, n, n, n, 1, a, b, 0, c), 2 * n * n * n);
    }
  }

  const N = 64;
  const convs = {
    'conv1 1→6 5×5 pad 2': {
      N,
      C: 1,
      H: 28,
      W: 28,
      O: 6,
      KH: 5,
      KW: 5,
      strideH: 1,
      strideW: 1,
      padH: 2,
      padW: 2,
      OH: 28,
      OW: 28,
      groups: 1,
      dilationH: 1,
      dilationW: 1,
    },
    'conv2 6→16 5×5': {
      N,
      C: 6,
      H: 14,
      W: 14,
      O: 16,
      KH: 5,
      KW: 5,
      strideH: 1,
      strideW: 1,
      padH: 0,
      padW: 0,
      OH: 10,
      OW: 10,
      groups: 1,
      dilationH: 1,
      dilationW: 1,
    },
  };
  for (const [name, g] of Object.entries(convs)) {
    const x = random(be, N * g.C * g.H * g.W),
      w = random(be, g.O * g.C * g.KH * g.KW),
      bias = random(be, g.O);
    const y = random(be, N * g.O * g.OH * g.OW),
      dx = be.alloc(x.length),
      dw = be.alloc(w.length),
      db = be.alloc(g.O);
    const flops = 2 * N * g.O * g.OH * g.OW * g.C * g.KH * g.KW;
    time(`${name} forward`, () => be.conv2dForward(g, x, w, bias, y), flops);
    time(`${name} backward input`, () => be.conv2dBackwardInput(g, y, w, dx), flops);
    time(`${name} backward weights`, () => be.conv2dBackwardWeights(g, x, y, dw, db), flops);
  }
  const pools = {
    'maxpool1 6×28×28': { N, C: 6, H: 28, W: 28, KH: 2, KW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, OH: 14, OW: 14 },
    'maxpool2 16×10×10': { N, C: 16, H: 10, W: 10, KH: 2, KW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, OH: 5, OW: 5 },
  };
  for (const [name, g] of Object.entries(pools)) {
    const x = random(be, N * g.C * g.H * g.W),
      y = be.alloc(N * g.C * g.OH * g.OW),
      argmax = new Int32Array(y.length),
      dx = be.alloc(x.length);
    time(`${name} forward`, () => be.maxPool2dForward(g, x, y, argmax));
    time(`${name} backward`, () => be.maxPool2dBackward(g, y, argmax, dx));
  }
  for (const [M, Nn, K, tA, tB, name] of [
    [64, 120, 400, false, true, 'fc1 forward'],
    [120, 400, 64, true, false, 'fc1 weight gradient'],
    [64, 400, 120, false, false, 'fc1 input gradient'],
  ]) {
    const a = random(be, M * K),
      b = random(be, K * Nn),
      c = be.alloc(M * Nn);
    time(`${name} ${M}×${Nn}×${K}`, () => be.gemm(tA, tB, M, Nn, K, 1, a, b, 0, c), 2 * M * Nn * K);
  }
  const r = random(be, N * 6 * 28 * 28),
    r2 = be.alloc(r.length),
    r3 = be.alloc(r.length);
  time('relu 64×6×28×28', () => be.relu(r, r2));
  time('reluBackward 64×6×28×28', () => be.reluBackward(r, r2, r3));
  be.dispose();
}
