/**
 * The playground's wasm backend: the library's, with the kernel builds that come bundled with
 * its JavaScript; threads when the page is cross-origin isolated.
 */
import { WasmBackend } from '../../../src/backend/wasm.js';
import type { ChosenBackend } from './backend-choice.js';

export async function createBrowserWasmBackend(threads?: number): Promise<ChosenBackend> {
  if (!crossOriginIsolated) {
    // Without isolation there is no SharedArrayBuffer: one thread on a fixed-size heap.
    const backend = await WasmBackend.create({ threads: 1, initialMemoryMiB: 256 });
    return { backend, note: `${backend.variant} SIMD, 1 thread (page not cross-origin isolated)` };
  }
  const backend = await WasmBackend.create({ threads });
  return { backend, note: `${backend.variant} SIMD, ${backend.threads} thread${backend.threads === 1 ? '' : 's'}` };
}
