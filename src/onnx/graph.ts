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
  return v.kind === 'channels-last' ? 'channels-last (after Transpose [0, 2, 3, 1])'
    : v.kind === 'grouped' ? `reshaped into ${v.groups} channel groups` : `a channel shuffle of ${v.groups} groups not yet reshaped back`;
}

/** A tensor whose values are in the file (initializer, Constant node, or folded from those). */
export interface Constant {
  dims: number[];
  values: Float32Array | number[];
}

/** Small integer vectors known at import time (shapes and their pieces); 'N' is the batch size. */
export type StaticValue = (number | 'N')[];

export type Attributes = Map<string, number | number[] | string>;

/** protobufjs gives 64-bit integers as Long objects. */
export function num(v: unknown): number {
  return v !== null && typeof v === 'object' && 'toNumber' in v ? (v as { toNumber(): number }).toNumber() : Number(v);
}

export function attributes(n: OnnxNode): Attributes {
  const m: Attributes = new Map();
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
