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
import { ConvkitError } from '../errors.js';

/** dist-wasm/ sits at the package root, two levels above both src/backend/ and dist/backend/. */
const wasmDir = new URL('../../dist-wasm/', import.meta.url);

export const nodePlatform: WasmPlatform = {
  async readWasm(file: string): Promise<Uint8Array<ArrayBuffer>> {
    try {
      return await readFile(new URL(file, wasmDir));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ConvkitError(`wasm backend: ${file} not found in dist-wasm/ (build it with: node assembly/build.mjs)`);
      }
      throw e;
    }
  },
  cores: availableParallelism(),
  spawnWorker(source: string): WorkerPort {
    const worker = new Worker(source, { eval: true });
    const onMessage: ((m: unknown) => void)[] = [], onError: ((e: unknown) => void)[] = [];
    worker.on('message', (m) => onMessage.forEach((f) => f(m)));
    worker.on('error', (e) => onError.forEach((f) => f(e)));
    return {
      postMessage: (m) => worker.postMessage(m),
      onMessage: (f) => { onMessage.push(f); },
      onError: (f) => { onError.push(f); },
      // Started workers sleep in Atomics.wait and must not keep the process alive.
      release: () => worker.unref(),
      terminate: () => { void worker.terminate(); },
    };
  },
};
