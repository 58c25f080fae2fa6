/**
 * The whole test set through the network: accuracy, confusion matrix, a strip of the first
 * test digits with their top-3 classes, and the most confidently wrong predictions. Runs in
 * chunks and awaits `pause()` between them so the worker keeps answering (and training); an
 * aborted `signal` stops it between two chunks (the network changed: the report is moot).
 */
import { type ImageDataset, Tensor, fillBatch, limitDataset, shapeSize } from 'convkit';
import type { EvaluationReport, TestExample } from '../protocol.js';
import type { Replica } from './replica.js';

const BATCH = 50;
const STRIP = 24;
const WRONG = 16;

export async function testReport(
  replica: Replica,
  test: ImageDataset,
  examples: number,
  pause: () => Promise<void>,
  signal?: AbortSignal,
): Promise<EvaluationReport> {
  signal?.throwIfAborted();
  const model = replica.sync();
  const shape = model.inputShape;
  const x = new Tensor([BATCH, ...shape], model.backend.alloc(BATCH * shapeSize(shape)));
  const labels = new Uint8Array(BATCH);
  const order = new Int32Array(BATCH);
  const K = model.outputShape[0];
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  const strip: TestExample[] = [];
  let wrong: TestExample[] = [];
  let correct = 0;
  for (let start = 0; start < test.count; start += BATCH) {
    const valid = Math.min(BATCH, test.count - start);
    // The last batch is padded with repeats that are not counted, so buffers keep one size.
    for (let i = 0; i < BATCH; i++) order[i] = start + Math.min(i, valid - 1);
    fillBatch(test, order, 0, x, labels, { crop: 'center' });
    model.backend.upload(x.data);
    const probs = (await model.predictAsync(x)).data;
    for (let n = 0; n < valid; n++) {
      const row = Array.from(probs.subarray(n * K, (n + 1) * K));
      const top = topClasses(row, 3);
      const label = labels[n];
      confusion[label][top[0].cls]++;
      if (top[0].cls === label) correct++;
      const index = start + n;
      if (strip.length < STRIP) strip.push(example(test, index, label, top));
      if (top[0].cls !== label && (wrong.length < WRONG || top[0].p > wrong[wrong.length - 1].top[0].p)) {
        wrong.push(example(test, index, label, top));
        wrong = wrong.sort((a, b) => b.top[0].p - a.top[0].p).slice(0, WRONG);
      }
    }
    await pause();
    signal?.throwIfAborted();
  }
  return { examples, accuracy: correct / test.count, count: test.count, confusion, strip, wrong };
}

/** The strip alone: the first test digits with their top-3 classes, one batch, cheap enough to refresh while training. */
export async function testStrip(replica: Replica, test: ImageDataset, examples: number): Promise<{ examples: number; strip: TestExample[] }> {
  const { strip } = await testReport(replica, limitDataset(test, STRIP), examples, async () => undefined);
  return { examples, strip };
}

export function topClasses(probs: number[], k: number): { cls: number; p: number }[] {
  return probs
    .map((p, cls) => ({ cls, p }))
    .sort((a, b) => b.p - a.p)
    .slice(0, k);
}

function example(test: ImageDataset, index: number, label: number, top: { cls: number; p: number }[]): TestExample {
  const px = test.height * test.width;
  return { index, label, top, pixels: test.images.slice(index * px, (index + 1) * px) };
}
