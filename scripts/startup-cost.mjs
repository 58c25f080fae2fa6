// What `--backend auto` costs at startup compared with `--backend wasm`: runs the CLI
// (bin/convkit.js, so `npm run build` first) for a tiny training run and for `convkit info`,
// each configuration N times, interleaved so that load from other processes spreads evenly,
// and prints the median wall time of each. docs/BENCHMARKS.md ("Startup cost") has the method
// and the figures. Usage: node scripts/startup-cost.mjs [runs=9]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'bin', 'convkit.js');
const runs = Number(process.argv[2] ?? 9);
const out = mkdtempSync(join(tmpdir(), 'convkit-startup-'));
const tiny = ['--model', 'lenet5', '--train-limit', '64', '--test-limit', '64', '--epochs', '1', '--batch', '64', '--json', '--out', join(out, 'm.convkit')];
// SwiftShader's Vulkan driver: makes the machine look as if it had a (software) GPU, so `auto` probes Dawn.
const swiftshader = { VK_ICD_FILENAMES: '/usr/lib/chromium/vk_swiftshader_icd.json' };
const configs = [
  { name: 'train --backend wasm', args: ['train', '--backend', 'wasm', ...tiny] },
  { name: 'train --backend auto', args: ['train', '--backend', 'auto', ...tiny] },
  { name: 'info', args: ['info', '--json'] },
  { name: 'train --backend auto, VK_ICD_FILENAMES=SwiftShader', args: ['train', '--backend', 'auto', ...tiny], env: swiftshader },
  { name: 'info, VK_ICD_FILENAMES=SwiftShader', args: ['info', '--json'], env: swiftshader },
];

const times = configs.map(() => []);
for (let r = 0; r < runs; r++) {
  configs.forEach((c, i) => {
    const t0 = performance.now();
    execFileSync(process.execPath, [cli, ...c.args], { stdio: 'ignore', env: { ...process.env, ...c.env } });
    times[i].push((performance.now() - t0) / 1000);
  });
}
rmSync(out, { recursive: true, force: true });
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
console.log(`node ${process.version}, ${runs} runs each, interleaved; seconds: median (min–max)`);
configs.forEach((c, i) =>
  console.log(`${c.name.padEnd(52)} ${median(times[i]).toFixed(3)} (${Math.min(...times[i]).toFixed(3)}–${Math.max(...times[i]).toFixed(3)})`),
);
