/**
 * Node's side of running test/backend.test.ts in headless Chromium: bundle it (build.ts), serve
 * the bundle, the page and dist-wasm/ on 127.0.0.1 with the COOP/COEP headers (so the page is
 * cross-origin isolated: SharedArrayBuffer, hence wasm threads), start Debian's Chromium through
 * playwright-core with WebGPU enabled (SwiftShader where there is no GPU), and run chosen cases
 * of the suite in a Worker of a fresh page, collecting every test's result.
 *
 * Used by test/backend-browser.test.ts; also runnable by hand, e.g.
 *   node --import tsx test/browser/run.ts --name webgpu
 *   node --import tsx test/browser/run.ts --label "wasm, 2 threads"
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { buildSuite, bundleDir, repoRoot } from './build.js';
import type { TestResult } from './node-test.js';
import type { SuiteConfig } from './select.js';
import type { Message } from './worker.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../../web/scripts/browser.js';

export { CHROMIUM };
export type { TestResult, SuiteConfig };

/** What one run of the suite in a page gave. */
export interface SuiteRun {
  config: SuiteConfig;
  /** Labels of every case the suite has, and of those this run chose. */
  all: string[];
  chosen: string[];
  crossOriginIsolated?: boolean;
  cores?: number;
  userAgent?: string;
  results: TestResult[];
  /** Worker failures, uncaught errors, a timeout: anything wrong outside a test's own result. */
  errors: string[];
  /** Errors the page or worker printed to the console. */
  console: string[];
  ms: number;
}

const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cache-Control': 'no-store',
};

const PAGE = '<!doctype html><meta charset="utf-8"><title>convkit backend suite</title><script src="/page.js"></script><p>convkit backend suite</p>';

/** Serves the page, its script, the bundle and the kernels; everything else is a 404. */
function serve(): Promise<{ url: string; server: Server }> {
  const files: Record<string, [string, string]> = {
    '/page.js': [join(repoRoot, 'test', 'browser', 'page.js'), 'text/javascript'],
    '/suite.js': [join(bundleDir, 'suite.js'), 'text/javascript'],
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    let body: string | Buffer | null = null,
      type = 'text/plain';
    try {
      if (path === '/') [body, type] = [PAGE, 'text/html; charset=utf-8'];
      else if (files[path]) [body, type] = [readFileSync(files[path][0]), files[path][1]];
      else if (/^\/dist-wasm\/[\w.-]+\.wasm$/.test(path)) [body, type] = [readFileSync(normalize(join(repoRoot, path))), 'application/wasm'];
    } catch {
      body = null;
    }
    res.writeHead(body === null ? 404 : 200, { 'Content-Type': type, ...isolationHeaders });
    res.end(body ?? `not found: ${path}`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (!address || typeof address === 'string') return reject(new Error('no TCP address'));
      resolve({ url: `http://127.0.0.1:${address.port}/`, server });
    });
  });
}

/** Headless Chromium with a fresh profile, as ../shared/toolchain-facts.md prescribes, and WebGPU on. */
async function launch(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: the browser run of test/backend.test.ts needs Debian's Chromium (apt-get install -y chromium; .ci/run installs it). Never a Playwright browser download.`,
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'convkit-suite-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export class BrowserSuite {
  private constructor(
    private readonly url: string,
    private readonly server: Server,
    private readonly browser: { context: BrowserContext; close(): Promise<void> },
    /** Whether src/backend/webgpu/webgpu.ts was bundled. */
    readonly webgpuBundled: boolean,
    /** Seconds spent bundling. */
    readonly buildSeconds: number,
  ) {}

  /** Builds the kernels if missing and the bundle, serves them, starts Chromium. */
  static async start(): Promise<BrowserSuite> {
    const t0 = performance.now();
    if (!existsSync(join(repoRoot, 'dist-wasm', 'kernels-simd.wasm'))) {
      execFileSync(process.execPath, [join(repoRoot, 'assembly', 'build.mjs')], { stdio: 'inherit' });
    }
    const { webgpu } = await buildSuite();
    const buildSeconds = (performance.now() - t0) / 1000;
    const { url, server } = await serve();
    try {
      return new BrowserSuite(url, server, await launch(), webgpu, buildSeconds);
    } catch (e) {
      server.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.browser.close();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** The WebGPU adapter a page of this browser gets ("google swiftshader" …), or null. */
  async gpuAdapter(): Promise<string | null> {
    const page = await this.browser.context.newPage();
    try {
      await page.goto(this.url);
      return (await page.evaluate('window.gpuAdapter()')) as string | null;
    } finally {
      await page.close();
    }
  }

  /**
   * Runs the chosen cases in a Worker of a fresh page. `onResult` sees each result as it comes;
   * past `timeoutMs` the page is closed and the run ends with what it had, naming the test
   * still running.
   */
  async run(config: SuiteConfig, options: { timeoutMs?: number; onResult?: (r: TestResult) => void } = {}): Promise<SuiteRun> {
    const t0 = performance.now();
    const run: SuiteRun = { config, all: [], chosen: [], results: [], errors: [], console: [], ms: 0 };
    const page = await this.browser.context.newPage();
    let running: string | null = null;
    let finished!: () => void;
    const done = new Promise<void>((resolve) => {
      finished = resolve;
    });
    await page.exposeFunction('__convkitReport', (m: Message) => {
      switch (m.type) {
        case 'cases':
          Object.assign(run, { all: m.all, chosen: m.chosen, crossOriginIsolated: m.crossOriginIsolated, cores: m.cores, userAgent: m.userAgent });
          break;
        case 'start':
          running = [...m.suite, m.name].join(' › ');
          break;
        case 'result':
          running = null;
          run.results.push(m.result);
          options.onResult?.(m.result);
          break;
        case 'error':
          run.errors.push(m.message);
          break;
        case 'done':
          finished();
          break;
      }
    });
    page.on('console', (m) => {
      if (m.type() === 'error') run.console.push(m.text());
    });
    page.on('pageerror', (e) => run.errors.push(`page error: ${e.message}`));
    page.on('crash', () => {
      run.errors.push('the page crashed');
      finished();
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeoutMs = options.timeoutMs ?? 600_000;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        run.errors.push(`the run timed out after ${timeoutMs / 1000} s${running ? ` while running "${running}"` : ''}`);
        resolve();
      }, timeoutMs);
    });
    try {
      await page.goto(this.url);
      void page.evaluate(`window.runSuite(${JSON.stringify(config)})`).catch((e: Error) => {
        if (!page.isClosed()) run.errors.push(`runSuite: ${e.message}`);
        finished();
      });
      await Promise.race([done, timedOut]);
    } finally {
      clearTimeout(timer);
      await page.close();
    }
    run.ms = performance.now() - t0;
    return run;
  }
}

/** One line per failure and problem of a run, for messages; empty when all is well. */
export function problems(run: SuiteRun): string[] {
  const lines = run.errors.map((e) => `error: ${e}`);
  for (const r of run.results) if (r.status === 'fail') lines.push(`FAIL ${[...r.suite, r.name].join(' › ')}: ${r.message}`);
  for (const label of run.chosen) {
    const mine = run.results.filter((r) => r.suite[0] === `backend ${label}`);
    if (!mine.some((r) => r.status === 'pass'))
      lines.push(
        `case "${label}": no test passed (${mine.length} results: ${[...new Set(mine.map((r) => `${r.status}${r.message ? ` (${r.message})` : ''}`))].join(', ')})`,
      );
  }
  return lines;
}

// By hand: node --import tsx test/browser/run.ts [--label L]... [--name N]... [--fault METHOD]
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/test\/browser\//, '/test/browser/'))) {
  const config: SuiteConfig = { labels: [], names: [] };
  for (let i = 2; i < process.argv.length; i += 2) {
    const [flag, value] = [process.argv[i], process.argv[i + 1]];
    if (flag === '--label') config.labels!.push(value);
    else if (flag === '--name') config.names!.push(value);
    else if (flag === '--fault') config.fault = { method: value };
    else throw new Error(`usage: run.ts [--label LABEL]... [--name BACKEND]... [--fault METHOD]`);
  }
  if (!config.labels!.length && !config.names!.length) config.labels = ['wasm, 1 thread'];
  const suite = await BrowserSuite.start();
  try {
    console.log(`bundled in ${suite.buildSeconds.toFixed(1)} s; WebGPU adapter: ${(await suite.gpuAdapter()) ?? 'none'}`);
    const run = await suite.run(config, {
      onResult: (r) => console.log(`${r.status.padEnd(4)} ${[...r.suite, r.name].join(' › ')} (${Math.round(r.ms)} ms)${r.message ? `: ${r.message}` : ''}`),
    });
    const count = (s: string) => run.results.filter((r) => r.status === s).length;
    console.log(`cases: ${run.chosen.join('; ')} (of ${run.all.join('; ')}); cross-origin isolated: ${run.crossOriginIsolated}; ${run.cores} cores`);
    console.log(`${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped in ${(run.ms / 1000).toFixed(1)} s`);
    for (const line of problems(run)) console.log(line);
    for (const line of run.console) console.log(`console: ${line}`);
    process.exitCode = problems(run).length ? 1 : 0;
  } finally {
    await suite.close();
  }
}
