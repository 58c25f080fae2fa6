import type { Backend } from '../backend/backend.js';
import { ConvkitError, FormatError } from '../errors.js';
import { type LayerSpec, createLayer } from '../layers/index.js';
import { INPUT, Model, type ModelSpec, type NodeSpec } from '../model/model.js';
import { type Shape, shapeSize } from '../tensor.js';
import { FLOAT, INT64, onnx, type OnnxTypes } from './proto.js';

/** ONNX operators convkit can import (those that CNN exporters such as torch.onnx produce). */
export const SUPPORTED_OPS = ['Conv', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Gemm', 'MatMul', 'Relu', 'Tanh', 'Sigmoid',
  'BatchNormalization', 'LRN', 'LeakyRelu', 'Clip',
  'Softmax', 'Flatten', 'Reshape', 'Dropout', 'Identity', 'Add', 'Sum', 'Concat', 'Constant', 'Pad',
  // Shape arithmetic as exporters emit it for x.view(x.size(0), -1): evaluated at import time.
  'Shape', 'Gather', 'Unsqueeze', 'Squeeze'];

/** An ONNX file uses operators convkit does not have; lists each with its node name. */
export class UnsupportedOnnxError extends ConvkitError {}

interface OnnxNode {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attribute: OnnxTypes.IAttributeProto[];
}

interface Produced {
  node: string;
  shape: Shape;
  /** Zero padding [top/bottom, left/right] still to apply, from a Pad node folded into its consumer. */
  pad?: [number, number];
}

interface Constant {
  dims: number[];
  values: Float32Array | number[];
}

/**
 * Reads an ONNX model (a CNN made of the supported operators) into a convkit model spec and
 * its weights. Every size is checked against the file before anything is allocated, so a
 * hostile file cannot make it allocate more than the file's own size.
 */
export function parseOnnx(bytes: Uint8Array, fileName = 'model.onnx'): { spec: ModelSpec; weights: Map<string, Float32Array> } {
  const fail = (problem: string): never => { throw new FormatError(`${fileName}: ${problem}`); };
  let proto: OnnxTypes.ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (e) {
    return fail(`not a valid ONNX model (${(e as Error).message})`);
  }
  const g = proto.graph;
  if (!g || !g.node?.length) return fail('not a valid ONNX model (no graph)');
  const graph = {
    name: g.name ?? '',
    node: g.node.map((n): OnnxNode => ({ name: n.name ?? '', opType: n.opType ?? '', input: n.input ?? [], output: n.output ?? [], attribute: n.attribute ?? [] })),
    initializer: g.initializer ?? [],
    input: g.input ?? [],
    output: g.output ?? [],
  };

  const unsupported = graph.node.filter((n) => !SUPPORTED_OPS.includes(n.opType ?? ''));
  if (unsupported.length) {
    throw new UnsupportedOnnxError(`${fileName}: unsupported ONNX operators: ${unsupported.map((n) => `${n.opType} (node "${n.name || n.output[0]}")`).join(', ')}`);
  }

  const constants = new Map<string, Constant>();
  for (const n of graph.node) {
    if (n.opType !== 'Constant') continue;
    const value = n.attribute.find((a) => a.name === 'value')?.t;
    if (!value) fail(`Constant node "${n.name}" has no tensor value`);
    constants.set(n.output[0], readTensor(value!, bytes.length, fail));
  }
  for (const t of graph.initializer) constants.set(t.name ?? '', readTensor(t, bytes.length, fail));

  const inputs = graph.input.filter((i) => !constants.has(i.name ?? ''));
  if (inputs.length !== 1) fail(`expected one image input, found ${inputs.length}`);
  const dims = inputs[0].type?.tensorType?.shape?.dim ?? [];
  const inputShape = dims.slice(1).map((d) => Number(d.dimValue ?? 0));
  if (dims.length !== 4 || !inputShape.every((d) => Number.isInteger(d) && d > 0)) {
    fail(`input "${inputs[0].name}" must be [N, C, H, W] with fixed C, H, W`);
  }

  const nodes: NodeSpec[] = [];
  const weights = new Map<string, Float32Array>();
  // ONNX tensor name → convkit node name ('input' for the graph input) and per-example shape.
  const produced = new Map<string, Produced>([[inputs[0].name!, { node: INPUT, shape: inputShape }]]);
  // Small integer tensors known at import time (shapes and their pieces); 'N' is the batch size.
  const statics = new Map<string, (number | 'N')[]>();
  for (const [name, c] of constants) if (c.dims.length <= 1 && c.values.length <= 8) statics.set(name, Array.from(c.values, Number));
  const names = new Set<string>([INPUT]);
  const uniqueName = (n: OnnxNode) => {
    let base = (n.name || n.output?.[0] || n.opType || 'node').replace(/[^A-Za-z0-9_.\-]/g, '_').replace(/^\.+/, '') || 'node';
    if (base === INPUT) base = `${base}_`;
    let name = base;
    for (let k = 2; names.has(name); k++) name = `${base}_${k}`;
    names.add(name);
    return name;
  };
  const tensorIn = (n: OnnxNode, i: number) => {
    const p = produced.get(n.input[i]);
    if (!p) fail(`node "${n.name}" (${n.opType}) reads "${n.input[i]}", which no earlier node produces`);
    return p!;
  };
  const weightOf = (n: OnnxNode, i: number, what: string) => {
    const c = constants.get(n.input[i] ?? '');
    if (!c) fail(`node "${n.name}" (${n.opType}): its ${what} must be an initializer`);
    return c!;
  };

  for (const n of graph.node) {
    const at = attributes(n);
    const op = n.opType!;
    if (op === 'Constant') continue;
    if (evaluateStatic(n, statics, produced, fail)) continue;
    if (op === 'Pad') {
      const x = tensorIn(n, 0);
      const mode = (at.get('mode') as string | undefined) ?? 'constant';
      const pads = (at.get('pads') as number[] | undefined) ?? (n.input[1] ? statics.get(n.input[1]) as number[] : undefined);
      const value = n.input[2] ? Number(weightOf(n, 2, 'constant value').values[0]) : 0;
      if (mode !== 'constant' || value !== 0 || !pads || pads.length !== 8 || pads[0] || pads[1] || pads[4] || pads[5] || pads[2] !== pads[6] || pads[3] !== pads[7] || x.pad) {
        fail(`Pad "${n.name}": only symmetric zero padding of height and width is supported`);
      }
      produced.set(n.output[0], { ...x, pad: [pads![2], pads![3]] });
      continue;
    }
    if (op === 'Identity') { produced.set(n.output[0], tensorIn(n, 0)); continue; }
    if (op === 'Unsqueeze' || op === 'Squeeze') {
      // Trailing unit axes on a flat [N, C] tensor (as around BatchNormalization of features) change nothing here.
      const x = tensorIn(n, 0);
      const axes = (at.get('axes') as number[] | undefined) ?? (n.input[1] ? (statics.get(n.input[1]) as number[] | undefined) : undefined);
      if (x.shape.length !== 1 || !axes || axes.some((a) => a < 2)) fail(`${op} "${n.name}": only trailing unit axes on flat features are supported`);
      produced.set(n.output[0], x);
      continue;
    }
    const x = tensorIn(n, 0);
    if (x.pad && op !== 'Conv' && op !== 'AveragePool') fail(`Pad before ${op} "${n.name}" is not supported (only before Conv or AveragePool)`);
    const addPad = (p: [number, number]): [number, number] => (x.pad ? [p[0] + x.pad[0], p[1] + x.pad[1]] : p);
    let layer: LayerSpec;
    let extraInputs: Produced[] = [];
    const name = uniqueName(n);
    switch (op) {
      case 'Conv': {
        const w = weightOf(n, 1, 'weight');
        if (w.dims.length !== 4) fail(`Conv "${n.name}": weight must be 4-D`);
        const kernel = (at.get('kernel_shape') as number[] | undefined) ?? w.dims.slice(2);
        if (kernel.length !== 2 || kernel[0] !== w.dims[2] || kernel[1] !== w.dims[3]) {
          fail(`Conv "${n.name}": kernel_shape ${JSON.stringify(kernel)} does not match the weight's ${JSON.stringify(w.dims.slice(2))}`);
        }
        const dilations = (at.get('dilations') as number[] | undefined) ?? [1, 1];
        if (dilations.some((d) => d !== 1)) fail(`Conv "${n.name}": dilation ${dilations} is not supported`);
        const padding = addPad(symmetricPads(n, at, kernel, (at.get('strides') as number[]) ?? [1, 1], x.shape, fail));
        const bias = n.input[2] ? weightOf(n, 2, 'bias') : undefined;
        layer = { type: 'conv2d', filters: w.dims[0], kernel: [kernel[0], kernel[1]], stride: ((at.get('strides') as number[]) ?? [1, 1]) as [number, number],
          padding, groups: (at.get('group') as number) ?? 1, bias: !!bias };
        weights.set(`${name}.weight`, Float32Array.from(w.values));
        if (bias) weights.set(`${name}.bias`, Float32Array.from(bias.values));
        break;
      }
      case 'MaxPool':
      case 'AveragePool': {
        const kernel = at.get('kernel_shape') as number[];
        if (!kernel) fail(`${op} "${n.name}": kernel_shape is required`);
        if (((at.get('dilations') as number[]) ?? [1, 1]).some((d) => d !== 1)) fail(`${op} "${n.name}": dilations are not supported`);
        const stride = ((at.get('strides') as number[]) ?? [1, 1]) as [number, number];
        layer = { type: op === 'MaxPool' ? 'maxpool2d' : 'avgpool2d', kernel: [kernel[0], kernel[1]], stride,
          padding: addPad(symmetricPads(n, at, kernel, stride, x.shape, fail)), ceil: at.get('ceil_mode') === 1,
          // Zeros from a folded Pad node count in the average, as they did in the original graph.
          ...(op === 'AveragePool' ? { countPad: at.get('count_include_pad') === 1 || !!x.pad } : {}) };
        break;
      }
      case 'GlobalAveragePool':
        layer = { type: 'avgpool2d', kernel: [x.shape[1], x.shape[2]], stride: 1 };
        break;
      case 'Gemm':
      case 'MatMul': {
        if (op === 'Gemm' && at.get('transA')) fail(`Gemm "${n.name}": transA is not supported`);
        const w = weightOf(n, 1, 'weight');
        if (w.dims.length !== 2) fail(`${op} "${n.name}": weight must be 2-D`);
        const transB = op === 'Gemm' && at.get('transB') === 1;
        const [units, features] = transB ? w.dims : [w.dims[1], w.dims[0]];
        if (features !== shapeSize(x.shape)) fail(`${op} "${n.name}": weight expects ${features} features, input has ${shapeSize(x.shape)}`);
        const alpha = op === 'Gemm' ? ((at.get('alpha') as number) ?? 1) : 1;
        const beta = op === 'Gemm' ? ((at.get('beta') as number) ?? 1) : 1;
        const W = new Float32Array(units * features);
        for (let u = 0; u < units; u++) for (let f = 0; f < features; f++) W[u * features + f] = alpha * Number(transB ? w.values[u * features + f] : w.values[f * units + u]);
        weights.set(`${name}.weight`, W);
        const hasBias = op === 'Gemm' && !!n.input[2];
        if (hasBias) {
          const b = weightOf(n, 2, 'bias');
          if (b.values.length !== units) fail(`Gemm "${n.name}": bias must have ${units} values (broadcasting other shapes is not supported)`);
          weights.set(`${name}.bias`, Float32Array.from(b.values, (v) => beta * Number(v)));
        }
        layer = { type: 'dense', units, bias: hasBias };
        break;
      }
      case 'BatchNormalization': {
        const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => weightOf(n, i, ['scale', 'bias', 'mean', 'variance'][i - 1]));
        const C = x.shape[0];
        if ([scale, bias, mean, variance].some((t) => t.values.length !== C)) fail(`BatchNormalization "${n.name}": parameters must have ${C} values`);
        layer = { type: 'batchnorm2d', eps: (at.get('epsilon') as number) ?? 1e-5, momentum: 1 - ((at.get('momentum') as number) ?? 0.9) };
        weights.set(`${name}.weight`, Float32Array.from(scale.values));
        weights.set(`${name}.bias`, Float32Array.from(bias.values));
        weights.set(`${name}.running_mean`, Float32Array.from(mean.values));
        weights.set(`${name}.running_var`, Float32Array.from(variance.values));
        break;
      }
      case 'LRN':
        layer = { type: 'lrn', size: at.get('size') as number, alpha: (at.get('alpha') as number) ?? 1e-4, beta: (at.get('beta') as number) ?? 0.75, k: (at.get('bias') as number) ?? 1 };
        break;
      case 'LeakyRelu': layer = { type: 'leakyrelu', slope: (at.get('alpha') as number) ?? 0.01 }; break;
      case 'Clip': {
        // Opset ≥ 11 passes min and max as inputs; ReLU (0, none) and ReLU6 (0, 6) are the CNN uses.
        const lo = n.input[1] ? Number(weightOf(n, 1, 'min').values[0]) : ((at.get('min') as number) ?? -Infinity);
        const hi = n.input[2] ? Number(weightOf(n, 2, 'max').values[0]) : ((at.get('max') as number) ?? Infinity);
        if (lo !== 0 || (hi !== 6 && hi !== Infinity && hi < 3.4e38)) fail(`Clip "${n.name}": only Clip(0, 6) (ReLU6) and Clip(0) (ReLU) are supported, got (${lo}, ${hi})`);
        layer = { type: hi === 6 ? 'relu6' : 'relu' };
        break;
      }
      case 'Relu': layer = { type: 'relu' }; break;
      case 'Tanh': layer = { type: 'tanh' }; break;
      case 'Sigmoid': layer = { type: 'sigmoid' }; break;
      case 'Softmax': {
        const axis = (at.get('axis') as number) ?? -1;
        if (x.shape.length !== 1 || (axis !== 1 && axis !== -1)) fail(`Softmax "${n.name}": only softmax over the features of a flat input is supported`);
        layer = { type: 'softmax' };
        break;
      }
      case 'Flatten':
      case 'Reshape': {
        if (op === 'Flatten' && ((at.get('axis') as number) ?? 1) !== 1) fail(`Flatten "${n.name}": only axis 1 is supported`);
        if (op === 'Reshape') {
          const target = statics.get(n.input[1]);
          if (!target) fail(`Reshape "${n.name}": the target shape must be known at import time`);
          // [N or a fixed batch, -1 or the feature count]: a flatten.
          const flat = target!.length === 2 && (target![1] === -1 || target![1] === shapeSize(x.shape));
          if (!flat) fail(`Reshape "${n.name}": only flattening to [N, features] is supported (target ${JSON.stringify(target)})`);
        }
        layer = { type: 'flatten' };
        break;
      }
      case 'Dropout': {
        // Opset ≥ 12 passes the ratio as an optional input; older opsets as an attribute.
        const ratio = (at.get('ratio') as number) ?? (n.input[1] ? Number(weightOf(n, 1, 'ratio').values[0]) : 0.5);
        layer = { type: 'dropout', rate: ratio };
        break;
      }
      case 'Add':
      case 'Sum':
        if (n.input.some((i) => constants.has(i))) fail(`${op} "${n.name}": adding a constant tensor is not supported`);
        layer = { type: 'add' };
        extraInputs = n.input.slice(1).map((_, i) => tensorIn(n, i + 1));
        break;
      case 'Concat': {
        const axis = at.get('axis') as number;
        if (axis !== 1 && axis !== -3) fail(`Concat "${n.name}": only channel concatenation (axis 1) is supported`);
        layer = { type: 'concat' };
        extraInputs = n.input.slice(1).map((_, i) => tensorIn(n, i + 1));
        break;
      }
      default:
        return fail(`operator ${op} is not handled`);
    }
    nodes.push({ name, layer, inputs: [x, ...extraInputs].map((p) => p.node) });
    produced.set(n.output[0], { node: name, shape: [] });
    // Per-example output shape, needed by later nodes (Flatten checks, GlobalAveragePool).
    try {
      const inShapes = [x, ...extraInputs].map((p) => p.shape);
      produced.get(n.output[0])!.shape = createLayer(layer, name).inferShape(inShapes);
    } catch (e) {
      if (e instanceof ConvkitError) fail(`node "${n.name}" (${op}): ${e.message}`);
      throw e;
    }
  }
  const outputName = graph.output[0]?.name;
  const out = outputName ? produced.get(outputName) : undefined;
  if (!out || out.node === INPUT) fail('the graph output is not produced by any node');
  return {
    spec: { name: graph.name || 'onnx-model', inputShape: inputShape as [number, number, number], nodes, output: out!.node },
    weights,
  };
}

/** Builds a runnable convkit model from ONNX bytes. */
export function loadOnnx(bytes: Uint8Array, backend: Backend, fileName = 'model.onnx'): Model {
  const { spec, weights } = parseOnnx(bytes, fileName);
  let stored = 0;
  for (const w of weights.values()) stored += w.length;
  let model: Model;
  try {
    // Building may not allocate more than the file's weights can fill (parameters, gradients, scratch).
    model = new Model(spec, backend, 1, { maxValues: 3 * stored + 4096 });
  } catch (e) {
    if (e instanceof ConvkitError) throw new FormatError(`${fileName}: ${e.message}`);
    throw e;
  }
  for (const p of model.savedTensors()) {
    const w = weights.get(p.path);
    if (!w || w.length !== p.value.size) throw new FormatError(`${fileName}: weights for "${p.path}" are missing or of the wrong size`);
    p.value.data.set(w);
  }
  model.uploadWeights();
  return model;
}

/** protobufjs gives 64-bit integers as Long objects. */
function num(v: unknown): number {
  return v !== null && typeof v === 'object' && 'toNumber' in v ? (v as { toNumber(): number }).toNumber() : Number(v);
}

/**
 * Evaluates shape arithmetic (Shape, Gather, Unsqueeze, Squeeze, Concat of known values) at
 * import time. Returns true when the node was consumed this way.
 */
function evaluateStatic(n: OnnxNode, statics: Map<string, (number | 'N')[]>, produced: Map<string, Produced>, fail: (p: string) => never): boolean {
  const known = n.input.map((i) => statics.get(i));
  switch (n.opType) {
    case 'Shape': {
      const x = produced.get(n.input[0]);
      if (!x) return false;
      statics.set(n.output[0], ['N', ...x.shape]);
      return true;
    }
    case 'Gather': {
      if (!known[0] || !known[1]) return false;
      statics.set(n.output[0], known[1].map((i) => {
        const v = known[0]![Number(i) < 0 ? known[0]!.length + Number(i) : Number(i)];
        if (v === undefined) fail(`Gather "${n.name}": index ${i} out of range`);
        return v!;
      }));
      return true;
    }
    case 'Unsqueeze':
    case 'Squeeze':
      if (!known[0]) return false;
      statics.set(n.output[0], known[0]);
      return true;
    case 'Concat':
      if (known.some((k) => !k)) return false;
      statics.set(n.output[0], known.flatMap((k) => k!));
      return true;
    default:
      return false;
  }
}

function attributes(n: OnnxNode): Map<string, number | number[] | string> {
  const m = new Map<string, number | number[] | string>();
  const A = onnx.AttributeProto.AttributeType;
  for (const a of n.attribute) {
    switch (a.type) {
      case A.INT: m.set(a.name!, num(a.i)); break;
      case A.INTS: m.set(a.name!, (a.ints ?? []).map(num)); break;
      case A.FLOAT: m.set(a.name!, a.f!); break;
      case A.FLOATS: m.set(a.name!, (a.floats ?? []).slice()); break;
      case A.STRING: m.set(a.name!, new TextDecoder().decode(a.s!)); break;
      default: break;
    }
  }
  return m;
}

/** Converts ONNX pads/auto_pad to convkit's symmetric [padH, padW]. */
function symmetricPads(n: OnnxNode, at: Map<string, unknown>, kernel: number[], stride: number[], input: Shape, fail: (p: string) => never): [number, number] {
  const auto = (at.get('auto_pad') as string | undefined) ?? 'NOTSET';
  if (auto === 'VALID') return [0, 0];
  if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    const total = [0, 1].map((i) => Math.max(0, (Math.ceil(input[i + 1] / stride[i]) - 1) * stride[i] + kernel[i] - input[i + 1]));
    if (total.some((t) => t % 2 !== 0)) fail(`node "${n.name}": asymmetric ${auto} padding is not supported`);
    return [total[0] / 2, total[1] / 2];
  }
  const pads = (at.get('pads') as number[] | undefined) ?? [0, 0, 0, 0];
  if (pads.length !== 4 || pads[0] !== pads[2] || pads[1] !== pads[3]) fail(`node "${n.name}": asymmetric pads ${JSON.stringify(pads)} are not supported`);
  return [pads[0], pads[1]];
}

/** Reads a FLOAT or INT64 tensor, checking its claimed size against the file's. */
function readTensor(t: OnnxTypes.ITensorProto, fileBytes: number, fail: (p: string) => never): Constant {
  const dims = (t.dims ?? []).map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) fail(`tensor "${t.name}" has invalid dimensions ${JSON.stringify(dims)}`);
  const count = dims.reduce((a, b) => a * b, 1);
  const width = t.dataType === INT64 ? 8 : 4;
  if (count * width > fileBytes) fail(`tensor "${t.name}" claims ${count} values, more than the file holds`);
  if (t.dataType === FLOAT) {
    if (t.rawData && t.rawData.length > 0) {
      if (t.rawData.length !== 4 * count) fail(`tensor "${t.name}": ${t.rawData.length} bytes of data for ${count} float values`);
      const copy = new Uint8Array(t.rawData);
      return { dims, values: new Float32Array(copy.buffer, 0, count) };
    }
    if ((t.floatData?.length ?? 0) !== count) fail(`tensor "${t.name}": ${t.floatData?.length ?? 0} values for ${count}`);
    return { dims, values: Float32Array.from(t.floatData!) };
  }
  if (t.dataType === INT64) {
    if (t.rawData && t.rawData.length > 0) {
      if (t.rawData.length !== 8 * count) fail(`tensor "${t.name}": ${t.rawData.length} bytes of data for ${count} int64 values`);
      const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
      return { dims, values: Array.from({ length: count }, (_, i) => Number(view.getBigInt64(8 * i, true))) };
    }
    if ((t.int64Data?.length ?? 0) !== count) fail(`tensor "${t.name}": ${t.int64Data?.length ?? 0} values for ${count}`);
    return { dims, values: t.int64Data!.map(Number) };
  }
  return fail(`tensor "${t.name}" has data type ${t.dataType}; only float32 (and int64 shapes) are supported`);
}
