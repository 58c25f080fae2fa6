import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RefBackend } from '../src/backend/ref.js';
import { limitDataset } from '../src/data/dataset.js';
import { Model } from '../src/model/model.js';
import { zoo } from '../src/model/zoo.js';
import { loadModel } from '../src/node/files.js';
import { loadMnist } from '../src/node/mnist.js';
import { DivergenceError, train } from '../src/train/trainer.js';

const backend = new RefBackend();
const bin = join(process.cwd(), 'bin/convkit.js');
const base = ['train', '--model', 'convnetjs-mnist', '--train-limit', '640', '--test-limit', '100', '--batch', '32', '--epochs', '2', '--seed', '5', '--json'];

function weights(file: string): number[] {
  return loadModel(file, backend)
    .model.parameters()
    .flatMap((p) => Array.from(p.value.data));
}

/** Starts training and kills it with `signal` right after the `nth` checkpoint event. */
function runUntilCheckpoint(args: string[], nth: number, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = 0,
      buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) if (line.includes('"type":"checkpoint"') && ++seen === nth) child.kill(signal);
    });
    child.on('exit', (code, sig) => resolve({ code, signal: sig }));
  });
}

describe('checkpoints and resume', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convkit-ckpt-'));
  const reference = join(dir, 'reference.convkit');

  it('an uninterrupted run as the reference', () => {
    const r = spawnSync(process.execPath, [bin, ...base, '--out', reference], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('killed with SIGKILL mid-epoch and resumed: bit-identical weights', async () => {
    const ckpt = join(dir, 'killed');
    const out = join(dir, 'killed.convkit');
    // 20 batches per epoch; checkpoint every 3 batches; kill after the 4th checkpoint (batch 12 of epoch 1).
    const killed = await runUntilCheckpoint([...base, '--out', out, '--checkpoint-dir', ckpt, '--checkpoint-every', '3'], 4, 'SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    assert.ok(!existsSync(out), 'the killed run must not have produced a final model');
    assert.ok(
      readdirSync(ckpt).every((f) => !f.endsWith('.tmp')),
      `no temporary files left: ${readdirSync(ckpt)}`,
    );
    const resumed = spawnSync(process.execPath, [bin, 'train', '--resume', ckpt, '--out', out, '--json'], { encoding: 'utf8' });
    assert.equal(resumed.status, 0, resumed.stderr);
    const result = JSON.parse(resumed.stdout.trim().split('\n').at(-1)!);
    assert.equal(result.epochs, 2);
    assert.deepEqual(weights(out), weights(reference));
  });

  it('SIGINT stops cleanly after writing a checkpoint; resuming matches too', async () => {
    const ckpt = join(dir, 'interrupted');
    const out = join(dir, 'interrupted.convkit');
    // Interrupt after the epoch-1 checkpoint plus a few more batches of epoch 2.
    const stopped = await runUntilCheckpoint([...base, '--out', out, '--checkpoint-dir', ckpt, '--checkpoint-every', '7'], 3, 'SIGINT');
    assert.equal(stopped.code, 130);
    assert.ok(existsSync(join(ckpt, 'checkpoint.convkit')));
    const resumed = spawnSync(process.execPath, [bin, 'train', '--resume', ckpt, '--out', out, '--json'], { encoding: 'utf8' });
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.deepEqual(weights(out), weights(reference));
  });

  it('a damaged newest checkpoint falls back to the previous one; none usable is a clear error', () => {
    const ckpt = join(dir, 'killed');
    const latest = join(ckpt, 'checkpoint.convkit');
    const bytes = readFileSync(latest);
    bytes[bytes.length - 3] ^= 0xff;
    writeFileSync(latest, bytes);
    const r = spawnSync(process.execPath, [bin, 'train', '--resume', ckpt, '--epochs', '2', '--out', join(dir, 'fallback.convkit'), '--json'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const missing = spawnSync(process.execPath, [bin, 'train', '--resume', join(dir, 'nothing-here')], { encoding: 'utf8' });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no checkpoint in .*nothing-here/);
  });
});

describe('divergence guard', () => {
  it('stops with a message naming the step and the first layer that went non-finite', async () => {
    const model = new Model(zoo['convnetjs-mnist'].build(), backend, 1);
    await assert.rejects(
      train(model, limitDataset(loadMnist('train'), 256), {
        epochs: 1,
        batchSize: 32,
        lr: 1e6,
        seed: 1,
        optimizer: { type: 'sgd', momentum: 0.9 },
        schedule: { type: 'constant' },
      }),
      (e: Error) => e instanceof DivergenceError && /diverged at step \d+ \(epoch 1, batch \d+\)/.test(e.message) && /layer "|gradient in "/.test(e.message),
    );
  });

  it('gradient clipping keeps the same run finite', async () => {
    const model = new Model(zoo['convnetjs-mnist'].build(), backend, 1);
    const r = await train(model, limitDataset(loadMnist('train'), 256), {
      epochs: 1,
      batchSize: 32,
      lr: 0.05,
      seed: 1,
      optimizer: { type: 'sgd', momentum: 0.9 },
      schedule: { type: 'constant' },
      clipGradNorm: 0.5,
    });
    assert.ok(Number.isFinite(r.trainLoss));
  });
});
