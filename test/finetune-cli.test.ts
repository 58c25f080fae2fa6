/**
 * Fine-tuning from the command line, end to end: a small CNN exported to ONNX is fine-tuned
 * with `convkit train --from net.onnx --new-head 3 --freeze …` on a folder of synthetic
 * coloured shapes, predicted with --labels, exported again and run in ONNX Runtime Web; a
 * fine-tuning run killed after a checkpoint resumes to bit-identical weights.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-web';
import { PNG } from 'pngjs';
import { RefBackend } from '../src/backend/ref.js';
import { main } from '../src/cli/main.js';
import { checkFineTuneSettings } from '../src/cli/train-from.js';
import { FormatError } from '../src/errors.js';
import { Model, type ModelSpec, sequential } from '../src/model/model.js';
import { loadCheckpoint, saveCheckpoint } from '../src/node/checkpoint.js';
import { loadModel, saveModel } from '../src/node/files.js';
import { toOnnx } from '../src/onnx/export.js';
import { loadOnnx } from '../src/onnx/import.js';
import { Rng } from '../src/rng.js';
import { Tensor } from '../src/tensor.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../src/train/finetune.js';

ort.env.wasm.numThreads = 1;
const backend = new RefBackend();
const bin = join(process.cwd(), 'bin/convkit.js');
const dir = mkdtempSync(join(tmpdir(), 'convkit-finetune-'));
const CLASSES = ['circle', 'square', 'triangle'];
const SIZE = 32;

function cli(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
}

// biome-ignore lint/suspicious/noExplicitAny: the tests read fields of the CLI's JSON freely
function lastJson(stdout: string): Record<string, any> {
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

/** Red circles, green squares, blue triangles: each of a jittered colour, random size and position, on a noisy grey background. */
function shapePng(kind: number, rng: Rng, side = SIZE): Buffer {
  const png = new PNG({ width: side, height: side });
  const colour = [0, 1, 2].map((k) => (k === kind ? 170 : 40) + rng.int(60));
  const grey = 80 + rng.int(100),
    ground = [grey, grey, grey];
  const r = Math.round(side / 5) + rng.int(Math.round(side / 5)),
    cx = r + rng.int(side - 2 * r),
    cy = r + rng.int(side - 2 * r);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const dx = x - cx,
        dy = y - cy;
      const inside =
        kind === 0
          ? dx * dx + dy * dy <= r * r
          : kind === 1
            ? Math.abs(dx) <= r * 0.8 && Math.abs(dy) <= r * 0.8
            : dy <= r * 0.8 && dy >= -r && Math.abs(dx) <= (dy + r) / 2;
      const c = inside ? colour : ground;
      for (let k = 0; k < 3; k++) png.data[(y * side + x) * 4 + k] = Math.max(0, Math.min(255, c[k] + rng.int(31) - 15));
      png.data[(y * side + x) * 4 + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

/** The "pretrained" network: a small CNN with batch norm, its weights and statistics from a seed. */
function netSpec(): ModelSpec {
  return sequential(
    'shapes-net',
    [3, SIZE, SIZE],
    [
      { type: 'conv2d', filters: 8, kernel: 3, padding: 1 },
      { type: 'batchnorm2d' },
      { type: 'relu' },
      { type: 'maxpool2d', kernel: 2 },
      { type: 'conv2d', filters: 16, kernel: 3, padding: 1 },
      { type: 'batchnorm2d' },
      { type: 'relu' },
      { type: 'maxpool2d', kernel: 2 },
      { type: 'conv2d', filters: 16, kernel: 3, padding: 1 },
      { type: 'relu' },
      { type: 'globalavgpool2d' },
      { type: 'flatten' },
      { type: 'dense', units: 10 },
    ],
  );
}

const onnxFile = join(dir, 'net.onnx');
const data = join(dir, 'shapes');
const labels = join(dir, 'labels.txt');
const FREEZE = 'pool1';
const base = (out: string) => [
  'train',
  '--from',
  onnxFile,
  '--dataset',
  `folder:${data}`,
  '--new-head',
  '3',
  '--freeze',
  FREEZE,
  '--epochs',
  '6',
  '--batch',
  '12',
  '--lr',
  '0.05',
  '--seed',
  '3',
  '--backend',
  'wasm',
  '--threads',
  '1',
  '--out',
  out,
  '--json',
];

before(() => {
  const rng = new Rng(42);
  for (const [k, name] of CLASSES.entries()) {
    mkdirSync(join(data, name), { recursive: true });
    for (let i = 0; i < 40; i++) writeFileSync(join(data, name, `${String(i).padStart(2, '0')}.png`), shapePng(k, rng));
  }
  const net = new Model(netSpec(), backend, 7);
  const stats = new Rng(8);
  for (const t of net.stateTensors())
    for (let i = 0; i < t.value.size; i++) t.value.data[i] = t.path.endsWith('var') ? stats.uniform(0.5, 2) : stats.uniform(-0.2, 0.2);
  writeFileSync(onnxFile, toOnnx(net));
  writeFileSync(labels, 'round thing\nbox\npointy\n');
});

describe('convkit train --from an ONNX file', () => {
  let tuned: string;

  it('convkit summary reads the .onnx file, and a convkit export keeps its node names through the round trip', () => {
    const r = cli(['summary', '--model-file', onnxFile, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      lastJson(r.stdout).layers.map((l: { name: string }) => l.name),
      netSpec().nodes.map((n) => n.name),
    );
  });

  it('with --new-head 3 and --freeze pool1 beats 90 % on held-out shapes; frozen weights are bit-identical; class names are kept', () => {
    tuned = join(dir, 'tuned.convkit');
    const r = cli(base(tuned));
    assert.equal(r.status, 0, r.stderr);
    const result = lastJson(r.stdout);
    assert.ok(result.testAccuracy > 0.9, `test accuracy ${result.testAccuracy}`);
    const start = JSON.parse(r.stdout.split('\n')[0]);
    assert.equal(start.fineTune.head, 'fc1');
    assert.deepEqual(start.fineTune.mean, undefined, "a 32×32 model uses the data's own statistics");
    assert.equal(start.fineTune.lrPretrained, 0.005, 'lr/10 for the pretrained layers with a new head');
    const original = loadOnnx(readFileSync(onnxFile), backend);
    const { model, metadata } = loadModel(tuned, backend);
    assert.deepEqual(model.spec.classes, CLASSES);
    assert.deepEqual((metadata.data as { classes: string[] }).classes, CLASSES);
    const old = new Map(original.savedTensors().map((t) => [t.path, t.value.data]));
    for (const t of model.savedTensors()) {
      const frozen = ['conv1', 'batchnorm2d1'].some((n) => t.path.startsWith(`${n}.`));
      if (frozen) assert.deepEqual(t.value.data, old.get(t.path), `${t.path} frozen`);
      else if (!t.path.startsWith('fc1.')) assert.notDeepEqual(t.value.data, old.get(t.path), `${t.path} trained`);
    }
  });

  it('convkit predict --labels --top shows colour images with the given class names', () => {
    const image = join(data, 'circle', '04.png');
    const r = cli(['predict', '--model-file', tuned, '--labels', labels, '--top', '2', image, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const p = lastJson(r.stdout).predictions[0];
    assert.equal(p.top.length, 2);
    assert.ok(['round thing', 'box', 'pointy'].includes(p.top[0].class));
    const plain = lastJson(cli(['predict', '--model-file', tuned, image, '--json']).stdout).predictions[0];
    assert.ok(CLASSES.includes(plain.top[0].class), "the file's own class names");
    assert.equal(CLASSES.indexOf(plain.top[0].class), ['round thing', 'box', 'pointy'].indexOf(p.top[0].class));
    const bad = cli(['predict', '--model-file', tuned, '--labels', onnxFile, image]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--labels: .* class names, the model has 3 outputs/);
    // The normalisation a file records is checked before use (the header is not checksummed).
    const { model, metadata } = loadModel(tuned, backend);
    const damaged = join(dir, 'damaged.convkit');
    saveModel(damaged, model, { ...metadata, data: { ...(metadata.data as object), std: [0.2, 0, 0.2] } });
    const refused = cli(['predict', '--model-file', damaged, image]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /damaged\.convkit: invalid training-data description \(metadata\.data\): std\[1\] is 0, must be in \(0, 1\]/);
    const evaluated = cli(['eval', '--model-file', damaged]);
    assert.equal(evaluated.status, 1, 'eval checks it too');
    assert.match(evaluated.stderr, /damaged\.convkit: invalid training-data description \(metadata\.data\): std\[1\] is 0/);
  });

  it('the fine-tuned model exports to ONNX and ONNX Runtime Web gives the same outputs (max relative error < 1e-5)', async () => {
    const out = join(dir, 'tuned.onnx');
    const r = cli(['export', '--model-file', tuned, '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const { model } = loadModel(tuned, backend);
    const rng = new Rng(5);
    const x = new Tensor(
      [4, 3, SIZE, SIZE],
      Float32Array.from({ length: 4 * 3 * SIZE * SIZE }, () => rng.uniform(-2, 2)),
    );
    const ours = model.forward(x).data;
    const session = await ort.InferenceSession.create(readFileSync(out));
    const theirs = (await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x.data as Float32Array, [...x.shape]) }))[session.outputNames[0]]
      .data as Float32Array;
    let diff = 0,
      scale = 0;
    for (let i = 0; i < ours.length; i++) {
      diff = Math.max(diff, Math.abs(ours[i] - theirs[i]));
      scale = Math.max(scale, Math.abs(theirs[i]));
    }
    assert.ok(diff / scale < 1e-5, `relative error ${diff / scale}`);
    assert.deepEqual(
      loadOnnx(readFileSync(out), backend).spec.nodes.map((n) => n.name),
      model.spec.nodes.map((n) => n.name),
    );
  });

  it('a fine-tuning run killed after its 5th checkpoint resumes to weights bit-identical to an uninterrupted run', async () => {
    const ck = join(dir, 'ck');
    const killed = join(dir, 'killed.convkit');
    await new Promise<void>((resolve) => {
      const child = spawn(process.execPath, [bin, ...base(killed), '--epochs', '2', '--checkpoint-dir', ck, '--checkpoint-every', '1'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let seen = 0,
        buffer = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) if (line.includes('"type":"checkpoint"') && ++seen === 5) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
    });
    // The backend and thread count are not part of a run's settings: resume with the same.
    const resumed = cli(['train', '--resume', ck, '--out', killed, '--backend', 'wasm', '--threads', '1', '--json']);
    assert.equal(resumed.status, 0, resumed.stderr);
    const whole = join(dir, 'whole.convkit');
    assert.equal(cli([...base(whole), '--epochs', '2']).status, 0);
    const weights = (f: string) =>
      loadModel(f, backend)
        .model.savedTensors()
        .map((t) => Array.from(t.value.data));
    assert.deepEqual(weights(killed), weights(whole));
  });

  it('refuses --model with --from, an unknown --freeze node (listing the names), and a --new-head that does not match the dataset', () => {
    const both = cli(['train', '--model', 'lenet5', '--from', onnxFile, '--dataset', `folder:${data}`]);
    assert.equal(both.status, 1);
    assert.match(both.stderr, /--model lenet5 and --from .* are exclusive/);
    const unknown = cli(['train', '--from', onnxFile, '--dataset', `folder:${data}`, '--new-head', '3', '--freeze', 'conv9']);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /--freeze conv9: .*no node "conv9" \(nodes: conv1, batchnorm2d1, relu1, pool1,/);
    const wrong = cli(['train', '--from', onnxFile, '--dataset', `folder:${data}`, '--new-head', '4', '--epochs', '1']);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /--new-head 4, but the dataset has 3 classes \(circle, square, triangle\)/);
    const none = cli(['train', '--from', onnxFile, '--dataset', `folder:${data}`, '--epochs', '1']);
    assert.match(none.stderr, /10 outputs but the dataset has 3 classes: add --new-head 3/);
  });

  it('a checkpoint whose fine-tuning settings were tampered with is refused as damaged, naming the field, before training', () => {
    // The checkpoint written by the killed run above: load it, change one setting, save it elsewhere.
    const ck = loadCheckpoint(join(dir, 'ck'), backend);
    const ft = ck.run.fineTune as Record<string, unknown>;
    assert.equal(ft.head, 'fc1');
    const model = ck.model;
    checkFineTuneSettings(ft, 'ck', model);
    checkFineTuneSettings({ ...ft, mean: [0.5, 0.4, 0.3], std: [0.2, 0.2, 1] }, 'ck', model);
    const damaged: [Record<string, unknown> | null, RegExp][] = [
      [null, /fine-tuning setting is null, not an object/],
      [{ ...ft, from: 5 }, /from is 5, not a file name/],
      [{ ...ft, head: 'fc9' }, /head is "fc9", not a node of the model/],
      [{ ...ft, head: 'relu1' }, /head is "relu1", a relu node, not a dense or conv2d classifier/],
      [{ ...ft, freeze: 'nowhere' }, /freeze is "nowhere", not a node of the model/],
      [{ ...ft, freeze: 'fc1' }, /freeze is "fc1": freezing up to it would freeze the head "fc1" too/],
      [{ ...ft, freeze: 3 }, /freeze is 3, not a node/],
      [{ ...ft, newHead: 7 }, /newHead is 7, the model has 3 outputs/],
      [{ ...ft, lrPretrained: -1 }, /lrPretrained must be a positive number, got -1/],
      [{ ...ft, lrPretrained: '0.1' }, /lrPretrained must be a positive number, got "0.1"/],
      [{ ...ft, resizedCrop: 'yes' }, /resizedCrop is "yes", not true or false/],
      [{ ...ft, mean: [0.5, 0.5, 0.5] }, /mean and std must be given together/],
      [{ ...ft, mean: [0.5, 0.5], std: [0.2, 0.2, 0.2] }, /mean must list 3 value\(s\), one per channel, got \[0\.5,0\.5\]/],
      [{ ...ft, mean: [124, 116, 104], std: [0.2, 0.2, 0.2] }, /mean\[0\] is 124, must be in \[0, 1\]/],
      [{ ...ft, mean: [0.5, 0.5, 0.5], std: [0.2, 0, 0.2] }, /std\[1\] is 0, must be in \(0, 1\]/],
      [{ ...ft, mean: [0.5, 0.5, 0.5], std: [0.2, 'x', 0.2] }, /std\[1\] is "x", must be in \(0, 1\]/],
    ];
    for (const [value, message] of damaged) {
      assert.throws(
        () => checkFineTuneSettings(value, 'ck', model),
        (e: Error) => e instanceof FormatError && /^ck: damaged training checkpoint: fine-tuning setting /.test(e.message) && message.test(e.message),
        JSON.stringify(value),
      );
    }
    // From the command line: refused with exit 1 before any training, nothing written.
    const tampered = join(dir, 'ck-tampered');
    cpSync(join(dir, 'ck'), tampered, { recursive: true });
    for (const f of ['checkpoint.prev.convkit', 'convkit.lock']) rmSync(join(tampered, f), { force: true });
    saveCheckpoint(tampered, model, ck.state, { ...ck.run, fineTune: { ...ft, mean: [124, 116, 104], std: [58, 57, 57] } });
    const out = join(dir, 'tampered.convkit');
    const r = cli(['train', '--resume', tampered, '--out', out, '--backend', 'wasm', '--threads', '1']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /damaged training checkpoint: fine-tuning setting mean\[0\] is 124, must be in \[0, 1\]/);
    assert.ok(!existsSync(out));
  });

  it('refuses --mean/--std that a model file could not record: non-numbers and out-of-range values when the flags are read (exit 2), wrong counts for the model (exit 1)', async () => {
    const never = join(dir, 'never.convkit');
    const cases: [string[], number, RegExp][] = [
      [['--mean', '0.5,abc,0.5', '--std', '0.2,0.2,0.2'], 2, /--mean must be comma-separated numbers.*"abc" is not a number/],
      [['--mean', '0.5,,0.5', '--std', '0.2,0.2,0.2'], 2, /--mean must be comma-separated numbers.*"" is not a number/],
      // 0–255 statistics instead of pixel/255: the saved file would record a mean that no loader accepts.
      [['--mean', '124,116,104', '--std', '58,57,57'], 2, /--mean: mean\[0\] is 124, must be in \[0, 1\]/],
      [['--mean', '0.5,0.5,0.5', '--std', '0.2,0,0.2'], 2, /--std: std\[1\] is 0, must be in \(0, 1\]/],
      [['--mean', '0.5,0.5,0.5', '--std', '0.2,-0.1,0.2'], 2, /--std: std\[1\] is -0\.1, must be in \(0, 1\]/],
      [['--mean', '0.5,0.5', '--std', '0.2,0.2,0.2'], 1, /--mean 0\.5,0\.5: mean must list 3 value\(s\), one per channel.*net\.onnx takes 3-channel images/],
      [['--mean', '0.5,0.5,0.5'], 1, /--mean needs --std too/],
    ];
    for (const [flags, status, message] of cases) {
      // In this process (a process per case costs a second): the exit code and what goes to stderr.
      let stderr = '';
      const write = process.stderr.write;
      process.stderr.write = ((chunk: string) => {
        stderr += chunk;
        return true;
      }) as typeof process.stderr.write;
      let code: number;
      try {
        code = await main([
          'node',
          'convkit',
          'train',
          '--from',
          onnxFile,
          '--dataset',
          `folder:${data}`,
          '--new-head',
          '3',
          '--epochs',
          '1',
          '--backend',
          'ref',
          '--out',
          never,
          ...flags,
        ]);
      } finally {
        process.stderr.write = write;
      }
      assert.equal(code, status, `${flags.join(' ')}: ${stderr}`);
      assert.match(stderr, message, flags.join(' '));
    }
    assert.ok(!existsSync(never));
  });
});

describe('an imported 3-channel model of input ≥ 64: ImageNet normalisation by default, in training and in eval of the .onnx file', () => {
  const SIDE = 64;
  const net64 = join(dir, 'net64.onnx');
  const shapes64 = join(dir, 'shapes64');

  before(() => {
    const rng = new Rng(64);
    for (const [k, name] of CLASSES.entries()) {
      mkdirSync(join(shapes64, name), { recursive: true });
      for (let i = 0; i < 5; i++) writeFileSync(join(shapes64, name, `${i}.png`), shapePng(k, rng, SIDE));
    }
    const spec = sequential(
      'net64',
      [3, SIDE, SIDE],
      [
        { type: 'conv2d', filters: 4, kernel: 3, stride: 4, padding: 1 },
        { type: 'relu' },
        { type: 'globalavgpool2d' },
        { type: 'flatten' },
        { type: 'dense', units: 3 },
      ],
    );
    writeFileSync(net64, toOnnx(new Model(spec, backend, 5)));
  });

  it("convkit train --from records ImageNet's mean and std (start event and model file), images stored at 8/7 of the input", () => {
    const out = join(dir, 'net64.convkit');
    const r = cli([
      'train',
      '--from',
      net64,
      '--dataset',
      `folder:${shapes64}`,
      '--epochs',
      '1',
      '--batch',
      '6',
      '--seed',
      '2',
      '--backend',
      'wasm',
      '--threads',
      '1',
      '--out',
      out,
      '--json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const start = JSON.parse(r.stdout.split('\n')[0]);
    assert.deepEqual(start.fineTune.mean, IMAGENET_MEAN);
    assert.deepEqual(start.fineTune.std, IMAGENET_STD);
    const data = loadModel(out, backend).metadata.data as { mean: number[]; std: number[]; height: number };
    assert.deepEqual([data.mean, data.std, data.height], [IMAGENET_MEAN, IMAGENET_STD, 73]);
  });

  it("convkit eval reads the .onnx file and prepares images as predict does: the same result as the .convkit file that records ImageNet's statistics", () => {
    const fromOnnx = cli(['eval', '--model-file', net64, '--dataset', `folder:${shapes64}`, '--backend', 'wasm', '--threads', '1', '--json']);
    assert.equal(fromOnnx.status, 0, fromOnnx.stderr);
    // The same weights in a .convkit file that records ImageNet's statistics explicitly.
    const same = join(dir, 'net64-same.convkit');
    saveModel(same, loadOnnx(readFileSync(net64), backend), {
      data: { dataset: `folder:${shapes64}`, channels: 3, height: 73, width: 73, mean: IMAGENET_MEAN, std: IMAGENET_STD, classes: CLASSES },
    });
    const fromFile = cli(['eval', '--model-file', same, '--backend', 'wasm', '--threads', '1', '--json']);
    assert.equal(fromFile.status, 0, fromFile.stderr);
    const [a, b] = [lastJson(fromOnnx.stdout), lastJson(fromFile.stdout)];
    assert.equal(a.count, 3);
    assert.deepEqual([a.loss, a.accuracy, a.confusion], [b.loss, b.accuracy, b.confusion]);
    const none = cli(['eval', '--model-file', net64]);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /eval needs --dataset for .*net64\.onnx: an ONNX file records no dataset/);
  });
});
