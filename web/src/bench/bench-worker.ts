/**
 * Runs one bench job in a worker of its own: the ConvNetJS demo net on MNIST for a fixed
 * wall-clock time after a warm-up, counting training images per second.
 */
import convnetjs from 'convnetjs';
import { type ImageDataset, Model, Rng, zoo } from 'convkit';
import { defaultSettings } from '../protocol.js';
import { openBackend } from '../worker/open-backend.js';
import { fetchMnist } from '../worker/mnist-data.js';
import { TrainingSession } from '../worker/session.js';
import { Smoothed } from '../worker/smoothed.js';
import { type BenchJob, type BenchResult, benchSettings, jobLabel } from './jobs.js';

interface Scope {
  postMessage(m: unknown): void;
  onmessage: ((e: MessageEvent<{ job: BenchJob; baseUrl: string }>) => void) | null;
}
const scope = self as unknown as Scope;

scope.onmessage = async (e) => {
  const { job, baseUrl } = e.data;
  try {
    const train = await fetchMnist(baseUrl, 'train');
    const result = job.engine === 'convnetjs' ? await benchConvnetjs(train, job.batch) : await benchConvkit(train, job);
    scope.postMessage({ ok: true, result });
  } catch (error) {
    scope.postMessage({ ok: false, error: `${jobLabel(job)}: ${(error as Error).message}` });
  }
};

/** Calls `step` (which trains some images and returns how many) through warm-up, then times it. */
async function timed(step: () => number | Promise<number>): Promise<{ images: number; seconds: number }> {
  const warmEnd = performance.now() + benchSettings.warmupMs;
  while (performance.now() < warmEnd) await step();
  const start = performance.now();
  let images = 0;
  while (performance.now() - start < benchSettings.measureMs) images += await step();
  return { images, seconds: (performance.now() - start) / 1000 };
}

async function benchConvnetjs(train: ImageDataset, batch: number): Promise<BenchResult> {
  const net = new convnetjs.Net();
  // The layer stack of ConvNetJS's MNIST demo.
  net.makeLayers([
    { type: 'input', out_sx: 24, out_sy: 24, out_depth: 1 },
    { type: 'conv', sx: 5, filters: 8, stride: 1, pad: 2, activation: 'relu' },
    { type: 'pool', sx: 2, stride: 2 },
    { type: 'conv', sx: 5, filters: 16, stride: 1, pad: 2, activation: 'relu' },
    { type: 'pool', sx: 3, stride: 3 },
    { type: 'softmax', num_classes: 10 },
  ]);
  const trainer = new convnetjs.Trainer(net, {
    method: 'sgd',
    learning_rate: benchSettings.lr,
    momentum: benchSettings.momentum,
    l2_decay: benchSettings.l2,
    batch_size: batch,
  });
  const rng = new Rng(1);
  const accuracy = new Smoothed(0.005);
  const x = new convnetjs.Vol(24, 24, 1, 0);
  const net2 = net as unknown as { getPrediction(): number };
  const { images, seconds } = await timed(() => {
    // A random 24×24 crop, as the demo does, scaled to 0–1.
    const i = rng.int(train.count),
      dy = rng.int(5),
      dx = rng.int(5);
    for (let r = 0; r < 24; r++) for (let c = 0; c < 24; c++) x.w[r * 24 + c] = train.images[i * 784 + (r + dy) * 28 + c + dx] / 255;
    trainer.train(x, train.labels[i]);
    accuracy.add(net2.getPrediction() === train.labels[i] ? 1 : 0);
    return 1;
  });
  return {
    label: jobLabel({ engine: 'convnetjs', batch }),
    engine: 'convnetjs',
    backend: 'plain JS',
    batch,
    images,
    seconds,
    imagesPerSecond: images / seconds,
    trainAccuracy: accuracy.value,
  };
}

async function benchConvkit(train: ImageDataset, job: Extract<BenchJob, { engine: 'convkit' }>): Promise<BenchResult> {
  const chosen = await openBackend(job.backend, { threads: job.threads });
  if (chosen.backend.name !== job.backend) throw new Error(`the ${job.backend} backend is not available (${chosen.note})`);
  const model = new Model(zoo['convnetjs-mnist'].build(), chosen.backend, 1);
  const session = new TrainingSession(model, train, {
    ...defaultSettings,
    optimizer: 'sgd',
    lr: benchSettings.lr,
    momentum: benchSettings.momentum,
    weightDecay: benchSettings.l2,
    batchSize: job.batch,
    augment: true,
    schedule: 'constant',
  });
  const { images, seconds } = await timed(async () => {
    await session.step();
    return job.batch;
  });
  return {
    label: jobLabel(job),
    engine: 'convkit',
    backend: `${chosen.backend.name} (${chosen.note})`,
    batch: job.batch,
    images,
    seconds,
    imagesPerSecond: images / seconds,
    trainAccuracy: session.smoothAccuracy.value,
  };
}
