import { ConfigError } from '../errors.js';
import type { Backend } from './backend.js';
import { RefBackend } from './ref.js';
import { WasmBackend, type WasmBackendOptions } from './wasm.js';

export type BackendName = 'ref' | 'wasm';
export const backendNames: BackendName[] = ['ref', 'wasm'];

/** Options of every backend; each reads the ones it knows. */
export type BackendOptions = WasmBackendOptions;

/** Creates a backend by name. Async because fast backends compile WASM or open a GPU device. */
export async function createBackend(name: string = 'ref', options: BackendOptions = {}): Promise<Backend> {
  switch (name) {
    case 'ref': return new RefBackend('float32');
    // Node's file and thread access is loaded only here, so browsers can import this module.
    case 'wasm': return WasmBackend.create((await import('./wasm-node.js')).nodePlatform, options);
    default: throw new ConfigError(`unknown backend "${name}" (available: ${backendNames.join(', ')})`);
  }
}

export type { Backend } from './backend.js';
export { RefBackend, WasmBackend, type WasmBackendOptions };
