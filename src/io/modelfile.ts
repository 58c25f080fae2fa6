import type { Backend } from '../backend/backend.js';
import { ConvkitError, FormatError } from '../errors.js';
import { Model, type ModelSpec } from '../model/model.js';
import { type FloatArray, sameShape, shapeToString } from '../tensor.js';
import { crc32 } from './crc32.js';
import { checkDataInfo } from './data-info.js';
import { parseJsonLimited } from './json.js';

/**
 * The convkit model file (see docs/MODEL_FORMAT.md):
 *   8 bytes  magic "CONVKIT1"
 *   4 bytes  header length H, uint32 little-endian
 *   H bytes  header, UTF-8 JSON: { format, version, spec, tensors: [{ path, shape, offset }], dataBytes, crc32, metadata }
 *   padding  zero bytes up to a multiple of 4
 *   data     every tensor as little-endian float32, at its offset from the start of the data
 * Loading never evaluates code: the header is plain JSON and the architecture is rebuilt
 * from known layer types only.
 */
const MAGIC = 'CONVKIT1';
const FORMAT_VERSION = 1;
/** Largest header accepted: the spec and metadata of the largest zoo networks take a few hundred kilobytes. */
export const MAX_HEADER_BYTES = 16 << 20;

export interface ModelFileHeader {
  format: 'convkit-model';
  version: number;
  spec: ModelSpec;
  tensors: { path: string; shape: number[]; offset: number }[];
  /** Tensors that are not model parameters (a checkpoint's optimizer state, say). */
  extra?: { path: string; shape: number[]; offset: number }[];
  dataBytes: number;
  crc32: number;
  metadata: Record<string, unknown>;
}

/** A named float32 array stored beside the parameters. */
export interface ExtraTensor {
  path: string;
  data: FloatArray;
}

/** Reads the host copies of the weights: after training on a device backend, await model.downloadWeights() first. */
export function encodeModel(model: Model, metadata: Record<string, unknown> = {}, extra: ExtraTensor[] = []): Uint8Array {
  const all = [
    ...model.savedTensors().map((p) => ({ path: p.path, shape: [...p.value.shape], data: p.value.data })),
    ...extra.map((e) => ({ path: e.path, shape: [e.data.length], data: e.data })),
  ];
  let offset = 0;
  const entries = all.map((t) => {
    const entry = { path: t.path, shape: t.shape, offset };
    offset += t.data.length * 4;
    return entry;
  });
  const data = new Uint8Array(offset);
  const view = new DataView(data.buffer);
  all.forEach((t, i) => {
    for (let j = 0; j < t.data.length; j++) view.setFloat32(entries[i].offset + 4 * j, t.data[j], true);
  });
  const paramCount = all.length - extra.length;
  const header: ModelFileHeader = {
    format: 'convkit-model',
    version: FORMAT_VERSION,
    spec: model.spec,
    tensors: entries.slice(0, paramCount),
    ...(extra.length ? { extra: entries.slice(paramCount) } : {}),
    dataBytes: data.length,
    crc32: crc32(data),
    metadata,
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = align4(12 + headerBytes.length);
  const out = new Uint8Array(dataStart + data.length);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 12);
  out.set(data, dataStart);
  return out;
}

/** Reads a model file; any damage gives a FormatError naming the file and what is wrong. */
export function decodeModel(
  bytes: Uint8Array,
  fileName: string,
  backend: Backend,
): { model: Model; metadata: Record<string, unknown>; extra: Map<string, Float32Array> } {
  const fail = (problem: string): never => {
    throw new FormatError(`${fileName}: not a valid convkit model file: ${problem}`);
  };
  if (bytes.length < 12) fail(`only ${bytes.length} bytes`);
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) fail('wrong magic bytes (expected "CONVKIT1")');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) fail(`header claims ${headerLength} bytes but the file has only ${bytes.length - 12} after the preamble`);
  if (headerLength > MAX_HEADER_BYTES) fail(`header is ${headerLength} bytes, more than the ${MAX_HEADER_BYTES} accepted`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + headerLength));
  } catch (e) {
    return fail(`header is not valid UTF-8 (${(e as Error).message})`);
  }
  const header = parseJsonLimited(text, (problem) => new FormatError(`${fileName}: not a valid convkit model file: header: ${problem}`)) as ModelFileHeader;
  if (header === null || typeof header !== 'object' || header.format !== 'convkit-model') fail('header does not describe a convkit model');
  if (header.version !== FORMAT_VERSION) fail(`format version ${header.version} is not supported (this convkit reads version ${FORMAT_VERSION})`);
  if (!Array.isArray(header.tensors)) fail('header has no tensor list');
  if (header.metadata !== undefined && (header.metadata === null || typeof header.metadata !== 'object' || Array.isArray(header.metadata)))
    fail('metadata is not an object');
  const dataStart = align4(12 + headerLength);
  const data = bytes.subarray(dataStart);
  if (data.length !== header.dataBytes) fail(`weight data is ${data.length} bytes, header says ${header.dataBytes} (truncated or padded file)`);
  if (crc32(data) !== header.crc32) fail('weight data checksum mismatch (the file is damaged)');

  let model: Model;
  try {
    // The file must hold every parameter, so its size bounds what building may allocate: each
    // parameter and its gradient, with room for per-channel scratch (batch norm's) that is not stored.
    model = new Model(header.spec, backend, 1, { maxValues: 3 * (data.length / 4) + 4096 });
  } catch (e) {
    if (e instanceof ConvkitError) return fail(`architecture is invalid: ${e.message}`);
    throw e;
  }
  const params = new Map(model.savedTensors().map((p) => [p.path, p]));
  if (header.tensors.length !== params.size) fail(`${header.tensors.length} tensors stored, the architecture has ${params.size}`);
  const dataView = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const read = (t: { path: string; shape: number[]; offset: number }, into: FloatArray) => {
    const n = into.length;
    if (!Number.isInteger(t.offset) || t.offset < 0 || t.offset % 4 !== 0 || t.offset + 4 * n > data.length) {
      fail(`tensor "${t.path}" lies outside the weight data`);
    }
    for (let j = 0; j < n; j++) into[j] = dataView.getFloat32(t.offset + 4 * j, true);
  };
  for (const t of header.tensors) {
    const p = params.get(t?.path);
    if (!p) fail(`tensor "${t?.path}" does not belong to the architecture`);
    if (!Array.isArray(t.shape) || !sameShape(t.shape, p!.value.shape)) {
      fail(`tensor "${t.path}" has shape ${JSON.stringify(t.shape)}, the architecture needs ${shapeToString(p!.value.shape)}`);
    }
    read(t, p!.value.data);
  }
  model.uploadWeights();
  const extra = new Map<string, Float32Array>();
  for (const t of Array.isArray(header.extra) ? header.extra : []) {
    const n = Array.isArray(t?.shape) && t.shape.length === 1 && Number.isInteger(t.shape[0]) && t.shape[0] >= 0 ? t.shape[0] : -1;
    if (n < 0 || 4 * n > data.length) fail(`extra tensor "${t?.path}" has an invalid shape`);
    const values = new Float32Array(n);
    read(t, values);
    extra.set(String(t.path), values);
  }
  const metadata = header.metadata ?? {};
  if (metadata.data !== undefined) checkDataInfo(metadata.data, model.inputShape, model.outputShape, fileName);
  return { model, metadata, extra };
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
