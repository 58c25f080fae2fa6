/**
 * Conv2d dilation and batch norm without affine parameters through the whole library: output
 * shapes (what `convkit summary` prints), the model file round trip, and the CLI summary.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Backend } from '../src/backend/backend.js';
import { createBackend } from '../src/backend/index.js';
import { RefBackend } from '../src/backend/ref.js';
import { ConfigError, ShapeError } from '../src/errors.js';
import { decodeModel, encodeModel } from '../src/io/modelfile.js';
import { createLayer } from '../src/layers/index.js';
import { Model, type ModelSpec } from '../src/model/model.js';
import { saveModel } from '../src/node/files.js';
import { Rng } from '../src/rng.js';
import { Tensor } from '../src/tensor.js';
import { webgpuSkip } from './webgpu-env.js';

const ref = new RefBackend();

const spec: ModelSpec = {
  name: 'dilated',
  inputShape: [1, 20, 18],
  classes: ['a', 'b', 'c'],
  nodes: [
    { name: 'conv1', layer: { type: 'conv2d', filters: 4, kernel: 3, dilation: 2 }, inputs: ['input'] },
    { name: 'bn1', layer: { type: 'batchnorm2d', affine: false }, inputs: ['conv1'] },
    { name: 'conv2', layer: { type: 'conv2d', filters: 5, kernel: [3, 5], dilation: [3, 2], stride: 2, padding: 'same' }, inputs: ['bn1'] },
    { name: 'flat', layer: { type: 'flatten' }, inputs: ['conv2'] },
    { name: 'bn2', layer: { type: 'batchnorm2d', affine: false, eps: 1e-3 }, inputs: ['flat'] },
    { name: 'fc', layer: { type: 'dense', units: 3 }, inputs: ['bn2'] },
  ],
};

describe('conv2d dilation and batch norm without affine parameters', () => {
  it('output shapes: floor((H + 2p − d·(k − 1) − 1)/s) + 1', () => {
    const rows = new Model(spec, ref).summary();
    // conv1: 20 − 4 = 16, 18 − 4 = 14; conv2 'same' pads d·(k − 1)/2 = (3, 4): (16 + 6 − 7)/2 + 1 = 8, (14 + 8 − 9)/2 + 1 = 7.
    assert.deepEqual(
      rows.map((r) => [r.name, r.outputShape, r.params]),
      [
        ['conv1', [4, 16, 14], 4 * 9 + 4],
        ['bn1', [4, 16, 14], 0],
        ['conv2', [5, 8, 7], 5 * 4 * 15 + 5],
        ['flat', [280], 0],
        ['bn2', [280], 0],
        ['fc', [3], 280 * 3 + 3],
      ],
    );
  });

  it('a dilated kernel that does not fit is a ShapeError saying so', () => {
    const layer = createLayer({ type: 'conv2d', filters: 1, kernel: 3, dilation: 4 }, 'c');
    assert.throws(
      () => layer.inferShape([[1, 8, 20]]),
      (e: Error) => e instanceof ShapeError && /dilated by 4×4/.test(e.message),
    );
  });

  it('bad dilation and affine values are ConfigErrors naming the layer', () => {
    for (const dilation of [0, -1, 1.5, [2], [1, 2, 3], 'two']) {
      assert.throws(
        () => createLayer({ type: 'conv2d', filters: 1, kernel: 3, dilation } as never, 'c7'),
        (e: Error) => (e instanceof ConfigError || e instanceof ShapeError) && e.message.includes('"c7"') && e.message.includes('dilation'),
        JSON.stringify(dilation),
      );
    }
    assert.throws(
      () => createLayer({ type: 'batchnorm2d', affine: 'no' } as never, 'b7'),
      (e: Error) => e instanceof ConfigError && e.message.includes('"b7"') && e.message.includes('affine'),
    );
  });

  it('round-trips through the model file: same spec, only the running statistics stored for affine-free batch norm', async () => {
    const model = new Model(spec, ref, 3);
    const rng = new Rng(5);
    const x = new Tensor(
      [4, 1, 20, 18],
      Float32Array.from({ length: 4 * 360 }, () => rng.uniform(-1, 1)),
    );
    model.forward(x, true); // moves the running statistics away from their initial values
    const bytes = encodeModel(model);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + new DataView(bytes.buffer).getUint32(8, true))));
    assert.deepEqual(
      header.tensors.map((t: { path: string }) => t.path),
      [
        'conv1.weight',
        'conv1.bias',
        'conv2.weight',
        'conv2.bias',
        'fc.weight',
        'fc.bias',
        'bn1.running_mean',
        'bn1.running_var',
        'bn2.running_mean',
        'bn2.running_var',
      ],
    );
    const loaded = decodeModel(bytes, 'dilated.convkit', ref).model;
    assert.deepEqual(loaded.spec, model.spec);
    const want = Array.from(model.forward(x, false).data);
    assert.deepEqual(Array.from(loaded.forward(x, false).data), want);
  });

  for (const [name, skip] of [
    ['wasm', false],
    ['webgpu', webgpuSkip],
  ] as const) {
    it(`${name}: the same outputs and gradients as the reference, in training and evaluation`, { skip }, async () => {
      const be: Backend = await createBackend(name, { threads: 2 });
      try {
        const mRef = new Model(spec, ref, 9),
          mBe = new Model(spec, be, 9);
        const rng = new Rng(8);
        const values = Float32Array.from({ length: 4 * 360 }, () => rng.uniform(-1, 1));
        const x = new Tensor([4, 1, 20, 18], be.alloc(values.length));
        x.data.set(values);
        be.upload(x.data);
        for (const training of [true, false]) {
          const yRef = mRef.forward(new Tensor(x.shape, values), training),
            yBe = mBe.forward(x, training);
          const dy = new Tensor(yBe.shape, be.alloc(yBe.size));
          dy.data.set(Float32Array.from({ length: yBe.size }, (_, i) => Math.sin(i)));
          be.upload(dy.data);
          mRef.backward(new Tensor(dy.shape, Float32Array.from(dy.data)), training);
          mBe.backward(dy, training);
          const pBe = mBe.parameters();
          await be.download([yBe.data, ...pBe.map((p) => p.grad.data)]);
          const near = (got: ArrayLike<number>, want: ArrayLike<number>, what: string) => {
            for (let i = 0; i < want.length; i++)
              assert.ok(Math.abs(got[i] - want[i]) <= 1e-3 * (1 + Math.abs(want[i])), `${what}[${i}]: ${got[i]} vs ${want[i]}`);
          };
          near(yBe.data, yRef.data, `${training ? 'training' : 'evaluation'} output`);
          mRef.parameters().forEach((p, i) => near(pBe[i].grad.data, p.grad.data, `${training ? 'training' : 'evaluation'} ${p.path} gradient`));
        }
      } finally {
        be.dispose?.();
      }
    });
  }

  it('convkit summary --model-file prints the dilated shapes', {
    skip: !existsSync(new URL('../dist/cli/main.js', import.meta.url)) && 'needs npm run build',
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'convkit-dilation-'));
    try {
      const file = join(dir, 'dilated.convkit');
      saveModel(file, new Model(spec, ref));
      const out = execFileSync(process.execPath, [new URL('../bin/convkit.js', import.meta.url).pathname, 'summary', '--model-file', file, '--json'], {
        encoding: 'utf8',
      });
      const result = JSON.parse(out.trim().split('\n').at(-1)!);
      const shapes = Object.fromEntries((result.layers as { name: string; outputShape: number[] }[]).map((l) => [l.name, l.outputShape]));
      assert.deepEqual(shapes.conv1, [4, 16, 14]);
      assert.deepEqual(shapes.conv2, [5, 8, 7]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
