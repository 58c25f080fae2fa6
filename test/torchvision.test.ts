import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RefBackend } from '../src/backend/ref.js';
import { loadOnnx } from '../src/onnx/import.js';
import { Tensor, shapeSize } from '../src/tensor.js';

const dir = join(process.cwd(), 'test/fixtures/torchvision');
const backend = new RefBackend();

/** Every torchvision CNN family that imports (fixtures made by scripts/torchvision-fixtures.py). */
export const IMPORTED_FAMILIES = [
  'vgg11_bn',
  'resnet18',
  'resnet50',
  'resnext50_32x4d',
  'wide_resnet50_2',
  'googlenet',
  'inception_v3',
  'densenet121',
  'squeezenet1_0',
  'squeezenet1_1',
  'mobilenet_v2',
  'regnet_x_400mf',
  // HardSigmoid, Mul (hard swish, SiLU, squeeze-excitation), ReduceMean over H and W
  'mobilenet_v3_small',
  'mobilenet_v3_large',
  'efficientnet_b0',
  'regnet_y_400mf',
  'mnasnet0_5',
  // channel shuffle and split (Reshape/Transpose/Reshape, Slice), shape arithmetic with Div and Cast
  'shufflenet_v2_x0_5',
  // layer norm over channels (channels-last, decomposed), GELU (erf), channels-last MatMul, layer scale
  'convnext_tiny',
];

interface Fixture {
  inputShape: number[];
  output: number[];
  /** PyTorch's parameter count of the network as exported (batch norms folded into the convolutions before them). */
  exportedParameters: number;
}

function fixture(family: string): Fixture {
  return JSON.parse(readFileSync(join(dir, `${family}.json`), 'utf8'));
}

/** The script's input, x[i] = ((i * 7919) % 2003) / 1001.5 - 1, rounded to float32 as numpy does. */
function fixedInput(shape: number[]): Tensor {
  return new Tensor(
    shape,
    Float32Array.from({ length: shapeSize(shape) }, (_, i) => ((i * 7919) % 2003) / 1001.5 - 1),
  );
}

function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0,
    scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / Math.max(scale, 1e-12);
}

function topK(row: ArrayLike<number>, k: number): number[] {
  return Array.from(row, (v, i) => [v, i])
    .sort((p, q) => q[0] - p[0])
    .slice(0, k)
    .map((p) => p[1]);
}

describe('torchvision CNN families exported by PyTorch 1.13 (opset 13) import and match PyTorch', () => {
  for (const family of IMPORTED_FAMILIES) {
    it(`${family}: same logits as PyTorch (max relative error < 1e-4), same top-5 order, same parameter count`, (t) => {
      const io = fixture(family);
      const model = loadOnnx(readFileSync(join(dir, `${family}.onnx`)), backend, `${family}.onnx`);
      const y = model.forward(fixedInput(io.inputShape)).data;
      assert.equal(y.length, io.output.length);
      const err = maxRelativeError(y, io.output);
      t.diagnostic(`${family}: max relative error ${err.toExponential(2)}`);
      assert.ok(err < 1e-4, `relative error ${err}`);
      // Every parameter of the file becomes one of the model's, and no layer adds its own (a bias, a scale).
      assert.equal(model.parameterCount(), io.exportedParameters, "parameters: as many as PyTorch's network as exported");
      const classes = io.output.length / io.inputShape[0];
      for (let n = 0; n < io.inputShape[0]; n++) {
        assert.deepEqual(topK(y.subarray(n * classes, (n + 1) * classes), 5), topK(io.output.slice(n * classes, (n + 1) * classes), 5), `example ${n}`);
      }
    });
  }
});
