/// <reference types="@webgpu/types" />
/**
 * What a backend needs from the environment it runs in: threads, a GPU, a way to read a URL.
 * The package's `#platform` import (package.json "imports") resolves to Node's implementation
 * (src/node/platform.ts) under the "node" condition and to the browser's
 * (src/backend/platform-browser.ts) everywhere else, so no Node built-in reaches a browser bundle.
 */
import type { GpuProbe } from './gpu-probe.js';
import type { SpawnWorker } from './wasm-threads.js';

export interface Platform {
  readonly name: 'node' | 'browser';
  /** Logical CPU cores: the wasm backend's default thread count. */
  readonly cores: number;
  /**
   * Starts a compute thread from a worker program's source, where threads exist; the program
   * expects a `port` constant (the thread's message port) defined in front of it.
   */
  readonly spawnWorker?: SpawnWorker;
  /** The WebGPU entry point (navigator.gpu, or Dawn in Node); `flags` are Dawn's options. */
  gpu(flags?: readonly string[]): Promise<GPU | undefined>;
  /** Is there a WebGPU adapter, and is it hardware? (For `auto`.) */
  probeGpu(): Promise<GpuProbe>;
  /** The bytes at a URL (file: URLs too, in Node). */
  readUrl(url: URL): Promise<Uint8Array<ArrayBuffer>>;
}
