/**
 * Crafted ONNX files against every operator importer: attributes of the wrong type, wrong
 * lengths, non-finite values, shape computations that grow without bound and graphs of many
 * nodes of one name. Each is a FormatError naming the file and the node, quickly.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RefBackend } from '../src/backend/ref.js';
import { FormatError } from '../src/errors.js';
import { MAX_KNOWN_VALUES, loadOnnx, parseOnnx } from '../src/onnx/import.js';
import { FLOAT, INT64, onnx } from '../src/onnx/proto.js';

const backend = new RefBackend();
const A = onnx.AttributeProto.AttributeType;
const ints = (name: string, v: number[]) => ({ name, type: A.INTS, ints: v });
const int = (name: string, v: number) => ({ name, type: A.INT, i: v });
const float = (name: string, v: number) => ({ name, type: A.FLOAT, f: v });
const str = (name: string, v: string) => ({ name, type: A.STRING, s: new TextEncoder().encode(v) });
const tensor = (name: string, dims: number[], fill = 0.1) => ({ name, dims, dataType: FLOAT, floatData: Array(dims.reduce((a, b) => a * b, 1)).fill(fill) });
const int64s = (name: string, values: number[]) => ({ name, dims: [values.length], dataType: INT64, int64Data: values });
const W = tensor('w', [4, 2, 3, 3]);
const BN = ['s', 'b', 'm', 'v'].map((n) => tensor(n, [2], 1));

/** A graph reading image x [N, 2, 8, 8] and producing y. */
function graph(node: object[], initializer: object[] = []): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 7,
      opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'g',
        node,
        initializer,
        output: [{ name: 'y' }],
        input: [
          { name: 'x', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: 2 }, { dimValue: 8 }, { dimValue: 8 }] } } } },
        ],
      } as never,
    }),
  ).finish();
}
const op = (opType: string, attribute: object[], input = ['x'], output = ['y']) => ({ name: 'n1', opType, input, output, attribute });
const flat = { name: 'f', opType: 'Flatten', input: ['x'], output: ['f'] };

function refused(bytes: Uint8Array, message: RegExp) {
  assert.throws(
    () => loadOnnx(bytes, backend, 'crafted.onnx'),
    (e: Error) => e instanceof FormatError && /^crafted\.onnx: /.test(e.message) && message.test(e.message),
    String(message),
  );
}

describe('ONNX attributes are read with the type their operator defines', () => {
  // Each was a TypeError (a list where a number belongs, or the reverse) or was silently ignored.
  const cases: [string, Uint8Array, RegExp][] = [
    [
      'MaxPool dilations as one integer',
      graph([op('MaxPool', [ints('kernel_shape', [2, 2]), int('dilations', 2)])]),
      /node "n1" \(MaxPool\): attribute "dilations" must be a list of integers, got an integer/,
    ],
    ['ReduceMean axes as one integer', graph([op('ReduceMean', [int('axes', 2)])]), /attribute "axes" must be a list of integers, got an integer/],
    ['ReduceMean axes as a string', graph([op('ReduceMean', [str('axes', '23')])]), /attribute "axes" must be a list of integers, got a string/],
    ['Squeeze axes as one integer', graph([flat, op('Squeeze', [int('axes', 2)], ['f'])]), /attribute "axes" must be a list of integers/],
    [
      'Squeeze of a constant, axes as one integer',
      graph([op('Squeeze', [int('axes', 0)], ['c'])], [tensor('c', [1, 2])]),
      /attribute "axes" must be a list of integers/,
    ],
    [
      'Unsqueeze axes as a string',
      graph([op('Unsqueeze', [str('axes', '0')], ['c'])], [tensor('c', [1, 2])]),
      /attribute "axes" must be a list of integers, got a string/,
    ],
    [
      'Conv strides as one integer',
      graph([op('Conv', [int('strides', 2)], ['x', 'w'])], [W]),
      /attribute "strides" must be a list of integers, got an integer/,
    ],
    ['Conv group as a float', graph([op('Conv', [float('group', 1.5)], ['x', 'w'])], [W]), /attribute "group" must be an integer, got a float/],
    ['Conv auto_pad as an integer', graph([op('Conv', [int('auto_pad', 1)], ['x', 'w'])], [W]), /attribute "auto_pad" must be a string/],
    ['Conv auto_pad unknown', graph([op('Conv', [str('auto_pad', 'BOGUS')], ['x', 'w'])], [W]), /unknown auto_pad "BOGUS"/],
    [
      'AveragePool ceil_mode as a string',
      graph([op('AveragePool', [ints('kernel_shape', [2, 2]), str('ceil_mode', '1')])]),
      /attribute "ceil_mode" must be an integer, got a string/,
    ],
    [
      'MaxPool kernel of 3 values (a 3-D pool)',
      graph([op('MaxPool', [ints('kernel_shape', [2, 2, 2])])]),
      /kernel_shape of 2 values \(height, width\) is required, got \[2,2,2\]/,
    ],
    [
      'MaxPool strides of 3 values',
      graph([op('MaxPool', [ints('kernel_shape', [2, 2]), ints('strides', [1, 1, 1])])]),
      /strides must have 2 values \(height, width\)/,
    ],
    ['ReduceMean keepdims as a string', graph([op('ReduceMean', [ints('axes', [2, 3]), str('keepdims', '0')])]), /attribute "keepdims" must be an integer/],
    [
      'Gemm transB as a string',
      graph([flat, op('Gemm', [str('transB', '1')], ['f', 'fw'])], [tensor('fw', [128, 3])]),
      /attribute "transB" must be an integer, got a string/,
    ],
    [
      'Gemm alpha as a string',
      graph([flat, op('Gemm', [str('alpha', 'x')], ['f', 'fw'])], [tensor('fw', [128, 3])]),
      /attribute "alpha" must be a float, got a string/,
    ],
    ['LeakyRelu alpha NaN', graph([op('LeakyRelu', [float('alpha', NaN)])]), /attribute "alpha" must be finite, got NaN/],
    ['LeakyRelu alpha infinite', graph([op('LeakyRelu', [float('alpha', Infinity)])]), /attribute "alpha" must be finite/],
    ['LeakyRelu alpha as a string', graph([op('LeakyRelu', [str('alpha', 'x')])]), /attribute "alpha" must be a float, got a string/],
    ['LRN alpha NaN', graph([op('LRN', [int('size', 3), float('alpha', NaN)])]), /attribute "alpha" must be finite/],
    ['LRN beta as a string', graph([op('LRN', [int('size', 3), str('beta', 'x')])]), /attribute "beta" must be a float, got a string/],
    [
      'BatchNormalization epsilon NaN',
      graph([op('BatchNormalization', [float('epsilon', NaN)], ['x', 's', 'b', 'm', 'v'])], BN),
      /attribute "epsilon" must be finite/,
    ],
    ['Dropout ratio as a string', graph([op('Dropout', [str('ratio', 'x')])]), /attribute "ratio" must be a float, got a string/],
    ['Concat axis as a string', graph([op('Concat', [str('axis', '1')], ['x', 'x'])]), /attribute "axis" must be an integer, got a string/],
    [
      'Pad mode as an integer',
      graph(
        [op('Pad', [int('mode', 1), ints('pads', [0, 0, 1, 1, 0, 0, 1, 1])], ['x'], ['p']), { name: 'c', opType: 'Conv', input: ['p', 'w'], output: ['y'] }],
        [W],
      ),
      /attribute "mode" must be a string/,
    ],
  ];
  for (const [what, bytes, message] of cases) it(what, () => refused(bytes, message));
});

describe('ONNX values that would make a model compute garbage', () => {
  it('Mul takes exactly two inputs (a third was ignored)', () => {
    refused(graph([op('Mul', [], ['x', 'x', 'x'])]), /Mul "n1": takes 2 inputs, got 3/);
  });

  it('weights that are NaN or infinite, from the file or from folding (Div by 1e-45)', () => {
    refused(graph([op('Div', [], ['x', 'c'])], [tensor('c', [], NaN)]), /node "n1" \(Div\): its weight holds NaN or infinite values/);
    refused(graph([op('Div', [], ['x', 'c'])], [tensor('c', [], 1e-45)]), /its weight holds NaN or infinite values/);
    refused(graph([op('Conv', [], ['x', 'w'])], [tensor('w', [4, 2, 3, 3], Infinity)]), /node "n1" \(Conv\): its weight holds NaN or infinite values/);
  });

  it('constants that cannot mean what the node says: division by zero, squeezing a non-unit axis, an impossible reshape, LRN size 0', () => {
    refused(graph([op('Div', [], ['x', 'c'])], [tensor('c', [2, 1, 1], 0)]), /Div "n1": division by a constant that holds zeros/);
    refused(
      graph([op('Squeeze', [ints('axes', [1])], ['c'], ['k']), op('Relu', [])], [tensor('c', [1, 2])]),
      /Squeeze "n1": axes \[1\] are not unit axes of \[1,2\]/,
    );
    refused(
      graph([op('Reshape', [], ['c', 's'], ['k']), op('Relu', [])], [tensor('c', [4]), int64s('s', [3, -1])]),
      /cannot reshape the constant \[4\] to \[3,-1\]/,
    );
    refused(graph([op('LRN', [int('size', 0)])]), /LRN "n1": size must be a positive integer, got 0/);
  });

  it('Reshape to [-1, -1] or to a negative or enormous batch is not a flatten', () => {
    for (const target of [
      [-1, -1],
      [-5, -1],
      [2 ** 60, -1],
    ])
      refused(graph([op('Reshape', [], ['x', 's'])], [int64s('s', target)]), /only flattening to \[N, features\]/);
    assert.deepEqual(
      parseOnnx(graph([op('Reshape', [], ['x', 's'])], [int64s('s', [-1, 128])])).spec.nodes.map((n) => n.layer.type),
      ['flatten'],
    );
  });
});

describe('ONNX graphs built to exhaust the importer', () => {
  it('a chain of Concats of a shape with itself (doubling per node) stops at the longest shape a tensor can have', () => {
    const nodes: object[] = [{ name: 's', opType: 'Shape', input: ['x'], output: ['k0'] }];
    for (let i = 0; i < 40; i++) nodes.push({ name: `c${i}`, opType: 'Concat', input: [`k${i}`, `k${i}`], output: [`k${i + 1}`], attribute: [int('axis', 0)] });
    nodes.push(op('Relu', []));
    // 2^40 values before: the importer ran out of memory.
    refused(graph(nodes), new RegExp(`node "c4" \\(Concat\\): a shape computation of 128 values, more than the ${MAX_KNOWN_VALUES}`));
  });

  it('20 000 nodes of one name get distinct names without a quadratic search', { timeout: 60_000 }, () => {
    // A 1 MB file of 40 000 such nodes took 278 s before, 1.3 s now.
    const nodes: object[] = [];
    let prev = 'x';
    for (let i = 0; i < 20_000; i++) {
      nodes.push({ name: 'r', opType: 'Relu', input: [prev], output: [`t${i}`] });
      prev = `t${i}`;
    }
    nodes.push({ name: 'last', opType: 'Relu', input: [prev], output: ['y'] });
    const names = parseOnnx(graph(nodes)).spec.nodes.map((n) => n.name);
    assert.equal(new Set(names).size, names.length);
    assert.deepEqual(names.slice(0, 3), ['r', 'r_2', 'r_3']);
  });
});
