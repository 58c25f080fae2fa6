/**
 * The wasm thread pool under stress: jobs of changing piece counts back to back, for a fixed
 * time, while other processes keep both cores busy (so threads are preempted at any point of
 * the job protocol), every result checked. A hang fails with the watchdog's message; a piece
 * run twice, skipped or mixed up between jobs fails with the wrong element. The workload runs
 * in a child process (test/thread-pool-stress-run.ts): a hung pool blocks its thread for good.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

const runner = new URL('./thread-pool-stress-run.ts', import.meta.url).pathname;
/** No progress line for this long: the pool hung. Generous: the machine is loaded on purpose. */
const WATCHDOG_MS = 15_000;

if (!existsSync(new URL('../dist-wasm/kernels-simd.wasm', import.meta.url))) {
  execFileSync(process.execPath, [new URL('../assembly/build.mjs', import.meta.url).pathname], { stdio: 'inherit' });
}

/** Runs the workload; resolves with its summary, rejects on a wrong result, a crash or a hang. */
function stress(mode: 'pool' | 'backend', seconds: number): Promise<{ jobs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=convkit-source', '--import', 'tsx', runner, mode, String(seconds)], {
      cwd: new URL('..', import.meta.url),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '',
      err = '',
      last = 'nothing yet',
      summary: { jobs: number } | null = null;
    let watchdog = setTimeout(hung, WATCHDOG_MS);
    function hung() {
      child.kill('SIGKILL');
      reject(new Error(`${mode}: no progress for ${WATCHDOG_MS / 1000} s, the thread pool hung (last report: ${last})`));
    }
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const line of lines) {
        last = line;
        if (line.startsWith('progress')) {
          clearTimeout(watchdog);
          watchdog = setTimeout(hung, WATCHDOG_MS);
        }
        if (line.startsWith('done ')) summary = JSON.parse(line.slice(5));
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
    });
    child.on('exit', (code, signal) => {
      clearTimeout(watchdog);
      if (signal === 'SIGKILL') return; // the watchdog's
      if (code === 0 && summary) resolve(summary);
      else reject(new Error(`${mode}: exit ${code ?? signal}: ${last}${err ? `\n${err}` : ''}`));
    });
  });
}

describe('wasm thread pool under stress', () => {
  // Two busy processes: with the workload's two threads, more runnable threads than cores.
  const load: ChildProcess[] = [];
  before(() => {
    for (let i = 0; i < 2; i++) load.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  });
  after(() => {
    for (const p of load) p.kill('SIGKILL');
  });

  it('jobs of 1 to 40 tiny pieces back to back: every piece runs exactly once, no hang (15 s)', async (t) => {
    const { jobs } = await stress('pool', 15);
    t.diagnostic(`${jobs} jobs`);
    assert.ok(jobs > 0);
  });

  it('backend: accumulating GEMMs split 2 and 7 ways and an axpy, alternating, match the reference every time (12 s)', async (t) => {
    const { jobs } = await stress('backend', 12);
    t.diagnostic(`${jobs} iterations`);
    assert.ok(jobs > 0);
  });
});
