import { existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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
  makeDirectory(dir);
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
const isRngState = (v: unknown) =>
  Array.isArray(v) && v.length === 5 && v.slice(0, 4).every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32) && (v[4] === null || Number.isFinite(v[4]));

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

/**
 * Creates DIR and its missing parents one level at a time. (mkdirSync's recursive mode
 * never returns for some paths, e.g. under /proc.) Refuses a path that is a file.
 */
function makeDirectory(dir: string): void {
  const missing: string[] = [];
  let at = resolve(dir);
  while (!existsSync(at)) {
    missing.push(at);
    if (dirname(at) === at) break;
    at = dirname(at);
  }
  if (existsSync(at) && !statSync(at).isDirectory()) {
    throw new ConvkitError(`checkpoint directory ${dir}: ${at === resolve(dir) ? 'it is' : `${at} is`} a file, not a directory`);
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new ConvkitError(`cannot create checkpoint directory ${dir}: ${(e as Error).message}`);
    }
  }
}

const LOCK = 'convkit.lock';

/** The process id in a lock file; undefined if the file is gone or holds something else. */
function lockHolder(file: string): number | undefined {
  try {
    // Only a small regular file can be a lock: reading a FIFO put there would wait forever.
    const stats = lstatSync(file);
    if (!stats.isFile() || stats.size > 64) return undefined;
    const text = readFileSync(file, 'utf8');
    return /^\d+\n$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // it exists, but belongs to someone else
  }
}

/**
 * Prepares DIR for this run's checkpoints before any training: creates it if it is missing,
 * refuses a file or a place that cannot be written, and locks it so that two runs never
 * write the same checkpoints. The lock is DIR/convkit.lock holding this process's id,
 * written completely under a temporary name and then hard-linked into place, which fails
 * when the lock exists (like an O_EXCL create, but never showing a half-written id). A lock
 * whose process no longer runs (a killed run) is taken over; a live one is refused.
 * Returns the function that releases the lock (also called if the process exits first).
 */
export function claimCheckpointDir(dir: string): () => void {
  makeDirectory(dir);
  const lock = join(dir, LOCK);
  const mine = join(dir, `${LOCK}.${process.pid}.tmp`);
  try {
    writeFileSync(mine, `${process.pid}\n`);
  } catch (e) {
    throw new ConvkitError(`checkpoint directory ${dir} cannot be written: ${(e as Error).message}`);
  }
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(mine, lock);
        return holdLock(lock);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new ConvkitError(`cannot lock checkpoint directory ${dir}: ${(e as Error).message}`);
      }
      const holder = lockHolder(lock);
      if (holder === undefined && existsSync(lock)) {
        throw new ConvkitError(
          `checkpoint directory ${dir} is locked by ${lock}, which does not hold a process id; remove it if no convkit run uses the directory`,
        );
      }
      if (holder !== undefined && isRunning(holder)) {
        throw new ConvkitError(
          `checkpoint directory ${dir} is in use by another convkit run (process ${holder}, lock file ${lock}); wait for it to end or choose another --checkpoint-dir`,
        );
      }
      if (holder === undefined) continue; // released meanwhile
      // A stale lock: move it aside under a name of our own, and delete it only if it is still
      // the dead process's (another run may have replaced it in between: then put that back).
      const aside = join(dir, `${LOCK}.${process.pid}.stale`);
      try {
        renameSync(lock, aside);
      } catch {
        continue;
      }
      if (lockHolder(aside) !== holder) {
        try {
          linkSync(aside, lock);
        } catch {
          /* a third run holds it now */
        }
      }
      rmSync(aside, { force: true });
    }
    throw new ConvkitError(`cannot lock checkpoint directory ${dir}: other runs keep taking the lock ${lock}`);
  } finally {
    rmSync(mine, { force: true });
  }
}

function holdLock(lock: string): () => void {
  const release = () => {
    process.removeListener('exit', release);
    if (lockHolder(lock) === process.pid) rmSync(lock, { force: true });
  };
  process.on('exit', release);
  return release;
}
