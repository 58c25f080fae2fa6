/**
 * The command line under hostile or careless input: every failure is one clear line and an
 * exit code (2 for usage, 1 otherwise), with --json also an {"type":"error"} line on stdout,
 * and a stack trace only with --debug.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RefBackend } from '../src/backend/ref.js';
import { encodeModel } from '../src/io/modelfile.js';
import { Model, sequential } from '../src/model/model.js';
import { encodePng } from '../src/node/image.js';
import { zoo } from '../src/model/zoo.js';
import { headerOf, withHeader } from './fuzz-util.js';

const bin = join(process.cwd(), 'bin/convkit.js');
export const dir = mkdtempSync(join(tmpdir(), 'convkit-hostile-cli-'));

export function cli(args: string[], options: { preload?: string } = {}) {
  const node = options.preload ? ['--import', options.preload] : [];
  return spawnSync(process.execPath, [...node, bin, ...args], { encoding: 'utf8', timeout: 120_000 });
}

/** The failure's exit code and message; no stack trace; with --json, the error line is the last on stdout. */
export function assertFails(r: ReturnType<typeof cli>, code: number, message: RegExp, json = false) {
  assert.equal(r.status, code, `exit code (stderr: ${r.stderr})`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  if (json) {
    const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.equal(last.type, 'error');
    assert.equal(last.exitCode, code);
    assert.match(last.error, message);
  }
}

describe('--json error lines', () => {
  it('usage errors (unknown option, unknown command, bad values, missing arguments, no command) print one', () => {
    assertFails(cli(['train', '--frobnicate', '--json']), 2, /unknown option '--frobnicate'/, true);
    assertFails(cli(['frobnicate', '--json']), 2, /unknown command 'frobnicate'/, true);
    assertFails(cli(['train', '--json', '--batch', '0']), 2, /batch must be an integer ≥ 1/, true);
    assertFails(cli(['train', '--batch', 'x', '--json']), 2, /batch must be an integer ≥ 1/, true);
    assertFails(cli(['predict', '--json', '--model-file', 'x.convkit']), 2, /missing required argument 'images'/, true);
    assertFails(cli(['eval', '--json']), 2, /required option '--model-file <file>' not specified/, true);
    assertFails(cli(['filter', 'in.png', 'out.png', '--border', 'wrap', '--json']), 2, /Allowed choices are zero, clamp, reflect/, true);
    const none = cli(['--json']);
    assert.equal(none.status, 2);
    assert.equal(JSON.parse(none.stdout.trim().split('\n').at(-1)!).type, 'error');
  });

  it('errors of the command itself print one too, with the error class as kind', () => {
    const r = cli(['summary', '--model', 'nonet', '--json']);
    assertFails(r, 1, /unknown model "nonet"/, true);
    assert.equal(JSON.parse(r.stdout.trim().split('\n').at(-1)!).kind, 'ConfigError');
  });
});

describe('unexpected errors', () => {
  const crash = join(process.cwd(), 'test/inject-crash.mjs');

  it('print one line and a hint, no stack trace', () => {
    const r = cli(['info', '--backend', 'ref', '--json'], { preload: crash });
    assertFails(r, 1, /convkit: error: Error: injected failure \(unexpected; run with --debug for the stack trace\)\n$/, false);
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1);
    assert.equal(JSON.parse(r.stdout.trim().split('\n').at(-1)!).kind, 'internal');
  });

  it('print the stack trace with --debug, before or after the command name', () => {
    for (const args of [
      ['info', '--backend', 'ref', '--debug'],
      ['--debug', 'info', '--backend', 'ref'],
    ]) {
      const r = cli(args, { preload: crash });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /injected failure/);
      assert.match(r.stderr, /^\s+at /m, 'a stack trace');
    }
  });
});

describe('--threads', () => {
  it('is bounded by the cores: a clear usage error, before any worker starts', () => {
    const cores = availableParallelism();
    for (const bad of ['999', '0', '-1', '1.5', 'many', String(cores + 1)]) {
      assertFails(
        cli(['info', '--threads', bad, '--json']),
        2,
        new RegExp(`option '--threads <n>' argument '${bad.replace('.', '\\.')}' is invalid\\. threads must be an integer from 1 to ${cores}`),
        true,
      );
    }
    const ok = cli(['info', '--backend', 'wasm', '--threads', String(cores), '--json']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout.trim().split('\n').at(-1)!).threads, cores);
  });
});

describe('hostile files on the command line', () => {
  const png = join(dir, 'in.png');
  writeFileSync(png, encodePng({ width: 4, height: 4, channels: 1, pixels: new Uint8Array(16).fill(128) }));

  it('JSON nested 100 000 levels deep: a model file and a 3-D kernel file', () => {
    const file = encodeModel(new Model(sequential('tiny', [1, 4, 4], [{ type: 'flatten' }, { type: 'dense', units: 2 }]), new RefBackend()));
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    writeFileSync(join(dir, 'deep.convkit'), withHeader(file, JSON.stringify(headerOf(file)).replace('"type":"flatten"', `"type":"flatten","x":${deep}`)));
    assertFails(
      cli(['summary', '--model-file', join(dir, 'deep.convkit'), '--json']),
      1,
      /deep\.convkit: not a valid convkit model file: header: JSON nested 100005 levels deep/,
      true,
    );
    writeFileSync(join(dir, 'deep.json'), deep);
    assertFails(cli(['filter', png, join(dir, 'out.png'), '--kernel-3d', join(dir, 'deep.json')]), 1, /deep\.json: JSON nested 100000 levels deep/);
    assert.ok(!existsSync(join(dir, 'out.png')));
  });

  it('a device or a directory where a file is read', () => {
    assertFails(cli(['summary', '--model-file', '/dev/zero']), 1, /cannot read \/dev\/zero: it is a character device, not a regular file/);
    assertFails(cli(['filter', png, join(dir, 'out.png'), '--kernel-3d', dir]), 1, /it is a directory, not a regular file/);
  });

  it('outputs: a symbolic link is written through, a device node or FIFO is refused and kept', (t) => {
    writeFileSync(join(dir, 'old.png'), 'old');
    symlinkSync('old.png', join(dir, 'link.png'));
    const ok = cli(['filter', png, join(dir, 'link.png'), '--kernel', 'box-blur']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.ok(lstatSync(join(dir, 'link.png')).isSymbolicLink());
    assert.deepEqual([...readFileSync(join(dir, 'old.png')).subarray(1, 4)], [0x50, 0x4e, 0x47], 'the link target is now a PNG');
    assert.equal(spawnSync('mkfifo', [join(dir, 'out.fifo')]).status, 0);
    assertFails(cli(['filter', png, join(dir, 'out.fifo'), '--kernel', 'box-blur', '--json']), 1, /out\.fifo: it is a FIFO, not a regular file/, true);
    assert.ok(lstatSync(join(dir, 'out.fifo')).isFIFO());
    if (spawnSync('mknod', [join(dir, 'full'), 'c', '1', '7']).status !== 0) return t.diagnostic('mknod needs root: device node case skipped');
    assertFails(cli(['filter', png, join(dir, 'full'), '--kernel', 'box-blur']), 1, /full: it is a character device, not a regular file/);
    assertFails(cli(['train', '--out', join(dir, 'full'), '--train-limit', '1']), 1, /full: it is a character device/);
    assert.ok(lstatSync(join(dir, 'full')).isCharacterDevice());
  });
});

describe('model metadata on the command line', () => {
  const png = join(dir, 'digit.png');
  writeFileSync(
    png,
    encodePng({ width: 28, height: 28, channels: 1, pixels: Uint8Array.from({ length: 784 }, (_, i) => (i % 28 > 10 && i % 28 < 16 ? 255 : 0)) }),
  );
  const lenet = new Model(zoo.lenet5.build(), new RefBackend());
  const data = {
    dataset: 'mnist',
    channels: 1,
    height: 28,
    width: 28,
    mean: [0.1307],
    std: [0.3081],
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  };
  const modelWith = (name: string, d: unknown) => {
    const f = join(dir, name);
    writeFileSync(f, encodeModel(lenet, { data: d }));
    return f;
  };

  it('predict refuses std 0, a huge stored size or a missing mean before preparing any image', () => {
    const ok = cli(['predict', '--model-file', modelWith('ok.convkit', data), png, '--json']);
    assert.equal(ok.status, 0, ok.stderr);
    assertFails(
      cli(['predict', '--model-file', modelWith('std0.convkit', { ...data, std: [0] }), png, '--json']),
      1,
      /std0\.convkit: invalid training-data description \(metadata\.data\): std\[0\] is 0/,
      true,
    );
    assertFails(
      cli(['predict', '--model-file', modelWith('tall.convkit', { ...data, height: 20000, width: 20000 }), png]),
      1,
      /tall\.convkit: .*height is 20000, the model's input needs 28 to 92/,
    );
    const { mean: _, ...noMean } = data;
    assertFails(cli(['eval', '--model-file', modelWith('nomean.convkit', noMean), '--test-limit', '10']), 1, /nomean\.convkit: .*mean must list 1 value/);
    assertFails(
      cli(['summary', '--model-file', modelWith('numeric.convkit', { ...data, dataset: 7 })]),
      1,
      /numeric\.convkit: .*dataset must be a name, got 7/,
    );
  });
});

describe('activation memory budget on the command line', () => {
  const png = join(dir, 'mem-digit.png');
  writeFileSync(png, encodePng({ width: 28, height: 28, channels: 1, pixels: new Uint8Array(784).fill(200) }));
  // 940 bytes: a 1×1 convolution padded by 4000 makes each 28×28 image 8001×8001.
  const padded = join(dir, 'padded.convkit');
  writeFileSync(
    padded,
    encodeModel(
      new Model(
        sequential(
          'padded',
          [1, 28, 28],
          [
            { type: 'conv2d', filters: 1, kernel: 1, padding: 4000 },
            { type: 'relu' },
            { type: 'adaptiveavgpool2d', output: 1 },
            { type: 'flatten' },
            { type: 'dense', units: 10 },
          ],
        ),
        new RefBackend(),
      ),
      { data: { dataset: 'mnist', channels: 1, height: 28, width: 28, mean: [0.13], std: [0.31] } },
    ),
  );
  const over = (what: RegExp) => new RegExp(`${what.source}.*more than the memory limit of .*raise the limit with --memory-limit`);

  it('train --batch 60000 is refused before loading any data', () => {
    const r = cli(['train', '--model', 'lenet5', '--batch', '60000', '--json']);
    assertFails(r, 1, over(/model "lenet5" training with batch 60000 needs about 7\.\d GiB \(activations .* the largest node "relu1"/), true);
    assert.equal(JSON.parse(r.stdout.trim().split('\n').at(-1)!).kind, 'ResourceError');
    assertFails(cli(['train', '--model', 'lenet5', '--batch', '64', '--memory-limit', '1MiB']), 1, over(/needs about 8\.\d MiB/));
    assertFails(cli(['train', '--memory-limit', 'lots', '--json']), 2, /a memory size like 2GiB, 512MiB or 1048576 \(bytes\), got "lots"/, true);
  });

  it('explain and visualize (backward passes) check the same budget, training-like, before writing anything', () => {
    const outDir = join(dir, 'padded-explain'),
      outPng = join(dir, 'padded-max.png');
    assertFails(
      cli(['explain', '--model-file', padded, png, '--out', outDir, '--memory-limit', '512MiB']),
      1,
      over(/model "padded" training with batch 1 needs about 1\.\d GiB .*"relu1" \(relu\)/),
    );
    assertFails(
      cli(['visualize', '--model-file', padded, '--layer', 'conv1', '--what', 'maximize', '--out', outPng, '--memory-limit', '512MiB']),
      1,
      over(/model "padded" training with batch 1 needs about/),
    );
    assert.ok(!existsSync(outDir) && !existsSync(outPng), 'nothing written');
  });

  it('eval, predict, import and export of a small file that needs huge activations', () => {
    assertFails(cli(['eval', '--model-file', padded]), 1, over(/model "padded" inference with batch 10 needs about [\d.]+ GiB .*"conv1" \(conv2d\)/));
    assertFails(
      cli(['predict', '--model-file', padded, png, '--memory-limit', '256MiB']),
      1,
      over(/model "padded" inference with batch 1 needs about [\d.]+ MiB/),
    );
    assertFails(
      cli(['export', '--model-file', padded, '--out', join(dir, 'padded.onnx'), '--memory-limit', '256MiB']),
      1,
      over(/model "padded" inference with batch 1/),
    );
    assert.ok(!existsSync(join(dir, 'padded.onnx')));
    const exported = cli(['export', '--model-file', padded, '--out', join(dir, 'padded.onnx')]);
    assert.equal(exported.status, 0, exported.stderr);
    assertFails(
      cli(['import', join(dir, 'padded.onnx'), '--out', join(dir, 'back.convkit'), '--memory-limit', '256MiB']),
      1,
      over(/inference with batch 1 needs about [\d.]+ MiB/),
    );
    assert.ok(!existsSync(join(dir, 'back.convkit')));
  });

  it('filter --padding 6000 is refused before filtering', () => {
    assertFails(
      cli(['filter', png, join(dir, 'big.png'), '--kernel', 'box-blur', '--padding', '6000', '--json']),
      1,
      /filter: .*mem-digit\.png \(28×28\) padded by 6000×6000 gives a 12026×12026 output that needs about \d+\.\d GiB, more than the memory limit of 2\.0 GiB/,
      true,
    );
    assert.ok(!existsSync(join(dir, 'big.png')));
  });

  it('a folder dataset at --input-size 4000 is refused before decoding an image', () => {
    // (the dataset's own byte limit is tested in hostile.test.ts: here the network refuses first)
    const root = join(dir, 'folder');
    for (const c of ['a', 'b']) {
      mkdirSync(join(root, c), { recursive: true });
      for (let i = 0; i < 5; i++) writeFileSync(join(root, c, `${i}.png`), readFileSync(png));
    }
    assertFails(
      cli(['train', '--dataset', `folder:${root}`, '--model', 'resnet18', '--input-size', '4000', '--batch', '1']),
      1,
      /resnet18.*(more than the memory limit|more than the limit)/,
    );
  });
});

describe('the new commands and flags under hostile input', () => {
  const png = join(dir, 'colour-8.png');
  writeFileSync(png, encodePng({ width: 8, height: 8, channels: 3, pixels: new Uint8Array(192).fill(90) }));
  const colour = join(dir, 'colour-8.convkit');
  writeFileSync(
    colour,
    encodeModel(
      new Model(
        sequential(
          'colour8',
          [3, 8, 8],
          [
            { type: 'conv2d', filters: 2, kernel: 3, padding: 1 },
            { type: 'relu' },
            { type: 'globalavgpool2d' },
            { type: 'flatten' },
            { type: 'dense', units: 3 },
          ],
        ),
        new RefBackend(),
      ),
      { data: { dataset: 'folder', channels: 3, height: 8, width: 8, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], classes: ['a', 'b', 'c'] } },
    ),
  );

  it('predict --labels reads only a regular file of sensible size (/dev/zero was read until memory ran out)', () => {
    assertFails(
      cli(['predict', '--model-file', colour, '--labels', '/dev/zero', png, '--json']),
      1,
      /cannot read \/dev\/zero: it is a character device, not a regular file/,
      true,
    );
    assertFails(cli(['predict', '--model-file', colour, '--labels', dir, png]), 1, /cannot read .*: it is a directory, not a regular file/);
    const labels = join(dir, 'labels-crlf.txt');
    writeFileSync(labels, '\uFEFFred\r\ngreen\r\nblue\r\n');
    const r = cli(['predict', '--model-file', colour, '--labels', labels, png, '--backend', 'ref']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /colour-8\.png: (red|green|blue) [\d.]+ %, (red|green|blue)/);
  });

  it("--mean and --std follow the model file's rule (train wrote a file with std 5 that predict then refused), empty values are not 0", () => {
    for (const command of [
      ['train', '--from', colour, '--dataset', `folder:${dir}`],
      ['explain', '--model-file', colour, png],
      ['visualize', '--model-file', colour, '--layer', 'conv1'],
    ]) {
      assertFails(cli([...command, '--mean', '0.5,0.5,0.5', '--std', '5,5,5', '--json']), 2, /--std: std\[0\] is 5, must be in \(0, 1\]/, true);
      assertFails(cli([...command, '--mean', ',,', '--std', '0.2,0.2,0.2']), 2, /--mean must be comma-separated numbers, one per channel .*"" is not a number/);
      assertFails(cli([...command, '--mean', '1e300,0,0', '--std', '0.2,0.2,0.2']), 2, /--mean: mean\[0\] is 1e\+300, must be in \[0, 1\]/);
    }
  });

  it('explain --samples and visualize --steps are bounded (1e9 ran for days)', () => {
    assertFails(
      cli(['explain', '--model-file', colour, '--method', 'smoothgrad', '--samples', '1e9', png, '--json']),
      2,
      /samples must be an integer ≥ 1 and ≤ 10000/,
      true,
    );
    assertFails(
      cli(['visualize', '--model-file', colour, '--layer', 'conv1', '--what', 'maximize', '--steps', '10001']),
      2,
      /steps must be an integer ≥ 1 and ≤ 10000/,
    );
  });

  it('a FIFO where the checkpoint lock belongs is refused, not read forever', () => {
    const ck = join(dir, 'fifo-lock');
    mkdirSync(ck);
    assert.equal(spawnSync('mkfifo', [join(ck, 'convkit.lock')]).status, 0);
    const r = cli([
      'train',
      '--model',
      'lenet5',
      '--train-limit',
      '8',
      '--test-limit',
      '8',
      '--epochs',
      '1',
      '--checkpoint-dir',
      ck,
      '--out',
      join(dir, 'never.convkit'),
    ]);
    assertFails(r, 1, /checkpoint directory .*fifo-lock is locked by .*convkit\.lock, which does not hold a process id/);
    assert.ok(lstatSync(join(ck, 'convkit.lock')).isFIFO());
  });
});
