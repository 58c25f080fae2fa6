/**
 * Bounded memory, at a CI-friendly length: 2 000 training steps of the ConvNetJS
 * demo net (batch 20, wasm backend, an evaluation every 500 steps) in a child process, via
 * scripts/soak.ts. After 600 warm-up steps resident memory must grow by less than 20 MB and the
 * wasm heap not at all: buffers are reused, nobody calls dispose(). `node --import tsx
 * scripts/soak.ts` runs the full 20 000 steps (figures in docs/RELIABILITY.md).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { it } from 'node:test';

it('2 000 training steps: RSS grows < 20 MB after warm-up, the wasm heap not at all', (t) => {
  const r = spawnSync(
    process.execPath,
    ['--conditions=convkit-source', '--import', 'tsx', 'scripts/soak.ts', '--steps', '2000', '--warmup', '600', '--threads', '2', '--json'],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const f = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  t.diagnostic(
    `RSS ${f.rssAtWarmupMB.toFixed(1)} MB after warm-up, growth ${f.rssGrowthMB.toFixed(1)} MB; JS heap growth ${f.heapUsedGrowthMB.toFixed(1)} MB; wasm heap ${f.wasmHeapAtWarmupMB.toFixed(1)} MB, growth ${f.wasmHeapGrowthMB.toFixed(1)} MB, in use growth ${f.wasmInUseGrowthMB.toFixed(2)} MB; ${f.stepsPerSecond.toFixed(0)} steps/s`,
  );
  assert.equal(f.steps, 2000);
  assert.ok(f.rssGrowthMB < 20, `RSS grew ${f.rssGrowthMB} MB`);
  // The allocator hands out nothing new after warm-up (each evaluation and each return to training reuses its buffers).
  assert.ok(f.wasmInUseGrowthMB < 1, `wasm allocations grew ${f.wasmInUseGrowthMB} MB`);
  assert.ok(f.wasmHeapGrowthMB < 1, `wasm heap grew ${f.wasmHeapGrowthMB} MB`);
});
