import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { GpuProbe } from './gpu-probe.js';

/** The `webgpu` package's entry (an optional dependency: Dawn's Node binding), or undefined. */
export function webgpuPackagePath(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('webgpu');
  } catch {
    return undefined;
  }
}

// Runs in the child: reports the adapter's info as one line of JSON on stdout.
const PROBE = `
const { create, globals } = await import(process.argv[1]);
Object.assign(globalThis, globals);
const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' });
const i = adapter?.info ?? {};
process.stdout.write(JSON.stringify(adapter ? { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, isFallbackAdapter: !!(adapter.isFallbackAdapter ?? i.isFallbackAdapter) } : null));
process.exit(0);
`;

/** Probes Dawn in a child process whose stderr (driver chatter) is discarded. */
export async function probeGpuInChild(timeoutMs = 20_000): Promise<GpuProbe> {
  const entry = webgpuPackagePath();
  if (!entry) return { available: false, software: false, description: '', reason: 'the optional `webgpu` package is not installed' };
  const { describeAdapter } = await import('./gpu-probe.js');
  return new Promise((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', PROBE, pathToFileURL(entry).href], { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout) => {
      if (error) { resolve({ available: false, software: false, description: '', reason: `probing WebGPU failed (${error.message.split('\n')[0]})` }); return; }
      try {
        const info = JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null');
        resolve(info ? { available: true, ...describeAdapter(info) } : { available: false, software: false, description: '', reason: 'no WebGPU adapter' });
      } catch {
        resolve({ available: false, software: false, description: '', reason: 'probing WebGPU gave no answer' });
      }
    });
  });
}
