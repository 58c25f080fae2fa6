/// <reference types="@webgpu/types" />
/**
 * test/webgpu-env.ts in the browser bundle: there it points Dawn (Node) at SwiftShader and
 * opens a device to decide whether the webgpu case runs; here the browser's own navigator.gpu
 * decides. The runner (run.ts) asks for the webgpu case only when the page gets an adapter,
 * and checks that a chosen case did not end up skipped, so this cannot hide a failure.
 */

async function probe(): Promise<string | false> {
  const gpu = (navigator as { gpu?: GPU }).gpu;
  if (!gpu) return 'this browser has no WebGPU (navigator.gpu; headless Chromium needs --enable-unsafe-webgpu)';
  return (await gpu.requestAdapter()) ? false : 'no WebGPU adapter in this browser';
}

export const webgpuSkip: string | false = await probe();
