import { ConfigError } from '../errors.js';
import type { Model } from '../model/model.js';
import { INPUT } from '../model/model.js';
import { type Shape, shapeSize } from '../tensor.js';
import { FLOAT, INT64, IR_VERSION, OPSET, onnx, type OnnxTypes } from './proto.js';

type INode = OnnxTypes.INodeProto;
type IAttr = OnnxTypes.IAttributeProto;

const A = onnx.AttributeProto.AttributeType;
const ints = (name: string, values: number[]): IAttr => ({ name, type: A.INTS, ints: values });
const int = (name: string, value: number): IAttr => ({ name, type: A.INT, i: value });
const float = (name: string, value: number): IAttr => ({ name, type: A.FLOAT, f: value });

function floatTensor(name: string, shape: Shape, values: ArrayLike<number>): OnnxTypes.ITensorProto {
  const f32 = Float32Array.from(values as ArrayLike<number>);
  return { name, dims: [...shape], dataType: FLOAT, rawData: new Uint8Array(f32.buffer) };
}

function valueInfo(name: string, dims: (number | string)[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  };
}

/**
 * Converts a model to an ONNX graph (opset 13) for inference: the batch dimension is symbolic
 * ("N"), parameters become initializers named like convkit's parameter paths, and every node
 * keeps its convkit name. Dropout exports as ONNX Dropout (an identity at inference).
 */
export function toOnnx(model: Model, producer = 'convkit'): Uint8Array {
  const nodes: INode[] = [];
  const initializers: OnnxTypes.ITensorProto[] = [];
  const params = new Map(model.parameters().map((p) => [p.path, p]));
  const outputOf = new Map<string, string>([[INPUT, INPUT]]);
  const shapes = new Map<string, Shape>([[INPUT, model.inputShape]]);
  const rows = model.summary();
  for (const row of rows) {
    const layer = model.layers.find((l) => l.name === row.name)!;
    // biome-ignore lint/suspicious/noExplicitAny: the config's fields depend on the layer type; each case below reads its own
    const cfg = layer.config() as Record<string, any>;
    const inputs = row.inputs.map((i) => outputOf.get(i)!);
    const inShape = shapes.get(row.inputs[0])!;
    const out = row.name;
    const param = (p: string) => {
      const found = params.get(`${row.name}.${p}`);
      if (!found) return undefined;
      initializers.push(floatTensor(found.path, found.value.shape, found.value.data));
      return found.path;
    };
    switch (row.type) {
      case 'conv2d': {
        const l = layer as unknown as { kernel: number[]; stride: number[]; padding: number[]; dilation: number[]; groups: number };
        const w = param('weight')!,
          b = param('bias');
        nodes.push({
          name: out,
          opType: 'Conv',
          input: [inputs[0], w, ...(b ? [b] : [])],
          output: [out],
          attribute: [
            ints('kernel_shape', l.kernel),
            ints('strides', l.stride),
            ints('pads', [...l.padding, ...l.padding]),
            ints('dilations', l.dilation),
            int('group', l.groups),
          ],
        });
        break;
      }
      case 'maxpool2d':
      case 'avgpool2d': {
        const l = layer as unknown as { kernel: number[]; stride: number[]; padding: number[] };
        const attribute = [
          ints('kernel_shape', l.kernel),
          ints('strides', l.stride),
          ints('pads', [...l.padding, ...l.padding]),
          int('ceil_mode', cfg.ceil ? 1 : 0),
        ];
        if (row.type === 'avgpool2d') attribute.push(int('count_include_pad', (cfg.countPad ?? true) ? 1 : 0));
        nodes.push({ name: out, opType: row.type === 'maxpool2d' ? 'MaxPool' : 'AveragePool', input: [inputs[0]], output: [out], attribute });
        break;
      }
      case 'dense': {
        let x = inputs[0];
        if (inShape.length !== 1) {
          nodes.push({ name: `${out}_flatten`, opType: 'Flatten', input: [x], output: [`${out}_flat`], attribute: [int('axis', 1)] });
          x = `${out}_flat`;
        }
        const w = param('weight')!,
          b = param('bias');
        nodes.push({
          name: out,
          opType: 'Gemm',
          input: [x, w, ...(b ? [b] : [])],
          output: [out],
          attribute: [int('transB', 1), float('alpha', 1), float('beta', 1)],
        });
        break;
      }
      case 'adaptiveavgpool2d':
      case 'globalavgpool2d': {
        const [, H, W] = inShape,
          [, OH, OW] = row.outputShape;
        if (OH === 1 && OW === 1) {
          nodes.push({ name: out, opType: 'GlobalAveragePool', input: inputs, output: [out] });
        } else if (H % OH === 0 && W % OW === 0) {
          // Equal windows: an ordinary average pool.
          const k = [H / OH, W / OW];
          nodes.push({ name: out, opType: 'AveragePool', input: inputs, output: [out], attribute: [ints('kernel_shape', k), ints('strides', k)] });
        } else {
          throw new ConfigError(`layer "${row.name}": adaptive pooling from ${H}×${W} to ${OH}×${OW} has unequal windows, which ONNX cannot express`);
        }
        break;
      }
      case 'batchnorm2d': {
        // Inference form: running statistics as initializers.
        const state = new Map(model.stateTensors().map((t) => [t.path, t]));
        const C = inShape[0];
        // Without affine parameters ONNX still wants a scale and a shift: constant ones and zeros.
        const fixed: Record<string, number> = { weight: 1, bias: 0 };
        const tensor = (suffix: string) => {
          const t = params.get(`${row.name}.${suffix}`) ?? state.get(`${row.name}.${suffix}`);
          const data = t ? t.value.data : new Float32Array(C).fill(fixed[suffix]);
          initializers.push(floatTensor(`${row.name}.${suffix}`, [C], data));
          return `${row.name}.${suffix}`;
        };
        const bnInputs = [inputs[0], tensor('weight'), tensor('bias'), tensor('running_mean'), tensor('running_var')];
        let x = bnInputs;
        if (inShape.length === 1) {
          // ONNX BatchNormalization wants [N, C, ...]: a flat input gets a trailing unit axis and loses it after.
          const axes = `${out}_axes`;
          initializers.push({ name: axes, dims: [1], dataType: INT64, int64Data: [2] as never });
          nodes.push({ name: `${out}_unsqueeze`, opType: 'Unsqueeze', input: [inputs[0], axes], output: [`${out}_3d`] });
          x = [`${out}_3d`, ...bnInputs.slice(1)];
          nodes.push({
            name: `${out}_bn`,
            opType: 'BatchNormalization',
            input: x,
            output: [`${out}_bn`],
            attribute: [float('epsilon', cfg.eps ?? 1e-5), float('momentum', 1 - (cfg.momentum ?? 0.1))],
          });
          nodes.push({ name: out, opType: 'Squeeze', input: [`${out}_bn`, axes], output: [out] });
        } else {
          nodes.push({
            name: out,
            opType: 'BatchNormalization',
            input: x,
            output: [out],
            attribute: [float('epsilon', cfg.eps ?? 1e-5), float('momentum', 1 - (cfg.momentum ?? 0.1))],
          });
        }
        break;
      }
      case 'lrn': {
        // ONNX's window is [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉]; other windows (PyTorch's, for even sizes) have no LRN node.
        const before = (cfg.before as number | undefined) ?? Math.floor((cfg.size as number) / 2);
        if (before !== Math.floor(((cfg.size as number) - 1) / 2)) {
          throw new ConfigError(
            `layer "${row.name}": LRN of size ${cfg.size} with ${before} channels before the centre cannot be written as ONNX LRN, whose window has ${Math.floor(((cfg.size as number) - 1) / 2)} (set "before": ${Math.floor(((cfg.size as number) - 1) / 2)} for ONNX's window)`,
          );
        }
        nodes.push({
          name: out,
          opType: 'LRN',
          input: inputs,
          output: [out],
          attribute: [int('size', cfg.size), float('alpha', cfg.alpha), float('beta', cfg.beta), float('bias', cfg.k)],
        });
        break;
      }
      case 'leakyrelu':
        nodes.push({ name: out, opType: 'LeakyRelu', input: inputs, output: [out], attribute: [float('alpha', cfg.slope)] });
        break;
      case 'relu6': {
        const lo = `${out}_min`,
          hi = `${out}_max`;
        initializers.push(floatTensor(lo, [], [0]), floatTensor(hi, [], [6]));
        nodes.push({ name: out, opType: 'Clip', input: [inputs[0], lo, hi], output: [out] });
        break;
      }
      case 'relu':
        nodes.push({ name: out, opType: 'Relu', input: inputs, output: [out] });
        break;
      case 'tanh':
        nodes.push({ name: out, opType: 'Tanh', input: inputs, output: [out] });
        break;
      case 'sigmoid':
        nodes.push({ name: out, opType: 'Sigmoid', input: inputs, output: [out] });
        break;
      case 'hardsigmoid':
        nodes.push({ name: out, opType: 'HardSigmoid', input: inputs, output: [out], attribute: [float('alpha', cfg.alpha), float('beta', cfg.beta)] });
        break;
      // [N, C, H, W] · [N, C, 1, 1] broadcasts in ONNX as in convkit.
      case 'mul':
        nodes.push({ name: out, opType: 'Mul', input: inputs, output: [out] });
        break;
      case 'flatten':
        nodes.push({ name: out, opType: 'Flatten', input: inputs, output: [out], attribute: [int('axis', 1)] });
        break;
      case 'dropout':
        nodes.push({ name: out, opType: 'Dropout', input: inputs, output: [out] });
        break;
      case 'add':
        nodes.push({ name: out, opType: inputs.length === 2 ? 'Add' : 'Sum', input: inputs, output: [out] });
        break;
      case 'concat':
        nodes.push({ name: out, opType: 'Concat', input: inputs, output: [out], attribute: [int('axis', 1)] });
        break;
      case 'gelu': {
        // Opset 13 has no Gelu: x·0.5·(1 + erf(x/√2)), as PyTorch writes it.
        const k = (name: string, v: number) => {
          initializers.push(floatTensor(`${out}_${name}`, [], [v]));
          return `${out}_${name}`;
        };
        nodes.push({ name: `${out}_div`, opType: 'Div', input: [inputs[0], k('sqrt2', Math.SQRT2)], output: [`${out}_scaled`] });
        nodes.push({ name: `${out}_erf`, opType: 'Erf', input: [`${out}_scaled`], output: [`${out}_erf`] });
        nodes.push({ name: `${out}_add`, opType: 'Add', input: [`${out}_erf`, k('one', 1)], output: [`${out}_plus1`] });
        nodes.push({ name: `${out}_mul`, opType: 'Mul', input: [inputs[0], `${out}_plus1`], output: [`${out}_times`] });
        nodes.push({ name: out, opType: 'Mul', input: [`${out}_times`, k('half', 0.5)], output: [out] });
        break;
      }
      case 'layernorm2d': {
        // Opset 13 has no LayerNormalization: the mean and variance over axis 1 written out, which re-imports as one layer.
        const C = inShape[0],
          perChannel = inShape.length === 3 ? [C, 1, 1] : [C];
        const axes = [ints('axes', [1]), int('keepdims', 1)];
        const t = (suffix: string) => {
          const p = params.get(`${row.name}.${suffix}`)!;
          initializers.push(floatTensor(p.path, perChannel, p.value.data));
          return p.path;
        };
        initializers.push(floatTensor(`${out}_eps`, [], [cfg.eps]));
        nodes.push({ name: `${out}_mean`, opType: 'ReduceMean', input: inputs, output: [`${out}_mean`], attribute: axes });
        nodes.push({ name: `${out}_sub`, opType: 'Sub', input: [inputs[0], `${out}_mean`], output: [`${out}_centred`] });
        nodes.push({ name: `${out}_square`, opType: 'Mul', input: [`${out}_centred`, `${out}_centred`], output: [`${out}_squares`] });
        nodes.push({ name: `${out}_var`, opType: 'ReduceMean', input: [`${out}_squares`], output: [`${out}_var`], attribute: axes });
        nodes.push({ name: `${out}_add_eps`, opType: 'Add', input: [`${out}_var`, `${out}_eps`], output: [`${out}_var_eps`] });
        nodes.push({ name: `${out}_sqrt`, opType: 'Sqrt', input: [`${out}_var_eps`], output: [`${out}_std`] });
        nodes.push({ name: `${out}_div`, opType: 'Div', input: [`${out}_centred`, `${out}_std`], output: [`${out}_normalised`] });
        nodes.push({ name: `${out}_scale`, opType: 'Mul', input: [`${out}_normalised`, t('weight')], output: [`${out}_scaled`] });
        nodes.push({ name: out, opType: 'Add', input: [`${out}_scaled`, t('bias')], output: [out] });
        break;
      }
      case 'channelshuffle': {
        // ShuffleNet's own form: [N, g, C/g, H, W], swap the two channel axes, back to [N, C, H, W] (0 keeps the batch size).
        const [C, H, W] = inShape,
          g = cfg.groups as number;
        const shape = (name: string, dims: number[]) => {
          initializers.push({ name: `${out}_${name}`, dims: [dims.length], dataType: INT64, int64Data: dims as never });
          return `${out}_${name}`;
        };
        nodes.push({ name: `${out}_groups`, opType: 'Reshape', input: [inputs[0], shape('grouped_shape', [0, g, C / g, H, W])], output: [`${out}_grouped`] });
        nodes.push({
          name: `${out}_transpose`,
          opType: 'Transpose',
          input: [`${out}_grouped`],
          output: [`${out}_swapped`],
          attribute: [ints('perm', [0, 2, 1, 3, 4])],
        });
        nodes.push({ name: out, opType: 'Reshape', input: [`${out}_swapped`, shape('shape', [0, C, H, W])], output: [out] });
        break;
      }
      case 'channelslice': {
        const bound = (name: string, v: number) => {
          initializers.push({ name: `${out}_${name}`, dims: [1], dataType: INT64, int64Data: [v] as never });
          return `${out}_${name}`;
        };
        nodes.push({
          name: out,
          opType: 'Slice',
          output: [out],
          input: [inputs[0], bound('starts', cfg.start), bound('ends', cfg.start + cfg.channels), bound('axes', 1)],
        });
        break;
      }
      case 'softmax': {
        // convkit's softmax runs over all features of an example; ONNX's over one axis.
        if (inShape.length === 1) {
          nodes.push({ name: out, opType: 'Softmax', input: inputs, output: [out], attribute: [int('axis', 1)] });
        } else {
          const shapeName = `${out}_shape`;
          initializers.push({ name: shapeName, dims: [inShape.length + 1], dataType: INT64, int64Data: [-1, ...inShape] as never });
          nodes.push({ name: `${out}_flatten`, opType: 'Flatten', input: inputs, output: [`${out}_flat`], attribute: [int('axis', 1)] });
          nodes.push({ name: `${out}_softmax`, opType: 'Softmax', input: [`${out}_flat`], output: [`${out}_sm`], attribute: [int('axis', 1)] });
          nodes.push({ name: out, opType: 'Reshape', input: [`${out}_sm`, shapeName], output: [out] });
        }
        break;
      }
      default:
        throw new ConfigError(`layer "${row.name}" (${row.type}) cannot be exported to ONNX yet`);
    }
    outputOf.set(row.name, out);
    shapes.set(row.name, row.outputShape);
  }
  const last = model.spec.output ?? rows.at(-1)!.name;
  const graph: OnnxTypes.IGraphProto = {
    name: model.name,
    node: nodes,
    initializer: initializers,
    input: [valueInfo(INPUT, ['N', ...model.inputShape])],
    output: [valueInfo(outputOf.get(last)!, ['N', ...(shapes.get(last) ?? [])])],
  };
  const proto: OnnxTypes.IModelProto = {
    irVersion: IR_VERSION,
    producerName: producer,
    opsetImport: [{ domain: '', version: OPSET }],
    graph,
    docString: `${model.name}, ${shapeSize([model.parameterCount()])} parameters, exported by convkit`,
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(proto)).finish();
}
