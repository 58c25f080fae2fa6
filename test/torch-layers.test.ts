/**
 * Layers against PyTorch itself (test/fixtures/torch-layers.json, float64, written by
 * scripts/torch-layer-fixtures.py): dilated conv2d forward and all three gradients, and batch
 * norm without affine parameters in training (with the running statistics it leaves) and
 * evaluation; and the layers ShuffleNet v2 and ConvNeXt need (channel shuffle, channel slice, layer
 * norm over channels, GELU) against the way those models write them in PyTorch. The float64
 * reference backend must agree to rounding.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { RefBackend } from '../src/backend/ref.js';
import { type BatchNorm, type LayerSpec, createLayer } from '../src/layers/index.js';
import { Rng } from '../src/rng.js';
import { Tensor } from '../src/tensor.js';
import { relativeError } from './gradcheck.js';

interface ConvCase {
  name: string;
  spec: LayerSpec;
  inputShape: number[];
  outputShape: number[];
  x: number[];
  weight: number[];
  bias: number[] | null;
  dy: number[];
  y: number[];
  dx: number[];
  dweight: number[];
  dbias: number[] | null;
}
interface BatchNormPass {
  x: number[];
  dy: number[];
  y: number[];
  dx: number[];
  runningMean: number[];
  runningVar: number[];
}
interface BatchNormCase {
  name: string;
  spec: LayerSpec;
  inputShape: number[];
  runningMean: number[];
  runningVar: number[];
  train: BatchNormPass;
  eval: BatchNormPass;
}

interface LayerCase {
  name: string;
  spec: LayerSpec;
  inputShape: number[];
  outputShape: number[];
  x: number[];
  dy: number[];
  y: number[];
  dx: number[];
  params: Record<string, number[]>;
  paramGrads: Record<string, number[]>;
  /** Where PyTorch itself is less exact than float64 (its hard sigmoid's backward uses 1.0f / 6). */
  tolerance?: number;
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/torch-layers.json', import.meta.url), 'utf8')) as {
  conv2d: ConvCase[];
  batchnorm2d: BatchNormCase[];
  layers: LayerCase[];
  twoInputs: (LayerCase & { inputShape2: number[]; x2: number[]; dx2: number[] })[];
};
const f64 = new RefBackend('float64');
const TOL = 1e-12;

function close(got: ArrayLike<number>, want: number[], what: string, tol = TOL): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const err = relativeError(got, want);
  assert.ok(err < tol, `${what}: relative error ${err}`);
}

const tensor = (shape: number[], values: number[]) => new Tensor(shape, Float64Array.from(values));

describe('layers match PyTorch (float64 fixtures)', () => {
  for (const c of fixture.conv2d) {
    it(`conv2d ${c.name}: output shape, forward, input, weight and bias gradients`, () => {
      const layer = createLayer(c.spec, 'conv');
      assert.deepEqual(layer.build([c.inputShape.slice(1)], f64), c.outputShape.slice(1));
      const [weight, bias] = layer.params();
      weight.value.data.set(c.weight);
      if (c.bias) bias.value.data.set(c.bias);
      else assert.equal(layer.params().length, 1);
      const ctx = { backend: f64, training: true, rng: new Rng(1) };
      close(layer.forward([tensor(c.inputShape, c.x)], ctx).data, c.y, 'y');
      const [dx] = layer.backward(tensor(c.outputShape, c.dy), { ...ctx, inputGradient: true });
      close(dx.data, c.dx, 'dx');
      close(weight.grad.data, c.dweight, 'dweight');
      if (c.dbias) close(bias.grad.data, c.dbias, 'dbias');
    });
  }

  for (const c of fixture.batchnorm2d) {
    for (const mode of ['train', 'eval'] as const) {
      it(`batchnorm2d ${c.name}, ${mode === 'train' ? 'training' : 'evaluation'}: output, input gradient, running statistics`, () => {
        const layer = createLayer(c.spec, 'bn') as BatchNorm;
        layer.build([c.inputShape.slice(1)], f64);
        assert.deepEqual(layer.params(), [], 'no parameters');
        assert.deepEqual(
          layer.state().map((s) => s.name),
          ['running_mean', 'running_var'],
        );
        layer.runningMean.value.data.set(c.runningMean);
        layer.runningVar.value.data.set(c.runningVar);
        const p = c[mode];
        const ctx = { backend: f64, training: mode === 'train', rng: new Rng(1) };
        close(layer.forward([tensor(c.inputShape, p.x)], ctx).data, p.y, 'y');
        close(layer.backward(tensor(c.inputShape, p.dy), ctx)[0].data, p.dx, 'dx');
        close(layer.runningMean.value.data, p.runningMean, 'running mean');
        close(layer.runningVar.value.data, p.runningVar, 'running variance');
      });
    }
  }

  for (const c of fixture.layers) {
    it(`${c.name}: output, input gradient and parameter gradients`, () => {
      const layer = createLayer(c.spec, 'layer');
      assert.deepEqual(layer.build([c.inputShape.slice(1)], f64), c.outputShape.slice(1));
      assert.deepEqual(
        layer
          .params()
          .map((p) => p.name)
          .sort(),
        Object.keys(c.params).sort(),
      );
      for (const p of layer.params()) p.value.data.set(c.params[p.name]);
      const ctx = { backend: f64, training: true, rng: new Rng(1), inputGradient: true };
      close(layer.forward([tensor(c.inputShape, c.x)], ctx).data, c.y, 'y');
      close(layer.backward(tensor(c.outputShape, c.dy), ctx)[0].data, c.dx, 'dx', c.tolerance);
      for (const p of layer.params()) close(p.grad.data, c.paramGrads[p.name], `d${p.name}`);
    });
  }

  for (const c of fixture.twoInputs) {
    it(`${c.name}: output and both input gradients`, () => {
      const layer = createLayer(c.spec, 'layer');
      assert.deepEqual(layer.build([c.inputShape.slice(1), c.inputShape2.slice(1)], f64), c.outputShape.slice(1));
      const ctx = { backend: f64, training: true, rng: new Rng(1), inputGradient: true };
      close(layer.forward([tensor(c.inputShape, c.x), tensor(c.inputShape2, c.x2)], ctx).data, c.y, 'y');
      const [da, db] = layer.backward(tensor(c.outputShape, c.dy), ctx);
      close(da.data, c.dx, 'da');
      close(db.data, c.dx2, 'db');
    });
  }
});
