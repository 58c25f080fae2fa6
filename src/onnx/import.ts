import type { Backend } from '../backend/backend.js';
import { ConvkitError, FormatError } from '../errors.js';
import { type LayerSpec, createLayer } from '../layers/index.js';
import { INPUT, Model, type ModelSpec, type NodeSpec } from '../model/model.js';
import type { Shape } from '../tensor.js';
import { Attributes, type Constant, type OnnxNode, type Produced, type StaticValue, describeView, readTensor } from './graph.js';
import { fusePatterns } from './patterns.js';
import { type ImportContext, OP_IMPORTERS } from './ops/index.js';
import { onnx, type OnnxTypes } from './proto.js';

/** ONNX operators convkit can import (those that CNN exporters such as torch.onnx produce): the importer table's keys. */
export const SUPPORTED_OPS: readonly string[] = Object.keys(OP_IMPORTERS);

/**
 * Most values a shape computation (Shape, Gather, Concat…) may hold at import time: shapes have
 * a handful of dimensions, and a chain of Concats of a vector with itself would double it per node.
 */
export const MAX_KNOWN_VALUES = 64;

/** An ONNX file uses operators convkit does not have; lists each with its node name. */
export class UnsupportedOnnxError extends ConvkitError {}

/**
 * Reads an ONNX model (a CNN made of the supported operators) into a convkit model spec and
 * its weights. Every size is checked against the file before anything is allocated, so a
 * hostile file cannot make it allocate more than the file's own size.
 */
export function parseOnnx(bytes: Uint8Array, fileName = 'model.onnx'): { spec: ModelSpec; weights: Map<string, Float32Array> } {
  const fail = (problem: string): never => {
    throw new FormatError(`${fileName}: ${problem}`);
  };
  const g = decodeGraph(bytes, fail);
  const nodes = g.node.map(
    (n): OnnxNode => ({ name: n.name ?? '', opType: n.opType ?? '', input: n.input ?? [], output: n.output ?? [], attribute: n.attribute ?? [] }),
  );
  const unsupported = nodes.filter((n) => !Object.hasOwn(OP_IMPORTERS, n.opType));
  if (unsupported.length) {
    throw new UnsupportedOnnxError(
      `${fileName}: unsupported ONNX operators: ${unsupported.map((n) => `${n.opType} (node "${n.name || n.output[0]}")`).join(', ')}`,
    );
  }
  const builder = new GraphBuilder(fail);
  for (const n of nodes) {
    if (n.opType !== 'Constant') continue;
    const value = n.attribute.find((a) => a.name === 'value')?.t;
    if (!value) fail(`Constant node "${n.name}" has no tensor value`);
    builder.addConstant(n.output[0], readTensor(value!, bytes.length, fail));
  }
  for (const t of g.initializer ?? []) builder.addConstant(t.name ?? '', readTensor(t, bytes.length, fail));
  const inputShape = builder.addImageInput(g.input ?? []);
  // PyTorch aliases de-duplicated parameters (a layer norm's ones and zeros, equal biases) through
  // Identity: known before the patterns are matched, so that a fused layer takes them as its own.
  for (const n of nodes) {
    const c = n.opType === 'Identity' ? builder.constants.get(n.input[0] ?? '') : undefined;
    if (c && n.output[0]) builder.addConstant(n.output[0], c);
  }
  const fused = fusePatterns(nodes, (name) => builder.constants.get(name), new Set((g.output ?? []).map((o) => o.name ?? '')));
  for (const n of fused) OP_IMPORTERS[n.opType](builder.context(n));
  const out = builder.produced.get(g.output?.[0]?.name ?? '');
  if (!out || out.node === INPUT) fail('the graph output is not produced by any node');
  return {
    spec: { name: g.name || 'onnx-model', inputShape, nodes: builder.nodes, output: out!.node },
    weights: builder.weights,
  };
}

function decodeGraph(bytes: Uint8Array, fail: (p: string) => never): OnnxTypes.IGraphProto & { node: OnnxTypes.INodeProto[] } {
  let proto: OnnxTypes.ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (e) {
    return fail(`not a valid ONNX model (${(e as Error).message})`);
  }
  const g = proto.graph;
  if (!g?.node?.length) return fail('not a valid ONNX model (no graph)');
  return g as OnnxTypes.IGraphProto & { node: OnnxTypes.INodeProto[] };
}

/** The convkit graph under construction, and what is known about each ONNX tensor name. */
class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly weights = new Map<string, Float32Array>();
  /** ONNX tensor name → convkit node name ('input' for the graph input) and per-example shape. */
  readonly produced = new Map<string, Produced>();
  readonly constants = new Map<string, Constant>();
  readonly statics = new Map<string, StaticValue>();
  private readonly names = new Set<string>([INPUT]);
  /** The next suffix to try for each base name, so that many nodes of one name stay linear. */
  private readonly nextSuffix = new Map<string, number>();

  constructor(private readonly fail: (p: string) => never) {}

  addConstant(name: string, c: Constant): void {
    this.constants.set(name, c);
    if (c.dims.length <= 1 && c.values.length <= 8) this.statics.set(name, Array.from(c.values, Number));
  }

  addImageInput(declared: OnnxTypes.IValueInfoProto[]): [number, number, number] {
    const inputs = declared.filter((i) => !this.constants.has(i.name ?? ''));
    if (inputs.length !== 1) this.fail(`expected one image input, found ${inputs.length}`);
    const dims = inputs[0].type?.tensorType?.shape?.dim ?? [];
    const shape = dims.slice(1).map((d) => Number(d.dimValue ?? 0));
    if (dims.length !== 4 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
      this.fail(`input "${inputs[0].name}" must be [N, C, H, W] with fixed C, H, W`);
    }
    this.produced.set(inputs[0].name!, { node: INPUT, shape });
    return shape as [number, number, number];
  }

  private uniqueName(n: OnnxNode): string {
    let base = (n.name || n.output?.[0] || n.opType || 'node').replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '') || 'node';
    if (base === INPUT) base = `${base}_`;
    let name = base;
    let k = this.nextSuffix.get(base) ?? 2;
    while (this.names.has(name)) name = `${base}_${k++}`;
    this.nextSuffix.set(base, k);
    this.names.add(name);
    return name;
  }

  context(n: OnnxNode): ImportContext {
    const fail = this.fail;
    const out = (o = 0) => n.output[o];
    const produced = (i: number, allowPad: boolean) => {
      const p = this.produced.get(n.input[i]);
      if (!p) fail(`node "${n.name}" (${n.opType}) reads "${n.input[i]}", which no earlier node produces`);
      if (p!.pad && !allowPad) fail(`Pad before ${n.opType} "${n.name}" is not supported (only before Conv or AveragePool)`);
      return p!;
    };
    const cx: ImportContext = {
      node: n,
      at: new Attributes(n, fail),
      fail,
      input: (i, allowPad = false) => {
        const p = produced(i, allowPad);
        if (p.view) {
          fail(
            `${n.opType} "${n.name}" reads "${n.input[i]}", ${describeView(p.view)}: ${
              p.view.kind === 'channels-last'
                ? 'only LayerNormalization over the channels, MatMul by a constant, Add/Sub/Mul/Div by a per-channel constant, element-wise activations and the Transpose [0, 3, 1, 2] back are supported on a channels-last tensor'
                : 'only a channel shuffle (Reshape to [N, groups, C/groups, H, W], Transpose [0, 2, 1, 3, 4], Reshape back to [N, C, H, W]) is supported on channel groups'
            }`,
          );
        }
        return p;
      },
      view: (i) => produced(i, false),
      isConstant: (i) => this.constants.has(n.input[i] ?? ''),
      constant: (i, what) => {
        const c = this.constants.get(n.input[i] ?? '');
        if (!c) fail(`node "${n.name}" (${n.opType}): its ${what} must be an initializer`);
        return c!;
      },
      known: (i) => this.statics.get(n.input[i] ?? ''),
      setProduced: (p, o) => {
        this.produced.set(out(o), p);
      },
      setConstant: (c, o) => this.addConstant(out(o), c),
      setKnown: (v, o) => {
        if (v.length > MAX_KNOWN_VALUES)
          fail(`node "${n.name}" (${n.opType}): a shape computation of ${v.length} values, more than the ${MAX_KNOWN_VALUES} a shape can have`);
        this.statics.set(out(o), v);
      },
      emit: (layer, inputs, weights = {}) => this.emit(n, layer, inputs, weights),
    };
    return cx;
  }

  private emit(n: OnnxNode, layer: LayerSpec, inputs: Produced[], weights: Record<string, Float32Array>): Produced {
    const name = this.uniqueName(n);
    for (const [suffix, w] of Object.entries(weights)) {
      // NaN or infinite weights (or ones that overflow when scaled: Div by 1e-45, Gemm's alpha) make every output garbage.
      if (!w.every(Number.isFinite)) this.fail(`node "${n.name}" (${n.opType}): its ${suffix} holds NaN or infinite values`);
      this.weights.set(`${name}.${suffix}`, w);
    }
    this.nodes.push({ name, layer, inputs: inputs.map((p) => p.node) });
    // Per-example output shape, needed by later nodes (Flatten checks, GlobalAveragePool).
    let shape: Shape;
    try {
      shape = createLayer(layer, name).inferShape(inputs.map((p) => p.shape));
    } catch (e) {
      if (e instanceof ConvkitError) this.fail(`node "${n.name}" (${n.opType}): ${e.message}`);
      throw e;
    }
    const p = { node: name, shape };
    this.produced.set(n.output[0], p);
    return p;
  }
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
