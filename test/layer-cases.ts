import type { LayerSpec } from '../src/layers/index.js';
import type { Shape } from '../src/tensor.js';

/** One spec (or more) per layer type, with the per-example input shapes it reads. */
export const layerCases: [string, LayerSpec, Shape[]][] = [
  ['conv2d', { type: 'conv2d', filters: 3, kernel: 3, padding: 1 }, [[2, 5, 5]]],
  ['conv2d, groups 2, stride 2, no bias', { type: 'conv2d', filters: 4, kernel: 3, stride: 2, groups: 2, bias: false }, [[4, 7, 6]]],
  ['conv2d, dilation 2', { type: 'conv2d', filters: 3, kernel: 3, dilation: 2, padding: 2 }, [[2, 6, 7]]],
  ['maxpool2d', { type: 'maxpool2d', kernel: 2 }, [[2, 4, 6]]],
  ['avgpool2d', { type: 'avgpool2d', kernel: 3, stride: 2, padding: 1 }, [[2, 5, 5]]],
  ['adaptiveavgpool2d', { type: 'adaptiveavgpool2d', output: [2, 3] }, [[2, 5, 7]]],
  ['globalavgpool2d', { type: 'globalavgpool2d' }, [[3, 4, 4]]],
  ['dense', { type: 'dense', units: 4 }, [[2, 3, 3]]],
  ['dense without bias', { type: 'dense', units: 3, bias: false }, [[5]]],
  ['relu', { type: 'relu' }, [[2, 3, 3]]],
  ['leakyrelu', { type: 'leakyrelu', slope: 0.2 }, [[2, 3, 3]]],
  ['relu6', { type: 'relu6' }, [[2, 3, 3]]],
  ['tanh', { type: 'tanh' }, [[2, 3, 3]]],
  ['sigmoid', { type: 'sigmoid' }, [[2, 3, 3]]],
  ['hardsigmoid', { type: 'hardsigmoid', alpha: 0.2, beta: 0.5 }, [[2, 3, 3]]],
  ['softmax', { type: 'softmax' }, [[7]]],
  ['flatten', { type: 'flatten' }, [[2, 3, 3]]],
  ['dropout', { type: 'dropout', rate: 0.3 }, [[2, 3, 3]]],
  ['batchnorm2d', { type: 'batchnorm2d' }, [[3, 4, 4]]],
  ['batchnorm2d without affine parameters', { type: 'batchnorm2d', affine: false }, [[3, 2, 5]]],
  ['batchnorm2d on flat input', { type: 'batchnorm2d', eps: 1e-3 }, [[5]]],
  ['lrn', { type: 'lrn', size: 3 }, [[4, 3, 3]]],
  ["lrn, even size with ONNX's window", { type: 'lrn', size: 4, before: 1 }, [[5, 2, 3]]],
  [
    'add',
    { type: 'add' },
    [
      [2, 3, 3],
      [2, 3, 3],
    ],
  ],
  [
    'mul',
    { type: 'mul' },
    [
      [2, 3, 3],
      [2, 3, 3],
    ],
  ],
  [
    'mul by a per-channel scale',
    { type: 'mul' },
    [
      [3, 2, 4],
      [3, 1, 1],
    ],
  ],
  [
    'concat',
    { type: 'concat' },
    [
      [2, 3, 3],
      [1, 3, 3],
    ],
  ],
  ['gelu', { type: 'gelu' }, [[2, 3, 3]]],
  ['layernorm2d', { type: 'layernorm2d', eps: 1e-6 }, [[4, 3, 2]]],
  ['layernorm2d on flat input', { type: 'layernorm2d' }, [[5]]],
  ['channelshuffle', { type: 'channelshuffle', groups: 2 }, [[6, 2, 3]]],
  ['channelslice', { type: 'channelslice', start: 1, channels: 2 }, [[4, 3, 2]]],
  ['channelslice of the last channels of a flat input', { type: 'channelslice', start: 3, channels: 2 }, [[5]]],
];
