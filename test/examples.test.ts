/**
 * The examples/ programs run as documented, with small limits: LeNet-5 training in Node and
 * the ONNX round trip. (examples/browser is built with Vite and esbuild and run in Chromium by
 * test/consumer.test.ts.) They import 'convkit', which inside the repository is the built
 * package itself.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const examples = fileURLToPath(new URL('../examples', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'convkit-examples-'));

function runExample(file: string, args: string[]): string {
  return execFileSync(process.execPath, [join(examples, file), ...args], { cwd: out, encoding: 'utf8', stdio: 'pipe', timeout: 120_000 });
}

describe('examples/', { concurrency: false }, () => {
  after(() => rmSync(out, { recursive: true, force: true }));

  test('node-train.mjs trains LeNet-5 on a slice of MNIST and saves the model', () => {
    const file = join(out, 'lenet5.convkit');
    const text = runExample('node-train.mjs', ['--train-limit', '6000', '--epochs', '2', '--out', file]);
    const accuracy = Number(/test accuracy ([\d.]+) %/.exec(text.split('\n').at(-3) ?? '')?.[1]);
    assert.ok(accuracy > 90, `test accuracy ${accuracy} %:\n${text}`);
    assert.ok(existsSync(file) && readFileSync(file).length > 61706 * 4, 'no complete model file written');
  });

  test('onnx-roundtrip.mjs exports, imports and gets the same predictions', () => {
    const file = join(out, 'lenet5.onnx');
    const text = runExample('onnx-roundtrip.mjs', ['--out', file]);
    assert.match(text, /same top class for 100\/100 digits/);
    assert.ok(existsSync(file));
  });

  test('the browser example has its page, worker and Vite settings', () => {
    for (const f of ['index.html', 'main.js', 'worker.js', 'fixture.js', 'vite.config.js']) assert.ok(existsSync(join(examples, 'browser', f)), f);
  });
});
