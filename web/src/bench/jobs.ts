/** What the bench page measures: the ConvNetJS MNIST demo net trained by ConvNetJS itself and by convkit. */
export type BenchJob = { engine: 'convnetjs'; batch: number } | { engine: 'convkit'; backend: 'wasm' | 'ref'; batch: number; threads?: number };

export interface BenchResult {
  label: string;
  engine: string;
  backend: string;
  batch: number;
  images: number;
  seconds: number;
  imagesPerSecond: number;
  /** Smoothed training accuracy at the end: both must actually be learning. */
  trainAccuracy: number;
}

/** Same net, same data (random 24×24 crops of MNIST), SGD lr 0.01 momentum 0.9, L2 0.001. */
export const benchSettings = { lr: 0.01, momentum: 0.9, l2: 0.001, warmupMs: 1500, measureMs: 8000 };

export const benchJobs: BenchJob[] = [
  { engine: 'convnetjs', batch: 20 },
  { engine: 'convkit', backend: 'ref', batch: 20 },
  { engine: 'convkit', backend: 'wasm', batch: 20, threads: 1 },
  { engine: 'convkit', backend: 'wasm', batch: 20 },
  { engine: 'convkit', backend: 'wasm', batch: 64 },
];

export function jobLabel(job: BenchJob): string {
  if (job.engine === 'convnetjs') return `ConvNetJS 0.3.0, batch ${job.batch}`;
  return `convkit ${job.backend}${job.threads ? `, ${job.threads} thread${job.threads > 1 ? 's' : ''}` : ''}, batch ${job.batch}`;
}
