import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { type GpuProbe, describeAdapter } from '../backend/gpu-probe.js';

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

/**
 * Why a Linux machine can have no hardware WebGPU adapter, found without loading a driver: no
 * GPU device node (DRM render nodes, NVIDIA's devices). Undefined where one may exist, on other
 * systems, and where the user points Vulkan at a driver of their choice (VK_ICD_FILENAMES).
 */
export function noGpuDevice(env: NodeJS.ProcessEnv = process.env, platform: string = process.platform, listDir = readdirSync): string | undefined {
  if (platform !== 'linux' || env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES) return undefined;
  const names = (dir: string) => {
    try {
      return listDir(dir) as string[];
    } catch {
      return [];
    }
  };
  if (names('/dev/dri').some((n) => n.startsWith('render')) || names('/dev').some((n) => n.startsWith('nvidia'))) return undefined;
  return 'no GPU device on this machine (no /dev/dri render node or /dev/nvidia*)';
}

let cached: Promise<GpuProbe> | undefined;

/**
 * Probes Dawn in a child process whose stderr (driver chatter) is discarded; about 2 s, so it
 * is skipped where no GPU device exists and done at most once per process.
 */
export function probeGpuInChild(): Promise<GpuProbe> {
  return (cached ??= probe());
}

async function probe(timeoutMs = 20_000): Promise<GpuProbe> {
  const entry = webgpuPackagePath();
  if (!entry) return { available: false, software: false, description: '', reason: 'the optional `webgpu` package is not installed' };
  const none = noGpuDevice();
  if (none) return { available: false, software: false, description: '', reason: none };
  return new Promise((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', PROBE, pathToFileURL(entry).href], { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout) => {
      if (error) {
        resolve({ available: false, software: false, description: '', reason: `probing WebGPU failed (${error.message.split('\n')[0]})` });
        return;
      }
      try {
        const info = JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null');
        resolve(info ? { available: true, ...describeAdapter(info) } : { available: false, software: false, description: '', reason: 'no WebGPU adapter' });
      } catch {
        resolve({ available: false, software: false, description: '', reason: 'probing WebGPU gave no answer' });
      }
    });
  });
}
