/**
 * The playground's wasm backend: the library's browser platform (src/backend/wasm-browser.ts)
 * with the kernel builds of dist-wasm/ (node assembly/build.mjs) as assets of the web build.
 */
import { WasmBackend } from '../../../src/backend/wasm.js';
import { browserWasmPlatform } from '../../../src/backend/wasm-browser.js';
import type { ChosenBackend } from './backend-choice.js';

// Vite emits every kernel build as an asset and maps its path to the served URL.
const kernelUrls = import.meta.glob('../../../dist-wasm/*.wasm', { query: '?url', import: 'default', eager: true }) as Record<string, string>;

const browserPlatform = browserWasmPlatform((file) => {
  const url = kernelUrls[`../../../dist-wasm/${file}`];
  if (!url) throw new Error(`${file} was not in dist-wasm/ when the page was built (run node assembly/build.mjs, then rebuild)`);
  return new URL(url, self.location.href);
});

export async function createBrowserWasmBackend(threads?: number): Promise<ChosenBackend> {
  if (!crossOriginIsolated) {
    // Without isolation there is no SharedArrayBuffer: one thread on a fixed-size heap.
    const backend = await WasmBackend.create(browserPlatform, { threads: 1, initialMemoryMiB: 256 });
    return { backend, note: `${backend.variant} SIMD, 1 thread (page not cross-origin isolated)` };
  }
  const backend = await WasmBackend.create(browserPlatform, { threads });
  return { backend, note: `${backend.variant} SIMD, ${backend.threads} thread${backend.threads === 1 ? '' : 's'}` };
}
