/**
 * test/backend.test.ts — every kernel of a fast backend against the reference, and whole
 * networks — run again inside headless Chromium (Debian's /usr/bin/chromium via playwright-core,
 * WebGPU enabled: SwiftShader where there is no GPU): every wasm case of the suite in a
 * cross-origin isolated page (so with shared memory and Web Worker threads), and the webgpu case
 * on navigator.gpu when the backend exists and the page gets an adapter. Each browser test
 * becomes a subtest here, with the browser's failure message.
 *
 * How (test/browser/): build.ts bundles the suite with Vite, swapping node:test, node:assert
 * and the Node-only imports for browser stand-ins; run.ts serves it and drives the browser; the
 * suite runs in a Worker and picks its cases through globalThis.__convkitCases. The first tests
 * check, in Node, that the stand-ins fail where Node's modules fail; the last one breaks a kernel
 * on purpose and checks that the browser run reports it.
 * Run alone: node --import tsx --test test/backend-browser.test.ts
 */
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { inspect } from 'node:util';
import shimAssert from './browser/assert.js';
import * as shim from './browser/node-test.js';
import { BrowserSuite, type SuiteConfig, type SuiteRun, problems } from './browser/run.js';

/** Turns a browser run into subtests: one per case, one per test in it; then fails on anything else wrong. */
async function report(t: TestContext, run: SuiteRun): Promise<void> {
  const count = (s: string) => run.results.filter((r) => r.status === s).length;
  t.diagnostic(
    `${run.chosen.join('; ')}: ${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped in ${(run.ms / 1000).toFixed(1)} s` +
      ` (cross-origin isolated: ${run.crossOriginIsolated}, ${run.cores} cores, ${run.userAgent?.match(/Chrom\w+\/[\d.]+/)?.[0] ?? run.userAgent})`,
  );
  for (const label of run.chosen) {
    const suite = `backend ${label}`;
    await t.test(suite, async (st) => {
      for (const r of run.results.filter((x) => x.suite[0] === suite)) {
        const name = [...r.suite.slice(1), r.name].join(' › ');
        const skip = r.status === 'skip' ? r.message || true : false;
        const todo = r.status === 'todo' ? r.message || true : false;
        await st.test(name, { skip, todo }, (tt) => {
          for (const d of r.diagnostics) tt.diagnostic(d);
          if (r.status === 'fail') {
            const e = new Error(`in Chromium: ${r.message}`);
            e.stack = `${e.message}\n${(r.stack ?? '')
              .split('\n')
              .filter((l) => /^\s+at /.test(l))
              .slice(0, 6)
              .join('\n')}`;
            throw e;
          }
        });
      }
      // The backend really ran with the thread count its label names (threads need cross-origin isolation).
      const threads = run.results
        .flatMap((r) => (r.suite[0] === suite ? r.diagnostics : []))
        .join(' ')
        .match(/"threads":(\d+)/)?.[1];
      const named = label.match(/(\d+) threads?\b/)?.[1];
      if (named && threads) assert.equal(threads, named, `${label}: the backend ran with ${threads} thread(s)`);
    });
  }
  const wrong = problems(run);
  assert.ok(
    wrong.length === 0,
    `the browser run of ${JSON.stringify(run.config)} reported:\n${wrong.join('\n')}${run.console.length ? `\nconsole errors:\n${run.console.join('\n')}` : ''}`,
  );
}

describe('browser stand-ins for node:assert and node:test (checked in Node)', () => {
  test('the assert stand-in throws exactly where node:assert/strict throws', () => {
    const cases: [string, unknown[]][] = [
      ['equal', [1, 1]],
      ['equal', [1, '1']],
      ['equal', [NaN, NaN]],
      ['equal', [0, -0]],
      ['equal', [{}, {}]],
      ['equal', ['a', 'a', 'msg']],
      ['notEqual', [1, 2]],
      ['notEqual', [1, 1]],
      ['ok', [0]],
      ['ok', [1]],
      ['ok', ['']],
      ['ok', ['x']],
      ['ok', [null, 'msg']],
      ['ok', [[]]],
      [
        'deepEqual',
        [
          [1, 2],
          [1, 2],
        ],
      ],
      [
        'deepEqual',
        [
          [1, 2],
          [1, 3],
        ],
      ],
      [
        'deepEqual',
        [
          [1, 2],
          [1, 2, 3],
        ],
      ],
      ['deepEqual', [[NaN], [NaN]]],
      ['deepEqual', [[0], [-0]]],
      ['deepEqual', [[], {}]],
      ['deepEqual', [{ a: 1 }, { a: 1, b: undefined }]],
      ['deepEqual', [{ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }]],
      ['deepEqual', [{ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] }]],
      ['deepEqual', [new Float32Array([1, 2]), new Float32Array([1, 2])]],
      ['deepEqual', [new Float32Array([1, 2]), new Float32Array([1, 2.5])]],
      ['deepEqual', [new Float32Array([1]), new Float64Array([1])]],
      ['deepEqual', [new Float32Array([1]), [1]]],
      ['deepEqual', [new Int32Array([3, -1]), new Int32Array([3, -1])]],
      ['deepEqual', [Object.create(null), {}]],
      ['deepEqual', [new Map([[1, 2]]), new Map([[1, 2]])]],
      ['deepEqual', [new Map([[1, 2]]), new Map([[1, 3]])]],
      ['deepEqual', [new Set([1]), new Set([1])]],
      ['deepEqual', [new Set([1]), new Set([2])]],
      ['deepEqual', ['1', 1]],
      ['notDeepEqual', [[1], [1]]],
      ['notDeepEqual', [[1], [2]]],
      ['fail', ['message']],
      ['fail', []],
      ['match', ['abc', /b/]],
      ['match', ['abc', /x/]],
      [
        'throws',
        [
          () => {
            throw new RangeError('r');
          },
          RangeError,
        ],
      ],
      ['throws', [() => {}, RangeError]],
      ['throws', [() => {}]],
      [
        'throws',
        [
          () => {
            throw new TypeError('t');
          },
          RangeError,
        ],
      ],
      [
        'throws',
        [
          () => {
            throw new Error('abc');
          },
          /abc/,
        ],
      ],
      [
        'throws',
        [
          () => {
            throw new Error('abc');
          },
          /xyz/,
        ],
      ],
      [
        'throws',
        [
          () => {
            throw new Error('abc');
          },
          { message: 'abc' },
        ],
      ],
      [
        'throws',
        [
          () => {
            throw new Error('abc');
          },
          { message: 'abd' },
        ],
      ],
      [
        'throws',
        [
          () => {
            throw new Error('abc');
          },
          (e: Error) => e.message === 'abc',
        ],
      ],
      [
        'throws',
        [
          () => {
            throw new Error('abc');
          },
          (e: Error) => e.message === 'x',
        ],
      ],
    ];
    const outcome = (f: () => void) => {
      try {
        f();
        return 'returns';
      } catch {
        return 'throws';
      }
    };
    for (const [fn, args] of cases) {
      const call = (a: Record<string, (...x: unknown[]) => unknown>) => () => {
        a[fn](...args);
      };
      const want = outcome(call(assert as never)),
        got = outcome(call(shimAssert as never));
      assert.equal(got, want, `assert.${fn}(${args.map((a) => inspect(a)).join(', ')})`);
    }
    assert.throws(() => (shimAssert as unknown as Record<string, () => void>).notImplemented(), /not supported/);
  });

  test('the node:test stand-in reports passes, failures, skips, hook failures and timeouts', async () => {
    // Like node:test, describe/it only register here (their promises are not awaited); the run below is.
    void shim.describe('outer', () => {
      void shim.it('passes', (t) => {
        t.diagnostic('note');
      });
      void shim.it('fails', () => {
        throw new Error('boom');
      });
      void shim.it('fails later', async () => {
        await new Promise((r) => setTimeout(r, 5));
        shimAssert.equal(1, 2);
      });
      void shim.it('is skipped', { skip: 'why' }, () => {
        throw new Error('must not run');
      });
      void shim.it('skips itself', (t) => {
        t.skip('inside');
      });
      void shim.it('hangs', { timeout: 50 }, () => new Promise(() => {}));
      shim.it.skip('is skipped too', () => {
        throw new Error('must not run');
      });
      void shim.describe('inner', () => {
        shim.before(() => {
          throw new Error('no setup');
        });
        void shim.it('needs the setup', () => {});
      });
      void shim.describe('skipped inner', { skip: true }, () => {
        void shim.it('would fail', () => {
          throw new Error('must not run');
        });
      });
      void shim.describe('with an after hook', () => {
        shim.after(() => {
          throw new Error('no teardown');
        });
        void shim.it('passes first', () => {});
      });
    });
    const seen: string[] = [];
    await shim.runAll((m) => {
      if (m.type === 'result')
        seen.push(
          `${[...m.result.suite, m.result.name].join('/')}: ${m.result.status}${m.result.message ? ` (${m.result.message.split('\n')[0]})` : ''}${m.result.diagnostics.length ? ` [${m.result.diagnostics}]` : ''}`,
        );
    });
    assert.deepEqual(seen, [
      'outer/passes: pass [note]',
      'outer/fails: fail (boom)',
      'outer/fails later: fail (Expected values to be strictly equal:)',
      'outer/is skipped: skip (why)',
      'outer/skips itself: skip (inside)',
      'outer/hangs: fail (test "hangs" timed out after 50 ms)',
      'outer/is skipped too: skip',
      'outer/inner/before hook: fail (no setup)',
      'outer/inner/needs the setup: fail (not run: the before hook failed: no setup)',
      'outer/skipped inner/would fail: skip',
      'outer/with an after hook/passes first: pass',
      'outer/with an after hook/after hook: fail (no teardown)',
    ]);
  });
});

describe('test/backend.test.ts in headless Chromium', { timeout: 1_200_000 }, () => {
  let suite: BrowserSuite;
  before(async () => {
    suite = await BrowserSuite.start();
  });
  after(async () => {
    await suite?.close();
  });

  /** The wasm run, also the baseline of the broken-kernel check. */
  let wasmRun: SuiteRun | undefined;

  test('every wasm case, in a cross-origin isolated page (shared memory, Web Worker threads)', async (t) => {
    const run = (wasmRun = await suite.run({ names: ['wasm'], timeoutMs: 180_000 }, { timeoutMs: 300_000 }));
    assert.equal(run.crossOriginIsolated, true, 'the page is cross-origin isolated (COOP/COEP)');
    for (const label of ['wasm, 1 thread', 'wasm, 2 threads'])
      assert.ok(run.chosen.includes(label), `the suite has the case "${label}" (it has ${run.all.join('; ')})`);
    await report(t, run);
  });

  test('webgpu, on the adapter the page gets', async (t) => {
    if (!suite.webgpuBundled) return t.skip('src/backend/webgpu/webgpu.ts does not exist yet');
    const adapter = await suite.gpuAdapter();
    if (!adapter) return t.skip('Chromium offers no WebGPU adapter here');
    t.diagnostic(`adapter: ${adapter}`);
    const run = await suite.run({ names: ['webgpu'], timeoutMs: 180_000 }, { timeoutMs: 600_000 });
    if (run.chosen.length === 0 && !run.all.some((l) => /webgpu/.test(l))) return t.skip('test/backend.test.ts has no webgpu case yet');
    await report(t, run);
  });

  test('a kernel broken on purpose (relu off by one in one element) fails the tests that use it, and only those', async () => {
    const label = 'wasm, 1 thread';
    const results = async (config: SuiteConfig) => {
      const run = await suite.run(config, { timeoutMs: 300_000 });
      assert.deepEqual(run.errors, [], `the browser run of ${JSON.stringify(config)}`);
      return new Map(run.results.filter((r) => r.suite[0] === `backend ${label}`).map((r) => [r.name, r]));
    };
    const baseline = wasmRun?.chosen.includes(label)
      ? new Map(wasmRun.results.filter((r) => r.suite[0] === `backend ${label}`).map((r) => [r.name, r]))
      : await results({ labels: [label] });
    const broken = await results({ labels: [label], fault: { method: 'relu' } });
    const newlyFailed = [...broken.values()].filter((r) => r.status === 'fail' && baseline.get(r.name)?.status === 'pass').map((r) => r.name);
    assert.ok(newlyFailed.includes('activations and their gradients'), `the relu kernel test fails (newly failed: ${newlyFailed.join('; ') || 'none'})`);
    assert.match(broken.get('activations and their gradients')?.message ?? '', /relu .*element 0 is/, 'the failure names the kernel and the element');
    assert.ok(
      newlyFailed.some((n) => n.startsWith('lenet5')),
      'the LeNet-5 agreement test fails',
    );
    // Tests that call no relu pass as they did without the fault.
    const unaffected = [...baseline.values()].filter((r) => r.status === 'pass' && /^(gemm|conv2d forward|max and average pooling)/.test(r.name));
    assert.ok(unaffected.length > 0, 'the baseline has passing tests that use no relu');
    for (const r of unaffected) assert.equal(broken.get(r.name)?.status, 'pass', r.name);
  });
});
