import { ConfigError } from '../errors.js';
import type { Backend } from './backend.js';
import { RefBackend } from './ref.js';

export type BackendName = 'ref';
export const backendNames: BackendName[] = ['ref'];

/** Creates a backend by name. Async because fast backends compile WASM or open a GPU device. */
export async function createBackend(name: string = 'ref'): Promise<Backend> {
  switch (name) {
    case 'ref': return new RefBackend('float32');
    default: throw new ConfigError(`unknown backend "${name}" (available: ${backendNames.join(', ')})`);
  }
}

export type { Backend } from './backend.js';
export { RefBackend };
