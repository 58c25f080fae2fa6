/**
 * The API reference builds (npm run docs: TypeDoc over 'convkit' and 'convkit/node') with
 * warnings as errors: every type the public API names is itself exported, and every {@link}
 * resolves. TypeDoc lives in scripts/typedoc/ (its own package: it needs TypeScript ≤ 6's
 * JavaScript API); `npm run docs` installs it there, from the npm cache when it can.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

test('npm run docs builds the API reference without warnings', () => {
  const out = mkdtempSync(join(tmpdir(), 'convkit-api-'));
  try {
    try {
      execFileSync('npm', ['run', 'docs', '--silent', '--', '--out', out], { cwd: root, encoding: 'utf8', stdio: 'pipe', timeout: 300_000 });
    } catch (e) {
      const { stdout, stderr } = e as { stdout?: string; stderr?: string };
      assert.fail(`npm run docs failed:\n${stdout ?? ''}${stderr ?? ''}`);
    }
    for (const page of ['index.html', 'modules/index.html', 'modules/node.html', 'classes/index.Model.html', 'functions/index.loadOnnx.html']) {
      assert.ok(existsSync(join(out, page)), `${page} missing from the API reference`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
