/**
 * The browser half of the wasm backend: src/backend/wasm.ts takes a WasmPlatform (kernel files
 * and worker threads) and src/backend/wasm-node.ts is Node's; this is the browser's. The
 * kernel builds in dist-wasm/ (node assembly/build.mjs) become assets of the web build, and
 * compute threads are Web Workers started from the backend's own worker source.
 */
import { WasmBackend, type WasmPlatform } from '../../../src/backend/wasm.js';
import type { WorkerPort } from '../../../src/backend/wasm-threads.js';
import type { ChosenBackend } from './backend-choice.js';

// Vite emits every kernel build as an asset and maps its path to the served URL.
const kernelUrls = import.meta.glob('../../../dist-wasm/*.wasm', { query: '?url', import: 'default', eager: true }) as Record<string, string>;

// One Blob URL per distinct source, kept for the page's lifetime (a few KB).
const sourceUrls = new Map<string, string>();
function sourceUrl(source: string): string {
  let url = sourceUrls.get(source);
  if (!url) sourceUrls.set(source, url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
  return url;
}

const browserPlatform: WasmPlatform = {
  async readWasm(file: string): Promise<Uint8Array<ArrayBuffer>> {
    const url = kernelUrls[`../../../dist-wasm/${file}`];
    if (!url) throw new Error(`${file} was not in dist-wasm/ when the page was built (run node assembly/build.mjs, then rebuild)`);
    const response = await fetch(url);
    if (!response.ok) throw new Error(`could not fetch ${file} (${response.status})`);
    return new Uint8Array(await response.arrayBuffer());
  },
  cores: navigator.hardwareConcurrency || 1,
  spawnWorker(source: string): WorkerPort {
    const worker = new Worker(sourceUrl(source));
    return {
      postMessage: (m) => worker.postMessage(m),
      onMessage: (f) => worker.addEventListener('message', (e) => f(e.data)),
      onError: (f) => worker.addEventListener('error', (e) => f(e)),
      terminate: () => worker.terminate(),
    };
  },
};

export async function createBrowserWasmBackend(threads?: number): Promise<ChosenBackend> {
  if (!crossOriginIsolated) {
    // Without isolation there is no SharedArrayBuffer: one thread on a fixed-size heap.
    const backend = await WasmBackend.create(browserPlatform, { threads: 1, initialMemoryMiB: 256 });
    return { backend, note: `${backend.variant} SIMD, 1 thread (page not cross-origin isolated)` };
  }
  const backend = await WasmBackend.create(browserPlatform, { threads });
  return { backend, note: `${backend.variant} SIMD, ${backend.threads} thread${backend.threads === 1 ? '' : 's'}` };
}
