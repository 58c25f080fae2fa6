/**
 * The WASM kernel module (assembly/kernels.ts, built by assembly/build.mjs into dist-wasm/):
 * its exports' types (derived from the table in wasm-interface.ts), and picking the best build
 * the engine accepts. Pointers are byte offsets into the imported memory; booleans are 0/1.
 */

import { ConvkitError } from '../errors.js';
import { type KernelSpec, kernelTable } from './wasm-interface.js';

type Table = typeof kernelTable;
export type KernelName = keyof Table;
type Numbers<A> = { -readonly [I in keyof A]: number };

/** The exports' signatures, from the kernel table. */
export type KernelExports = {
  [K in KernelName]: (...args: Numbers<Table[K]['args']>) => Table[K] extends { returns: string } ? number : void;
};

/** Kernels worker threads may run (threaded in the table). */
export type ThreadedKernel = { [K in KernelName]: Table[K] extends { threaded: true } ? K : never }[KernelName];

/** Names of the exports worker threads may be asked to run (index = task id), in table order. */
export const threadedKernels: readonly ThreadedKernel[] = (Object.keys(kernelTable) as KernelName[]).filter(
  (name): name is ThreadedKernel => (kernelTable[name] as KernelSpec).threaded === true,
);

/** Bit k set: argument k of the kernel is an offset into the running thread's workspace. */
export function workspaceMask(kernel: KernelName): number {
  let mask = 0;
  (kernelTable[kernel] as KernelSpec).args.forEach(([, type], k) => {
    if (type === 'work') mask |= 1 << k;
  });
  return mask;
}

export type KernelVariant = 'relaxed' | 'simd';

export interface LoadedKernels {
  module: WebAssembly.Module;
  variant: KernelVariant;
}

/** File name of a build in dist-wasm/. */
export function kernelFile(variant: KernelVariant, shared: boolean): string {
  return `kernels-${variant}${shared ? '' : '-unshared'}.wasm`;
}

/**
 * Compiles the fastest build the engine supports: relaxed SIMD (fused multiply-add) first,
 * unless `relaxed` is false, then plain SIMD. Relaxed SIMD needs Chromium or a flag on Node 20.
 */
export async function loadKernels(read: (file: string) => Promise<Uint8Array<ArrayBuffer>>, shared: boolean, relaxed = true): Promise<LoadedKernels> {
  const variants: KernelVariant[] = relaxed === false ? ['simd'] : ['relaxed', 'simd'];
  const failures: string[] = [];
  for (const variant of variants) {
    const file = kernelFile(variant, shared);
    try {
      const bytes = await read(file);
      if (!WebAssembly.validate(bytes)) {
        failures.push(`${file}: not supported by this engine`);
        continue;
      }
      return { module: await WebAssembly.compile(bytes), variant };
    } catch (e) {
      failures.push((e as Error).message);
    }
  }
  throw new ConvkitError(`wasm backend: no usable kernel build (${failures.join('; ')}); WebAssembly SIMD is required`);
}

export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  const instance = new WebAssembly.Instance(module, { env: { memory, abort: wasmAbort } });
  return instance.exports as unknown as KernelExports;
}

function wasmAbort(): never {
  throw new Error('wasm backend: kernel aborted');
}
