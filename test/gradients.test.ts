import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LayerSpec } from '../src/layers/index.js';
import type { ModelSpec } from '../src/model/model.js';
import { Rng } from '../src/rng.js';
import { Tensor } from '../src/tensor.js';
import { SoftmaxCrossEntropy } from '../src/train/loss.js';
import { f64, gradCheck, randomTensor, relativeError, single } from './gradcheck.js';

const TOLERANCE = 1e-4;

function assertGradients(spec: ModelSpec, batch: number, training = true) {
  const r = gradCheck(spec, batch, 7, 1e-6, training);
  assert.ok(r.input < TOLERANCE, `input gradient relative error ${r.input}`);
  for (const [path, err] of Object.entries(r.params)) assert.ok(err < TOLERANCE, `${path} gradient relative error ${err}`);
  return r;
}

const cases: [string, LayerSpec, [number, number, number], number][] = [
  ['conv2d 3×3, stride 1, no padding', { type: 'conv2d', filters: 4, kernel: 3 }, [2, 7, 6], 2],
  ['conv2d 5×5, padding 2 (same)', { type: 'conv2d', filters: 3, kernel: 5, padding: 2 }, [1, 9, 9], 3],
  ['conv2d stride 2, padding 1, odd size', { type: 'conv2d', filters: 5, kernel: 3, stride: 2, padding: 1 }, [3, 9, 7], 2],
  ['conv2d non-square kernel and stride', { type: 'conv2d', filters: 2, kernel: [3, 2], stride: [2, 1], padding: [1, 0] }, [2, 8, 5], 3],
  ['conv2d groups 2, no bias', { type: 'conv2d', filters: 4, kernel: 3, groups: 2, bias: false, padding: 1 }, [4, 5, 5], 2],
  ['conv2d 1×1', { type: 'conv2d', filters: 3, kernel: 1 }, [5, 4, 3], 2],
  ['conv2d dilation 2, padding 2', { type: 'conv2d', filters: 3, kernel: 3, dilation: 2, padding: 2 }, [2, 7, 8], 2],
  [
    'conv2d dilation (2, 3), stride 2, groups 2, no bias',
    { type: 'conv2d', filters: 4, kernel: [3, 2], dilation: [2, 3], stride: 2, padding: 1, groups: 2, bias: false },
    [2, 9, 10],
    2,
  ],
  ['conv2d dilation 2, padding same', { type: 'conv2d', filters: 2, kernel: 3, dilation: 2, padding: 'same' }, [3, 6, 5], 2],
  ['maxpool2d 2/2', { type: 'maxpool2d', kernel: 2 }, [3, 8, 6], 2],
  ['maxpool2d overlapping 3/2, odd size', { type: 'maxpool2d', kernel: 3, stride: 2 }, [2, 9, 7], 3],
  ['maxpool2d padding 1, ceil mode', { type: 'maxpool2d', kernel: 3, stride: 2, padding: 1, ceil: true }, [2, 8, 8], 2],
  ['avgpool2d 2/2', { type: 'avgpool2d', kernel: 2 }, [3, 6, 6], 2],
  ['avgpool2d overlapping 3/2, padding 1, count padding', { type: 'avgpool2d', kernel: 3, stride: 2, padding: 1 }, [2, 7, 9], 2],
  ['avgpool2d padding 1, ceil mode, exclude padding', { type: 'avgpool2d', kernel: 3, stride: 2, padding: 1, ceil: true, countPad: false }, [2, 8, 6], 2],
  ['dense on a 4-D input', { type: 'dense', units: 7 }, [2, 3, 3], 4],
  ['dense without bias', { type: 'dense', units: 3, bias: false }, [1, 1, 9], 2],
  ['relu', { type: 'relu' }, [2, 5, 5], 2],
  ['tanh', { type: 'tanh' }, [2, 4, 3], 2],
  ['sigmoid', { type: 'sigmoid' }, [2, 3, 5], 2],
  ['flatten', { type: 'flatten' }, [2, 3, 3], 2],
  ['dropout in training mode', { type: 'dropout', rate: 0.4 }, [3, 4, 4], 2],
  ['leakyrelu', { type: 'leakyrelu', slope: 0.1 }, [2, 4, 4], 2],
  ['relu6 (inputs scaled past the cap)', { type: 'relu6' }, [2, 4, 4], 2],
  ['batchnorm2d (training: batch statistics)', { type: 'batchnorm2d' }, [3, 4, 5], 3],
  ['batchnorm2d without affine parameters', { type: 'batchnorm2d', affine: false }, [3, 4, 5], 3],
  ['batchnorm on a flat input (batchnorm1d)', { type: 'batchnorm2d', eps: 1e-3 }, [5, 1, 1], 4],
  ['lrn across 5 channels', { type: 'lrn', size: 5, alpha: 0.5, beta: 0.75, k: 2 }, [7, 3, 3], 2],
  ['lrn with an even size', { type: 'lrn', size: 4, alpha: 0.3, beta: 0.6, k: 1 }, [5, 2, 3], 2],
  [
    "lrn with an even size and ONNX's window (one channel fewer before the centre)",
    { type: 'lrn', size: 4, before: 1, alpha: 0.3, beta: 0.6, k: 1 },
    [5, 2, 3],
    2,
  ],
  ['lrn with a window wholly after the centre', { type: 'lrn', size: 3, before: 0, alpha: 0.4, beta: 0.75, k: 1 }, [4, 2, 2], 2],
  ['adaptiveavgpool2d to 3×2 from 7×5 (uneven windows)', { type: 'adaptiveavgpool2d', output: [3, 2] }, [2, 7, 5], 2],
  ['globalavgpool2d', { type: 'globalavgpool2d' }, [3, 5, 4], 2],
  ["hardsigmoid (PyTorch's alpha 1/6, beta 1/2: inputs across both kinks)", { type: 'hardsigmoid' }, [2, 4, 4], 2],
  ["hardsigmoid (ONNX's alpha 0.2, beta 0.5)", { type: 'hardsigmoid', alpha: 0.2, beta: 0.5 }, [2, 3, 3], 2],
  ['gelu (exact, erf)', { type: 'gelu' }, [2, 4, 4], 2],
  ['layernorm2d over 5 channels at each position', { type: 'layernorm2d', eps: 1e-6 }, [5, 3, 2], 2],
  ['layernorm2d over 2 channels (the variance of two values)', { type: 'layernorm2d' }, [2, 3, 3], 2],
  ["layernorm2d on 1×1 positions (ConvNeXt's head)", { type: 'layernorm2d', eps: 1e-6 }, [6, 1, 1], 3],
  ['channelshuffle, 2 groups', { type: 'channelshuffle', groups: 2 }, [6, 2, 3], 2],
  ['channelshuffle, 3 groups', { type: 'channelshuffle', groups: 3 }, [6, 3, 2], 2],
  ['channelslice of middle channels', { type: 'channelslice', start: 1, channels: 3 }, [5, 2, 3], 2],
  ['channelslice of the first channels', { type: 'channelslice', start: 0, channels: 2 }, [4, 3, 2], 2],
];

describe('gradients match central finite differences (float64)', () => {
  for (const [name, layer, shape, batch] of cases) {
    it(name, () => {
      assertGradients(single(layer, shape), batch);
    });
  }

  it('batchnorm2d in evaluation mode (running statistics): γ, β and input gradients', () => {
    const spec = single({ type: 'batchnorm2d' }, [3, 4, 5]);
    const r = assertGradients(spec, 2, false);
    assert.deepEqual(Object.keys(r.params).sort(), ['layer.bias', 'layer.weight']);
  });

  it('batchnorm2d without affine parameters in evaluation mode, before a conv', () => {
    const spec: ModelSpec = {
      name: 'bn',
      inputShape: [3, 4, 5],
      nodes: [
        { name: 'bn', layer: { type: 'batchnorm2d', affine: false }, inputs: ['input'] },
        { name: 'conv', layer: { type: 'conv2d', filters: 2, kernel: 3, dilation: 2, padding: 1 }, inputs: ['bn'] },
      ],
    };
    const r = assertGradients(spec, 2, false);
    assert.deepEqual(Object.keys(r.params).sort(), ['conv.bias', 'conv.weight']);
  });

  it('softmax (as a layer)', () => {
    const spec: ModelSpec = {
      name: 'sm',
      inputShape: [2, 2, 2],
      nodes: [
        { name: 'flat', layer: { type: 'flatten' }, inputs: ['input'] },
        { name: 'sm', layer: { type: 'softmax' }, inputs: ['flat'] },
      ],
    };
    assertGradients(spec, 3);
  });

  it('a graph with fan-out, residual add and channel concat', () => {
    const spec: ModelSpec = {
      name: 'graph',
      inputShape: [2, 6, 6],
      nodes: [
        { name: 'a', layer: { type: 'conv2d', filters: 2, kernel: 3, padding: 1 }, inputs: ['input'] },
        { name: 'ra', layer: { type: 'tanh' }, inputs: ['a'] },
        { name: 'b', layer: { type: 'conv2d', filters: 2, kernel: 1 }, inputs: ['ra'] },
        { name: 'sum', layer: { type: 'add' }, inputs: ['b', 'ra', 'input'] },
        { name: 'cat', layer: { type: 'concat' }, inputs: ['sum', 'input', 'ra'] },
        { name: 'pool', layer: { type: 'maxpool2d', kernel: 2 }, inputs: ['cat'] },
        { name: 'fc', layer: { type: 'dense', units: 3 }, inputs: ['pool'] },
      ],
    };
    assertGradients(spec, 2);
  });

  it('squeeze-excitation: a per-channel [C, 1, 1] scale times the features (mul, scale second and first), hard swish, SiLU', () => {
    const spec: ModelSpec = {
      name: 'se',
      inputShape: [3, 5, 4],
      nodes: [
        { name: 'c', layer: { type: 'conv2d', filters: 4, kernel: 3, padding: 1 }, inputs: ['input'] },
        { name: 'gate', layer: { type: 'hardsigmoid' }, inputs: ['c'] },
        { name: 'hswish', layer: { type: 'mul' }, inputs: ['c', 'gate'] },
        { name: 'gap', layer: { type: 'globalavgpool2d' }, inputs: ['hswish'] },
        { name: 'fc1', layer: { type: 'conv2d', filters: 2, kernel: 1 }, inputs: ['gap'] },
        { name: 'fc2', layer: { type: 'conv2d', filters: 4, kernel: 1 }, inputs: ['fc1'] },
        { name: 'scale', layer: { type: 'sigmoid' }, inputs: ['fc2'] },
        { name: 'se', layer: { type: 'mul' }, inputs: ['scale', 'hswish'] },
        { name: 'se2', layer: { type: 'mul' }, inputs: ['se', 'fc2'] },
        { name: 's', layer: { type: 'sigmoid' }, inputs: ['se2'] },
        { name: 'silu', layer: { type: 'mul' }, inputs: ['se2', 's'] },
        { name: 'fc', layer: { type: 'dense', units: 3 }, inputs: ['silu'] },
      ],
    };
    assertGradients(spec, 2);
  });

  it('LeNet-5-like chain end to end', () => {
    const spec: ModelSpec = {
      name: 'mini-lenet',
      inputShape: [1, 12, 12],
      nodes: [
        { name: 'c1', layer: { type: 'conv2d', filters: 3, kernel: 5, padding: 2 }, inputs: ['input'] },
        { name: 'r1', layer: { type: 'relu' }, inputs: ['c1'] },
        { name: 'p1', layer: { type: 'maxpool2d', kernel: 2 }, inputs: ['r1'] },
        { name: 'c2', layer: { type: 'conv2d', filters: 4, kernel: 3 }, inputs: ['p1'] },
        { name: 'r2', layer: { type: 'relu' }, inputs: ['c2'] },
        { name: 'f', layer: { type: 'flatten' }, inputs: ['r2'] },
        { name: 'fc', layer: { type: 'dense', units: 5 }, inputs: ['f'] },
      ],
    };
    assertGradients(spec, 3);
  });

  it('softmax cross-entropy loss (fused gradient)', () => {
    const rng = new Rng(3);
    const N = 4,
      K = 6;
    const logits = randomTensor([N, K], rng);
    for (let i = 0; i < logits.size; i++) logits.data[i] *= 5;
    const labels = Uint8Array.from({ length: N }, () => rng.int(K));
    const ce = new SoftmaxCrossEntropy(f64);
    const analytic = Float64Array.from(ce.compute(logits, labels).grad.data);
    const numeric = new Float64Array(N * K);
    const eps = 1e-6;
    for (let i = 0; i < N * K; i++) {
      const old = logits.data[i];
      logits.data[i] = old + eps;
      const plus = ce.compute(logits, labels).lossValue[0];
      logits.data[i] = old - eps;
      const minus = ce.compute(logits, labels).lossValue[0];
      logits.data[i] = old;
      numeric[i] = (plus - minus) / (2 * eps);
    }
    assert.ok(relativeError(analytic, numeric) < TOLERANCE);
  });

  it('softmax cross-entropy is stable for huge logits', () => {
    const ce = new SoftmaxCrossEntropy(f64);
    const logits = Tensor.from([2, 3], [1000, 0, -1000, -1e4, 1e4, 0], 'float64');
    const {
      lossValue: [loss],
      grad,
    } = ce.compute(logits, Uint8Array.from([0, 0]));
    assert.ok(Number.isFinite(loss));
    assert.ok(Math.abs(loss - (0 + 2e4) / 2) < 1e-6, `loss ${loss}`);
    assert.ok(grad.data.every(Number.isFinite));
  });

  it('relu subgradient at exactly 0 is 0', () => {
    const x = Float64Array.from([-1, 0, 2]);
    const dx = new Float64Array(3);
    f64.reluBackward(x, Float64Array.from([1, 1, 1]), dx);
    assert.deepEqual(Array.from(dx), [0, 0, 1]);
  });
});
