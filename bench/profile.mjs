// Per-kernel profile of a zoo model on the wasm backend: forward (inference) and/or a training
// step, time per backend call grouped by kernel and shape, medians over repeated steps.
// Run: node --experimental-wasm-relaxed-simd --import tsx bench/profile.mjs [--model alexnet] [--batch 1] [--train] [--threads 2] [--steps 5] [--cpu]
// --cpu: process CPU time (all threads) instead of wall time, steadier on a machine other work shares.
import { createBackend } from '../src/backend/index.ts';
import { Model } from '../src/model/model.ts';
import { zooEntry } from '../src/model/zoo.ts';
import { SoftmaxCrossEntropy } from '../src/train/loss.ts';
import { Optimizer } from '../src/train/optimizer.ts';
import { Tensor } from '../src/tensor.ts';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? dflt : args[i + 1];
};
const modelName = opt('model', 'alexnet'),
  batch = +opt('batch', 1),
  threads = +opt('threads', 2),
  steps = +opt('steps', 5);
const train = args.includes('--train');
const useCpu = args.includes('--cpu');
const now = useCpu
  ? () => {
      const c = process.cpuUsage();
      return (c.user + c.system) / 1e3;
    }
  : () => performance.now();

const be = await createBackend('wasm', { threads });
const times = new Map();
// The backend's own helpers (not Backend methods): timing them would count each call twice.
const PRIVATE = new Set([
  'split',
  'convSplit',
  'gemmPtr',
  'elementwise',
  'unary',
  'binary',
  'workspace',
  'workspaces',
  'partials',
  'poolGeometry',
  'convGeometry',
  'worthSplitting',
  'dispose',
  'runPieces',
  'convGemmSplit',
  'packWeights',
  'winograd',
  'block',
  'keptTransform',
  'forget',
  'winogradWeightGradient',
]);
let recording = false;
for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(be))) {
  const f = be[name];
  if (typeof f !== 'function' || PRIVATE.has(name) || name === 'constructor' || name === 'alloc' || name === 'upload' || name === 'download') continue;
  be[name] = function (...a) {
    if (!recording) return f.apply(this, a);
    const t0 = now();
    const r = f.apply(this, a);
    const dt = now() - t0;
    const g = a[0] && typeof a[0] === 'object' && 'KH' in a[0] ? a[0] : null;
    const key = g
      ? `${name} ${g.N}x${g.C}x${g.H}x${g.W} O${g.O} k${g.KH}s${g.strideH}g${g.groups ?? ''}`
      : name === 'gemm'
        ? `gemm ${a[0] ? 'T' : 'N'}${a[1] ? 'T' : 'N'} ${a[2]}x${a[3]}x${a[4]}`
        : name;
    const e = times.get(key) ?? { total: 0, calls: 0 };
    e.total += dt;
    e.calls++;
    times.set(key, e);
    return r;
  };
}
const spec = zooEntry(modelName).build();
const model = new Model(spec, be, 1);
const [C, H, W] = spec.inputShape ?? model.inputShape;
const x = new Tensor([batch, C, H, W], be.alloc(batch * C * H * W));
for (let i = 0; i < x.data.length; i++) x.data[i] = Math.sin(i);
const labels = new Int32Array(batch).map((_, i) => i % 10);
const loss = new SoftmaxCrossEntropy(be);
// A training step as the benchmark harness times it: forward, loss, backward, SGD update.
const optimizer = new Optimizer({ type: 'sgd', momentum: 0.9, weightDecay: 0 }, be);
const params = model.parameters();
const step = () => {
  if (!train) {
    model.forward(x, false);
    return;
  }
  const logits = model.forward(x, true);
  const out = loss.compute(logits, labels);
  model.backward(out.grad);
  optimizer.step(params, 0.01);
};
step();
step();
const totals = [];
recording = true;
for (let s = 0; s < steps; s++) {
  const t0 = now();
  step();
  totals.push(now() - t0);
}
recording = false;
totals.sort((a, b) => a - b);
console.log(
  `${modelName} ${train ? 'train' : 'forward'} batch ${batch}, ${be.threads} threads, ${be.variant}, ${useCpu ? 'CPU time' : 'wall time'}: median ${totals[totals.length >> 1].toFixed(1)} ms (min ${totals[0].toFixed(1)})`,
);
const rows = [...times].sort((a, b) => b[1].total - a[1].total);
let sum = 0;
for (const [, e] of rows) sum += e.total;
for (const [k, e] of rows) console.log(`${(e.total / steps).toFixed(2).padStart(9)} ms ${((100 * e.total) / sum).toFixed(1).padStart(5)}%  ${k}`);
be.dispose?.();
