#!/usr/bin/env node
/**
 * Paired before/after timing of the wasm backend from two checkouts' builds (dist/) in one
 * process: for each work, rounds alternate A then B and B then A, each block running the same
 * number of steps (about 0.15 s of A), so load from other processes falls on both alike; prints
 * one JSON line per work with both medians and the median of the per-round speed ratios.
 *
 *   node --experimental-wasm-relaxed-simd bench/ab.mjs BEFORE_DIR AFTER_DIR [ROUNDS=15] [THREADS=1]
 *
 * Random inputs; both sides build the same zoo networks with the same seed.
 */
import { resolve } from 'node:path';

const [baseDir, newDir, rounds = '15', threads = '1'] = process.argv.slice(2);
const load = async (dir) => ({ ...(await import(new URL(`file://${resolve(dir)}/dist/index.js`).href)) });
const A = await load(baseDir),
  B = await load(newDir);
const works = [
  ['train-lenet5-b64', 'lenet5', 64, true],
  ['train-convnetjs-b64', 'convnetjs-mnist', 64, true],
  ['infer-lenet5-b64', 'lenet5', 64, false],
  ['infer-convnetjs-b64', 'convnetjs-mnist', 64, false],
  ['infer-lenet5-b1', 'lenet5', 1, false],
  ['infer-convnetjs-b1', 'convnetjs-mnist', 1, false],
  ['alexnet-forward-b1', 'alexnet', 1, false],
];
let seed = 7;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 32 - 0.5;
};
async function prepare(ck, zoo, batch, train) {
  const backend = await ck.createBackend('wasm', { threads: Number(threads) });
  const spec = ck.zoo[zoo].build();
  const model = new ck.Model(spec, backend, 1);
  const [C, H, W] = spec.inputShape;
  seed = 7;
  const x = new ck.Tensor([batch, C, H, W], backend.alloc(batch * C * H * W));
  for (let i = 0; i < x.data.length; i++) x.data[i] = rnd();
  const labels = Int32Array.from({ length: batch }, (_, i) => i % 10);
  if (!train) return { backend, step: () => model.forward(x, false) };
  const loss = new ck.SoftmaxCrossEntropy(backend);
  const opt = new ck.Optimizer({ type: 'sgd', momentum: 0.9, weightDecay: 0 }, backend);
  const params = model.parameters();
  return {
    backend,
    step: () => {
      const l = model.forward(x, true);
      const o = loss.compute(l, labels);
      model.backward(o.grad);
      opt.step(params, 0.01);
    },
  };
}
const med = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
for (const [id, zoo, batch, train] of works) {
  const a = await prepare(A, zoo, batch, train),
    b = await prepare(B, zoo, batch, train);
  for (let i = 0; i < 3; i++) {
    a.step();
    b.step();
  }
  // Steps per block: about 0.15 s on A.
  let t0 = performance.now(),
    n = 0;
  while (performance.now() - t0 < 150) {
    a.step();
    n++;
  }
  const time = (p) => {
    const t = performance.now();
    for (let i = 0; i < n; i++) p.step();
    return (performance.now() - t) / n;
  };
  const ta = [],
    tb = [],
    ratio = [];
  for (let r = 0; r < Number(rounds); r++) {
    let x, y;
    if (r % 2 === 0) {
      x = time(a);
      y = time(b);
    } else {
      y = time(b);
      x = time(a);
    }
    ta.push(x);
    tb.push(y);
    ratio.push(x / y);
  }
  const unit = id.startsWith('alexnet') ? 'ms' : 'img/s';
  const fig = (ms) => (unit === 'ms' ? ms.toFixed(1) : Math.round((batch * 1000) / ms));
  console.log(
    JSON.stringify({
      id,
      threads: Number(threads),
      unit,
      before: fig(med(ta)),
      after: fig(med(tb)),
      speedRatio: +med(ratio).toFixed(3),
      ratioRange: [+Math.min(...ratio).toFixed(2), +Math.max(...ratio).toFixed(2)],
      rounds: ratio.length,
      stepsPerBlock: n,
    }),
  );
  a.backend.dispose?.();
  b.backend.dispose?.();
}
