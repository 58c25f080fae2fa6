/**
 * Helpers for the parser fuzz tests (test/fuzz.test.ts): byte- and JSON-level mutations of
 * valid inputs, and the property every parser must have — it returns, or it throws one of
 * convkit's own errors with a message; anything else (a TypeError, a RangeError from an
 * allocation, a string thrown by a decoder) is a bug.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConvkitError } from '../src/errors.js';
import { crc32 } from '../src/io/crc32.js';

/**
 * One seed for every fuzz run, so that a failure reproduces exactly. FUZZ_SEED and FUZZ_SCALE
 * (a multiplier for every case count) in the environment allow longer exploratory runs.
 */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261128);
export const FUZZ_SCALE = Number(process.env.FUZZ_SCALE ?? 1);

/** Numbers that break careless size arithmetic: zero, one, sign and word boundaries, huge claims. */
export const interestingU32 = [0, 1, 2, 3, 4, 7, 8, 255, 256, 60000, 65535, 65536, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
export const interestingNumbers = [0, 1, -1, 2, 0.5, -0.5, 3.7, 1e9, -1e9, 2 ** 31, 2 ** 32 + 1, 2 ** 53, 1e300, -1e300, 60000];

export function expectLoadsOrTypedError(run: () => unknown): 'loaded' | 'rejected' {
  try {
    run();
    return 'loaded';
  } catch (e) {
    if (!(e instanceof ConvkitError)) throw e;
    assert.ok(e.message.length > 10, `an error message says what is wrong: ${JSON.stringify(e.message)}`);
    return 'rejected';
  }
}

type Mutation =
  | { kind: 'flip'; at: number; value: number }[]
  | { kind: 'truncate'; at: number }
  | { kind: 'word'; at: number; value: number; littleEndian: boolean }
  | { kind: 'splice'; at: number; remove: number; insert: Uint8Array };

/** Random damage to a valid file: byte flips, a cut, a 32-bit field set to an interesting value, bytes removed or inserted. */
export function mutatedBytes(original: Uint8Array, focus?: { start: number; end: number }): fc.Arbitrary<Uint8Array> {
  // A plain copy: Buffer.slice() returns a view, which mutations would write through.
  const valid = new Uint8Array(original);
  const lo = focus?.start ?? 0,
    hi = Math.min(focus?.end ?? valid.length, valid.length);
  // Uniform positions: fast-check's default bias would pile mutations onto the first bytes.
  const at = fc.noBias(fc.integer({ min: lo, max: Math.max(lo, hi - 1) }));
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.array(fc.record({ kind: fc.constant('flip' as const), at, value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.noBias(fc.integer({ min: 0, max: valid.length })) }),
    fc.record({ kind: fc.constant('word' as const), at, value: fc.constantFrom(...interestingU32), littleEndian: fc.boolean() }),
    fc.record({ kind: fc.constant('splice' as const), at, remove: fc.integer({ min: 0, max: 16 }), insert: fc.uint8Array({ maxLength: 16 }) }),
  );
  return mutation.map((m) => applyMutation(valid, m));
}

function applyMutation(valid: Uint8Array, m: Mutation): Uint8Array {
  if (Array.isArray(m)) {
    const out = valid.slice();
    for (const f of m) if (f.at < out.length) out[f.at] = f.value;
    return out;
  }
  switch (m.kind) {
    case 'truncate':
      return valid.slice(0, m.at);
    case 'word': {
      const out = valid.slice();
      if (m.at + 4 <= out.length) new DataView(out.buffer).setUint32(m.at, m.value, m.littleEndian);
      return out;
    }
    case 'splice': {
      const out = new Uint8Array(valid.length - Math.min(m.remove, valid.length - m.at) + m.insert.length);
      out.set(valid.subarray(0, m.at), 0);
      out.set(m.insert, m.at);
      out.set(valid.subarray(m.at + m.remove), m.at + m.insert.length);
      return out;
    }
  }
}

/** Any JSON value, with numbers biased towards the interesting ones. */
export const jsonValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.constantFrom(...interestingNumbers), weight: 3 },
  { arbitrary: fc.integer({ min: -3, max: 64 }), weight: 3 },
  { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 2 },
  { arbitrary: fc.constantFrom(null, true, false, '', 'input', 'conv2d', 'dense', '__proto__', [], {}), weight: 2 },
);

type JsonEdit = { path: number[]; action: 'replace' | 'delete' | 'add'; key: string; value: unknown };

/**
 * A valid JSON document with one part changed: a value anywhere in it replaced, a key
 * deleted, or a key added. Paths are picked among the document's own nodes.
 */
export function mutatedJson<T>(valid: T): fc.Arbitrary<T> {
  const edit: fc.Arbitrary<JsonEdit> = fc.record({
    path: fc.array(fc.nat(), { minLength: 0, maxLength: 8 }),
    action: fc.constantFrom('replace' as const, 'replace' as const, 'delete' as const, 'add' as const),
    key: fc.constantFrom(
      'name',
      'type',
      'filters',
      'units',
      'kernel',
      'stride',
      'padding',
      'groups',
      'inputs',
      'output',
      'shape',
      'offset',
      '__proto__',
      'constructor',
      'extra',
    ),
    value: jsonValue,
  });
  return fc.array(edit, { minLength: 1, maxLength: 3 }).map((edits) => {
    const doc = structuredClone(valid) as unknown;
    let out = doc;
    // Values are cloned: fc.constantFrom hands out the same {} and [] to every case.
    for (const e of edits) out = applyEdit(out, { ...e, value: structuredClone(e.value) });
    return out as T;
  });
}

/** Walks `path` (each step picks a child by index modulo the child count) and edits there. */
function applyEdit(doc: unknown, e: JsonEdit): unknown {
  let parent: Record<string, unknown> | unknown[] | undefined;
  let key: string | number | undefined;
  let node = doc;
  for (const step of e.path) {
    if (node === null || typeof node !== 'object') break;
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const k = Array.isArray(node) ? step % node.length : keys[step % keys.length];
    parent = node as Record<string, unknown>;
    key = k;
    node = (node as Record<string | number, unknown>)[k];
  }
  if (e.action === 'add' && node !== null && typeof node === 'object' && !Array.isArray(node)) {
    // Defined as an own property, as JSON.parse would: "__proto__" stays a plain key.
    Object.defineProperty(node, e.key, { value: e.value, enumerable: true, writable: true, configurable: true });
    return doc;
  }
  if (parent === undefined || key === undefined) return e.action === 'delete' ? doc : e.value;
  if (e.action === 'delete') {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key as string];
  } else if (Array.isArray(parent)) {
    parent[key as number] = e.value;
  } else {
    Object.defineProperty(parent, key, { value: e.value, enumerable: true, writable: true, configurable: true });
  }
  return doc;
}

const align4 = (n: number) => (n + 3) & ~3;

/** Re-encodes a model file with a different header (the weight data, and so its CRC, unchanged); a string is used as the header text as is. */
export function withHeader(file: Uint8Array, header: unknown): Uint8Array {
  const headerLength = new DataView(file.buffer, file.byteOffset).getUint32(8, true);
  const data = file.subarray(align4(12 + headerLength));
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(align4(12 + json.length) + data.length);
  out.set(file.subarray(0, 8), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  out.set(data, align4(12 + json.length));
  return out;
}

export function headerOf(file: Uint8Array): Record<string, unknown> {
  const headerLength = new DataView(file.buffer, file.byteOffset).getUint32(8, true);
  return JSON.parse(new TextDecoder().decode(file.subarray(12, 12 + headerLength)));
}

/** Recomputes every PNG chunk's CRC that lies within the file. */
export function mendPngCrcs(b: Uint8Array): Uint8Array {
  const out = b.slice();
  const view = new DataView(out.buffer);
  for (let at = 8; at + 12 <= out.length; ) {
    const length = view.getUint32(at, false);
    if (at + 12 + length > out.length) break;
    view.setUint32(at + 8 + length, crc32(out.subarray(at + 4, at + 8 + length)), false);
    at += 12 + length;
  }
  return out;
}
