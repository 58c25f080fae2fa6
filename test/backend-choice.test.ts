/**
 * Choosing a backend from the CLI: `auto` (the default) takes WebGPU only on a hardware
 * adapter and says why; `--backend webgpu` trains through WebGPU (here on SwiftShader, the
 * software Vulkan driver of Debian's chromium) to the same numbers as wasm.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
const bin = new URL('../bin/convkit.js', import.meta.url).pathname;

/** Runs the CLI (or, with cli false, node with these arguments). */
function convkit(args: string[], env: Record<string, string | undefined> = {}, cli = true) {
  const merged = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete merged[k];
  const r = spawnSync(process.execPath, cli ? [bin, ...args] : args, { encoding: 'utf8', env: merged, timeout: 300_000 });
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    events: r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l)),
  };
}

const noGpu = { VK_ICD_FILENAMES: '/nonexistent/icd.json' };
const software = { VK_ICD_FILENAMES: SWIFTSHADER };

describe('backend choice', () => {
  it('auto picks wasm when there is no WebGPU adapter, and says so', () => {
    const r = convkit(['info', '--json'], noGpu);
    assert.equal(r.status, 0, r.stderr);
    const info = r.events.at(-1);
    assert.equal(info.backend, 'wasm');
    assert.match(info.backendChoice, /^wasm \(auto: /);
    assert.equal(info.webgpu.available, false);
    assert.deepEqual(info.backends, ['auto', 'wasm', 'webgpu', 'ref']);
  });

  it('--backend webgpu without an adapter fails with a clear way out', () => {
    const r = convkit(['info', '--backend', 'webgpu'], noGpu);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no WebGPU adapter/);
    assert.match(r.stderr, /VK_ICD_FILENAMES/);
    assert.match(r.stderr, /--backend wasm/);
  });

  describe('with the SwiftShader adapter', { skip: !existsSync(SWIFTSHADER) && `${SWIFTSHADER} is missing (install Debian's chromium and libvulkan1)` }, () => {
    it('auto still picks wasm: a software GPU is slower than the SIMD kernels', () => {
      const r = convkit(['info', '--json'], software);
      assert.equal(r.status, 0, r.stderr);
      const info = r.events.at(-1);
      assert.equal(info.backend, 'wasm');
      assert.equal(info.webgpu.available, true);
      assert.equal(info.webgpu.software, true);
      assert.match(info.backendChoice, /SwiftShader.*renders in software/i);
    });

    it('--backend webgpu trains LeNet-5 to the same loss and accuracy as wasm', () => {
      const dir = mkdtempSync(join(tmpdir(), 'convkit-webgpu-'));
      const args = [
        'train',
        '--json',
        '--train-limit',
        '640',
        '--test-limit',
        '300',
        '--epochs',
        '1',
        '--batch',
        '16',
        '--schedule',
        'constant',
        '--optimizer',
        'adam',
        '--lr',
        '0.002',
      ];
      const gpu = convkit([...args, '--backend', 'webgpu', '--out', join(dir, 'gpu.convkit')], software);
      assert.equal(gpu.status, 0, gpu.stderr);
      const cpu = convkit([...args, '--backend', 'wasm', '--out', join(dir, 'cpu.convkit')]);
      assert.equal(cpu.status, 0, cpu.stderr);
      assert.equal(gpu.events[0].backend, 'webgpu');
      const [g, c] = [gpu, cpu].map((r) => r.events.find((e) => e.type === 'epoch'));
      assert.ok(Math.abs(g.trainLoss - c.trainLoss) < 1e-3, `train loss ${g.trainLoss} on webgpu vs ${c.trainLoss} on wasm`);
      assert.ok(Math.abs(g.testAccuracy - c.testAccuracy) <= 2 / 300, `test accuracy ${g.testAccuracy} vs ${c.testAccuracy}`);
      assert.ok(g.testAccuracy > 0.6, `it learned: ${g.testAccuracy}`);
      // The saved model is the trained one: evaluating it on wasm gives the accuracy seen on the GPU.
      const ev = convkit(['eval', '--model-file', join(dir, 'gpu.convkit'), '--backend', 'wasm', '--test-limit', '300', '--json']);
      assert.equal(ev.status, 0, ev.stderr);
      assert.ok(Math.abs(ev.events.at(-1).accuracy - g.testAccuracy) <= 1 / 300);
    });

    it('a lost GPU stops the run with the way to continue on the CPU from the last checkpoint', () => {
      const dir = mkdtempSync(join(tmpdir(), 'convkit-gpu-loss-'));
      const ck = join(dir, 'ck');
      const lost = convkit(
        [
          '--import',
          new URL('./inject-gpu-loss.mjs', import.meta.url).pathname,
          bin,
          'train',
          '--backend',
          'webgpu',
          '--train-limit',
          '640',
          '--test-limit',
          '100',
          '--batch',
          '16',
          '--epochs',
          '2',
          '--checkpoint-dir',
          ck,
          '--checkpoint-every',
          '5',
          '--out',
          join(dir, 'm.convkit'),
        ],
        { ...software, CONVKIT_LOSE_GPU_AFTER: '40' },
        false,
      );
      assert.equal(lost.status, 1, lost.stderr);
      assert.match(lost.stderr, /GPU device was lost/);
      const out = join(dir, 'm.convkit');
      assert.ok(lost.stderr.includes(`convkit train --resume ${ck} --out ${out} --backend wasm`), lost.stderr);
      const resumed = convkit(['train', '--resume', ck, '--out', out, '--backend', 'wasm', '--json']);
      assert.equal(resumed.status, 0, resumed.stderr);
      const result = resumed.events.at(-1);
      assert.equal(result.epochs, 2);
      assert.ok(existsSync(join(dir, 'm.convkit')));
    });
  });
});
