/**
 * convkit as a dependency: the packed tarball (npm pack) installed offline into a fresh project
 * (test/consumers/install.ts), then used the way users use it — a Node ESM program that trains
 * and saves, a strict TypeScript program checked against the shipped .d.ts files, and a Vite
 * app and an esbuild bundle that train in a Worker of headless Chromium, served with and
 * without cross-origin isolation. The browser bundles must not name any Node built-in.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { build as esbuild } from 'esbuild';
import { build as viteBuild } from 'vite';
import { nodeBuiltinReferences } from './consumers/bundle-check.js';
import { type Consumer, packAndInstall, repoRoot } from './consumers/install.js';
import { runApp } from './consumers/serve.js';

const fixtures = join(repoRoot, 'test', 'consumers');
/** The browser app: examples/browser, as users would copy it. */
const browserApp = join(repoRoot, 'examples', 'browser');
const mnist = join(repoRoot, 'test', 'fixtures', 'mnist-3000-500.gz');
let consumer: Consumer;

/** Every .js file under `dir`, recursively. */
function jsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.m?js$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

function assertNoNodeBuiltins(outDir: string): void {
  const files = jsFiles(outDir);
  assert.ok(files.length > 0, `no JavaScript emitted in ${outDir}`);
  const found = files.flatMap((f) => nodeBuiltinReferences(readFileSync(f, 'utf8')).map((r) => `${f}: ${r}`));
  assert.deepEqual(found, [], 'Node built-ins in the browser bundle');
}

/** Trains in Chromium, isolated or not, and checks accuracy and the thread count that isolation allows. */
async function assertTrainsInBrowser(outDir: string, log: (line: string) => void): Promise<void> {
  for (const isolated of [true, false]) {
    const { result, errors } = await runApp(outDir, mnist, isolated);
    log(JSON.stringify(result));
    assert.equal(result.error, undefined, `${isolated ? 'isolated' : 'not isolated'}: ${result.error}`);
    assert.deepEqual(errors, []);
    assert.equal(result.crossOriginIsolated, isolated);
    assert.equal(result.backend, 'wasm', String(result.reason));
    assert.equal(result.trainCount, 3000);
    assert.equal(result.testCount, 500);
    assert.ok((result.accuracy as number) > 0.9, `test accuracy ${result.accuracy} (isolated: ${isolated})`);
    if (isolated) assert.ok((result.threads as number) > 1, `threads ${result.threads} with cross-origin isolation`);
    else assert.equal(result.threads, 1, 'without cross-origin isolation there is no SharedArrayBuffer, so one thread');
  }
}

describe('convkit installed from the packed tarball', { concurrency: false }, () => {
  before(() => {
    consumer = packAndInstall();
  });
  after(() => {
    if (consumer) rmSync(dirname(consumer.dir), { recursive: true, force: true });
  });

  test('the tarball holds the builds and types and no sources, tests or tarball-local paths', () => {
    const files = consumer.files;
    for (const f of [
      'package.json',
      'README.md',
      'bin/convkit.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/node/index.d.ts',
      'dist/node/platform.d.ts',
      'dist/backend/platform-browser.d.ts',
      'dist-wasm/kernels-simd.js',
      'dist-wasm/kernels-simd.d.ts',
      'dist-wasm/kernels-relaxed.wasm',
    ])
      assert.ok(files.includes(f), `${f} missing from the tarball`);
    assert.deepEqual(
      files.filter((f) => /^(src|test|web|assembly|bench|scripts)\//.test(f)),
      [],
    );
  });

  test('a Node ESM program trains LeNet-5 on MNIST, saves and reloads it', (t) => {
    const dir = join(consumer.dir, 'node-esm');
    cpSync(join(fixtures, 'node-esm'), dir, { recursive: true });
    const out = execFileSync(process.execPath, ['train.mjs', dir], { cwd: dir, encoding: 'utf8' });
    const report = JSON.parse(out.trim().split('\n').pop()!);
    t.diagnostic(JSON.stringify(report));
    assert.equal(report.backend, 'wasm');
    assert.ok(report.steps >= 300, `${report.steps} steps`);
    assert.ok(report.accuracy > 0.9, `test accuracy ${report.accuracy}`);
    assert.equal(report.reloadedAccuracy, report.accuracy);
    assert.deepEqual(report.metadata, { note: 'consumer test' });
  });

  test('the installed CLI runs (npx convkit info)', () => {
    const out = execFileSync(join(consumer.dir, 'node_modules', '.bin', 'convkit'), ['info', '--json'], { cwd: consumer.dir, encoding: 'utf8' });
    assert.match(out, /"wasm"/);
  });

  test('a strict TypeScript program type-checks against the shipped .d.ts (no skipLibCheck)', () => {
    const dir = join(consumer.dir, 'typescript');
    cpSync(join(fixtures, 'typescript'), dir, { recursive: true });
    // The user's own @types/node, as a TypeScript project in Node has it.
    const config = JSON.parse(readFileSync(join(dir, 'tsconfig.json'), 'utf8'));
    config.compilerOptions.typeRoots = [join(repoRoot, 'node_modules', '@types')];
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config));
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    try {
      execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      assert.fail(`tsc failed:\n${(e as { stdout?: string }).stdout}${(e as { stderr?: string }).stderr}`);
    }
  });

  test('a Vite app bundles without Node built-ins and trains in Chromium, with and without COOP/COEP', async (t) => {
    const app = join(consumer.dir, 'vite-app');
    cpSync(browserApp, app, { recursive: true });
    const outDir = join(app, 'dist');
    // The example's own vite.config.js (its /mnist.gz route is for `vite` and `vite preview`; runApp serves the file here).
    await viteBuild({ root: app, configFile: join(app, 'vite.config.js'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
    assertNoNodeBuiltins(outDir);
    await assertTrainsInBrowser(outDir, (line) => t.diagnostic(line));
  });

  test('an esbuild bundle has no Node built-ins and trains in Chromium, with and without COOP/COEP', async (t) => {
    const app = join(consumer.dir, 'esbuild-app');
    cpSync(browserApp, app, { recursive: true });
    const outDir = join(app, 'dist');
    await esbuild({
      absWorkingDir: app,
      entryPoints: ['main.js', 'worker.js'],
      outdir: outDir,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'browser',
      minify: true,
      logLevel: 'error',
    });
    cpSync(join(app, 'index.html'), join(outDir, 'index.html'));
    assertNoNodeBuiltins(outDir);
    await assertTrainsInBrowser(outDir, (line) => t.diagnostic(line));
  });
});

describe('the bundle check', () => {
  test('finds imports and requires of Node built-ins, and nothing in plain code', () => {
    assert.equal(nodeBuiltinReferences(`const p = typeof require === 'function' ? require('node:worker_threads').parentPort : self;`).length, 1);
    assert.equal(nodeBuiltinReferences('import{readFileSync as r}from"fs";').length, 1);
    assert.equal(nodeBuiltinReferences('export * from "node:path";').length, 1);
    assert.equal(nodeBuiltinReferences('const m = await import("child_process");').length, 1);
    assert.equal(nodeBuiltinReferences('var w=require("worker_threads")').length, 1);
    assert.deepEqual(nodeBuiltinReferences('import{a}from"./fs.js";const path="x";fetch("/os");require("./url")'), []);
  });
});
