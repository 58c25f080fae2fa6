import { FormatError } from '../errors.js';
import type { Shape } from '../tensor.js';

/** What a model file records about its training data (metadata.data), so that prediction prepares images the same way. */
export interface DataInfo {
  dataset: string;
  channels: number;
  height: number;
  width: number;
  mean: number[];
  std: number[];
  classes: string[];
}

/**
 * Stored images are at most this much larger than the model input on each side (training
 * keeps them 8/7 larger for random crops, MNIST keeps 28 for a 24-pixel model).
 */
const maxStoredSide = (side: number) => Math.max(2 * side, side + 64);

/** The range of each per-channel statistic of pixel/255 that a model file may record. */
export const STATISTIC_RANGES = {
  mean: { ok: (x: number) => x >= 0 && x <= 1, range: 'in [0, 1]' },
  std: { ok: (x: number) => x > 0 && x <= 1, range: 'in (0, 1]' },
} as const;

/**
 * What is wrong with a list of per-channel means or standard deviations (one per channel when
 * `channels` is given, each in its range), or undefined: the one rule for model files, resumed
 * checkpoints and the --mean/--std flags, so that a value one accepts is never refused by another.
 */
export function statisticsProblem(key: 'mean' | 'std', v: unknown, channels?: number): string | undefined {
  if (!Array.isArray(v) || v.length === 0 || (channels !== undefined && v.length !== channels)) {
    return `${key} must list ${channels ?? 'one or more'} value(s), one per channel, got ${JSON.stringify(v)?.slice(0, 200)}`;
  }
  const { ok, range } = STATISTIC_RANGES[key];
  const bad = v.findIndex((x) => typeof x !== 'number' || !ok(x));
  return bad < 0 ? undefined : `${key}[${bad}] is ${JSON.stringify(v[bad])}, must be ${range}`;
}

/**
 * Checks a model file's metadata.data against the architecture it describes. The header is not
 * covered by the weight checksum, and prediction and evaluation allocate and normalise by these
 * numbers, so every field is checked: channels equal to the input's, stored sizes from the
 * input's up to a small margin, mean in [0, 1] and std in (0, 1] (pixels are scaled to [0, 1]),
 * one statistic per channel, one class name per output.
 */
export function checkDataInfo(value: unknown, inputShape: Shape, outputShape: Shape, fileName: string): DataInfo {
  const fail = (problem: string): never => {
    throw new FormatError(`${fileName}: invalid training-data description (metadata.data): ${problem}`);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail(`expected an object, got ${JSON.stringify(value)}`);
  const d = value as Record<string, unknown>;
  const [C, H, W] = inputShape;
  if (typeof d.dataset !== 'string' || d.dataset === '' || d.dataset.length > 4096) fail(`dataset must be a name, got ${JSON.stringify(d.dataset)}`);
  if (d.channels !== C) fail(`channels is ${JSON.stringify(d.channels)}, the model's input has ${C}`);
  for (const [key, side] of [
    ['height', H],
    ['width', W],
  ] as const) {
    const v = d[key];
    if (!Number.isInteger(v) || (v as number) < side || (v as number) > maxStoredSide(side)) {
      fail(`${key} is ${JSON.stringify(v)}, the model's input needs ${side} to ${maxStoredSide(side)}`);
    }
  }
  for (const key of ['mean', 'std'] as const) {
    const problem = statisticsProblem(key, d[key], C);
    if (problem) fail(problem);
  }
  if (d.classes !== undefined) {
    const K = outputShape.length === 1 ? outputShape[0] : undefined;
    if (!Array.isArray(d.classes) || !d.classes.every((c) => typeof c === 'string') || (K !== undefined && d.classes.length !== K)) {
      fail(`classes must be ${K ?? 'a list of'} name(s)${K !== undefined ? ', one per output' : ''}, got ${JSON.stringify(d.classes).slice(0, 200)}`);
    }
  }
  return d as unknown as DataInfo;
}
