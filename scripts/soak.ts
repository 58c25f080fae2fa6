/**
 * Memory soak test: trains the ConvNetJS MNIST demo net for many steps and reports
 * whether resident memory stays flat after warm-up.
 *
 *   node --import tsx scripts/soak.ts [--steps 20000] [--batch 20] [--warmup 500] [--backend wasm] [--threads 2] [--json]
 *
 * Memory is sampled every `--every` steps without forcing garbage collection (a forced GC
 * would hide buffers that are only freed when the collector happens to run). Growth is the
 * largest sample after warm-up minus the sample at the end of warm-up. test/reliability-soak
 * runs this at a CI-friendly length; the full 20 000 steps are for a manual run.
 */
import { parseArgs } from 'node:util';
import { type Backend, createBackend } from '../src/backend/index.js';
import { limitDataset } from '../src/data/dataset.js';
import { Model } from '../src/model/model.js';
import { zoo } from '../src/model/zoo.js';
import { loadMnist } from '../src/node/mnist.js';
import { train } from '../src/train/trainer.js';

export interface MemorySample {
  step: number;
  rss: number;
  heapUsed: number;
  external: number;
  /** Size of the wasm backend's linear memory (0 for other backends). */
  wasmHeap: number;
  /** Bytes the wasm backend's allocator has handed out (0 for other backends). */
  wasmInUse: number;
}

/** The wasm backend keeps its heap private; read its size for the report when it is there. */
function wasmFigures(backend: Backend): { wasmHeap: number; wasmInUse: number } {
  const heap = (backend as unknown as { heap?: { memory?: WebAssembly.Memory; bytesInUse?: number } }).heap;
  return { wasmHeap: heap?.memory?.buffer.byteLength ?? 0, wasmInUse: heap?.bytesInUse ?? 0 };
}

function sample(step: number, backend: Backend): MemorySample {
  const m = process.memoryUsage();
  return { step, rss: m.rss, heapUsed: m.heapUsed, external: m.external, ...wasmFigures(backend) };
}

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '500' },
    every: { type: 'string', default: '100' },
    'steps-per-epoch': { type: 'string', default: '500' },
    backend: { type: 'string', default: 'wasm' },
    threads: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
  },
});
const steps = Number(args.steps),
  batch = Number(args.batch),
  warmup = Number(args.warmup),
  every = Number(args.every);
const stepsPerEpoch = Number(args['steps-per-epoch']);
const epochs = Math.ceil(steps / stepsPerEpoch);

const backend = await createBackend(args.backend, { threads: Number(args.threads) });
// ConvNetJS's demo trains with batches of 20 on 24×24 crops; an epoch here is a fixed slice of
// MNIST so that epoch ends (shuffling, evaluation on a small test set) happen during the soak too.
const trainSet = limitDataset(loadMnist('train'), stepsPerEpoch * batch);
const testSet = limitDataset(loadMnist('test'), 500);
const model = new Model(zoo['convnetjs-mnist'].build(), backend, 1);
const samples: MemorySample[] = [sample(0, backend)];
const started = performance.now();
let lastLoss = NaN;
await train(model, trainSet, {
  epochs,
  batchSize: batch,
  lr: 0.01,
  seed: 1,
  optimizer: { type: 'sgd', momentum: 0.9, weightDecay: 5e-4 },
  schedule: { type: 'constant' },
  testSet,
  reportEvery: every,
  onEvent: (e) => {
    if (e.type !== 'batch') return;
    const step = (e.epoch - 1) * e.batches + e.batch;
    samples.push(sample(step, backend));
    lastLoss = e.loss;
  },
});
const seconds = (performance.now() - started) / 1000;
backend.dispose?.();

const MB = 1e6;
const atWarmup = samples.filter((s) => s.step <= warmup).at(-1)!;
const after = samples.filter((s) => s.step > warmup);
const growth = (key: keyof MemorySample) => Math.max(0, ...after.map((s) => s[key] - atWarmup[key]));
const last = samples.at(-1)!;
const report = {
  type: 'result',
  steps: last.step,
  batch,
  epochs,
  backend: backend.name,
  seconds,
  stepsPerSecond: last.step / seconds,
  loss: lastLoss,
  warmupStep: atWarmup.step,
  samples: samples.length,
  rssAtWarmupMB: atWarmup.rss / MB,
  rssMaxMB: Math.max(...after.map((s) => s.rss)) / MB,
  rssFinalMB: last.rss / MB,
  rssGrowthMB: growth('rss') / MB,
  heapUsedGrowthMB: growth('heapUsed') / MB,
  externalGrowthMB: growth('external') / MB,
  wasmHeapAtWarmupMB: atWarmup.wasmHeap / MB,
  wasmHeapGrowthMB: growth('wasmHeap') / MB,
  wasmInUseGrowthMB: growth('wasmInUse') / MB,
};
if (args.json) {
  process.stdout.write(JSON.stringify(report) + '\n');
} else {
  const f = (x: number) => x.toFixed(1);
  console.log(
    `${report.steps} steps of convnetjs-mnist (batch ${batch}, ${report.backend}) in ${f(seconds)} s, ${f(report.stepsPerSecond)} steps/s, final loss ${lastLoss.toFixed(4)}`,
  );
  console.log(
    `RSS: ${f(report.rssAtWarmupMB)} MB after ${report.warmupStep} warm-up steps, max ${f(report.rssMaxMB)} MB, final ${f(report.rssFinalMB)} MB: growth ${f(report.rssGrowthMB)} MB`,
  );
  console.log(
    `JS heap growth ${f(report.heapUsedGrowthMB)} MB, external ${f(report.externalGrowthMB)} MB; wasm heap ${f(report.wasmHeapAtWarmupMB)} MB, growth ${f(report.wasmHeapGrowthMB)} MB (in use: ${f(report.wasmInUseGrowthMB)} MB)`,
  );
}
