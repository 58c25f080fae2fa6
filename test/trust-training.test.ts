/**
 * Training options, checkpoints and CLI validation: weight decay on every parameter matches
 * PyTorch, warm-up scales with the run, class counts are checked, checkpoint directories are
 * checked and locked at start, numeric flags follow the checkpoint's rules, gradient norms
 * stay finite for finite gradients, --resume writes where the user says, empty datasets are refused.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Backend } from '../src/backend/backend.js';
import { createBackend } from '../src/backend/index.js';
import { RefBackend } from '../src/backend/ref.js';
import { type ImageDataset, datasetFromIdx, limitDataset } from '../src/data/dataset.js';
import { encodeIdx } from '../src/data/idx.js';
import { ConvkitError } from '../src/errors.js';
import { Model, sequential } from '../src/model/model.js';
import { zoo } from '../src/model/zoo.js';
import { loadCheckpoint, saveCheckpoint } from '../src/node/checkpoint.js';
import { loadModel, saveModel } from '../src/node/files.js';
import { loadMnist } from '../src/node/mnist.js';
import { evaluate } from '../src/train/evaluate.js';
import { SoftmaxCrossEntropy } from '../src/train/loss.js';
import { Optimizer } from '../src/train/optimizer.js';
import { makeSchedule, warmupLength } from '../src/train/schedule.js';
import { settingRules } from '../src/train/settings.js';
import { DivergenceError, train } from '../src/train/trainer.js';
import { Tensor } from '../src/tensor.js';

const bin = join(process.cwd(), 'bin/convkit.js');
const dir = mkdtempSync(join(tmpdir(), 'convkit-trust-'));
const small = ['--model', 'convnetjs-mnist', '--train-limit', '128', '--test-limit', '50', '--batch', '32', '--epochs', '1'];

function cli(args: string[], cwd = dir) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd });
}

/** cli(), without blocking: several may run at once. */
function cliAsync(args: string[], cwd = dir): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { encoding: 'utf8', cwd }, (error, stdout, stderr) =>
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

function assertFails(r: { status: number | null; stderr: string }, code: number, message: RegExp) {
  assert.equal(r.status, code, `exit code (stderr: ${r.stderr})`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace for an expected error');
}

const jsonLines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('weight decay on every parameter, as PyTorch', () => {
  const f = JSON.parse(readFileSync(join(process.cwd(), 'test/fixtures/torch-sgd-decay.json'), 'utf8'));

  async function replay(weightDecayOn?: 'weights' | 'all'): Promise<Map<string, number[]>> {
    const backend = new RefBackend();
    const model = new Model(
      sequential(
        'decay',
        [1, 5, 5],
        [{ type: 'conv2d', filters: 2, kernel: 3 }, { type: 'batchnorm2d' }, { type: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 3 }],
      ),
      backend,
      1,
    );
    const params = model.parameters();
    for (const p of params) p.value.data.set(f.start[p.path]);
    const x = new Tensor(f.inputShape, Float32Array.from(f.input));
    const labels = Int32Array.from(f.labels);
    const loss = new SoftmaxCrossEntropy(backend);
    const optimizer = new Optimizer({ type: 'sgd', momentum: f.momentum, weightDecay: f.weightDecay, ...(weightDecayOn ? { weightDecayOn } : {}) }, backend);
    for (let s = 0; s < f.steps; s++) {
      model.backward(loss.compute(model.forward(x, true), labels).grad);
      optimizer.step(params, f.lr);
    }
    return new Map(params.map((p) => [p.path, Array.from(p.value.data)]));
  }

  function assertClose(actual: Map<string, number[]>, expected: Record<string, number[]>) {
    for (const [path, values] of actual) {
      values.forEach((v, i) =>
        assert.ok(Math.abs(v - expected[path][i]) <= 1e-5 + 1e-4 * Math.abs(expected[path][i]), `${path}[${i}]: ${v} vs PyTorch ${expected[path][i]}`),
      );
    }
  }

  it('the two PyTorch recipes differ in the biases and batch-norm parameters (so the comparison can fail)', () => {
    const gap = Math.max(...f.afterDecayAll['batchnorm2d1.weight'].map((v: number, i: number) => Math.abs(v - f.afterDecayWeights['batchnorm2d1.weight'][i])));
    assert.ok(gap > 1e-3, `gap ${gap}`);
  });

  it("weightDecayOn 'all' matches torch.optim.SGD(model.parameters(), weight_decay) after three steps", async () => {
    assertClose(await replay('all'), f.afterDecayAll);
  });

  it('the default still decays only conv and dense weights (PyTorch with two parameter groups)', async () => {
    assertClose(await replay(), f.afterDecayWeights);
    assertClose(await replay('weights'), f.afterDecayWeights);
  });

  it('an unknown target is a ConfigError', () => {
    assert.throws(() => new Optimizer({ type: 'sgd', weightDecayOn: 'biases' as never }, new RefBackend()), /weightDecayOn must be one of weights, all/);
  });

  it("--weight-decay-on all is shown at the start and kept in the checkpoint's run settings", () => {
    const ckpt = join(dir, 'decay-all-ckpt');
    const r = cli(['train', ...small, '--weight-decay-on', 'all', '--checkpoint-dir', ckpt, '--out', join(dir, 'decay-all.convkit'), '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(jsonLines(r.stdout)[0].optimizer.weightDecayOn, 'all');
    assert.equal((loadCheckpoint(ckpt, new RefBackend()).run.optimizer as { weightDecayOn: string }).weightDecayOn, 'all');
    assertFails(cli(['train', '--weight-decay-on', 'biases']), 2, /Allowed choices are weights, all/);
  });
});

describe('warm-up scales with the run', () => {
  it('lasts at most a tenth of the run', () => {
    assert.equal(warmupLength(200, 188), 18);
    assert.equal(warmupLength(200, 9380), 200);
    assert.equal(warmupLength(200, 9), 0);
    const lr = makeSchedule({ type: 'cosine', warmupSteps: 200 }, 0.05, 188);
    assert.ok(Math.abs(lr(0) - 0.05 / 18) < 1e-12);
    assert.equal(lr(17), 0.05);
    assert.ok(lr(18) > 0.0499, 'the cosine starts right after the warm-up');
    assert.ok(lr(187) < 0.001, `decays to the end: ${lr(187)}`);
  });

  it('a short LeNet-5 run (default 200 warm-up steps) trains at the full rate after a tenth of its 20 steps', () => {
    const r = cli([
      'train',
      '--model',
      'lenet5',
      '--train-limit',
      '640',
      '--test-limit',
      '50',
      '--batch',
      '32',
      '--epochs',
      '1',
      '--backend',
      'ref',
      '--out',
      join(dir, 'short.convkit'),
      '--json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const batches = jsonLines(r.stdout).filter((l) => l.type === 'batch');
    const expected = makeSchedule({ type: 'cosine', warmupSteps: 200 }, 0.05, 20);
    assert.equal(batches[0].batch, 10);
    assert.equal(batches[0].lr, expected(9));
    assert.ok(batches[0].lr > 0.025, `lr after 10 of 20 steps: ${batches[0].lr}`);
  });
});

describe('class counts', () => {
  const backend = new RefBackend();
  const five = () => new Model(zoo.lenet5.build({ classes: 5 }), backend, 1);

  it('evaluate() and train() refuse a dataset with another class count, naming both', async () => {
    const test = limitDataset(loadMnist('test'), 10);
    await assert.rejects(evaluate(five(), test), (e: Error) => e instanceof ConvkitError && /5 output classes .* 10 classes/.test(e.message));
    await assert.rejects(
      train(five(), test, { epochs: 1, batchSize: 5, lr: 0.01, seed: 1, optimizer: { type: 'sgd' }, schedule: { type: 'constant' } }),
      (e: Error) => e instanceof ConvkitError && /5 output classes .* 10 classes/.test(e.message),
    );
  });

  it('convkit eval with a 5-class model on MNIST: exit 1 naming both counts', () => {
    const file = join(dir, 'five.convkit');
    saveModel(file, five());
    assertFails(cli(['eval', '--model-file', file, '--test-limit', '20']), 1, /lenet5 has 5 output classes but dataset mnist-test has 10 classes/);
  });
});

describe('checkpoint directory: checked and locked at start', () => {
  it('a file is refused before training', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const r = cli(['train', ...small, '--checkpoint-dir', file, '--out', join(dir, 'never.convkit')]);
    assertFails(r, 1, /checkpoint directory .*a-file: it is a file, not a directory/);
    assert.doesNotMatch(r.stdout, /Training/);
    assertFails(cli(['train', ...small, '--checkpoint-dir', join(file, 'sub')]), 1, /a-file is a file, not a directory/);
  });

  it('a place that cannot be written is refused before training (read-only tmpfs; /proc)', (t) => {
    const proc = cli(['train', ...small, '--checkpoint-dir', '/proc/convkit-test/ckpt']);
    assertFails(proc, 1, /cannot create checkpoint directory \/proc\/convkit-test\/ckpt/);
    const mnt = join(dir, 'ro');
    mkdirSync(mnt);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', mnt]).status !== 0) {
      t.skip('cannot mount a read-only tmpfs here');
      return;
    }
    try {
      const r = cli(['train', ...small, '--checkpoint-dir', mnt, '--out', join(dir, 'never.convkit')]);
      assertFails(r, 1, /checkpoint directory .*ro cannot be written/);
      assert.doesNotMatch(r.stdout, /Training/);
    } finally {
      spawnSync('umount', [mnt]);
    }
  });

  it('missing folders are created', () => {
    const ckpt = join(dir, 'new', 'deeper', 'ckpt');
    const r = cli(['train', ...small, '--checkpoint-dir', ckpt, '--out', join(dir, 'created.convkit')]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(ckpt).sort(), ['checkpoint.convkit'], 'the lock is gone after the run');
  });

  it('a lock held by a running process is refused, naming the directory and the process', () => {
    const ckpt = join(dir, 'held');
    mkdirSync(ckpt);
    writeFileSync(join(ckpt, 'convkit.lock'), `${process.pid}\n`);
    assertFails(cli(['train', ...small, '--checkpoint-dir', ckpt]), 1, new RegExp(`held is in use by another convkit run \\(process ${process.pid}`));
    assertFails(cli(['train', '--resume', ckpt]), 1, new RegExp(`process ${process.pid}`));
  });

  it('a lock left by a dead process is taken over', () => {
    const ckpt = join(dir, 'stale');
    mkdirSync(ckpt);
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(join(ckpt, 'convkit.lock'), `${dead}\n`);
    const r = cli(['train', ...small, '--checkpoint-dir', ckpt, '--out', join(dir, 'stale.convkit')]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(ckpt).sort(), ['checkpoint.convkit']);
  });

  it('two runs on one directory: the second is refused while the first trains; the first stops normally', async () => {
    const ckpt = join(dir, 'shared');
    const first = spawn(
      process.execPath,
      [
        bin,
        'train',
        '--model',
        'convnetjs-mnist',
        '--train-limit',
        '6400',
        '--test-limit',
        '50',
        '--batch',
        '32',
        '--epochs',
        '10',
        '--checkpoint-dir',
        ckpt,
        '--checkpoint-every',
        '1',
        '--out',
        join(dir, 'first.convkit'),
        '--json',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    const exited = new Promise<number | null>((resolve) => first.on('exit', resolve));
    await new Promise<void>((resolve) =>
      first.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('"type":"checkpoint"')) resolve();
      }),
    );
    const second = cli(['train', ...small, '--checkpoint-dir', ckpt, '--out', join(dir, 'second.convkit')]);
    assertFails(second, 1, new RegExp(`shared is in use by another convkit run \\(process ${first.pid}`));
    first.kill('SIGTERM');
    assert.equal(await exited, 143, 'the first run stops cleanly after the current batch');
    assert.ok(!existsSync(join(dir, 'second.convkit')));
    assert.ok(!existsSync(join(ckpt, 'convkit.lock')));
  });
});

describe("numeric options: the checkpoint's rules at parse time", () => {
  const ints = ['1e20', '2.5', 'NaN', '-1', '', 'abc', 'Infinity'];
  const positives = ['0', '-1', 'NaN', 'Infinity', '1e400', '', 'abc'];
  const cases: [string[], string, string[]][] = [
    [['train'], '--epochs', [...ints, '0', '1e16']],
    [['train'], '--batch', [...ints, '0', '65537']],
    [['train'], '--seed', [...ints, '4294967296']],
    [['train'], '--train-limit', [...ints, '0']],
    [['train'], '--test-limit', [...ints, '0']],
    [['eval', '--model-file', 'm.convkit'], '--test-limit', [...ints, '0']],
    [['train'], '--shift', [...ints, '1025']],
    [['train'], '--input-size', [...ints, '7', '4097']],
    [['train'], '--checkpoint-every', [...ints, '0']],
    [['train'], '--lr', positives],
    [['train'], '--clip-grad-norm', positives],
    [['train'], '--weight-decay', ['-1', 'NaN', 'Infinity', '', 'abc']],
    [['train'], '--momentum', ['-0.1', '1', '2', 'NaN', '', 'abc']],
  ];
  for (const [command, flag, values] of cases) {
    it(`${command[0]} ${flag}: ${values.map((v) => JSON.stringify(v)).join(' ')} → exit 2 naming the flag`, async () => {
      // Two at a time: each is a fresh process, and the machine has two cores.
      for (let i = 0; i < values.length; i += 2) {
        const runs = await Promise.all(values.slice(i, i + 2).map((v) => cliAsync([...command, `${flag}=${v}`])));
        for (const r of runs) assertFails(r, 2, new RegExp(`${flag} must be`));
      }
    });
  }

  it('the largest values the flags accept are accepted by train() and by a resumed checkpoint', () => {
    assert.equal(settingRules.seed.max, 2 ** 32 - 1);
    const r = cli([
      'train',
      ...small,
      '--seed',
      String(settingRules.seed.max),
      '--checkpoint-dir',
      join(dir, 'big-seed'),
      '--out',
      join(dir, 'big-seed.convkit'),
    ]);
    assert.equal(r.status, 0, r.stderr);
    const resumed = cli(['train', '--resume', join(dir, 'big-seed'), '--out', join(dir, 'big-seed-2.convkit')]);
    assert.equal(resumed.status, 0, resumed.stderr);
  });

  it('a checkpoint whose settings break the same rules is refused as damaged', () => {
    const backend = new RefBackend();
    const ck = loadCheckpoint(join(dir, 'big-seed'), backend);
    for (const [key, value] of [
      ['seed', 1e20],
      ['epochs', 1e16],
      ['lr', -1],
      ['optimizer', { type: 'sgd', momentum: 'x' }],
      ['schedule', { type: 'cosine', warmupSteps: -5 }],
    ] as const) {
      const bad = join(dir, `bad-${key}`);
      saveCheckpoint(bad, ck.model, ck.state, { ...ck.run, [key]: value });
      assertFails(cli(['train', '--resume', bad]), 1, new RegExp(`damaged training checkpoint: .*${key}`));
    }
  });
});

describe('gradient norm computed safely', () => {
  const FLT_MAX = 3.4028234663852886e38;
  const data = limitDataset(loadMnist('train'), 32);
  const backends: [string, () => Promise<Backend>][] = [
    ['ref', async () => new RefBackend()],
    ['wasm', () => createBackend('wasm')],
  ];

  /** One step of a tiny net whose dense weights are ±denseScale: huge but finite gradients reach the conv layer. */
  async function oneStep(backend: Backend, convScale: number, denseScale: number, clipGradNorm?: number) {
    const model = new Model(
      sequential('n', [1, 28, 28], [{ type: 'conv2d', filters: 2, kernel: 3 }, { type: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 10 }]),
      backend,
      1,
    );
    for (const p of model.parameters()) {
      if (p.path === 'fc1.weight')
        p.value.data.forEach((_, i, a) => {
          a[i] = (i % 3 === 0 ? -1 : 1) * denseScale;
        });
      if (p.path === 'conv1.weight')
        p.value.data.forEach((v, i, a) => {
          a[i] = Math.abs(v) * convScale;
        });
      backend.upload(p.value.data);
    }
    await train(model, data, {
      epochs: 1,
      batchSize: 32,
      lr: 1e-30,
      seed: 1,
      optimizer: { type: 'sgd', momentum: 0 },
      schedule: { type: 'constant' },
      clipGradNorm,
    });
    await backend.download(model.parameters().map((p) => p.grad.data));
    return model;
  }

  for (const [name, make] of backends) {
    describe(name, () => {
      let backend: Backend;
      before(async () => {
        backend = await make();
      });
      after(() => backend.dispose?.());

      it('finite gradients whose float32 sum of squares overflows: training goes on', async () => {
        const model = await oneStep(backend, 1, 3e18);
        const conv = model.parameters().find((p) => p.path === 'conv1.weight')!;
        const norm = Math.sqrt(Array.from(conv.grad.data).reduce((a, v) => a + v * v, 0));
        assert.ok(norm ** 2 > FLT_MAX && norm < FLT_MAX, `conv1.weight gradient norm ${norm}: its square overflows float32, it does not`);
      });

      it('a norm beyond float32 with every gradient finite: "gradient norm too large", naming the largest', async () => {
        await assert.rejects(
          oneStep(backend, 1e-20, 4e37),
          (e: Error) =>
            e instanceof DivergenceError && /gradient norm 4\.\d+e\+38 is too large .*every gradient is finite; the largest is "conv1\.weight"/.test(e.message),
        );
      });

      it('the same with --clip-grad-norm: clipped, training goes on', async () => {
        await oneStep(backend, 1e-20, 4e37, 1);
      });
    });
  }

  it('--lr 1e9 from the command line names a layer', () => {
    const r = cli([
      'train',
      '--model',
      'lenet5',
      '--train-limit',
      '128',
      '--test-limit',
      '50',
      '--batch',
      '32',
      '--epochs',
      '1',
      '--lr',
      '1e9',
      '--out',
      join(dir, 'lr.convkit'),
    ]);
    assertFails(r, 1, /diverged at step \d+ .*(in layer ".+"|the largest is ".+")/);
  });
});

describe('--resume writes where the user says', () => {
  const elsewhere = mkdtempSync(join(tmpdir(), 'convkit-elsewhere-'));
  const crafted = join(dir, 'crafted-ckpt');

  it("(setup) a finished run's checkpoint, its stored output path pointed elsewhere", () => {
    const src = join(dir, 'resume-src');
    const r = cli(['train', ...small, '--checkpoint-dir', src, '--out', join(dir, 'resume-src.convkit')]);
    assert.equal(r.status, 0, r.stderr);
    const ck = loadCheckpoint(src, new RefBackend());
    saveCheckpoint(crafted, ck.model, ck.state, { ...ck.run, out: join(elsewhere, 'evil.convkit') });
  });

  it('without --out: the stored file name only, in the current directory; nothing is written elsewhere', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'convkit-cwd-'));
    const r = cli(['train', '--resume', crafted], cwd);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(elsewhere), []);
    assert.ok(existsSync(join(cwd, 'evil.convkit')));
    assert.match(r.stdout, /model saved to evil\.convkit/);
  });

  it('--out wins over the stored path', () => {
    const out = join(dir, 'mine.convkit');
    const r = cli(['train', '--resume', crafted, '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(elsewhere), []);
    assert.ok(loadModel(out, new RefBackend()).model.parameterCount() > 0);
  });
});

describe('empty datasets', () => {
  const empty: ImageDataset = { ...limitDataset(loadMnist('test'), 1), count: 0, images: new Uint8Array(0), labels: new Uint8Array(0), name: 'empty' };

  it('an IDX file of 0 images is refused, naming the file', () => {
    assert.throws(
      () => datasetFromIdx('t', encodeIdx([0, 28, 28], new Uint8Array(0)), 'zero-images.idx', encodeIdx([0], new Uint8Array(0)), 'zero-labels.idx'),
      (e: Error) => e instanceof ConvkitError && /zero-images\.idx: the file holds no images/.test(e.message),
    );
  });

  it('evaluate() and train() throw a ConvkitError instead of returning NaN', async () => {
    const model = new Model(zoo.lenet5.build(), new RefBackend(), 1);
    await assert.rejects(evaluate(model, empty), (e: Error) => e instanceof ConvkitError && /dataset empty is empty/.test(e.message));
    await assert.rejects(
      train(model, empty, { epochs: 1, batchSize: 1, lr: 0.01, seed: 1, optimizer: { type: 'sgd' }, schedule: { type: 'constant' } }),
      (e: Error) => e instanceof ConvkitError && /training set empty is empty/.test(e.message),
    );
  });
});
