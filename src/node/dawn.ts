/// <reference types="@webgpu/types" />
/**
 * WebGPU in Node through Dawn (the optional `webgpu` package), for Node's platform.
 * Loaded on first use, so a machine without the package only fails when WebGPU is asked for.
 */
import { ConvkitError } from '../errors.js';

const gpus = new Map<string, GPU>();

/** Dawn's GPU object; `flags` are Dawn's options (e.g. "backend=opengles"), one instance per set. */
export async function dawnGpu(flags: readonly string[] = []): Promise<GPU> {
  const key = flags.join('\n');
  const cached = gpus.get(key);
  if (cached) return cached;
  let mod: { create(options: string[]): GPU; globals: object };
  try {
    mod = await import('webgpu');
  } catch (e) {
    throw new ConvkitError(
      `webgpu backend: the optional "webgpu" package (Dawn for Node) could not be loaded (${(e as Error).message}); ` +
        'install it with npm install webgpu, or use --backend wasm',
    );
  }
  // GPUBufferUsage, GPUMapMode, GPUShaderStage… as in browsers.
  Object.assign(globalThis, mod.globals);
  const gpu = mod.create([...flags]);
  gpus.set(key, gpu);
  return gpu;
}
