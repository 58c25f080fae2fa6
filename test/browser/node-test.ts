/**
 * `node:test` for a browser bundle of a test file (see build.ts): describe/it/test/suite with
 * their `{ skip, todo, timeout }` options and .skip/.todo forms, the before/after/beforeEach/
 * afterEach hooks, and a context with diagnostic() and skip(). Declaring only collects; run()
 * then executes everything in declaration order, one test at a time, as node --test does, and
 * reports each result (and each start, so a hang can be named) through a callback.
 *
 * Whatever this shim does not implement throws when called instead of passing silently.
 */

export type Status = 'pass' | 'fail' | 'skip' | 'todo';

export interface TestResult {
  /** Names of the enclosing describe blocks, outermost first. */
  suite: string[];
  /** The test's name, or "before hook" / "after hook" for a failing hook. */
  name: string;
  status: Status;
  /** Why it was skipped or is a todo; for a failure, the error's message. */
  message?: string;
  /** The error's stack, for failures. */
  stack?: string;
  diagnostics: string[];
  ms: number;
}

export type Report = { type: 'start'; suite: string[]; name: string } | { type: 'result'; result: TestResult };

interface Options {
  skip?: boolean | string;
  todo?: boolean | string;
  timeout?: number;
  only?: boolean;
  concurrency?: unknown;
  signal?: unknown;
}

type TestFn = (t: TestContext) => unknown;
type SuiteFn = (s: unknown) => unknown;
type HookFn = (c: unknown) => unknown;

interface Test {
  kind: 'test';
  name: string;
  options: Options;
  fn: TestFn | undefined;
}

interface Suite {
  kind: 'suite';
  name: string;
  options: Options;
  children: (Suite | Test)[];
  before: HookFn[];
  after: HookFn[];
  beforeEach: HookFn[];
  afterEach: HookFn[];
  /** An error thrown while the describe callback collected its children. */
  error?: unknown;
}

const newSuite = (name: string, options: Options): Suite => ({
  kind: 'suite',
  name,
  options,
  children: [],
  before: [],
  after: [],
  beforeEach: [],
  afterEach: [],
});

const root = newSuite('', {});
let current = root;
let started = false;

/** Default timeout of one test or hook, as node --test has none but a browser run must end. */
let defaultTimeoutMs = 300_000;

function unsupported(what: string): never {
  throw new Error(`${what} is not supported by the browser shim of node:test (test/browser/node-test.ts)`);
}

/** node:test's (name?, options?, fn?) argument forms. */
function args<F>(a: unknown, b: unknown, c: unknown): [string, Options, F | undefined] {
  let name = '<anonymous>',
    options: Options = {},
    fn: F | undefined;
  const rest = [a, b, c];
  if (typeof rest[0] === 'string') name = rest.shift() as string;
  else if (typeof rest[0] === 'function' && (rest[0] as { name?: string }).name) name = (rest[0] as { name: string }).name;
  if (rest[0] && typeof rest[0] === 'object') options = rest.shift() as Options;
  if (typeof rest[0] === 'function') fn = rest[0] as F;
  if (options.only) unsupported('{ only: true }');
  return [name, options, fn];
}

function declare(what: string): void {
  if (started) unsupported(`${what} after the run started (subtests)`);
}

export function describe(a?: string | Options | SuiteFn, b?: Options | SuiteFn, c?: SuiteFn): Promise<void> {
  const [name, options, fn] = args<SuiteFn>(a, b, c);
  declare('describe');
  const suite = newSuite(name, options);
  current.children.push(suite);
  const parent = current;
  current = suite;
  try {
    const r = fn?.({});
    if (r && typeof (r as Promise<unknown>).then === 'function') suite.error = new Error('an async describe callback is not supported by the browser shim');
  } catch (e) {
    suite.error = e;
  } finally {
    current = parent;
  }
  return Promise.resolve();
}

export function it(a?: string | Options | TestFn, b?: Options | TestFn, c?: TestFn): Promise<void> {
  const [name, options, fn] = args<TestFn>(a, b, c);
  declare('it/test');
  current.children.push({ kind: 'test', name, options, fn });
  return Promise.resolve();
}

const withOption =
  <F extends TestFn | SuiteFn>(f: (a?: string, b?: Options, c?: F) => Promise<void>, key: 'skip' | 'todo') =>
  (a?: string | Options | F, b?: Options | F, c?: F) => {
    const [name, options, fn] = args<F>(a, b, c);
    return f(name, { ...options, [key]: options[key] ?? true }, fn);
  };

describe.skip = withOption<SuiteFn>(describe, 'skip');
describe.todo = withOption<SuiteFn>(describe, 'todo');
describe.only = () => unsupported('describe.only');
it.skip = withOption<TestFn>(it, 'skip');
it.todo = withOption<TestFn>(it, 'todo');
it.only = () => unsupported('it.only');

export const test = it;
export const suite = describe;

export function before(fn: HookFn): void {
  declare('before');
  current.before.push(fn);
}
export function after(fn: HookFn): void {
  declare('after');
  current.after.push(fn);
}
export function beforeEach(fn: HookFn): void {
  declare('beforeEach');
  current.beforeEach.push(fn);
}
export function afterEach(fn: HookFn): void {
  declare('afterEach');
  current.afterEach.push(fn);
}

export const mock = new Proxy({}, { get: (_t, key) => unsupported(`mock.${String(key)}`) });
export function run(): never {
  return unsupported("node:test's run()");
}

export default test;

/** What a test function receives. */
export class TestContext {
  readonly diagnostics: string[] = [];
  skipped: string | undefined;
  todoReason: string | undefined;
  readonly signal = new AbortController().signal;
  constructor(readonly name: string) {}
  diagnostic(message: string): void {
    this.diagnostics.push(String(message));
  }
  skip(message = ''): void {
    this.skipped = message;
  }
  todo(message = ''): void {
    this.todoReason = message;
  }
  test(): never {
    return unsupported('subtests (t.test)');
  }
  plan(): never {
    return unsupported('t.plan');
  }
  get mock(): never {
    return unsupported('t.mock');
  }
  get assert(): never {
    return unsupported('t.assert');
  }
}

function reason(v: boolean | string | undefined): string | undefined {
  if (v === undefined || v === false) return undefined;
  return v === true ? '' : v;
}

function errorText(e: unknown): { message: string; stack?: string } {
  if (e instanceof Error) {
    const message = e.name && e.name !== 'Error' && e.name !== 'AssertionError' ? `${e.name}: ${e.message}` : e.message;
    return { message, stack: e.stack };
  }
  return { message: `non-error thrown: ${String(e)}` };
}

/** Runs fn, failing if it neither returns nor settles within ms. */
async function timed(fn: () => unknown, ms: number, what: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    await Promise.race([Promise.resolve().then(fn), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

type Emit = (r: Report) => void;

function result(emit: Emit, path: string[], name: string, status: Status, ms: number, extra: Partial<TestResult> = {}): void {
  emit({ type: 'result', result: { suite: path, name, status, diagnostics: [], ms, ...extra } });
}

/** Every test under a suite reported as skipped or failed without running it. */
function reportAll(emit: Emit, s: Suite, path: string[], status: Status, message: string): void {
  for (const child of s.children) {
    if (child.kind === 'suite') reportAll(emit, child, [...path, child.name], status, message);
    else result(emit, path, child.name, status, 0, { message });
  }
}

async function runHooks(hooks: HookFn[], timeout: number, what: string): Promise<void> {
  for (const h of hooks) await timed(() => h({}), timeout, what);
}

async function runTest(emit: Emit, t: Test, path: string[], each: { before: HookFn[]; after: HookFn[] }, inheritedTimeout: number): Promise<void> {
  const skip = reason(t.options.skip);
  if (skip !== undefined || !t.fn) {
    result(emit, path, t.name, 'skip', 0, { message: skip ?? 'no test function' });
    return;
  }
  if (t.fn.length >= 2) {
    result(emit, path, t.name, 'fail', 0, { message: 'callback-style tests (t, done) are not supported by the browser shim' });
    return;
  }
  emit({ type: 'start', suite: path, name: t.name });
  const timeout = t.options.timeout ?? inheritedTimeout;
  const ctx = new TestContext(t.name);
  const t0 = performance.now();
  let error: unknown,
    failed = false;
  try {
    await runHooks(each.before, timeout, `beforeEach hook of "${t.name}"`);
    await timed(() => t.fn!(ctx), timeout, `test "${t.name}"`);
  } catch (e) {
    error = e;
    failed = true;
  }
  try {
    await runHooks(each.after, timeout, `afterEach hook of "${t.name}"`);
  } catch (e) {
    if (!failed) {
      error = e;
      failed = true;
    }
  }
  const ms = performance.now() - t0;
  const todo = reason(t.options.todo) ?? ctx.todoReason;
  const base = { diagnostics: ctx.diagnostics };
  if (todo !== undefined) result(emit, path, t.name, 'todo', ms, { ...base, message: failed ? `${todo} (failed: ${errorText(error).message})` : todo });
  else if (failed) result(emit, path, t.name, 'fail', ms, { ...base, ...errorText(error) });
  else if (ctx.skipped !== undefined) result(emit, path, t.name, 'skip', ms, { ...base, message: ctx.skipped });
  else result(emit, path, t.name, 'pass', ms, base);
}

async function runSuite(emit: Emit, s: Suite, path: string[], each: { before: HookFn[]; after: HookFn[] }, inheritedTimeout: number): Promise<void> {
  const timeout = s.options.timeout ?? inheritedTimeout;
  if (s.error !== undefined) {
    result(emit, path, 'describe callback', 'fail', 0, errorText(s.error));
    return;
  }
  const skip = reason(s.options.skip);
  if (skip !== undefined) {
    reportAll(emit, s, path, 'skip', skip);
    return;
  }
  const inner = { before: [...each.before, ...s.beforeEach], after: [...s.afterEach, ...each.after] };
  let beforeFailed = false;
  try {
    await runHooks(s.before, timeout, `before hook of "${s.name}"`);
  } catch (e) {
    beforeFailed = true;
    const { message, stack } = errorText(e);
    result(emit, path, 'before hook', 'fail', 0, { message, stack });
    reportAll(emit, s, path, 'fail', `not run: the before hook failed: ${message}`);
  }
  if (!beforeFailed) {
    for (const child of s.children) {
      if (child.kind === 'suite') await runSuite(emit, child, [...path, child.name], inner, timeout);
      else await runTest(emit, child, path, inner, timeout);
    }
  }
  try {
    await runHooks(s.after, timeout, `after hook of "${s.name}"`);
  } catch (e) {
    result(emit, path, 'after hook', 'fail', 0, errorText(e));
  }
}

/** Runs everything declared so far; resolves once done. Each test's result goes to `emit` as it ends. */
export async function runAll(emit: Emit, options: { timeoutMs?: number } = {}): Promise<void> {
  if (started) unsupported('running the collected tests twice');
  started = true;
  if (options.timeoutMs) defaultTimeoutMs = options.timeoutMs;
  await runSuite(emit, root, [], { before: [], after: [] }, defaultTimeoutMs);
}
