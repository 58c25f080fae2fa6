#!/usr/bin/env node
/**
 * Speed and step structure on the GPU (`npm run bench:gpu`): SGEMM at 1024³ and 4096³, then whole
 * training steps (forward, loss, backward, gradient norms, optimizer update, loss and
 * probabilities read back) of the ConvNetJS demo net and LeNet-5 at batch 64 and 512 on real
 * MNIST, AlexNet and ResNet-18 (224²) at batch 64 on random images. Per step it reports images/s
 * and what the step asked of the GPU: dispatches, submits, copies, blocking and non-blocking
 * read-backs, bytes read back; then per-kernel times of one profiled step (GPU timestamps where
 * the adapter has 'timestamp-query'). Steps read back the way the trainer should: step k's
 * results through downloadLater while step k + 1 is recorded (--readback blocking: download).
 * On a software adapter (SwiftShader) the figures only show that the path works: use --quick
 * (small sizes, a minute or two) there; run it on a machine with a real GPU for speed.
 *
 *   node bench/gpu.mjs [--quick] [--models gemm,demo,lenet5,alexnet,resnet18] [--steps N] [--warmup N]
 *                      [--readback later|blocking] [--kernels N] [--backend webgpu|wasm|auto] [--json]
 */
import { loadConvkit } from './lib/convkit.mjs';
import { summarize } from './lib/stats.mjs';

/** Full sizes (a real GPU) and --quick ones (a software adapter in CI-like time). */
const WORKS = {
  gemm: { full: [1024, 4096], quick: [128, 256] },
  demo: { zoo: 'convnetjs-mnist', mnist: true, title: 'ConvNetJS demo net', full: [{ batch: 64 }, { batch: 512 }], quick: [{ batch: 16 }, { batch: 64 }] },
  lenet5: { zoo: 'lenet5', mnist: true, title: 'LeNet-5', full: [{ batch: 64 }, { batch: 512 }], quick: [{ batch: 16 }, { batch: 64 }] },
  alexnet: {
    zoo: 'alexnet',
    mnist: false,
    title: 'AlexNet',
    full: [{ batch: 64, note: '227×227, 1 000 classes' }],
    quick: [{ batch: 2, options: { inputShape: [3, 67, 67], width: 1 / 8, classes: 10 }, note: '67×67, width 1/8' }],
  },
  resnet18: {
    zoo: 'resnet18',
    mnist: false,
    title: 'ResNet-18',
    full: [{ batch: 64, note: '224×224, 1 000 classes' }],
    quick: [{ batch: 2, options: { inputShape: [3, 32, 32], width: 1 / 8, classes: 10 }, note: '32×32, width 1/8' }],
  },
};

function parseArgs(argv) {
  const o = { works: Object.keys(WORKS), steps: 10, warmup: 2, backend: 'webgpu', json: false, quick: false, readback: 'later', kernels: 8 };
  let stepsGiven = false,
    warmupGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i],
      next = () => {
        if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
        return argv[++i];
      };
    if (a === '--models') o.works = next().split(',');
    else if (a === '--steps') {
      o.steps = Number(next());
      stepsGiven = true;
    } else if (a === '--warmup') {
      o.warmup = Number(next());
      warmupGiven = true;
    } else if (a === '--backend') o.backend = next();
    else if (a === '--readback') o.readback = next();
    else if (a === '--kernels') o.kernels = Number(next());
    else if (a === '--quick') o.quick = true;
    else if (a === '--json') o.json = true;
    else if (a === '--help') o.help = true;
    else throw new Error(`unknown option ${a} (see --help)`);
  }
  if (o.quick) {
    if (!stepsGiven) o.steps = 3;
    if (!warmupGiven) o.warmup = 1;
  }
  for (const m of o.works) if (!WORKS[m]) throw new Error(`unknown model ${m} (known: ${Object.keys(WORKS).join(', ')})`);
  if (!(Number.isInteger(o.steps) && o.steps >= 1) || !(Number.isInteger(o.warmup) && o.warmup >= 0))
    throw new Error('--steps ≥ 1 and --warmup ≥ 0 must be integers');
  if (o.readback !== 'later' && o.readback !== 'blocking') throw new Error('--readback is later or blocking');
  if (!(Number.isInteger(o.kernels) && o.kernels >= 0)) throw new Error('--kernels is a count ≥ 0');
  return o;
}

/**
 * One training step of the trainer's shape. `record` queues the step's kernels and starts its
 * read-back (returned as a promise: downloadLater, or download when blocking or unsupported).
 */
function makeStep(ck, model, batch, readback) {
  const be = model.backend;
  const loss = new ck.SoftmaxCrossEntropy(be);
  const optimizer = new ck.Optimizer({ type: 'sgd', momentum: 0.9, weightDecay: 5e-4 }, be);
  const params = model.parameters();
  const squares = be.alloc(params.length);
  const x = new ck.Tensor([batch.B, ...model.inputShape], be.alloc(batch.x.length));
  x.data.set(batch.x);
  be.upload(x.data);
  const read = readback === 'later' && be.downloadLater ? (a) => be.downloadLater(a) : (a) => be.download(a);
  return () => {
    const out = loss.compute(model.forward(x, true), batch.labels);
    model.backward(out.grad);
    if (be.sumsOfSquares)
      be.sumsOfSquares(
        params.map((p) => p.grad.data),
        squares,
      );
    else params.forEach((p, i) => be.sumOfSquares(p.grad.data, squares, i));
    optimizer.step(params, 0.01);
    return read([out.lossValue, out.probs.data, squares]).then(() => {
      if (!Number.isFinite(out.lossValue[0])) throw new Error(`loss is ${out.lossValue[0]}`);
      return out.lossValue[0];
    });
  };
}

function batchFor(ck, model, mnist, B) {
  const [C, H, W] = model.inputShape,
    per = C * H * W;
  const x = new Float32Array(B * per);
  if (mnist) {
    const ds = ck.loadMnist('train');
    const labels = new Uint8Array(B);
    ck.fillBatch(
      ds,
      Int32Array.from({ length: B }, (_, i) => i),
      0,
      new ck.Tensor([B, C, H, W], x),
      labels,
      { crop: 'center' },
    );
    return { B, x, labels, source: 'MNIST' };
  }
  const rng = new ck.Rng(7);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  return { B, x, labels: Int32Array.from({ length: B }, () => rng.int(model.outputShape[0])), source: 'random' };
}

/** Runs `steps` steps with one read-back in flight (step k read while k + 1 is recorded); seconds per step. */
async function pipelined(step, steps) {
  const t0 = performance.now();
  let previous = null,
    lastLoss = NaN;
  for (let i = 0; i < steps; i++) {
    const current = step();
    if (previous) lastLoss = await previous;
    previous = current;
  }
  lastLoss = await previous;
  return { seconds: (performance.now() - t0) / 1000 / steps, lastLoss };
}

const hasStats = (be) => typeof be.stats === 'function' && typeof be.resetStats === 'function';

function countLine(s) {
  return `${s.dispatches} dispatches, ${s.submits} submit(s), ${s.copies} copies, ${s.blockingReadbacks} blocking + ${s.readbacksLater} non-blocking read-back(s), ${s.bytesRead} B read back, ${s.uploads} upload(s) per step`;
}

async function kernelTable(be, run, top) {
  if (!top || typeof be.profile !== 'function') return null;
  be.profile(true);
  try {
    await run();
    return await be.kernelTimes();
  } finally {
    be.profile(false);
  }
}

async function benchModel(ck, be, o, name, say, emit) {
  const w = WORKS[name];
  for (const size of o.quick ? w.quick : w.full) {
    const model = new ck.Model(ck.zoo[w.zoo].build(size.options), be, 1);
    const batch = batchFor(ck, model, w.mnist, size.batch);
    const step = makeStep(ck, model, batch, o.readback);
    for (let i = 0; i < o.warmup; i++) await step();
    // Counts of one steady-state step (after warm-up: pipelines and tables exist).
    let counts = null;
    if (hasStats(be)) {
      be.resetStats();
      await step();
      counts = be.stats();
    }
    const rates = [];
    let lastLoss = NaN;
    // Timed in rounds of pipelined steps; a round's rate is one sample.
    const perRound = Math.max(1, Math.min(5, o.steps));
    for (let done = 0; done < o.steps; done += perRound) {
      const r = await pipelined(step, Math.min(perRound, o.steps - done));
      rates.push(batch.B / r.seconds);
      lastLoss = r.lastLoss;
    }
    const s = summarize(rates);
    const title = `${w.title}${size.note ? ` (${size.note})` : ''}, training, batch ${batch.B} (${batch.source})`;
    say(
      `${title}: ${s.median.toFixed(1)} img/s (${s.min.toFixed(1)}–${s.max.toFixed(1)}), ${((1000 * batch.B) / s.median).toFixed(1)} ms/step, loss ${lastLoss.toFixed(3)}`,
    );
    if (counts) say(`  ${countLine(counts)}`);
    const kernels = await kernelTable(be, step, o.kernels);
    if (kernels) {
      const rows = Object.entries(kernels.kernels).slice(0, o.kernels);
      const total = Object.values(kernels.kernels).reduce((t, k) => t + k.ms, 0);
      say(
        `  kernels of one profiled step (${kernels.source === 'timestamp' ? 'GPU timestamps' : 'wall time per submit, shared out'}; ${total.toFixed(2)} ms in all):`,
      );
      for (const [label, k] of rows) say(`    ${label.padEnd(34)} ${k.dispatches.toString().padStart(4)} × ${k.ms.toFixed(3).padStart(9)} ms`);
    }
    emit({
      work: `train-${name}${o.quick ? '-quick' : ''}`,
      library: `convkit ${be.name}`,
      median: s.median,
      min: s.min,
      max: s.max,
      unit: 'img/s',
      runs: s.runs,
      batch: batch.B,
      readback: o.readback,
      perStep: counts,
      kernels: kernels?.kernels,
      kernelTiming: kernels?.source,
    });
  }
}

async function benchGemm(ck, be, o, say, emit) {
  for (const n of o.quick ? WORKS.gemm.quick : WORKS.gemm.full) {
    const rng = new ck.Rng(3);
    const a = be.alloc(n * n),
      b = be.alloc(n * n),
      c = be.alloc(n * n);
    for (const t of [a, b]) {
      for (let i = 0; i < t.length; i++) t[i] = rng.uniform(-1, 1);
      be.upload(t);
    }
    const run = async (reps) => {
      for (let r = 0; r < reps; r++) be.gemm(false, false, n, n, n, 1, a, b, 0, c);
      if (be.finish) await be.finish();
      else await be.download([c]);
    };
    await run(1);
    // Enough repetitions for about half a second, measured on one.
    let t0 = performance.now();
    await run(1);
    const reps = Math.max(1, Math.min(50, Math.round(500 / Math.max(1, performance.now() - t0))));
    const rates = [];
    for (let i = 0; i < Math.min(3, o.steps); i++) {
      t0 = performance.now();
      await run(reps);
      rates.push((2 * n * n * n * reps) / ((performance.now() - t0) / 1000) / 1e9);
    }
    const s = summarize(rates);
    say(`SGEMM ${n}³ (${be.gemmKernel ?? be.name} kernel): ${s.median.toFixed(2)} GFLOP/s (${s.min.toFixed(2)}–${s.max.toFixed(2)})`);
    emit({ work: `sgemm-${n}`, library: `convkit ${be.name}`, median: s.median, min: s.min, max: s.max, unit: 'GFLOP/s', runs: s.runs, kernel: be.gemmKernel });
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.help) {
    console.log(
      String(await import('node:fs').then((fs) => fs.readFileSync(new URL(import.meta.url), 'utf8')))
        .split('\n')
        .slice(2, 16)
        .join('\n'),
    );
    return;
  }
  const ck = await loadConvkit();
  const say = (s) => (o.json ? process.stderr : process.stdout).write(`${s}\n`);
  const choice = await ck.selectBackend(o.backend);
  const be = choice.backend;
  const adapter = be.info ? ck.describeAdapter(be.info) : undefined;
  const emit = (record) => {
    if (o.json) process.stdout.write(`${JSON.stringify({ ...record, adapter: adapter?.description, software: adapter?.software })}\n`);
  };
  say(
    `backend: ${choice.reason}${adapter ? `; adapter: ${adapter.description}${adapter.software ? ' (software: a correctness smoke run, not a speed figure)' : ''}` : ''}`,
  );
  say(
    `method: ${o.warmup} warm-up step(s), then ${o.steps} timed step(s) per model with ${o.readback === 'later' ? 'one non-blocking read-back in flight' : 'a blocking read-back each'}; median (min–max) images/second${o.quick ? '; --quick sizes' : ''}`,
  );
  try {
    for (const name of o.works) {
      if (name === 'gemm') await benchGemm(ck, be, o, say, emit);
      else await benchModel(ck, be, o, name, say, emit);
    }
  } finally {
    be.dispose?.();
  }
}

main().catch((e) => {
  process.stderr.write(`bench:gpu: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
