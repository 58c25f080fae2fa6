/**
 * The Node-specific half of the wasm backend: reading the kernel builds from dist-wasm/ and
 * starting worker_threads. A browser build supplies the same WasmPlatform with fetch() and
 * Web Workers instead.
 */

import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { WasmPlatform } from './wasm.js';
import type { WorkerPort } from './wasm-threads.js';

/** dist-wasm/ sits at the package root, two levels above both src/backend/ and dist/backend/. */
const wasmDir = new URL('../../dist-wasm/', import.meta.url);

export const nodePlatform: WasmPlatform = {
  async readWasm(file: string): Promise<Uint8Array<ArrayBuffer>> {
    try {
      return await readFile(new URL(file, wasmDir));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Error(`wasm backend: ${file} not found in dist-wasm/ (build it with: node assembly/build.mjs)`);
      }
      throw e;
    }
  },
  cores: availableParallelism(),
  spawnWorker(source: string): WorkerPort {
    const worker = new Worker(source, { eval: true });
    // Idle workers sleep in Atomics.wait forever; they must not keep the process alive.
    worker.unref();
    return {
      postMessage: (m) => worker.postMessage(m),
      onMessage: (f) => worker.on('message', f),
      onError: (f) => worker.on('error', f),
      terminate: () => { void worker.terminate(); },
    };
  },
};
