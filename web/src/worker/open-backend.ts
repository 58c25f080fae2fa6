/**
 * The playground's backend: the library's `selectBackend` (auto takes WebGPU only on a
 * hardware adapter, else the wasm kernels), with the page's fallbacks when the requested one
 * cannot start (webgpu → wasm → ref) and a note for the badge built from the library's reason.
 */
import { type Backend, type BackendOptions, WasmBackend, selectBackend } from 'convkit';
import type { BackendRequest } from '../protocol.js';

export interface OpenedBackend {
  backend: Backend;
  /** What was chosen and why, e.g. "wasm (auto: the only WebGPU adapter (google swiftshader) renders in software), relaxed SIMD, 2 threads". */
  note: string;
}

export async function openBackend(requested: BackendRequest, options: BackendOptions = {}): Promise<OpenedBackend> {
  // Without cross-origin isolation there is no SharedArrayBuffer: a fixed heap, so keep it modest.
  const wasmOptions: BackendOptions = crossOriginIsolated ? options : { initialMemoryMiB: 256, ...options };
  try {
    const choice = await selectBackend(requested, wasmOptions);
    return { backend: choice.backend, note: describe(choice.reason, choice.backend) };
  } catch (error) {
    if (requested === 'ref') throw error;
    const fallback = requested === 'wasm' ? 'ref' : 'wasm';
    const opened = await openBackend(fallback, options);
    return { backend: opened.backend, note: `${opened.note.replace(/ \(chosen\)/, '')} (${requested} unavailable: ${message(error)})` };
  }
}

function describe(reason: string, backend: Backend): string {
  const base = reason.replace(/ \(chosen\)$/, '');
  if (backend instanceof WasmBackend) {
    const isolation = crossOriginIsolated ? '' : ' (page not cross-origin isolated)';
    return `${base}, ${backend.variant} SIMD, ${backend.threads} thread${backend.threads === 1 ? '' : 's'}${isolation}`;
  }
  if (backend.description) return `${base}: ${backend.description}${backend.emulated ? ' (renders in software: slower than wasm)' : ''}`;
  return `${base}: reference kernels in plain TypeScript`;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
