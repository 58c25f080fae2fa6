import { ConfigError } from '../errors.js';
import type { Backend } from './backend.js';
import type { GpuProbe } from './gpu-probe.js';
import { platform } from '#platform';
import { RefBackend } from './ref.js';
import { WasmBackend, type WasmBackendOptions } from './wasm.js';

export type BackendName = 'ref' | 'wasm' | 'webgpu' | 'auto';
export const backendNames: BackendName[] = ['auto', 'wasm', 'webgpu', 'ref'];

/** Options of every backend; each reads the ones it knows. */
export type BackendOptions = WasmBackendOptions;

/** A backend and, in words, why it was the one chosen. */
export interface BackendChoice {
  backend: Backend;
  /** E.g. "wasm (auto: the only WebGPU adapter, SwiftShader, renders in software)". */
  reason: string;
  /** What the WebGPU probe found, when `auto` asked. */
  gpu?: GpuProbe;
}

/**
 * Creates a backend by name; `auto` picks WebGPU where a hardware adapter exists and WASM
 * otherwise (a GPU emulated on the CPU is far slower than the SIMD kernels). Async because
 * fast backends compile WASM or open a GPU device.
 */
export async function selectBackend(name: string = 'ref', options: BackendOptions = {}): Promise<BackendChoice> {
  switch (name) {
    case 'ref':
      return { backend: new RefBackend('float32'), reason: 'ref (chosen)' };
    case 'wasm':
      return { backend: await createWasm(options), reason: 'wasm (chosen)' };
    case 'webgpu':
      return { backend: await createWebGpu(), reason: 'webgpu (chosen)' };
    case 'auto': {
      const gpu = await probeGpu();
      if (gpu.available && !gpu.software) return { backend: await createWebGpu(), reason: `webgpu (auto: ${gpu.description})`, gpu };
      const why = gpu.available ? `the only WebGPU adapter (${gpu.description}) renders in software` : gpu.reason;
      return { backend: await createWasm(options), reason: `wasm (auto: ${why})`, gpu };
    }
    default:
      throw new ConfigError(`unknown backend "${name}" (available: ${backendNames.join(', ')})`);
  }
}

export async function createBackend(name: string = 'ref', options: BackendOptions = {}): Promise<Backend> {
  return (await selectBackend(name, options)).backend;
}

/** Is there a WebGPU adapter here, and is it hardware? (navigator.gpu, or Dawn in Node.) */
export function probeGpu(): Promise<GpuProbe> {
  return platform.probeGpu();
}

function createWasm(options: BackendOptions): Promise<Backend> {
  return WasmBackend.create(options);
}

async function createWebGpu(): Promise<Backend> {
  const { WebGpuBackend } = await import('./webgpu/webgpu.js');
  return WebGpuBackend.create();
}

export type { Backend } from './backend.js';
export type { GpuProbe } from './gpu-probe.js';
export { RefBackend, WasmBackend, type WasmBackendOptions };
