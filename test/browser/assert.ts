/**
 * `node:assert/strict` (and `node:assert`, in its strict form) for a browser bundle of a test
 * file: ok, equal/strictEqual, notEqual, deepEqual/deepStrictEqual, notDeepEqual, fail, throws,
 * doesNotThrow, rejects, doesNotReject, match, doesNotMatch, with Node's strict semantics
 * (Object.is for primitives; deep equality also compares prototypes). Anything else throws.
 */

export class AssertionError extends Error {
  override name = 'AssertionError';
  readonly code = 'ERR_ASSERTION';
  readonly actual: unknown;
  readonly expected: unknown;
  readonly operator: string;
  readonly generatedMessage: boolean;
  constructor(options: { message?: string; actual?: unknown; expected?: unknown; operator?: string; generated?: string }) {
    super(options.message ?? options.generated ?? 'Failed');
    this.actual = options.actual;
    this.expected = options.expected;
    this.operator = options.operator ?? 'fail';
    this.generatedMessage = options.message === undefined;
  }
}

type Message = string | Error | undefined;

function raise(message: Message, generated: string, actual?: unknown, expected?: unknown, operator?: string): never {
  if (message instanceof Error) throw message;
  throw new AssertionError({ message, generated, actual, expected, operator });
}

/** A short, readable rendering of a value for messages. */
export function inspect(v: unknown, depth = 0): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function') return `[Function ${v.name || 'anonymous'}]`;
  if (typeof v !== 'object' || v === null) return String(v);
  if (depth > 2) return Array.isArray(v) ? '[Array]' : '[Object]';
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    const a = v as unknown as ArrayLike<number>;
    const shown = Array.from({ length: Math.min(a.length, 20) }, (_, i) => inspect(a[i]));
    return `${v.constructor.name}(${a.length}) [${shown.join(', ')}${a.length > 20 ? ', …' : ''}]`;
  }
  if (Array.isArray(v)) {
    const shown = v.slice(0, 30).map((x) => inspect(x, depth + 1));
    return `[${shown.join(', ')}${v.length > 30 ? ', …' : ''}]`;
  }
  if (v instanceof Error) return `[${v.name}: ${v.message}]`;
  const entries = Object.keys(v)
    .slice(0, 30)
    .map((k) => `${k}: ${inspect((v as Record<string, unknown>)[k], depth + 1)}`);
  const name = v.constructor && v.constructor !== Object ? `${v.constructor.name} ` : '';
  return `${name}{${entries.join(', ')}}`;
}

/** Node's deepStrictEqual for the values tests compare: primitives, arrays, typed arrays, plain objects, Map, Set, Date, RegExp, errors. */
export function isDeepStrictEqual(a: unknown, b: unknown, seen = new Map<object, object>()): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (Object.prototype.toString.call(a) !== Object.prototype.toString.call(b)) return false;
  if (seen.get(a) === b) return true;
  seen.set(a, b);
  if (a instanceof Date) return Object.is(a.getTime(), (b as Date).getTime());
  if (a instanceof RegExp) return String(a) === String(b) && a.lastIndex === (b as RegExp).lastIndex;
  if (a instanceof Error && (a.message !== (b as Error).message || a.name !== (b as Error).name)) return false;
  if (ArrayBuffer.isView(a)) {
    const x = a as unknown as ArrayLike<unknown>,
      y = b as unknown as ArrayLike<unknown>;
    if (x.length !== y.length || (a as ArrayBufferView).byteLength !== (b as ArrayBufferView).byteLength) return false;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
  }
  if (a instanceof ArrayBuffer) {
    const x = new Uint8Array(a),
      y = new Uint8Array(b as ArrayBuffer);
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  }
  if (a instanceof Map) {
    const m = b as Map<unknown, unknown>;
    if (a.size !== m.size) return false;
    for (const [k, v] of a) if (!m.has(k) || !isDeepStrictEqual(v, m.get(k), seen)) return false;
  }
  if (a instanceof Set) {
    const s = b as Set<unknown>;
    if (a.size !== s.size) return false;
    for (const v of a) if (!s.has(v)) return false;
  }
  const skipIndices = ArrayBuffer.isView(a);
  const keys = (o: object) => Object.keys(o).filter((k) => !(skipIndices && /^\d+$/.test(k)));
  const ka = keys(a),
    kb = keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    if (!isDeepStrictEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], seen)) return false;
  }
  return true;
}

function ok(value: unknown, message?: Message): void {
  if (!value) raise(message, `The expression evaluated to a falsy value:\n\n  ${inspect(value)}\n`, value, true, '==');
}

function equal(actual: unknown, expected: unknown, message?: Message): void {
  if (!Object.is(actual, expected))
    raise(message, `Expected values to be strictly equal:\n\n${inspect(actual)} !== ${inspect(expected)}\n`, actual, expected, 'strictEqual');
}

function notEqual(actual: unknown, expected: unknown, message?: Message): void {
  if (Object.is(actual, expected)) raise(message, `Expected "actual" to be strictly unequal to: ${inspect(expected)}`, actual, expected, 'notStrictEqual');
}

function deepEqual(actual: unknown, expected: unknown, message?: Message): void {
  if (!isDeepStrictEqual(actual, expected))
    raise(
      message,
      `Expected values to be strictly deep-equal:\n+ actual - expected\n\n+ ${inspect(actual)}\n- ${inspect(expected)}\n`,
      actual,
      expected,
      'deepStrictEqual',
    );
}

function notDeepEqual(actual: unknown, expected: unknown, message?: Message): void {
  if (isDeepStrictEqual(actual, expected))
    raise(message, `Expected "actual" not to be strictly deep-equal to: ${inspect(expected)}`, actual, expected, 'notDeepStrictEqual');
}

function fail(message?: Message): never {
  return raise(message, 'Failed', undefined, undefined, 'fail');
}

function match(value: string, re: RegExp, message?: Message): void {
  if (typeof value !== 'string' || !re.test(value))
    raise(message, `The input did not match the regular expression ${re}. Input:\n\n${inspect(value)}\n`, value, re, 'match');
}

function doesNotMatch(value: string, re: RegExp, message?: Message): void {
  if (typeof value !== 'string' || re.test(value))
    raise(message, `The input was expected to not match the regular expression ${re}. Input:\n\n${inspect(value)}\n`, value, re, 'doesNotMatch');
}

type Expected = RegExp | (new (...a: never[]) => unknown) | ((e: unknown) => boolean) | Record<string, unknown> | Error;

/** Checks a thrown value against throws()'s `expected` as Node does; rethrows the value when a class or function does not match. */
function checkThrown(e: unknown, expected: Expected | undefined, message: Message, fnName: string): void {
  if (expected === undefined) return;
  if (expected instanceof RegExp) {
    if (!expected.test(String(e)))
      raise(message, `The input did not match the regular expression ${expected}. Input:\n\n${inspect(String(e))}\n`, e, expected, fnName);
    return;
  }
  if (typeof expected === 'function') {
    if (expected.prototype !== undefined && e instanceof (expected as new () => unknown)) return;
    if (expected === Error || Object.prototype.isPrototypeOf.call(Error, expected)) {
      const got = e instanceof Error ? `"${e.constructor.name}"\n\nError message:\n\n${e.message}` : inspect(e);
      raise(message, `The error is expected to be an instance of "${expected.name}". Received ${got}`, e, expected, fnName);
    }
    if ((expected as (e: unknown) => boolean).call({}, e) === true) return;
    raise(
      message,
      `The ${expected.name ? `"${expected.name}" ` : ''}validation function is expected to return "true". Received ${inspect(e)}`,
      e,
      expected,
      fnName,
    );
  }
  if (typeof expected === 'object' && expected !== null) {
    for (const key of Object.keys(expected)) {
      const want = (expected as Record<string, unknown>)[key],
        got = (e as Record<string, unknown>)?.[key];
      if (want instanceof RegExp && typeof got === 'string') {
        if (!want.test(got)) raise(message, `property ${key}: ${inspect(got)} does not match ${want}`, e, expected, fnName);
      } else if (!isDeepStrictEqual(got, want)) {
        raise(message, `property ${key}: expected ${inspect(want)}, got ${inspect(got)}`, e, expected, fnName);
      }
    }
  }
}

const NOTHING = Symbol('nothing thrown');

function describeExpected(expected: Expected | string | undefined): string {
  return typeof expected === 'function' && expected.name ? ` (${expected.name})` : '';
}

function throws(fn: () => unknown, expected?: Expected | string, message?: Message): void {
  if (typeof expected === 'string') {
    message = expected;
    expected = undefined;
  }
  let thrown: unknown = NOTHING;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  if (thrown === NOTHING) raise(message, `Missing expected exception${describeExpected(expected)}.`, undefined, expected, 'throws');
  checkThrown(thrown, expected, message, 'throws');
}

async function rejects(p: Promise<unknown> | (() => Promise<unknown>), expected?: Expected | string, message?: Message): Promise<void> {
  if (typeof expected === 'string') {
    message = expected;
    expected = undefined;
  }
  let thrown: unknown = NOTHING;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    thrown = e;
  }
  if (thrown === NOTHING) raise(message, `Missing expected rejection${describeExpected(expected)}.`, undefined, expected, 'rejects');
  checkThrown(thrown, expected, message, 'rejects');
}

function doesNotThrow(fn: () => unknown, message?: Message | Expected): void {
  try {
    fn();
  } catch (e) {
    raise(
      typeof message === 'string' ? message : undefined,
      `Got unwanted exception.\nActual message: "${(e as Error)?.message ?? String(e)}"`,
      e,
      undefined,
      'doesNotThrow',
    );
  }
}

async function doesNotReject(p: Promise<unknown> | (() => Promise<unknown>), message?: Message | Expected): Promise<void> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    raise(
      typeof message === 'string' ? message : undefined,
      `Got unwanted rejection.\nActual message: "${(e as Error)?.message ?? String(e)}"`,
      e,
      undefined,
      'doesNotReject',
    );
  }
}

function ifError(value: unknown): void {
  if (value !== null && value !== undefined)
    throw value instanceof Error ? value : new AssertionError({ generated: `ifError got unwanted exception: ${inspect(value)}` });
}

const api = {
  AssertionError,
  ok,
  equal,
  strictEqual: equal,
  notEqual,
  notStrictEqual: notEqual,
  deepEqual,
  deepStrictEqual: deepEqual,
  notDeepEqual,
  notDeepStrictEqual: notDeepEqual,
  fail,
  match,
  doesNotMatch,
  throws,
  rejects,
  doesNotThrow,
  doesNotReject,
  ifError,
};

type Assert = typeof ok & typeof api & { strict: Assert };

/** The default export: callable like assert(value) and holding every function; anything not implemented throws. */
const assert = new Proxy(Object.assign((value: unknown, message?: Message) => ok(value, message), api) as Assert, {
  get(target, key, receiver) {
    if (key === 'strict') return receiver;
    if (key in target || typeof key === 'symbol') return Reflect.get(target, key, receiver);
    throw new Error(`assert.${key} is not supported by the browser shim of node:assert (test/browser/assert.ts)`);
  },
});

export default assert;
export const strict = assert;
export {
  ok,
  equal,
  equal as strictEqual,
  notEqual,
  notEqual as notStrictEqual,
  deepEqual,
  deepEqual as deepStrictEqual,
  notDeepEqual,
  notDeepEqual as notDeepStrictEqual,
  fail,
  match,
  doesNotMatch,
  throws,
  rejects,
  doesNotThrow,
  doesNotReject,
  ifError,
};
