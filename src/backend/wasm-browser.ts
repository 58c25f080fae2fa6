/**
 * The browser half of the wasm backend, as wasm-node.ts is Node's: the kernel builds of
 * dist-wasm/ are fetched from wherever the page serves them, and compute threads are Web
 * Workers started from the backend's own worker source (a Blob URL). Threads need shared
 * memory, so a cross-origin isolated page (COOP/COEP headers); the calling thread must be a
 * Worker to block while they run (see wasm-threads.ts). Nothing here is used by Node.
 */
import type { WasmPlatform } from './wasm.js';
import type { WorkerPort } from './wasm-threads.js';
import { ConvkitError } from '../errors.js';

/** Where a kernel file is served: a base URL (the served dist-wasm/ folder) or a function of the file name. */
export type KernelLocation = string | URL | ((file: string) => string | URL);

// One Blob URL per distinct worker source, kept for the page's lifetime (a few KB).
const sourceUrls = new Map<string, string>();
function sourceUrl(source: string): string {
  let url = sourceUrls.get(source);
  if (!url) sourceUrls.set(source, url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
  return url;
}

/** A WasmPlatform for browsers (window or worker): fetch() for the kernels, Web Workers for threads. */
export function browserWasmPlatform(kernels: KernelLocation): WasmPlatform {
  const locate = typeof kernels === 'function' ? kernels : (file: string) => new URL(file, kernels);
  return {
    async readWasm(file: string): Promise<Uint8Array<ArrayBuffer>> {
      const url = locate(file);
      const response = await fetch(url);
      if (!response.ok) throw new ConvkitError(`wasm backend: could not fetch ${file} from ${String(url)} (${response.status})`);
      return new Uint8Array(await response.arrayBuffer());
    },
    cores: (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency || 1,
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
}
