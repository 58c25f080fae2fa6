import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-web';
import { RefBackend } from '../src/backend/ref.js';
import { ConfigError, FormatError } from '../src/errors.js';
import { Model, type ModelSpec, sequential } from '../src/model/model.js';
import { zoo } from '../src/model/zoo.js';
import { toOnnx } from '../src/onnx/export.js';
import { UnsupportedOnnxError, loadOnnx } from '../src/onnx/import.js';
import { FLOAT, INT64, onnx } from '../src/onnx/proto.js';
import { Rng } from '../src/rng.js';
import { Tensor, shapeSize } from '../src/tensor.js';

ort.env.wasm.numThreads = 1;
const backend = new RefBackend();

function randomInput(shape: number[], seed: number): Tensor {
  const rng = new Rng(seed);
  return new Tensor(
    shape,
    Float32Array.from({ length: shapeSize(shape) }, () => rng.uniform(-1, 1)),
  );
}

async function runOrt(bytes: Uint8Array, x: Tensor): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const result = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x.data as Float32Array, [...x.shape]) });
  return result[session.outputNames[0]].data as Float32Array;
}

/** max |a − b| / max |b|: relative to the output's scale. */
function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let diff = 0,
    scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / Math.max(scale, 1e-12);
}

/** Random non-zero weights, biases and batch-norm statistics included, so every tensor matters. */
function randomized(spec: ModelSpec, seed: number): Model {
  const model = new Model(spec, backend, seed);
  const rng = new Rng(seed);
  for (const p of model.savedTensors()) {
    const name = p.path.split('.').at(-1);
    if (name === 'bias' || name === 'running_mean') for (let i = 0; i < p.value.size; i++) p.value.data[i] = rng.uniform(-0.2, 0.2);
    if (name === 'running_var') for (let i = 0; i < p.value.size; i++) p.value.data[i] = rng.uniform(0.5, 2);
  }
  for (const p of model.parameters())
    if (p.path.includes('bn') || (p.value.shape.length === 1 && p.name === 'weight'))
      for (let i = 0; i < p.value.size; i++) p.value.data[i] = rng.uniform(0.5, 1.5);
  return model;
}

const graphSpec: ModelSpec = {
  name: 'graph',
  inputShape: [3, 13, 11],
  nodes: [
    { name: 'c1', layer: { type: 'conv2d', filters: 4, kernel: 3, padding: 1 }, inputs: ['input'] },
    { name: 't1', layer: { type: 'tanh' }, inputs: ['c1'] },
    { name: 'g', layer: { type: 'conv2d', filters: 4, kernel: [3, 1], padding: [1, 0], groups: 2 }, inputs: ['t1'] },
    { name: 'sum', layer: { type: 'add' }, inputs: ['g', 't1'] },
    { name: 'cat', layer: { type: 'concat' }, inputs: ['sum', 'c1', 'input'] },
    { name: 'mp', layer: { type: 'maxpool2d', kernel: 3, stride: 2, padding: 1, ceil: true }, inputs: ['cat'] },
    { name: 'ap', layer: { type: 'avgpool2d', kernel: 2, stride: 2, padding: 1, countPad: false }, inputs: ['mp'] },
    { name: 's', layer: { type: 'sigmoid' }, inputs: ['ap'] },
    { name: 'd', layer: { type: 'dropout', rate: 0.3 }, inputs: ['s'] },
    { name: 'fc', layer: { type: 'dense', units: 6 }, inputs: ['d'] },
    { name: 'bn1d', layer: { type: 'batchnorm2d' }, inputs: ['fc'] },
    { name: 'lr', layer: { type: 'leakyrelu', slope: 0.2 }, inputs: ['bn1d'] },
    { name: 'r6', layer: { type: 'relu6' }, inputs: ['lr'] },
    { name: 'sm', layer: { type: 'softmax' }, inputs: ['r6'] },
  ],
};

const dilatedSpec: ModelSpec = sequential(
  'dilated',
  [4, 17, 15],
  [
    { type: 'conv2d', filters: 6, kernel: 3, dilation: 2, padding: 'same' },
    { type: 'batchnorm2d' },
    { type: 'relu' },
    { type: 'conv2d', filters: 6, kernel: [3, 2], dilation: [3, 1], stride: 2, padding: 1, groups: 2 },
    { type: 'globalavgpool2d' },
    { type: 'dense', units: 5 },
  ],
);

describe('ONNX export, checked against ONNX Runtime', () => {
  it('batch norm without affine parameters exports constant scale and shift; ONNX Runtime and the re-import agree', async () => {
    const spec = sequential(
      'noaffine',
      [3, 9, 9],
      [
        { type: 'conv2d', filters: 4, kernel: 3 },
        { type: 'batchnorm2d', affine: false },
        { type: 'relu' },
        { type: 'flatten' },
        { type: 'dense', units: 6 },
        { type: 'batchnorm2d', affine: false },
      ],
    );
    const model = randomized(spec, 3);
    const x = randomInput([3, 3, 9, 9], 8);
    const ours = Float32Array.from(model.forward(x).data);
    assert.ok(maxRelativeError(ours, await runOrt(toOnnx(model), x)) < 1e-4);
    const imported = loadOnnx(toOnnx(model), backend);
    // The importer cannot tell constant ones and zeros from learnable ones: γ and β come back as parameters.
    assert.equal(imported.parameterCount(), model.parameterCount() + 2 * (4 + 6));
    assert.ok(maxRelativeError(imported.forward(x).data, ours) < 1e-6);
  });

  const models: [string, ModelSpec, number][] = [
    ['lenet5', zoo.lenet5.build(), 3],
    [
      'AlexNet (small input, ÷8 channels: groups, LRN, overlapping pools, dropout)',
      zoo.alexnet.build({ inputShape: [3, 67, 67], width: 1 / 8, classes: 10 }),
      2,
    ],
    [
      'ResNet-18 (small input, ÷8 channels: batch norm, residual adds, global pooling)',
      zoo.resnet18.build({ inputShape: [3, 32, 32], width: 1 / 8, classes: 10 }),
      2,
    ],
    ['GoogLeNet (small, ÷8 channels: inception concats, ceil-mode pools)', zoo.googlenet.build({ inputShape: [3, 32, 32], width: 1 / 8, classes: 10 }), 2],
    ['DenseNet-121 (small, ÷8 channels: dense concats, transitions)', zoo.densenet121.build({ inputShape: [3, 32, 32], width: 1 / 8, classes: 10 }), 1],
    ['ZFNet (small input, ÷8 channels)', zoo.zfnet.build({ inputShape: [3, 64, 64], width: 1 / 8, classes: 10 }), 1],
    ['ResNet-50 (small input, ÷8 channels: bottlenecks, projection shortcuts)', zoo.resnet50.build({ inputShape: [3, 32, 32], width: 1 / 8, classes: 10 }), 1],
    ['VGG-11 (÷8 channels, 224×224)', zoo.vgg11.build({ width: 1 / 8, classes: 10 }), 1],
    ['alexnet-tv (÷8 channels, 224×224: adaptive pooling)', zoo['alexnet-tv'].build({ width: 1 / 8, classes: 10 }), 1],
    ['convnetjs-mnist', zoo['convnetjs-mnist'].build(), 2],
    ['a graph with groups, residual add, concat, ceil-mode pooling and softmax', graphSpec, 2],
    ['dilated convolutions (2, [3, 1], with groups and stride) and batch norm', dilatedSpec, 2],
  ];
  for (const [name, spec, batch] of models) {
    it(`${name}: ONNX Runtime agrees with convkit (max relative error < 1e-4)`, async () => {
      const model = randomized(spec, 9);
      const x = randomInput([batch, ...spec.inputShape], 4);
      const ours = Float32Array.from(model.forward(x).data);
      const theirs = await runOrt(toOnnx(model), x);
      const err = maxRelativeError(ours, theirs);
      assert.ok(err < 1e-4, `relative error ${err}`);
    });

    it(`${name}: export → import gives the same function`, () => {
      const model = randomized(spec, 5);
      const x = randomInput([batch, ...spec.inputShape], 6);
      const imported = loadOnnx(toOnnx(model), backend);
      assert.equal(imported.parameterCount(), model.parameterCount());
      assert.ok(maxRelativeError(imported.forward(x).data, model.forward(x).data) < 1e-6);
    });
  }
});

/** Builds an ONNX model by hand, the way other exporters lay graphs out. */
function handBuiltOnnx(): Uint8Array {
  const A = onnx.AttributeProto.AttributeType;
  const rng = new Rng(2);
  const tensor = (name: string, dims: number[]) => ({
    name,
    dims,
    dataType: FLOAT,
    floatData: Array.from({ length: shapeSize(dims) }, () => rng.uniform(-0.5, 0.5)),
  });
  const graph = {
    name: 'hand-built',
    input: [
      { name: 'image', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 2 }, { dimValue: 9 }, { dimValue: 9 }] } } } },
    ],
    output: [{ name: 'logits', type: { tensorType: { elemType: FLOAT } } }],
    initializer: [tensor('w1', [4, 2, 3, 3]), tensor('b1', [4]), tensor('w2', [4, 4, 1, 1]), tensor('fcw', [8, 5]), tensor('fcb', [5]), tensor('mmw', [5, 3])],
    node: [
      {
        name: 'conv_same',
        opType: 'Conv',
        input: ['image', 'w1', 'b1'],
        output: ['c1'],
        attribute: [{ name: 'auto_pad', type: A.STRING, s: new TextEncoder().encode('SAME_UPPER') }],
      },
      { name: 'relu', opType: 'Relu', input: ['c1'], output: ['r1'] },
      { name: 'id', opType: 'Identity', input: ['r1'], output: ['r1b'] },
      { name: 'conv1x1', opType: 'Conv', input: ['r1b', 'w2'], output: ['c2'], attribute: [{ name: 'kernel_shape', type: A.INTS, ints: [1, 1] }] },
      { name: 'sum3', opType: 'Sum', input: ['c2', 'r1', 'r1b'], output: ['s'] },
      {
        name: 'pool',
        opType: 'MaxPool',
        input: ['s'],
        output: ['p'],
        attribute: [
          { name: 'kernel_shape', type: A.INTS, ints: [2, 2] },
          { name: 'strides', type: A.INTS, ints: [2, 2] },
        ],
      },
      { name: 'cat', opType: 'Concat', input: ['p', 'p'], output: ['pc'], attribute: [{ name: 'axis', type: A.INT, i: 1 }] },
      { name: 'gap', opType: 'GlobalAveragePool', input: ['pc'], output: ['g'] },
      {
        name: 'shape',
        opType: 'Constant',
        input: [],
        output: ['shape_value'],
        attribute: [{ name: 'value', type: A.TENSOR, t: { dims: [2], dataType: INT64, int64Data: [-1, 8] } }],
      },
      { name: 'reshape', opType: 'Reshape', input: ['g', 'shape_value'], output: ['flat'] },
      { name: 'fc', opType: 'Gemm', input: ['flat', 'fcw', 'fcb'], output: ['h'], attribute: [{ name: 'alpha', type: A.FLOAT, f: 0.5 }] },
      { name: 'mm', opType: 'MatMul', input: ['h', 'mmw'], output: ['logits'] },
    ],
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 7, opsetImport: [{ domain: '', version: 13 }], graph: graph as never })).finish();
}

describe('ONNX import', () => {
  it('a hand-built graph (auto_pad, Identity, Sum, GlobalAveragePool, Constant+Reshape, Gemm with alpha, MatMul) runs like ONNX Runtime', async () => {
    const bytes = handBuiltOnnx();
    const model = loadOnnx(bytes, backend, 'hand.onnx');
    const x = randomInput([3, 2, 9, 9], 8);
    const err = maxRelativeError(model.forward(x).data, await runOrt(bytes, x));
    assert.ok(err < 1e-4, `relative error ${err}`);
  });

  it('an imported model can be fine-tuned (gradients flow)', () => {
    const model = loadOnnx(handBuiltOnnx(), backend);
    const x = randomInput([2, 2, 9, 9], 1);
    const y = model.forward(x, true);
    model.backward(new Tensor(y.shape, new Float32Array(y.size).fill(1)));
    assert.ok(model.parameters().every((p) => p.grad.data.some((v) => v !== 0)));
  });

  it('lists every unsupported operator with its node name', () => {
    const bytes = onnx.ModelProto.encode(
      onnx.ModelProto.create({
        irVersion: 7,
        graph: {
          name: 'g',
          node: [
            { name: 'rnn', opType: 'LSTM', input: ['x'], output: ['a'] },
            { name: 'up', opType: 'Resize', input: ['a'], output: ['b'] },
            { name: 'ok', opType: 'Relu', input: ['b'], output: ['c'] },
          ],
        } as never,
      }),
    ).finish();
    assert.throws(
      () => loadOnnx(bytes, backend, 'seq.onnx'),
      (e: Error) =>
        e instanceof UnsupportedOnnxError &&
        /seq\.onnx/.test(e.message) &&
        /LSTM \(node "rnn"\)/.test(e.message) &&
        /Resize \(node "up"\)/.test(e.message) &&
        !/Relu/.test(e.message),
    );
  });

  it('rejects malformed files quickly with a clear error', () => {
    const good = toOnnx(new Model(zoo.lenet5.build(), backend));
    const rng = new Rng(1);
    const garbage = Uint8Array.from({ length: 5000 }, () => rng.int(256));
    for (const [name, bytes] of [
      ['garbage.onnx', garbage],
      ['truncated.onnx', good.subarray(0, good.length / 2)],
      ['empty.onnx', new Uint8Array(0)],
    ] as const) {
      const t0 = performance.now();
      assert.throws(
        () => loadOnnx(bytes, backend, name),
        (e: Error) => e instanceof FormatError && e.message.includes(name),
        name,
      );
      assert.ok(performance.now() - t0 < 5000);
    }
    // A tensor that claims far more values than the file holds is refused before allocation.
    const huge = onnx.ModelProto.encode(
      onnx.ModelProto.create({
        irVersion: 7,
        graph: {
          name: 'g',
          input: [
            { name: 'x', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimValue: 1 }, { dimValue: 1 }, { dimValue: 4 }, { dimValue: 4 }] } } } },
          ],
          initializer: [{ name: 'w', dims: [100000, 100000, 100, 100], dataType: FLOAT, rawData: new Uint8Array(16) }],
          node: [{ name: 'c', opType: 'Conv', input: ['x', 'w'], output: ['y'] }],
          output: [{ name: 'y' }],
        } as never,
      }),
    ).finish();
    assert.throws(() => loadOnnx(huge, backend, 'huge.onnx'), /huge\.onnx: tensor "w" claims/);
  });
});

describe('ONNX files exported by PyTorch (torch.onnx.export, fixtures made by scripts/torch-fixtures.py)', () => {
  for (const name of ['lenet5', 'mini-inception-resnet', 'batchnorm-zoo']) {
    it(`${name}: imported, runs and matches PyTorch's own output`, () => {
      const dir = join(process.cwd(), 'test/fixtures');
      const io = JSON.parse(readFileSync(join(dir, `torch-${name}.json`), 'utf8'));
      const model = loadOnnx(readFileSync(join(dir, `torch-${name}.onnx`)), backend, `torch-${name}.onnx`);
      const y = model.forward(new Tensor(io.inputShape, Float32Array.from(io.input)));
      const err = maxRelativeError(y.data, io.output);
      assert.ok(err < 1e-4, `relative error ${err}`);
    });
  }
});

describe('ONNX import: aliases of initializers', () => {
  /** Weights reached through Identity chains and shape-only ops, as PyTorch writes de-duplicated initializers. */
  function aliasedOnnx(): Uint8Array {
    const A = onnx.AttributeProto.AttributeType;
    const rng = new Rng(3);
    const tensor = (name: string, dims: number[], fill?: number) => ({
      name,
      dims,
      dataType: FLOAT,
      floatData: Array.from({ length: shapeSize(dims) }, () => fill ?? rng.uniform(-0.5, 0.5)),
    });
    const graph = {
      name: 'aliases',
      input: [{ name: 'x', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: 2 }, { dimValue: 6 }, { dimValue: 6 }] } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: FLOAT } } }],
      initializer: [
        tensor('w', [3, 2, 3, 3]),
        tensor('zeros', [3], 0),
        tensor('fcw', [5, 27]),
        tensor('fcb', [1, 5]),
        { name: 'flat5', dims: [1], dataType: INT64, int64Data: [-1] },
      ],
      node: [
        { name: 'Identity_0', opType: 'Identity', input: ['w'], output: ['w_a'] },
        { name: 'Identity_1', opType: 'Identity', input: ['w_a'], output: ['w_b'] },
        { name: 'Identity_2', opType: 'Identity', input: ['zeros'], output: ['conv.bias'] },
        {
          name: 'conv',
          opType: 'Conv',
          input: ['x', 'w_b', 'conv.bias'],
          output: ['c'],
          attribute: [
            { name: 'strides', type: A.INTS, ints: [2, 2] },
            { name: 'pads', type: A.INTS, ints: [1, 1, 1, 1] },
          ],
        },
        { name: 'flatten', opType: 'Flatten', input: ['c'], output: ['f'] },
        { name: 'bias_flat', opType: 'Reshape', input: ['fcb', 'flat5'], output: ['fcb_1d'] },
        { name: 'Identity_3', opType: 'Identity', input: ['fcb_1d'], output: ['fc.bias'] },
        { name: 'fc', opType: 'Gemm', input: ['f', 'fcw', 'fc.bias'], output: ['y'], attribute: [{ name: 'transB', type: A.INT, i: 1 }] },
      ],
    };
    return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 7, opsetImport: [{ domain: '', version: 13 }], graph: graph as never })).finish();
  }

  it('Identity chains and Reshape of initializers are followed to the weights; the model runs like ONNX Runtime', async () => {
    const bytes = aliasedOnnx();
    const model = loadOnnx(bytes, backend, 'aliases.onnx');
    const x = randomInput([2, 2, 6, 6], 5);
    const err = maxRelativeError(model.forward(x).data, await runOrt(bytes, x));
    assert.ok(err < 1e-5, `relative error ${err}`);
  });
});

/**
 * The ONNX LRN operator exactly as its specification writes it (opset 13):
 * square_sum[n, c, d1, d2] = Σ X[n, i, d1, d2]² for i in [max(0, c − ⌊(size−1)/2⌋), min(C−1, c + ⌈(size−1)/2⌉)],
 * Y = X / (bias + alpha / size · square_sum)^beta. ONNX Runtime refuses even sizes (size % 2 == 1
 * is required by its kernel), so the specification is the oracle here.
 */
function onnxSpecLrn(x: Tensor, size: number, alpha: number, beta: number, bias: number): Float64Array {
  const [N, C, H, W] = x.shape;
  const HW = H * W;
  const y = new Float64Array(x.size);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < HW; i++) {
        let sq = 0;
        for (let j = Math.max(0, c - Math.floor((size - 1) / 2)); j <= Math.min(C - 1, c + Math.ceil((size - 1) / 2)); j++)
          sq += x.data[(n * C + j) * HW + i] ** 2;
        const at = (n * C + c) * HW + i;
        y[at] = x.data[at] / (bias + (alpha / size) * sq) ** beta;
      }
  return y;
}

describe("ONNX LRN with an even size (ONNX's window [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉])", () => {
  const A = onnx.AttributeProto.AttributeType;
  const lrnOnly = (size: number, before?: number): ModelSpec => ({
    name: 'lrn',
    inputShape: [7, 5, 4],
    nodes: [{ name: 'norm', layer: { type: 'lrn', size, alpha: 0.6, beta: 0.75, k: 1.5, ...(before === undefined ? {} : { before }) }, inputs: ['input'] }],
  });
  const lrnOnnx = (size: number) =>
    onnx.ModelProto.encode(
      onnx.ModelProto.create({
        irVersion: 7,
        opsetImport: [{ domain: '', version: 13 }],
        graph: {
          name: 'lrn',
          input: [
            { name: 'x', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: 7 }, { dimValue: 3 }, { dimValue: 3 }] } } } },
          ],
          output: [{ name: 'y', type: { tensorType: { elemType: FLOAT } } }],
          node: [
            {
              name: 'lrn',
              opType: 'LRN',
              input: ['x'],
              output: ['y'],
              attribute: [
                { name: 'size', type: A.INT, i: size },
                { name: 'alpha', type: A.FLOAT, f: 0.8 },
                { name: 'beta', type: A.FLOAT, f: 0.75 },
                { name: 'bias', type: A.FLOAT, f: 1 },
              ],
            },
          ],
        } as never,
      }),
    ).finish();

  it("import: ONNX LRN of sizes 2, 4, 6 computes the specification's window (and odd sizes still match ONNX Runtime)", async () => {
    for (const size of [2, 4, 6]) {
      const x = randomInput([2, 7, 3, 3], size);
      const err = maxRelativeError(loadOnnx(lrnOnnx(size), backend, 'lrn.onnx').forward(x).data, onnxSpecLrn(x, size, 0.8, 0.75, 1));
      assert.ok(err < 1e-6, `size ${size}: relative error ${err}`);
    }
    for (const size of [3, 5]) {
      const x = randomInput([2, 7, 3, 3], size);
      const bytes = lrnOnnx(size);
      assert.ok(maxRelativeError(onnxSpecLrn(x, size, 0.8, 0.75, 1), await runOrt(bytes, x)) < 1e-6, `size ${size}: the oracle against ONNX Runtime`);
      assert.ok(maxRelativeError(loadOnnx(bytes, backend).forward(x).data, await runOrt(bytes, x)) < 1e-6, `size ${size}`);
    }
  });

  it("export: an even LRN with ONNX's window is written as LRN of that size, which computes the same function", () => {
    for (const size of [2, 4, 6]) {
      const model = new Model(lrnOnly(size, Math.floor((size - 1) / 2)), backend);
      const bytes = toOnnx(model);
      const g = onnx.ModelProto.decode(bytes).graph!;
      assert.deepEqual(
        g.node!.map((n) => n.opType),
        ['LRN'],
      );
      assert.equal(Number(g.node![0].attribute!.find((a) => a.name === 'size')!.i), size);
      const x = randomInput([2, 7, 5, 4], size);
      const ours = model.forward(x).data;
      assert.ok(maxRelativeError(ours, onnxSpecLrn(x, size, 0.6, 0.75, 1.5)) < 1e-6, `size ${size}`);
      assert.ok(maxRelativeError(loadOnnx(bytes, backend).forward(x).data, ours) < 1e-7, `size ${size}: round trip`);
    }
  });

  it("export: an even LRN with PyTorch's window, which ONNX LRN cannot express, is refused by name", () => {
    assert.throws(
      () => toOnnx(new Model(lrnOnly(4), backend)),
      (e: Error) => e instanceof ConfigError && /layer "norm"/.test(e.message) && /"before": 1/.test(e.message),
    );
  });
});

describe('ONNX operators of MobileNet v3, EfficientNet, RegNet-Y and MNASNet', () => {
  const se: ModelSpec = {
    name: 'se',
    inputShape: [4, 6, 5],
    nodes: [
      { name: 'c', layer: { type: 'conv2d', filters: 8, kernel: 3, padding: 1 }, inputs: ['input'] },
      { name: 'gate', layer: { type: 'hardsigmoid' }, inputs: ['c'] },
      { name: 'hswish', layer: { type: 'mul' }, inputs: ['c', 'gate'] },
      { name: 'gap', layer: { type: 'globalavgpool2d' }, inputs: ['hswish'] },
      { name: 'fc1', layer: { type: 'conv2d', filters: 2, kernel: 1 }, inputs: ['gap'] },
      { name: 'fc2', layer: { type: 'conv2d', filters: 8, kernel: 1 }, inputs: ['fc1'] },
      { name: 'scale', layer: { type: 'hardsigmoid', alpha: 0.2, beta: 0.5 }, inputs: ['fc2'] },
      { name: 'excite', layer: { type: 'mul' }, inputs: ['scale', 'hswish'] },
      { name: 'flat', layer: { type: 'flatten' }, inputs: ['excite'] },
      { name: 'fc', layer: { type: 'dense', units: 5 }, inputs: ['flat'] },
    ],
  };

  it('hard sigmoid, hard swish and squeeze-excitation export and run like ONNX Runtime; export → import gives the same function', async () => {
    const model = randomized(se, 4);
    const x = randomInput([3, 4, 6, 5], 2);
    for (let i = 0; i < x.size; i++) x.data[i] *= 6; // both kinks of the hard sigmoid
    const ours = model.forward(x).data;
    const bytes = toOnnx(model);
    assert.ok(maxRelativeError(ours, await runOrt(bytes, x)) < 1e-5);
    assert.ok(maxRelativeError(loadOnnx(bytes, backend).forward(x).data, ours) < 1e-6);
  });

  it('Mul/Div/Add/Sub by a per-channel or scalar constant become a depthwise 1×1 convolution; ReduceMean over H, W a global pooling', async () => {
    const A = onnx.AttributeProto.AttributeType;
    const rng = new Rng(8);
    const f = (name: string, dims: number[]) => ({
      name,
      dims,
      dataType: FLOAT,
      floatData: Array.from({ length: shapeSize(dims) }, () => rng.uniform(0.5, 1.5)),
    });
    const bytes = onnx.ModelProto.encode(
      onnx.ModelProto.create({
        irVersion: 7,
        opsetImport: [{ domain: '', version: 13 }],
        graph: {
          name: 'arith',
          input: [
            { name: 'x', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: 3 }, { dimValue: 4 }, { dimValue: 4 }] } } } },
          ],
          output: [{ name: 'y', type: { tensorType: { elemType: FLOAT } } }],
          initializer: [f('gamma', [3, 1, 1]), f('shift', [1, 3, 1, 1]), f('two', []), f('div', [3, 1, 1])],
          node: [
            { name: 'scale', opType: 'Mul', input: ['gamma', 'x'], output: ['a'] },
            { name: 'shift', opType: 'Add', input: ['a', 'shift'], output: ['b'] },
            { name: 'sub', opType: 'Sub', input: ['two', 'b'], output: ['c'] },
            { name: 'div', opType: 'Div', input: ['c', 'div'], output: ['d'] },
            { name: 'sub2', opType: 'Sub', input: ['d', 'two'], output: ['e'] },
            {
              name: 'mean',
              opType: 'ReduceMean',
              input: ['e'],
              output: ['y'],
              attribute: [
                { name: 'axes', type: A.INTS, ints: [-1, -2] },
                { name: 'keepdims', type: A.INT, i: 0 },
              ],
            },
          ],
        } as never,
      }),
    ).finish();
    const model = loadOnnx(bytes, backend, 'arith.onnx');
    const x = randomInput([2, 3, 4, 4], 3);
    const err = maxRelativeError(model.forward(x).data, await runOrt(bytes, x));
    assert.ok(err < 1e-5, `relative error ${err}`);
  });
});

/** A one-input graph of these nodes (opset `opset`) over an [N, 4, 5, 6] image, with initializers of random values or given int64 vectors. */
function smallGraph(nodes: object[], floats: [string, number[]][], ints: [string, number[]][] = [], opset = 13): Uint8Array {
  const rng = new Rng(11);
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: opset }],
      graph: {
        name: 'small',
        input: [
          { name: 'x', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: 4 }, { dimValue: 5 }, { dimValue: 6 }] } } } },
        ],
        output: [{ name: 'y', type: { tensorType: { elemType: FLOAT } } }],
        initializer: [
          ...floats.map(([name, dims]) => ({ name, dims, dataType: FLOAT, floatData: Array.from({ length: shapeSize(dims) }, () => rng.uniform(0.5, 1.5)) })),
          ...ints.map(([name, values]) => ({ name, dims: [values.length], dataType: INT64, int64Data: values })),
        ],
        node: nodes,
      } as never,
    }),
  ).finish();
}

describe('ONNX import: ShuffleNet and ConvNeXt operators', () => {
  const A = onnx.AttributeProto.AttributeType;
  const perm = (p: number[]) => [{ name: 'perm', type: A.INTS, ints: p }];

  it('LayerNormalization and Gelu on channels-last, channels-last MatMul, Split, HardSwish, channel shuffle and Slice run like ONNX Runtime; export → import and ONNX Runtime agree', async () => {
    const bytes = smallGraph(
      [
        { name: 'nhwc', opType: 'Transpose', input: ['x'], output: ['a'], attribute: perm([0, 2, 3, 1]) },
        { name: 'ln', opType: 'LayerNormalization', input: ['a', 'gamma', 'beta'], output: ['b'], attribute: [{ name: 'epsilon', type: A.FLOAT, f: 1e-6 }] },
        { name: 'up', opType: 'MatMul', input: ['b', 'w1'], output: ['c'] },
        { name: 'gelu', opType: 'Gelu', input: ['c'], output: ['d'] },
        { name: 'down', opType: 'MatMul', input: ['d', 'w2'], output: ['e'] },
        { name: 'nchw', opType: 'Transpose', input: ['e'], output: ['f'], attribute: perm([0, 3, 1, 2]) },
        { name: 'split', opType: 'Split', input: ['f', 'sizes'], output: ['g1', 'g2'], attribute: [{ name: 'axis', type: A.INT, i: 1 }] },
        { name: 'hswish', opType: 'HardSwish', input: ['g1'], output: ['h1'] },
        { name: 'cat', opType: 'Concat', input: ['h1', 'g2'], output: ['h'], attribute: [{ name: 'axis', type: A.INT, i: 1 }] },
        { name: 'groups', opType: 'Reshape', input: ['h', 'grouped'], output: ['i'] },
        { name: 'swap', opType: 'Transpose', input: ['i'], output: ['j'], attribute: perm([0, 2, 1, 3, 4]) },
        { name: 'back', opType: 'Reshape', input: ['j', 'flat4'], output: ['k'] },
        { name: 'slice', opType: 'Slice', input: ['k', 'starts', 'ends', 'axes'], output: ['y'] },
      ],
      [
        ['gamma', [4]],
        ['beta', [4]],
        ['w1', [4, 8]],
        ['w2', [8, 4]],
      ],
      [
        ['sizes', [1, 3]],
        ['grouped', [0, 2, 2, 5, 6]],
        ['flat4', [0, -1, 5, 6]],
        ['starts', [1]],
        ['ends', [9]],
        ['axes', [1]],
      ],
      20,
    );
    const model = loadOnnx(bytes, backend, 'small.onnx');
    assert.deepEqual(
      model.spec.nodes.map((n) => n.layer.type),
      ['layernorm2d', 'conv2d', 'gelu', 'conv2d', 'channelslice', 'channelslice', 'hardsigmoid', 'mul', 'concat', 'channelshuffle', 'channelslice'],
    );
    const x = randomInput([2, 4, 5, 6], 12);
    for (let i = 0; i < x.size; i++) x.data[i] *= 4; // GELU's tails, both kinks of the hard swish
    const ours = model.forward(x).data;
    assert.ok(maxRelativeError(ours, await runOrt(bytes, x)) < 1e-5, 'convkit vs ONNX Runtime on the file');
    const exported = toOnnx(model);
    assert.ok(maxRelativeError(await runOrt(exported, x), ours) < 1e-5, 'ONNX Runtime on the export');
    const again = loadOnnx(exported, backend, 'again.onnx');
    assert.deepEqual(
      again.spec.nodes.map((n) => n.layer.type),
      model.spec.nodes.map((n) => n.layer.type),
      'the written-out layer norm and GELU fuse back into one layer each',
    );
    assert.ok(maxRelativeError(again.forward(x).data, ours) < 1e-6);
  });

  it('a Linear as PyTorch writes it (MatMul, then Add of its bias) keeps the bias in the layer; a layer norm takes γ and β aliased through Identity; a scale has no bias: as many parameters as the file', async () => {
    const axes = [{ name: 'axes', type: A.INTS, ints: [-1] }];
    const floats: [string, number[]][] = [
      ['eps', []],
      ['gamma', [4]],
      ['beta', [4]],
      ['w1', [4, 8]],
      ['b1', [8]],
      ['w2', [8, 4]],
      ['b2', [1, 1, 1, 4]],
      ['scale', [4, 1, 1]],
      ['w3', [4, 3]],
      ['b3', [3]],
    ];
    const bytes = smallGraph(
      [
        { name: 'nhwc', opType: 'Transpose', input: ['x'], output: ['a'], attribute: perm([0, 2, 3, 1]) },
        { name: 'g', opType: 'Identity', input: ['gamma'], output: ['gamma_alias'] },
        { name: 'be', opType: 'Identity', input: ['beta'], output: ['beta_alias'] },
        { name: 'mean', opType: 'ReduceMean', input: ['a'], output: ['m'], attribute: axes },
        { name: 'centre', opType: 'Sub', input: ['a', 'm'], output: ['d'] },
        { name: 'square', opType: 'Mul', input: ['d', 'd'], output: ['sq'] },
        { name: 'var', opType: 'ReduceMean', input: ['sq'], output: ['v'], attribute: axes },
        { name: 'plus_eps', opType: 'Add', input: ['v', 'eps'], output: ['ve'] },
        { name: 'root', opType: 'Sqrt', input: ['ve'], output: ['sd'] },
        { name: 'normal', opType: 'Div', input: ['d', 'sd'], output: ['n'] },
        { name: 'times_gamma', opType: 'Mul', input: ['n', 'gamma_alias'], output: ['ng'] },
        { name: 'plus_beta', opType: 'Add', input: ['ng', 'beta_alias'], output: ['b'] },
        { name: 'up', opType: 'MatMul', input: ['b', 'w1'], output: ['c'] },
        { name: 'up_bias', opType: 'Add', input: ['c', 'b1'], output: ['c2'] },
        { name: 'act', opType: 'Relu', input: ['c2'], output: ['c3'] },
        { name: 'down', opType: 'MatMul', input: ['c3', 'w2'], output: ['e'] },
        { name: 'down_bias', opType: 'Add', input: ['b2', 'e'], output: ['e2'] },
        { name: 'nchw', opType: 'Transpose', input: ['e2'], output: ['f'], attribute: perm([0, 3, 1, 2]) },
        { name: 'layer_scale', opType: 'Mul', input: ['f', 'scale'], output: ['s'] },
        { name: 'pool', opType: 'GlobalAveragePool', input: ['s'], output: ['p'] },
        { name: 'flat', opType: 'Flatten', input: ['p'], output: ['fl'] },
        { name: 'fc', opType: 'MatMul', input: ['fl', 'w3'], output: ['o'] },
        { name: 'fc_bias', opType: 'Add', input: ['o', 'b3'], output: ['y'] },
      ],
      floats,
    );
    const model = loadOnnx(bytes, backend, 'linear.onnx');
    assert.deepEqual(
      model.spec.nodes.map((n) => n.layer.type),
      ['layernorm2d', 'conv2d', 'relu', 'conv2d', 'conv2d', 'avgpool2d', 'flatten', 'dense'],
    );
    const inFile = floats.filter(([name]) => name !== 'eps').reduce((sum, [, dims]) => sum + shapeSize(dims), 0);
    assert.equal(model.parameterCount(), inFile);
    const x = randomInput([2, 4, 5, 6], 13);
    const ours = model.forward(x).data;
    assert.ok(maxRelativeError(ours, await runOrt(bytes, x)) < 1e-5, 'convkit vs ONNX Runtime on the file');
    assert.ok(maxRelativeError(await runOrt(toOnnx(model), x), ours) < 1e-5, 'ONNX Runtime on the export');
  });

  const refusals: [string, object[], [string, number[]][], [string, number[]][], RegExp][] = [
    [
      'a Transpose other than to channels-last and back',
      [{ name: 'odd', opType: 'Transpose', input: ['x'], output: ['y'], attribute: perm([0, 3, 2, 1]) }],
      [],
      [],
      /Transpose "odd": only the channels-last permutation.*perm \[0,3,2,1\]/,
    ],
    [
      'a layer norm over channels, height and width',
      [{ name: 'lnchw', opType: 'LayerNormalization', input: ['x', 'g'], output: ['y'], attribute: [{ name: 'axis', type: A.INT, i: 1 }] }],
      [['g', [4, 5, 6]]],
      [],
      /LayerNormalization "lnchw": only normalisation over the channels/,
    ],
    ['Erf outside GELU', [{ name: 'lonely', opType: 'Erf', input: ['x'], output: ['y'] }], [], [], /Erf "lonely": only supported inside GELU/],
    ['Sqrt outside a layer norm', [{ name: 'root', opType: 'Sqrt', input: ['x'], output: ['y'] }], [], [], /Sqrt "root": only supported inside a layer norm/],
    [
      'a reduction over channels-last features that is not a layer norm',
      [
        { name: 'nhwc', opType: 'Transpose', input: ['x'], output: ['a'], attribute: perm([0, 2, 3, 1]) },
        { name: 'mean', opType: 'ReduceMean', input: ['a'], output: ['y'], attribute: [{ name: 'axes', type: A.INTS, ints: [-1] }] },
      ],
      [],
      [],
      /ReduceMean "mean" reads "a", channels-last.*only LayerNormalization/,
    ],
    [
      'channel groups reshaped to anything but [N, C, H, W]',
      [
        { name: 'groups', opType: 'Reshape', input: ['x', 'grouped'], output: ['a'] },
        { name: 'swap', opType: 'Transpose', input: ['a'], output: ['b'], attribute: perm([0, 2, 1, 3, 4]) },
        { name: 'flat', opType: 'Reshape', input: ['b', 'flat2'], output: ['y'] },
      ],
      [],
      [
        ['grouped', [0, 2, 2, 5, 6]],
        ['flat2', [0, -1]],
      ],
      /Reshape "flat" reads "b", a channel shuffle of 2 groups not yet reshaped back/,
    ],
    [
      'a slice along the width',
      [{ name: 'cols', opType: 'Slice', input: ['x', 's', 'e', 'ax'], output: ['y'] }],
      [],
      [
        ['s', [0]],
        ['e', [2]],
        ['ax', [3]],
      ],
      /Slice "cols": only slices of channels \(axis 1\)/,
    ],
    [
      'a split that does not add up to the channels',
      [{ name: 'bad', opType: 'Split', input: ['x', 'sz'], output: ['y', 'z'], attribute: [{ name: 'axis', type: A.INT, i: 1 }] }],
      [],
      [['sz', [1, 2]]],
      /Split "bad": sizes \[1,2\] must be 2 positive integers adding up to the 4 channels/,
    ],
    [
      'the tanh approximation of GELU',
      [
        {
          name: 'approx',
          opType: 'Gelu',
          input: ['x'],
          output: ['y'],
          attribute: [{ name: 'approximate', type: A.STRING, s: new TextEncoder().encode('tanh') }],
        },
      ],
      [],
      [],
      /Gelu "approx": only the exact GELU/,
    ],
  ];
  for (const [label, nodes, floats, ints, message] of refusals) {
    it(`refuses ${label} with a FormatError naming the node`, () => {
      assert.throws(
        () => loadOnnx(smallGraph(nodes, floats, ints, 20), backend, 'small.onnx'),
        (e: Error) => e instanceof FormatError && e.message.startsWith('small.onnx: ') && message.test(e.message),
      );
    });
  }
});
