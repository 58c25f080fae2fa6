import type { Shape } from '../tensor.js';
import { FLOAT, INT64, onnx, type OnnxTypes } from './proto.js';

/** One ONNX node, with protobuf's optional fields filled in. */
export interface OnnxNode {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attribute: OnnxTypes.IAttributeProto[];
}

/**
 * How ONNX sees a tensor that the convkit graph holds as [N, C, H, W]: permuted to channels-last
 * [N, H, W, C] (Transpose [0, 2, 3, 1]), reshaped to [N, groups, C/groups, H, W], or that
 * transposed to [N, C/groups, groups, H, W] (the first two steps of a channel shuffle).
 */
export type View = { kind: 'channels-last' } | { kind: 'grouped' | 'shuffled'; groups: number };

/** A tensor computed by the convkit graph (or the graph input), as a later node sees it. */
export interface Produced {
  node: string;
  /** Per-example shape in convkit's own (NCHW) order, whatever the view. */
  shape: Shape;
  /** Zero padding [top/bottom, left/right] still to apply, from a Pad node folded into its consumer. */
  pad?: [number, number];
  /** Absent: ONNX sees the tensor as convkit holds it. */
  view?: View;
}

/** The view in words, for errors. */
export function describeView(v: View): string {
  return v.kind === 'channels-last'
    ? 'channels-last (after Transpose [0, 2, 3, 1])'
    : v.kind === 'grouped'
      ? `reshaped into ${v.groups} channel groups`
      : `a channel shuffle of ${v.groups} groups not yet reshaped back`;
}

/** A tensor whose values are in the file (initializer, Constant node, or folded from those). */
export interface Constant {
  dims: number[];
  values: Float32Array | number[];
}

/** Small integer vectors known at import time (shapes and their pieces); 'N' is the batch size. */
export type StaticValue = (number | 'N')[];

/** protobufjs gives 64-bit integers as Long objects. */
export function num(v: unknown): number {
  return v !== null && typeof v === 'object' && 'toNumber' in v ? (v as { toNumber(): number }).toNumber() : Number(v);
}

const TYPE_NAMES: Record<number, string> = { 1: 'a float', 2: 'an integer', 3: 'a string', 4: 'a tensor', 6: 'floats', 7: 'integers', 8: 'strings' };

/**
 * A node's attributes, each read with the type its operator defines: an attribute of another
 * type, a non-finite float or an integer beyond 2^53 is a FormatError naming the node and the
 * attribute (a file could otherwise hand a list where a number belongs, or the reverse).
 */
export class Attributes {
  private readonly byName = new Map<string, OnnxTypes.IAttributeProto>();

  constructor(
    private readonly node: OnnxNode,
    private readonly fail: (problem: string) => never,
  ) {
    for (const a of node.attribute) this.byName.set(a.name ?? '', a);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  int(name: string): number | undefined {
    const a = this.typed(name, onnx.AttributeProto.AttributeType.INT, 'an integer');
    return a && this.integer(name, num(a.i));
  }

  ints(name: string): number[] | undefined {
    const a = this.typed(name, onnx.AttributeProto.AttributeType.INTS, 'a list of integers');
    return a && (a.ints ?? []).map((v) => this.integer(name, num(v)));
  }

  /** ONNX floats; an integer is taken as its value. */
  float(name: string): number | undefined {
    const A = onnx.AttributeProto.AttributeType;
    const a = this.byName.get(name);
    if (a?.type === A.INT) return this.integer(name, num(a.i));
    const t = this.typed(name, A.FLOAT, 'a float');
    if (!t) return undefined;
    const f = t.f ?? 0;
    if (!Number.isFinite(f)) this.bad(name, `must be finite, got ${f}`);
    return f;
  }

  string(name: string): string | undefined {
    const a = this.typed(name, onnx.AttributeProto.AttributeType.STRING, 'a string');
    return a && new TextDecoder().decode(a.s ?? new Uint8Array(0));
  }

  private typed(name: string, type: number, what: string): OnnxTypes.IAttributeProto | undefined {
    const a = this.byName.get(name);
    if (a && a.type !== type) this.bad(name, `must be ${what}, got ${TYPE_NAMES[a.type ?? 0] ?? `attribute type ${a.type}`}`);
    return a;
  }

  private integer(name: string, v: number): number {
    if (!Number.isSafeInteger(v)) this.bad(name, `holds ${v}, not an integer ONNX can mean here`);
    return v;
  }

  private bad(name: string, problem: string): never {
    return this.fail(`node "${this.node.name}" (${this.node.opType}): attribute "${name}" ${problem}`);
  }
}

/** Reads a FLOAT or INT64 tensor, checking its claimed size against the file's. */
export function readTensor(t: OnnxTypes.ITensorProto, fileBytes: number, fail: (p: string) => never): Constant {
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
