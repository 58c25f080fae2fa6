import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RefBackend } from '../src/backend/ref.js';
import { Model, type ModelSpec } from '../src/model/model.js';
import { Tensor } from '../src/tensor.js';

// The lecture's worked examples, computed through the library's own layers.
const backend = new RefBackend('float64');

function image(rows: string[]): Tensor {
  return Tensor.from([1, 1, rows.length, rows[0].length], rows.join('').split('').map(Number), 'float64');
}

function grid(t: Tensor): number[][] {
  const [, , h, w] = t.shape;
  return Array.from({ length: h }, (_, i) => Array.from(t.data.subarray(i * w, (i + 1) * w)));
}

function digits(rows: string[]): number[][] {
  return rows.map((r) => r.split('').map(Number));
}

function convModel(size: [number, number], kernel: number[][], stride = 1): Model {
  const spec: ModelSpec = {
    name: 'example',
    inputShape: [1, ...size],
    nodes: [{ name: 'conv', layer: { type: 'conv2d', filters: 1, kernel: kernel.length, stride, bias: false }, inputs: ['input'] }],
  };
  const model = new Model(spec, backend);
  model.parameters()[0].value.data.set(kernel.flat());
  return model;
}

const seven = ['0000000', '0111110', '0100100', '0101000', '0110000', '0100000', '0000000'];
const six = ['111110', '100100', '101000', '110000', '100000', '000000'];

describe("the lecture's worked examples", () => {
  it('7×7 image ⊛ [[0,0,0],[0,1,1],[0,1,0]] (valid, stride 1)', () => {
    const y = convModel(
      [7, 7],
      [
        [0, 0, 0],
        [0, 1, 1],
        [0, 1, 0],
      ],
    ).forward(image(seven));
    assert.deepEqual(grid(y), digits(['32231', '20210', '22100', '31000', '10000']));
  });

  it('the identity kernel gives the inner 5×5', () => {
    const y = convModel(
      [7, 7],
      [
        [0, 0, 0],
        [0, 1, 0],
        [0, 0, 0],
      ],
    ).forward(image(seven));
    assert.deepEqual(grid(y), digits(seven.slice(1, 6).map((r) => r.slice(1, 6))));
  });

  it('6×6 image ⊛ 2×2 ones at stride 2', () => {
    const y = convModel(
      [6, 6],
      [
        [1, 1],
        [1, 1],
      ],
      2,
    ).forward(image(six));
    assert.deepEqual(grid(y), digits(['331', '310', '100']));
  });

  it('2×2 average pooling at stride 2', () => {
    const spec: ModelSpec = {
      name: 'avg',
      inputShape: [1, 6, 6],
      nodes: [{ name: 'pool', layer: { type: 'avgpool2d', kernel: 2, stride: 2 }, inputs: ['input'] }],
    };
    const y = new Model(spec, backend).forward(image(six));
    assert.deepEqual(grid(y), [
      [0.75, 0.75, 0.25],
      [0.75, 0.25, 0],
      [0.25, 0, 0],
    ]);
  });

  it('2×2 max pooling at stride 2', () => {
    const spec: ModelSpec = {
      name: 'max',
      inputShape: [1, 6, 6],
      nodes: [{ name: 'pool', layer: { type: 'maxpool2d', kernel: 2, stride: 2 }, inputs: ['input'] }],
    };
    const y = new Model(spec, backend).forward(image(six));
    assert.deepEqual(grid(y), [
      [1, 1, 1],
      [1, 1, 0],
      [1, 0, 0],
    ]);
  });
});
