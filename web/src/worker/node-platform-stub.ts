/**
 * Stands in for src/backend/wasm-node.ts in the web build (see vite.config.ts): that module
 * reads files and starts worker_threads, which browsers do not have. The playground creates
 * the wasm backend with its own browser platform (wasm-browser.ts) instead.
 */
import type { WasmPlatform } from '../../../src/backend/wasm.js';

export const nodePlatform: WasmPlatform = {
  readWasm: () => Promise.reject(new Error("createBackend('wasm') uses Node's file system; in a browser use WasmBackend.create with a browser platform")),
  cores: 1,
};
