/**
 * createBackend for the browser bundle of test/backend.test.ts, in place of
 * src/backend/index.ts: 'ref', 'wasm' over the browser platform (kernels fetched from the served
 * dist-wasm/, Web Workers for threads) and 'webgpu' on
 * navigator.gpu when src/backend/webgpu/webgpu.ts existed at bundle time (build.ts decides);
 * optionally with a kernel broken on purpose (SuiteConfig.fault).
 */
import type { Backend } from '../../src/backend/backend.js';
import { RefBackend } from '../../src/backend/ref.js';
import { WasmBackend, type WasmBackendOptions } from '../../src/backend/wasm.js';
import { config } from './select.js';

export type BackendOptions = WasmBackendOptions;

/**
 * The page serves the repository's dist-wasm/ at /dist-wasm/ (see run.ts): the suite reads the
 * kernels from there (the `wasmPaths` route) rather than from the modules bundled with the code.
 */
const wasmPaths = new URL('/dist-wasm/', location.href);

export async function createBackend(name = 'ref', options: BackendOptions = {}): Promise<Backend> {
  const be = await create(name, options);
  if (config.fault) injectFault(be, config.fault.method);
  return be;
}

/**
 * The runner's check that a broken kernel makes the suite fail (SuiteConfig.fault): after each
 * call of `method`, the first element of its last array argument (the output, by the Backend
 * interface's convention) is off by one. For backends whose arrays the CPU reads directly (wasm).
 */
function injectFault(be: Backend, method: string): void {
  const target = be as unknown as Record<string, (...args: unknown[]) => unknown>;
  const original = target[method];
  if (typeof original !== 'function') throw new Error(`fault injection: the backend has no method ${method}`);
  target[method] = function (this: unknown, ...args: unknown[]) {
    const r = original.apply(be, args);
    const out = args.findLast((a: unknown) => a instanceof Float32Array) as Float32Array | undefined;
    if (out?.length) out[0] += 1;
    return r;
  };
}

async function create(name: string, options: BackendOptions): Promise<Backend> {
  switch (name) {
    case 'ref':
      return new RefBackend('float32');
    case 'wasm':
      return WasmBackend.create({ wasmPaths, ...options });
    case 'webgpu': {
      // A virtual module of build.ts: the backend's module, or null when it did not exist.
      // @ts-expect-error: resolved by build.ts only
      const { WebGpuBackend } = (await import('convkit-browser:webgpu')) as { WebGpuBackend: null | { create(options?: BackendOptions): Promise<Backend> } };
      if (!WebGpuBackend) throw new Error('src/backend/webgpu/webgpu.ts did not exist when the browser suite was bundled');
      return WebGpuBackend.create(options);
    }
    default:
      throw new Error(`unknown backend "${name}" in the browser suite (test/browser/backends.ts knows ref, wasm, webgpu)`);
  }
}
