/**
 * The browser's platform (window or worker), chosen by the package's `#platform` import
 * everywhere except Node: compute threads are Web Workers started from the backend's own
 * worker program (a Blob URL), the GPU is navigator.gpu. Threads need shared memory, so a
 * cross-origin isolated page (COOP/COEP headers); the calling thread must be a Worker to block
 * while they run (see wasm-threads.ts).
 */
import { probeGpuObject } from './gpu-probe.js';
import { ConfigError } from '../errors.js';
import type { Platform } from './platform.js';
import type { WorkerPort } from './wasm-threads.js';

// One Blob URL per distinct worker source, kept for the page's lifetime (a few KB).
const sourceUrls = new Map<string, string>();
function sourceUrl(source: string): string {
  let url = sourceUrls.get(source);
  if (!url) sourceUrls.set(source, (url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }))));
  return url;
}

const nav = () => (globalThis as { navigator?: { gpu?: GPU; hardwareConcurrency?: number } }).navigator;

function spawnWorker(source: string): WorkerPort {
  const worker = new Worker(sourceUrl(`'use strict';\nconst port = self;\n${source}`));
  return {
    postMessage: (m) => worker.postMessage(m),
    onMessage: (f) => worker.addEventListener('message', (e) => f(e.data)),
    onError: (f) => worker.addEventListener('error', (e) => f(e)),
    terminate: () => worker.terminate(),
  };
}

export const platform: Platform = {
  name: 'browser',
  cores: nav()?.hardwareConcurrency || 1,
  spawnWorker: typeof Worker === 'function' ? spawnWorker : undefined,
  gpu: async () => nav()?.gpu,
  probeGpu: () => probeGpuObject(nav()?.gpu),
  async readUrl(url: URL) {
    // The URL comes from the user (wasmPaths): a missing file or server is theirs to fix.
    let response: Response;
    try {
      response = await fetch(url);
    } catch (e) {
      throw new ConfigError(`could not fetch ${url.href}: ${(e as Error).message}`);
    }
    if (!response.ok) throw new ConfigError(`could not fetch ${url.href} (HTTP ${response.status})`);
    return new Uint8Array(await response.arrayBuffer());
  },
};
