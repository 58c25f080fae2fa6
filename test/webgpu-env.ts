/**
 * Where the WebGPU tests run. Without a GPU, Dawn finds an adapter only through a software
 * Vulkan driver: if VK_ICD_FILENAMES is unset and Debian's chromium SwiftShader driver is
 * installed, the tests point the Vulkan loader at it (before Dawn starts, so it applies to this
 * process). `webgpuSkip` is false when a WebGPU device opens, else the reason to skip.
 */
import { existsSync } from 'node:fs';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;

async function probe(): Promise<string | false> {
  try {
    const { WebGpuBackend } = await import('../src/backend/webgpu/webgpu.js');
    const be = await WebGpuBackend.create();
    be.dispose();
    return false;
  } catch (e) {
    return `no WebGPU device: ${(e as Error).message}`;
  }
}

export const webgpuSkip: string | false = await probe();
