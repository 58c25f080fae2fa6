/**
 * Kill-and-resume at random points: a training run killed with SIGKILL at a point
 * drawn from a seeded generator — at a random checkpoint, or after a random delay that need
 * not line up with anything (mid-batch, mid-write, mid-rename) — and resumed, possibly more
 * than once, ends with bit-identical weights to a run that was never interrupted.
 * SIGTERM stops cleanly like SIGINT. (test/reliability.test.ts covers a kill at a fixed
 * checkpoint and SIGINT.)
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RefBackend } from '../src/backend/ref.js';
import { Model, sequential } from '../src/model/model.js';
import { loadCheckpoint, saveCheckpoint } from '../src/node/checkpoint.js';
import { loadModel } from '../src/node/files.js';
import { Rng } from '../src/rng.js';
import type { TrainState } from '../src/train/trainer.js';

const backend = new RefBackend();
const bin = join(process.cwd(), 'bin/convkit.js');
// 20 batches per epoch, 2 epochs; a checkpoint after every batch so that kills often land in a write.
const base = [
  'train',
  '--model',
  'convnetjs-mnist',
  '--train-limit',
  '640',
  '--test-limit',
  '100',
  '--batch',
  '32',
  '--epochs',
  '2',
  '--seed',
  '11',
  '--checkpoint-every',
  '1',
  '--json',
];
// RESUME_SEED in the environment draws other kill points (for repeated local runs).
const rng = new Rng(Number(process.env.RESUME_SEED ?? 20261128));

function weights(file: string): number[] {
  return loadModel(file, backend)
    .model.parameters()
    .flatMap((p) => Array.from(p.value.data));
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  checkpoints: number;
  seconds: number;
  stderr: string;
}

/**
 * Runs the CLI; `killAt` decides when to SIGKILL it: after the nth checkpoint event, or a
 * number of milliseconds after the first one. Seconds are measured from that first event.
 */
function run(args: string[], killAt?: { checkpoint: number } | { afterMs: number }, signal: NodeJS.Signals = 'SIGKILL'): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let checkpoints = 0,
      buffer = '',
      first = 0,
      stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        if (!line.includes('"type":"checkpoint"')) continue;
        if (++checkpoints === 1) {
          first = performance.now();
          if (killAt && 'afterMs' in killAt) setTimeout(() => child.kill(signal), killAt.afterMs);
        }
        if (killAt && 'checkpoint' in killAt && checkpoints === killAt.checkpoint) child.kill(signal);
      }
    });
    child.on('exit', (code, signal) => resolve({ code, signal, checkpoints, seconds: (performance.now() - first) / 1000, stderr }));
  });
}

describe('kill at a random point and resume', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convkit-resume-'));
  const reference = join(dir, 'reference.convkit');
  let referenceSeconds = 0;

  it('an uninterrupted run with the same seed as the reference', async () => {
    const r = await run([...base, '--out', reference, '--checkpoint-dir', join(dir, 'reference')]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.checkpoints >= 40, `${r.checkpoints} checkpoint events`);
    referenceSeconds = r.seconds;
  });

  it('killed right after a randomly chosen checkpoint, resumed: bit-identical weights', async () => {
    const n = 2 + rng.int(36); // of the 41 checkpoints (40 batches and the epoch ends)
    const ckpt = join(dir, 'at-checkpoint'),
      out = join(dir, 'at-checkpoint.convkit');
    const killed = await run([...base, '--out', out, '--checkpoint-dir', ckpt], { checkpoint: n });
    assert.equal(killed.signal, 'SIGKILL', `killed after checkpoint ${n}: ${killed.stderr}`);
    assert.ok(!existsSync(out));
    const resumed = spawnSync(process.execPath, [bin, 'train', '--resume', ckpt, '--out', out, '--json'], { encoding: 'utf8' });
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.deepEqual(weights(out), weights(reference), `kill after checkpoint ${n}`);
  });

  it('killed twice after random delays (not aligned to any event), resumed each time: bit-identical weights', async (t) => {
    const ckpt = join(dir, 'random-delay'),
      out = join(dir, 'random-delay.convkit');
    // Delays within the first half of the reference's training time, so that each kill lands before the end.
    const firstMs = Math.round(rng.next() * 500 * referenceSeconds);
    const first = await run([...base, '--out', out, '--checkpoint-dir', ckpt], { afterMs: firstMs });
    assert.equal(first.signal, 'SIGKILL', `the first kill (${firstMs} ms) landed before the run ended: ${first.stderr}`);
    const secondMs = Math.round(rng.next() * 250 * referenceSeconds);
    const second = await run(['train', '--resume', ckpt, '--out', out, '--json'], { afterMs: secondMs });
    t.diagnostic(
      `killed ${firstMs} ms after the first checkpoint (${first.checkpoints} written), then ${secondMs} ms into the resumed run (${second.checkpoints} more; ${second.signal ?? `exit ${second.code}`})`,
    );
    // The second run may finish before its kill when the first one got far enough.
    assert.ok(second.signal === 'SIGKILL' || second.code === 0, JSON.stringify(second));
    const resumed = spawnSync(process.execPath, [bin, 'train', '--resume', ckpt, '--out', out, '--json'], { encoding: 'utf8' });
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.deepEqual(weights(out), weights(reference));
    assert.deepEqual(
      readdirSync(ckpt).filter((f) => f.endsWith('.tmp')),
      [],
      'no temporary files left after a successful save',
    );
  });
});

describe('SIGTERM', () => {
  it('stops after the current batch with a checkpoint and exit code 143; resuming completes the run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convkit-sigterm-'));
    const ckpt = join(dir, 'ckpt'),
      out = join(dir, 'model.convkit');
    const stopped = await run([...base, '--out', out, '--checkpoint-dir', ckpt], { checkpoint: 5 }, 'SIGTERM');
    assert.equal(stopped.code, 143, stopped.stderr);
    const { state } = loadCheckpoint(ckpt, backend);
    assert.ok(state.epoch <= 2, `stopped before the end: epoch ${state.epoch}, batch ${state.batch}`);
    const resumed = spawnSync(process.execPath, [bin, 'train', '--resume', ckpt, '--out', out, '--json'], { encoding: 'utf8' });
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.equal(JSON.parse(resumed.stdout.trim().split('\n').at(-1)!).epochs, 2);
  });
});

describe('checkpoint files after a crash at each step of a save', () => {
  const spec = sequential('tiny', [1, 4, 4], [{ type: 'flatten' }, { type: 'dense', units: 2 }]);
  const state = (epoch: number): TrainState => ({
    epoch,
    batch: 0,
    shuffleRngAtEpochStart: [1, 2, 3, 4, NaN],
    augmentRng: [5, 6, 7, 8, NaN],
    modelRng: [9, 10, 11, 12, NaN],
    optimizer: { steps: epoch, buffers: new Map() },
    running: { lossSum: 0, correct: 0, seen: 0 },
    trainSeconds: 0,
    trainImages: 0,
    history: [],
  });
  const model = new Model(spec, backend);

  it('killed between the renames (only .next and .prev exist): the newest, .next, is loaded', () => {
    const dir = mkdtempSync(join(tmpdir(), 'convkit-crash-'));
    saveCheckpoint(dir, model, state(1), {});
    saveCheckpoint(dir, model, state(2), {});
    // Replay a save of epoch 3 stopped after "latest → prev" and before ".next → latest".
    const staging = join(dir, 'staging');
    mkdirSync(staging);
    saveCheckpoint(staging, model, state(3), {});
    copyFileSync(join(dir, 'checkpoint.convkit'), join(dir, 'checkpoint.prev.convkit'));
    copyFileSync(join(staging, 'checkpoint.convkit'), join(dir, 'checkpoint.convkit.next'));
    rmSync(join(dir, 'checkpoint.convkit'));
    assert.equal(loadCheckpoint(dir, backend).state.epoch, 3);
  });

  it('killed while writing the temporary file: the complete checkpoint is loaded, and the next save removes the leftover', () => {
    const dir = mkdtempSync(join(tmpdir(), 'convkit-crash-'));
    saveCheckpoint(dir, model, state(1), {});
    const good = readFileSync(join(dir, 'checkpoint.convkit'));
    writeFileSync(join(dir, 'checkpoint.convkit.next.99999.tmp'), good.subarray(0, good.length >> 1));
    assert.equal(loadCheckpoint(dir, backend).state.epoch, 1);
    saveCheckpoint(dir, model, state(2), {});
    assert.deepEqual(readdirSync(dir).sort(), ['checkpoint.convkit', 'checkpoint.prev.convkit']);
    assert.equal(loadCheckpoint(dir, backend).state.epoch, 2);
  });
});
