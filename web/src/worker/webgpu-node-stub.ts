/// <reference types="@webgpu/types" />
/**
 * Stands in for src/backend/webgpu/node.ts in the web build (see vite.config.ts): that module
 * loads Dawn for Node (the `webgpu` package, a native binary). device.ts imports it only where
 * there is no navigator.gpu, which a browser with WebGPU always has.
 */
export async function nodeGpu(): Promise<GPU> {
  throw new Error('webgpu backend: this browser has no WebGPU (navigator.gpu); use the wasm backend');
}
