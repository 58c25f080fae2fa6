/**
 * CLI behaviour under failure: clear errors and exit codes for missing files,
 * unknown models and bad flags; no partial output when a command fails; a full disk while
 * saving leaves the previous file byte for byte (a real 64 KiB tmpfs where this process may
 * mount one, and an injected ENOSPC everywhere); divergence keeps the last good checkpoint.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RefBackend } from '../src/backend/ref.js';
import { loadCheckpoint } from '../src/node/checkpoint.js';
import { loadModel } from '../src/node/files.js';

const bin = join(process.cwd(), 'bin/convkit.js');
const fixtures = join(process.cwd(), 'test/fixtures');
const dir = mkdtempSync(join(tmpdir(), 'convkit-cli-'));

function cli(args: string[], options: { preload?: string; env?: Record<string, string> } = {}) {
  const node = options.preload ? ['--import', options.preload] : [];
  return spawnSync(process.execPath, [...node, bin, ...args], { encoding: 'utf8', env: { ...process.env, ...options.env } });
}

/** A failed command: the exit code, one clear line naming the problem, no stack trace. */
function assertFails(r: ReturnType<typeof cli>, code: number, message: RegExp) {
  assert.equal(r.status, code, `exit code (stderr: ${r.stderr})`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace for an expected error');
}

const smallTrain = ['train', '--model', 'convnetjs-mnist', '--train-limit', '128', '--test-limit', '50', '--batch', '32', '--epochs', '1'];

describe('CLI errors', () => {
  it('missing files, unknown models and datasets: exit 1 with a message naming them', () => {
    assertFails(cli(['eval', '--model-file', join(dir, 'nope.convkit')]), 1, /nope\.convkit: no such file/);
    assertFails(cli(['import', join(dir, 'nope.onnx'), '--out', join(dir, 'x.convkit')]), 1, /nope\.onnx: no such file/);
    assertFails(cli(['summary', '--model', 'nonet']), 1, /unknown model "nonet"/);
    assertFails(cli(['summary', '--model', 'constructor']), 1, /unknown model "constructor"/);
    assertFails(cli(['summary', '--model-file', join(fixtures, 'torch-lenet5.json')]), 1, /not a valid convkit model file: wrong magic bytes/);
    assertFails(cli(['train', '--dataset', 'nope']), 1, /unknown dataset "nope"/);
    assertFails(cli(['train', '--resume', join(dir, 'no-checkpoints')]), 1, /no checkpoint in/);
  });

  it('bad flags: exit 2 with the reason', () => {
    assertFails(cli(['train', '--batch', '0']), 2, /batch must be an integer ≥ 1/);
    assertFails(cli(['train', '--lr', '-1']), 2, /lr must be a positive number/);
    assertFails(cli(['train', '--optimizer', 'rmsprop']), 2, /Allowed choices are sgd, adam, adamw/);
    assertFails(cli(['train', '--frobnicate']), 2, /unknown option '--frobnicate'/);
    assertFails(cli(['frobnicate']), 2, /unknown command 'frobnicate'/);
  });

  it('--json: the error is also a JSON line on stdout', () => {
    const r = cli(['summary', '--model', 'nonet', '--json']);
    assert.equal(r.status, 1);
    assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').at(-1)!).type, 'error');
  });
});

describe('no partial output', () => {
  it('train refuses an unwritable --out before training, and leaves nothing behind', () => {
    assertFails(cli([...smallTrain, '--out', join(dir, 'missing-dir', 'm.convkit')]), 1, /the directory .*missing-dir does not exist/);
    assertFails(cli([...smallTrain, '--out', dir]), 1, /it is a directory/);
    assert.ok(!existsSync(join(dir, 'missing-dir')));
  });

  it('an import that fails leaves no output file', () => {
    const bad = join(dir, 'bad.onnx');
    writeFileSync(bad, readFileSync(join(fixtures, 'torch-lenet5.onnx')).subarray(0, 5000));
    const out = join(dir, 'bad.convkit');
    assertFails(cli(['import', bad, '--out', out]), 1, /bad\.onnx/);
    assert.ok(!existsSync(out));
  });
});

/** Files in a directory other than the ones expected: leftovers of a failed write. */
const leftovers = (d: string, expected: string[]) => readdirSync(d).filter((f) => !expected.includes(f));

describe('disk full while saving', () => {
  const previousModel = join(dir, 'previous.convkit');

  it('(setup) a previous model file', () => {
    const r = cli(['import', join(fixtures, 'torch-mini-inception-resnet.onnx'), '--out', previousModel]);
    assert.equal(r.status, 0, r.stderr);
  });

  it('injected ENOSPC: import fails with exit 1, the previous file is byte-identical, no temporary file remains', () => {
    const out = join(dir, 'injected');
    mkdirSync(out);
    copyFileSync(previousModel, join(out, 'model.convkit'));
    const before = readFileSync(join(out, 'model.convkit'));
    const r = cli(['import', join(fixtures, 'torch-lenet5.onnx'), '--out', join(out, 'model.convkit')], {
      preload: join(process.cwd(), 'test/inject-enospc.mjs'),
      env: { ENOSPC_AFTER_BYTES: '4096' },
    });
    assertFails(r, 1, /cannot write .*model\.convkit: ENOSPC/);
    assert.deepEqual(readFileSync(join(out, 'model.convkit')), before);
    assert.deepEqual(leftovers(out, ['model.convkit']), []);
  });

  it('injected ENOSPC after training: the message points at the checkpoint, and resuming saves the same weights', () => {
    const out = join(dir, 'trained');
    const ckpt = join(dir, 'trained-ckpt');
    mkdirSync(out);
    copyFileSync(previousModel, join(out, 'model.convkit'));
    const before = readFileSync(join(out, 'model.convkit'));
    // Checkpoints are written; the model file at the end runs out of room after 4 KiB.
    const r = cli([...smallTrain, '--out', join(out, 'model.convkit'), '--checkpoint-dir', ckpt], {
      preload: join(process.cwd(), 'test/inject-enospc.mjs'),
      env: { ENOSPC_AFTER_BYTES: '4096', ENOSPC_MATCH: 'model\\.convkit\\.\\d+\\.tmp$' },
    });
    assertFails(r, 1, /ENOSPC.*trained weights are in the checkpoint in .*trained-ckpt.*--resume .*trained-ckpt --out .*model\.convkit/s);
    assert.deepEqual(readFileSync(join(out, 'model.convkit')), before);
    assert.deepEqual(leftovers(out, ['model.convkit']), []);
    const resumed = cli(['train', '--resume', ckpt, '--out', join(out, 'model.convkit')]);
    assert.equal(resumed.status, 0, resumed.stderr);
    const backend = new RefBackend();
    assert.deepEqual(
      loadModel(join(out, 'model.convkit'), backend)
        .model.parameters()
        .map((p) => Array.from(p.value.data)),
      loadCheckpoint(ckpt, backend)
        .model.parameters()
        .map((p) => Array.from(p.value.data)),
    );
  });

  it('a real full disk (64 KiB tmpfs): same guarantees', (t) => {
    const mnt = join(dir, 'tmpfs');
    mkdirSync(mnt);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]).status !== 0) {
      t.skip('cannot mount a tmpfs here (needs root); the injected ENOSPC tests cover this');
      return;
    }
    try {
      copyFileSync(previousModel, join(mnt, 'model.convkit'));
      const before = readFileSync(join(mnt, 'model.convkit'));
      // LeNet-5's weights (247 KB) cannot fit; the previous file must survive the attempt.
      const r = cli(['import', join(fixtures, 'torch-lenet5.onnx'), '--out', join(mnt, 'model.convkit')]);
      assertFails(r, 1, /cannot write .*model\.convkit: ENOSPC/);
      assert.deepEqual(readFileSync(join(mnt, 'model.convkit')), before);
      assert.deepEqual(leftovers(mnt, ['model.convkit']), []);
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});

describe('divergence from the command line', () => {
  it('stops with exit 1 naming the step and layer; the last checkpoint is kept and finite; no model file', () => {
    const ckpt = join(dir, 'diverged-ckpt'),
      out = join(dir, 'diverged.convkit');
    const r = cli([...smallTrain, '--lr', '1e6', '--schedule', 'constant', '--checkpoint-dir', ckpt, '--checkpoint-every', '1', '--out', out]);
    assertFails(r, 1, /diverged at step \d+.*(layer ".+"|weights ".+").*last good checkpoint is kept in .*diverged-ckpt/s);
    assert.ok(!existsSync(out));
    const { model, state } = loadCheckpoint(ckpt, new RefBackend());
    assert.ok(
      model.parameters().every((p) => p.value.data.every(Number.isFinite)),
      `checkpoint at batch ${state.batch} is finite`,
    );
  });
});
