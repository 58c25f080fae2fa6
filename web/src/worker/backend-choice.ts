/**
 * The one place the playground picks its compute backend: the wasm backend (SIMD kernels,
 * threads when the page is cross-origin isolated) when it loads, else the reference backend.
 */
import { type Backend, RefBackend } from '../../../src/index.js';
import { createBrowserWasmBackend } from './wasm-browser.js';

export interface ChosenBackend {
  backend: Backend;
  /** Shown beside the backend's name: threads and kernel build, or why wasm was not used. */
  note: string;
}

/** `threads` caps the wasm backend's compute threads (default: all cores); `only: 'ref'` skips wasm. */
export async function chooseBackend(options: { threads?: number; only?: 'ref' } = {}): Promise<ChosenBackend> {
  if (options.only === 'ref') return { backend: new RefBackend('float32'), note: 'reference kernels, chosen with ?backend=ref' };
  try {
    return await createBrowserWasmBackend(options.threads);
  } catch (e) {
    return { backend: new RefBackend('float32'), note: `wasm unavailable: ${(e as Error).message}` };
  }
}
