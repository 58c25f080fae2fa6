/// <reference types="@webgpu/types" />
/**
 * The one place the playground picks its compute backend. `auto` (the default) takes WebGPU
 * only on a hardware adapter — a GPU emulated on the CPU (SwiftShader) is far slower than the
 * SIMD kernels — and otherwise the wasm backend (SIMD kernels, threads when the page is
 * cross-origin isolated); the reference backend is the last resort. The same rule as the
 * library's selectBackend('auto') (src/backend/index.ts), whose wasm half needs Node's file
 * system, so the browser's platform is wired in here.
 */
import { type Backend, RefBackend, probeGpu } from '../../../src/index.js';
import type { WebGpuBackend } from '../../../src/backend/webgpu/webgpu.js';
import type { BackendRequest } from '../protocol.js';
import { createBrowserWasmBackend } from './wasm-browser.js';

export interface ChosenBackend {
  backend: Backend;
  /** What was chosen and why, e.g. "webgpu: nvidia ampere" or "wasm (auto: the only WebGPU adapter (google swiftshader) renders in software)". */
  note: string;
}

/** `threads` caps the wasm backend's compute threads (default: all cores). */
export async function chooseBackend(name: BackendRequest = 'auto', options: { threads?: number } = {}): Promise<ChosenBackend> {
  switch (name) {
    case 'ref':
      return { backend: new RefBackend('float32'), note: 'ref (chosen): reference kernels in plain TypeScript' };
    case 'wasm':
      return wasmOrRef('wasm (chosen)', options.threads);
    case 'webgpu': {
      let why: string;
      try {
        const gpu = await probeGpu();
        if (gpu.available) return await webgpu('webgpu');
        why = gpu.reason ?? 'no WebGPU adapter';
      } catch (e) {
        why = message(e);
      }
      return wasmOrRef(`wasm (webgpu unavailable: ${why})`, options.threads);
    }
    case 'auto': {
      let why: string;
      try {
        const gpu = await probeGpu();
        if (gpu.available && !gpu.software) return await webgpu('webgpu (auto)');
        why = gpu.available ? `the only WebGPU adapter (${gpu.description || 'unnamed'}) renders in software` : gpu.reason ?? 'no WebGPU adapter';
      } catch (e) {
        why = `WebGPU failed: ${message(e)}`;
      }
      return wasmOrRef(`wasm (auto: ${why})`, options.threads);
    }
  }
}

/** The adapter in words, as WebGPU reports it ("google swiftshader"). */
export function adapterName(backend: WebGpuBackend): string {
  const { vendor, architecture, device, description } = backend.info;
  return [vendor, architecture, device, description].filter((s) => s).join(' ') || 'unnamed adapter';
}

async function webgpu(label: string): Promise<ChosenBackend> {
  // Loaded on demand (as src/backend/index.ts does): the wasm path never fetches the WGSL kernels.
  const { WebGpuBackend } = await import('../../../src/backend/webgpu/webgpu.js');
  const backend = await WebGpuBackend.create();
  const software = backend.info.software ? ' (renders in software: slower than wasm)' : '';
  return { backend, note: `${label}: ${adapterName(backend)}${software}` };
}

async function wasmOrRef(label: string, threads?: number): Promise<ChosenBackend> {
  try {
    const chosen = await createBrowserWasmBackend(threads);
    return { backend: chosen.backend, note: `${label}, ${chosen.note}` };
  } catch (e) {
    return { backend: new RefBackend('float32'), note: `ref (wasm unavailable: ${message(e)})` };
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
