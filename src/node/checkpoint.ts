import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../backend/backend.js';
import { ConvkitError, FormatError } from '../errors.js';
import { decodeModel, encodeModel } from '../io/modelfile.js';
import type { Model } from '../model/model.js';
import type { FloatArray } from '../tensor.js';
import type { TrainState } from '../train/trainer.js';
import { syncDirectory, writeFileAtomic } from './files.js';
import { readBytes } from './mnist.js';

/**
 * Training checkpoints: a model file whose metadata holds the training state and whose extra
 * tensors hold the optimizer's buffers. DIR/checkpoint.convkit is the newest; the one before
 * it is kept as DIR/checkpoint.prev.convkit. A new checkpoint is written completely (and
 * flushed) under a temporary name before the renames, so a kill at any moment leaves at least
 * one complete checkpoint.
 */
const LATEST = 'checkpoint.convkit';
const PREVIOUS = 'checkpoint.prev.convkit';

export function saveCheckpoint(dir: string, model: Model, state: TrainState, run: Record<string, unknown>): void {
  mkdirSync(dir, { recursive: true });
  const extra: { path: string; data: FloatArray }[] = [];
  for (const [path, buffers] of state.optimizer.buffers) buffers.forEach((data, i) => extra.push({ path: `optimizer/${path}/${i}`, data }));
  const { optimizer, ...rest } = state;
  const bytes = encodeModel(model, { run, checkpoint: { ...rest, optimizerSteps: optimizer.steps } }, extra);
  const staged = join(dir, `${LATEST}.next`);
  writeFileAtomic(staged, bytes);
  if (existsSync(join(dir, LATEST))) renameSync(join(dir, LATEST), join(dir, PREVIOUS));
  renameSync(staged, join(dir, LATEST));
  syncDirectory(dir);
  // A run killed while writing leaves its half-written temporary file (named with its pid).
  for (const f of readdirSync(dir)) if (/^checkpoint\.convkit\.next\.\d+\.tmp$/.test(f)) rmSync(join(dir, f), { force: true });
}

export interface LoadedCheckpoint {
  model: Model;
  state: TrainState;
  run: Record<string, unknown>;
  file: string;
}

/** Loads the newest intact checkpoint in DIR (falling back to the previous one if the newest is damaged). */
export function loadCheckpoint(dir: string, backend: Backend): LoadedCheckpoint {
  const candidates = [LATEST, `${LATEST}.next`, PREVIOUS].map((f) => join(dir, f)).filter((f) => existsSync(f));
  if (candidates.length === 0) throw new ConvkitError(`no checkpoint in ${dir}`);
  const problems: string[] = [];
  for (const file of candidates) {
    try {
      return decodeCheckpoint(file, backend);
    } catch (e) {
      if (!(e instanceof ConvkitError)) throw e;
      problems.push(e.message);
    }
  }
  throw new FormatError(`no usable checkpoint in ${dir}: ${problems.join('; ')}`);
}

function decodeCheckpoint(file: string, backend: Backend): LoadedCheckpoint {
  const { model, metadata, extra } = decodeModel(readBytes(file), file, backend);
  const saved = metadata.checkpoint as (Omit<TrainState, 'optimizer'> & { optimizerSteps: number }) | undefined;
  if (!saved || typeof saved !== 'object' || typeof saved.epoch !== 'number') throw new FormatError(`${file}: a model file, but not a training checkpoint`);
  const problem = checkpointProblem(saved);
  if (problem) throw new FormatError(`${file}: damaged training checkpoint: ${problem}`);
  const buffers = new Map<string, FloatArray[]>();
  for (const [path, data] of extra) {
    const m = /^optimizer\/(.+)\/(\d+)$/.exec(path);
    if (!m) continue;
    const list = buffers.get(m[1]) ?? [];
    list[Number(m[2])] = data;
    buffers.set(m[1], list);
  }
  const { optimizerSteps, ...rest } = saved;
  return { model, state: { ...rest, optimizer: { steps: optimizerSteps, buffers } }, run: (metadata.run as Record<string, unknown>) ?? {}, file };
}

const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
const isRngState = (v: unknown) => Array.isArray(v) && v.length === 5 && v.slice(0, 4).every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)
  && (v[4] === null || Number.isFinite(v[4]));

/** What is wrong with a checkpoint's saved training state (its header is not checksummed), or undefined. */
function checkpointProblem(s: Omit<TrainState, 'optimizer'> & { optimizerSteps: number }): string | undefined {
  if (!isCount(s.epoch) || s.epoch < 1 || !isCount(s.batch)) return `position epoch ${JSON.stringify(s.epoch)}, batch ${JSON.stringify(s.batch)}`;
  if (!isRngState(s.shuffleRngAtEpochStart) || !isRngState(s.augmentRng) || !isRngState(s.modelRng)) return 'a random generator state is invalid';
  if (!isCount(s.optimizerSteps)) return `optimizer step count ${JSON.stringify(s.optimizerSteps)}`;
  const r = s.running;
  if (!r || typeof r !== 'object' || !Number.isFinite(r.lossSum) || !isCount(r.correct) || !isCount(r.seen)) return 'the running loss and accuracy are invalid';
  if (!Number.isFinite(s.trainSeconds) || !isCount(s.trainImages)) return 'the timing figures are invalid';
  if (!Array.isArray(s.history) || !s.history.every((h) => h !== null && typeof h === 'object' && isCount(h.epoch))) return 'the epoch history is invalid';
  return undefined;
}
