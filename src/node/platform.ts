/**
 * Node's platform, chosen by the package's `#platform` import under the "node" condition:
 * worker_threads for compute threads, Dawn (the optional `webgpu` package) for WebGPU.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Platform } from '../backend/platform.js';
import { ConfigError } from '../errors.js';
import type { WorkerPort } from '../backend/wasm-threads.js';
import { dawnGpu } from './dawn.js';
import { probeGpuInChild } from './gpu-probe.js';

function spawnWorker(source: string): WorkerPort {
  // Eval'd workers run as CommonJS, so `require` exists there.
  const worker = new Worker(`'use strict';\nconst port = require('node:worker_threads').parentPort;\n${source}`, { eval: true });
  const onMessage: ((m: unknown) => void)[] = [],
    onError: ((e: unknown) => void)[] = [];
  worker.on('message', (m) => onMessage.forEach((f) => f(m)));
  worker.on('error', (e) => onError.forEach((f) => f(e)));
  return {
    postMessage: (m) => worker.postMessage(m),
    onMessage: (f) => {
      onMessage.push(f);
    },
    onError: (f) => {
      onError.push(f);
    },
    // Started workers sleep in Atomics.wait and must not keep the process alive.
    release: () => worker.unref(),
    terminate: () => {
      void worker.terminate();
    },
  };
}

export const platform: Platform = {
  name: 'node',
  // Asked when a backend starts, not when this module loads.
  get cores() {
    return availableParallelism();
  },
  spawnWorker,
  gpu: dawnGpu,
  probeGpu: probeGpuInChild,
  async readUrl(url: URL) {
    // The URL comes from the user (wasmPaths): a missing file or server is theirs to fix.
    try {
      if (url.protocol === 'file:') return await readFile(fileURLToPath(url));
      const response = await fetch(url);
      if (!response.ok) throw new ConfigError(`could not fetch ${url.href} (HTTP ${response.status})`);
      return new Uint8Array(await response.arrayBuffer());
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw new ConfigError(`could not read ${url.href}: ${(e as Error).message}`);
    }
  },
};
