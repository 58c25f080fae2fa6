/**
 * Fine-tuning from the command line, end to end: a small CNN exported to ONNX is fine-tuned
 * with `convkit train --from net.onnx --new-head 3 --freeze …` on a folder of synthetic
 * coloured shapes, predicted with --labels, exported again and run in ONNX Runtime Web; a
 * fine-tuning run killed after a checkpoint resumes to bit-identical weights.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-web';
import { PNG } from 'pngjs';
import { RefBackend } from '../src/backend/ref.js';
import { Model, type ModelSpec, sequential } from '../src/model/model.js';
import { loadModel, saveModel } from '../src/node/files.js';
import { toOnnx } from '../src/onnx/export.js';
import { loadOnnx } from '../src/onnx/import.js';
import { Rng } from '../src/rng.js';
import { Tensor } from '../src/tensor.js';

ort.env.wasm.numThreads = 1;
const backend = new RefBackend();
const bin = join(process.cwd(), 'bin/convkit.js');
const dir = mkdtempSync(join(tmpdir(), 'convkit-finetune-'));
const CLASSES = ['circle', 'square', 'triangle'];
const SIZE = 32;

function cli(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
}

function lastJson(stdout: string): Record<string, any> {
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

/** Red circles, green squares, blue triangles: each of a jittered colour, random size and position, on a noisy grey background. */
function shapePng(kind: number, rng: Rng): Buffer {
  const png = new PNG({ width: SIZE, height: SIZE });
  const colour = [0, 1, 2].map((k) => (k === kind ? 170 : 40) + rng.int(60));
  const grey = 80 + rng.int(100), ground = [grey, grey, grey];
  const r = 6 + rng.int(6), cx = r + rng.int(SIZE - 2 * r), cy = r + rng.int(SIZE - 2 * r);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const dx = x - cx, dy = y - cy;
      const inside = kind === 0 ? dx * dx + dy * dy <= r * r
        : kind === 1 ? Math.abs(dx) <= r * 0.8 && Math.abs(dy) <= r * 0.8
          : dy <= r * 0.8 && dy >= -r && Math.abs(dx) <= (dy + r) / 2;
      const c = inside ? colour : ground;
      for (let k = 0; k < 3; k++) png.data[(y * SIZE + x) * 4 + k] = Math.max(0, Math.min(255, c[k] + rng.int(31) - 15));
      png.data[(y * SIZE + x) * 4 + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

/** The "pretrained" network: a small CNN with batch norm, its weights and statistics from a seed. */
function netSpec(): ModelSpec {
  return sequential('shapes-net', [3, SIZE, SIZE], [
    { type: 'conv2d', filters: 8, kernel: 3, padding: 1 }, { type: 'batchnorm2d' }, { type: 'relu' }, { type: 'maxpool2d', kernel: 2 },
    { type: 'conv2d', filters: 16, kernel: 3, padding: 1 }, { type: 'batchnorm2d' }, { type: 'relu' }, { type: 'maxpool2d', kernel: 2 },
    { type: 'conv2d', filters: 16, kernel: 3, padding: 1 }, { type: 'relu' },
    { type: 'globalavgpool2d' }, { type: 'flatten' }, { type: 'dense', units: 10 },
  ]);
}

const onnxFile = join(dir, 'net.onnx');
const data = join(dir, 'shapes');
const labels = join(dir, 'labels.txt');
const FREEZE = 'pool1';
const base = (out: string) => ['train', '--from', onnxFile, '--dataset', `folder:${data}`, '--new-head', '3', '--freeze', FREEZE,
  '--epochs', '6', '--batch', '12', '--lr', '0.05', '--seed', '3', '--backend', 'wasm', '--threads', '1', '--out', out, '--json'];

before(() => {
  const rng = new Rng(42);
  for (const [k, name] of CLASSES.entries()) {
    mkdirSync(join(data, name), { recursive: true });
    for (let i = 0; i < 40; i++) writeFileSync(join(data, name, `${String(i).padStart(2, '0')}.png`), shapePng(k, rng));
  }
  const net = new Model(netSpec(), backend, 7);
  const stats = new Rng(8);
  for (const t of net.stateTensors()) for (let i = 0; i < t.value.size; i++) t.value.data[i] = t.path.endsWith('var') ? stats.uniform(0.5, 2) : stats.uniform(-0.2, 0.2);
  writeFileSync(onnxFile, toOnnx(net));
  writeFileSync(labels, 'round thing\nbox\npointy\n');
});

describe('convkit train --from an ONNX file', () => {
  let tuned: string;

  it('convkit summary reads the .onnx file, and a convkit export keeps its node names through the round trip', () => {
    const r = cli(['summary', '--model-file', onnxFile, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(lastJson(r.stdout).layers.map((l: { name: string }) => l.name), netSpec().nodes.map((n) => n.name));
  });

  it('with --new-head 3 and --freeze pool1 beats 90 % on held-out shapes; frozen weights are bit-identical; class names are kept', () => {
    tuned = join(dir, 'tuned.convkit');
    const r = cli(base(tuned));
    assert.equal(r.status, 0, r.stderr);
    const result = lastJson(r.stdout);
    assert.ok(result.testAccuracy > 0.9, `test accuracy ${result.testAccuracy}`);
    const start = JSON.parse(r.stdout.split('\n')[0]);
    assert.equal(start.fineTune.head, 'fc1');
    assert.deepEqual(start.fineTune.mean, undefined, 'a 32×32 model uses the data\'s own statistics');
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
    assert.ok(CLASSES.includes(plain.top[0].class), 'the file\'s own class names');
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
  });

  it('the fine-tuned model exports to ONNX and ONNX Runtime Web gives the same outputs (max relative error < 1e-5)', async () => {
    const out = join(dir, 'tuned.onnx');
    const r = cli(['export', '--model-file', tuned, '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const { model } = loadModel(tuned, backend);
    const rng = new Rng(5);
    const x = new Tensor([4, 3, SIZE, SIZE], Float32Array.from({ length: 4 * 3 * SIZE * SIZE }, () => rng.uniform(-2, 2)));
    const ours = model.forward(x).data;
    const session = await ort.InferenceSession.create(readFileSync(out));
    const theirs = (await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x.data as Float32Array, [...x.shape]) }))[session.outputNames[0]].data as Float32Array;
    let diff = 0, scale = 0;
    for (let i = 0; i < ours.length; i++) { diff = Math.max(diff, Math.abs(ours[i] - theirs[i])); scale = Math.max(scale, Math.abs(theirs[i])); }
    assert.ok(diff / scale < 1e-5, `relative error ${diff / scale}`);
    assert.deepEqual(loadOnnx(readFileSync(out), backend).spec.nodes.map((n) => n.name), model.spec.nodes.map((n) => n.name));
  });

  it('a fine-tuning run killed after its 5th checkpoint resumes to weights bit-identical to an uninterrupted run', async () => {
    const ck = join(dir, 'ck');
    const killed = join(dir, 'killed.convkit');
    await new Promise<void>((resolve) => {
      const child = spawn(process.execPath, [bin, ...base(killed), '--epochs', '2', '--checkpoint-dir', ck, '--checkpoint-every', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let seen = 0, buffer = '';
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
    const weights = (f: string) => loadModel(f, backend).model.savedTensors().map((t) => Array.from(t.value.data));
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
});
