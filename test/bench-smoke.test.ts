import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

// The harness imports convkit from dist/ (built by pretest) and, for convkit alone, nothing
// from bench/node_modules: this runs without the bench package installed. No timing checks.
const root = fileURLToPath(new URL('..', import.meta.url));

describe('npm run bench (smoke)', () => {
  it('measures one small work on convkit ref and prints well-formed JSON lines', () => {
    const out = execFileSync(process.execPath, ['bench/run.mjs', '--quick', '--json', '--only', 'sgemm-256', '--libs', 'convkit-ref'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 1);
    const [m] = lines;
    assert.equal(m.work, 'sgemm-256');
    assert.equal(m.library, 'convkit-ref');
    assert.equal(m.unit, 'GFLOP/s');
    assert.equal(m.runs, 3);
    for (const k of ['median', 'min', 'max'] as const) assert.ok(Number.isFinite(m[k]) && m[k] > 0, `${k} = ${m[k]}`);
    assert.ok(m.min <= m.median && m.median <= m.max);
  });

  it('rejects an unknown option with a non-zero exit', () => {
    assert.throws(() => execFileSync(process.execPath, ['bench/run.mjs', '--bogus'], { cwd: root, stdio: 'pipe' }));
  });
});
