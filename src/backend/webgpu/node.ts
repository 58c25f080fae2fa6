/// <reference types="@webgpu/types" />
/**
 * WebGPU in Node through Dawn (the optional `webgpu` package). Imported dynamically by
 * device.ts only when there is no navigator.gpu, so browser bundles never load it.
 */
import { ConvkitError } from '../../errors.js';

let gpu: GPU | null = null;

export async function nodeGpu(): Promise<GPU> {
  if (gpu) return gpu;
  let mod: { create(options: string[]): GPU; globals: object };
  try {
    mod = await import('webgpu');
  } catch (e) {
    throw new ConvkitError(`webgpu backend: the optional "webgpu" package (Dawn for Node) could not be loaded (${(e as Error).message}); `
      + 'install it with npm install webgpu, or use --backend wasm');
  }
  // GPUBufferUsage, GPUMapMode, GPUShaderStage… as in browsers.
  Object.assign(globalThis, mod.globals);
  gpu = mod.create([]);
  return gpu;
}
