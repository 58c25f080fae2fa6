#!/usr/bin/env node
/**
 * Training speed on the GPU (`npm run bench:gpu`): the ConvNetJS demo net and LeNet-5 at batch
 * 64 on real MNIST, AlexNet at batch 16 on random 227×227 images, each a whole training step
 * (forward, loss, backward, gradient norms, SGD update, loss and probabilities read back).
 * Medians of timed steps after warm-up. On a software adapter (SwiftShader) the figures only
 * show that the path works; run it on a machine with a real GPU for speed.
 *
 *   node bench/gpu.mjs [--models demo,lenet5,alexnet] [--steps N] [--warmup N] [--backend webgpu|wasm|auto] [--json]
 */
import { loadConvkit } from './lib/convkit.mjs';
import { summarize } from './lib/stats.mjs';

const MODELS = {
  demo: { zoo: 'convnetjs-mnist', batch: 64, mnist: true, title: 'ConvNetJS demo net, training, batch 64' },
  lenet5: { zoo: 'lenet5', batch: 64, mnist: true, title: 'LeNet-5, training, batch 64' },
  alexnet: { zoo: 'alexnet', batch: 16, mnist: false, title: 'AlexNet, training, batch 16' },
};

function parseArgs(argv) {
  const o = { models: Object.keys(MODELS), steps: 10, warmup: 2, backend: 'webgpu', json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], next = () => { if (i + 1 >= argv.length) throw new Error(`${a} needs a value`); return argv[++i]; };
    if (a === '--models') o.models = next().split(',');
    else if (a === '--steps') o.steps = Number(next());
    else if (a === '--warmup') o.warmup = Number(next());
    else if (a === '--backend') o.backend = next();
    else if (a === '--json') o.json = true;
    else if (a === '--help') { o.help = true; }
    else throw new Error(`unknown option ${a} (see --help)`);
  }
  for (const m of o.models) if (!MODELS[m]) throw new Error(`unknown model ${m} (known: ${Object.keys(MODELS).join(', ')})`);
  if (!(Number.isInteger(o.steps) && o.steps >= 1) || !(Number.isInteger(o.warmup) && o.warmup >= 0)) throw new Error('--steps ≥ 1 and --warmup ≥ 0 must be integers');
  return o;
}

/** One training step of the trainer's shape, ending in the one read-back a step needs. */
function makeStep(ck, model, batch) {
  const be = model.backend;
  const loss = new ck.SoftmaxCrossEntropy(be);
  const optimizer = new ck.Optimizer({ type: 'sgd', momentum: 0.9, weightDecay: 5e-4 }, be);
  const params = model.parameters();
  const squares = be.alloc(params.length);
  const x = new ck.Tensor([batch.B, ...model.inputShape], be.alloc(batch.x.length));
  x.data.set(batch.x);
  be.upload(x.data);
  return async () => {
    const out = loss.compute(model.forward(x, true), batch.labels);
    model.backward(out.grad);
    params.forEach((p, i) => be.sumOfSquares(p.grad.data, squares, i));
    optimizer.step(params, 0.01);
    await be.download([out.lossValue, out.probs.data, squares]);
    if (!Number.isFinite(out.lossValue[0])) throw new Error(`loss is ${out.lossValue[0]}`);
    return out.lossValue[0];
  };
}

function batchFor(ck, model, m) {
  const [C, H, W] = model.inputShape, B = m.batch, per = C * H * W;
  const x = new Float32Array(B * per);
  if (m.mnist) {
    const ds = ck.loadMnist('train');
    const labels = new Uint8Array(B);
    ck.fillBatch(ds, Int32Array.from({ length: B }, (_, i) => i), 0, new ck.Tensor([B, C, H, W], x), labels, { crop: 'center' });
    return { B, x, labels, source: 'MNIST' };
  }
  const rng = new ck.Rng(7);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  return { B, x, labels: Int32Array.from({ length: B }, () => rng.int(model.outputShape[0])), source: 'random' };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.help) { console.log(String(await import('node:fs').then((fs) => fs.readFileSync(new URL(import.meta.url), 'utf8'))).split('\n').slice(2, 10).join('\n')); return; }
  const ck = await loadConvkit();
  const say = (s) => (o.json ? process.stderr : process.stdout).write(`${s}\n`);
  const choice = await ck.selectBackend(o.backend);
  const be = choice.backend;
  const adapter = be.info ? ck.describeAdapter(be.info) : undefined;
  say(`backend: ${choice.reason}${adapter ? `; adapter: ${adapter.description}${adapter.software ? ' (software: a correctness smoke run, not a speed figure)' : ''}` : ''}`);
  say(`method: ${o.warmup} warm-up step(s), then ${o.steps} timed step(s) per model; median (min–max) images/second`);
  try {
    for (const name of o.models) {
      const m = MODELS[name];
      const model = new ck.Model(ck.zoo[m.zoo].build(), be, 1);
      const batch = batchFor(ck, model, m);
      const step = makeStep(ck, model, batch);
      for (let i = 0; i < o.warmup; i++) await step();
      const rates = [];
      let lastLoss = NaN;
      for (let i = 0; i < o.steps; i++) {
        const t0 = performance.now();
        lastLoss = await step();
        rates.push(batch.B / ((performance.now() - t0) / 1000));
      }
      const s = summarize(rates);
      say(`${m.title} (${batch.source}): ${s.median.toFixed(1)} img/s (${s.min.toFixed(1)}–${s.max.toFixed(1)}), ${(1000 * batch.B / s.median).toFixed(0)} ms/step, loss ${lastLoss.toFixed(3)}`);
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ work: `train-${name}`, library: `convkit ${be.name}`, median: s.median, min: s.min, max: s.max, unit: 'img/s', runs: s.runs, batch: batch.B, adapter: adapter?.description, software: adapter?.software })}\n`);
      }
    }
  } finally {
    be.dispose?.();
  }
}

main().catch((e) => {
  process.stderr.write(`bench:gpu: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
