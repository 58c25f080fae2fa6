/// <reference types="@webgpu/types" />
import { platform } from '#platform';
import { ConvkitError } from '../../errors.js';

export interface WebGpuBackendOptions {
  /** Passed to requestAdapter. */
  powerPreference?: GPUPowerPreference;
  /** Ask for the fallback (software) adapter. */
  forceFallbackAdapter?: boolean;
  /** Check every dispatch in a validation error scope that names the kernel (slow; development only). */
  debug?: boolean;
  /**
   * The GEMM kernel behind matrix products and convolutions: 'auto' (GPUs: 'wide' for products
   * of at least 64 × 64, 'tiled' for smaller ones), 'wide' (128 × 128 tiles, 8 × 8 results per
   * invocation, vec4 loads where the layout allows, double-buffered workgroup memory), 'tiled'
   * (16–64-wide tiles in workgroup memory) or 'registers' (no workgroup memory or barriers).
   * Default: 'registers' on software adapters, where barriers are very slow, 'auto' elsewhere.
   */
  gemmKernel?: 'auto' | 'wide' | 'tiled' | 'registers';
  /** 'compatibility' also accepts adapters of WebGPU's compatibility mode (OpenGL ES, older APIs). */
  featureLevel?: 'core' | 'compatibility';
  /** Node only: options for Dawn's instance, e.g. ["backend=opengles"]. */
  dawnFlags?: string[];
  /** A GPU object to use instead of navigator.gpu or Dawn's (tests, embedding). */
  gpu?: GPU;
}

/** What the backend runs on, for `convkit info` and for choosing a backend. */
export interface WebGpuInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software rasteriser (SwiftShader, llvmpipe, WARP, the fallback adapter): correct but slower than the CPU backends. */
  software: boolean;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  /** Optional features the device was opened with ('timestamp-query': per-kernel GPU times when profiling). */
  features: string[];
  /** Storage buffers one kernel may bind (bounds how many parameters one fused optimizer dispatch updates). */
  maxStorageBuffersPerShaderStage: number;
}

export const NO_ADAPTER =
  'webgpu backend: no WebGPU adapter found. In Node on a machine without a GPU, set ' +
  "VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (the SwiftShader Vulkan driver of Debian's chromium package, " +
  'with libvulkan1) to run on the CPU through WebGPU; otherwise use --backend wasm.';

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software|warp|basic render|microsoft basic/i;

async function gpuObject(options: WebGpuBackendOptions): Promise<GPU> {
  if (options.gpu) return options.gpu;
  const gpu = await platform.gpu(options.dawnFlags);
  if (!gpu) throw new ConvkitError('webgpu backend: this browser has no WebGPU (navigator.gpu); use the wasm backend');
  return gpu;
}

/** Opens the adapter and a device with its largest buffer limits. */
export async function openDevice(options: WebGpuBackendOptions): Promise<{ device: GPUDevice; info: WebGpuInfo }> {
  const gpu = await gpuObject(options);
  const adapter = await gpu.requestAdapter({
    powerPreference: options.powerPreference,
    forceFallbackAdapter: options.forceFallbackAdapter,
    ...(options.featureLevel ? { featureLevel: options.featureLevel } : {}),
  });
  if (!adapter) throw new ConvkitError(NO_ADAPTER);
  const a = adapter.info;
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    label: 'convkit',
    // Timestamps only when profiling (Dispatcher.profile); asking costs nothing otherwise.
    requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
    requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      // More bindings let one fused optimizer dispatch update more parameters.
      maxStorageBuffersPerShaderStage: Math.min(limits.maxStorageBuffersPerShaderStage, 32),
      // Kernels use workgroups of up to 256 invocations and 8 KiB of workgroup memory (the
      // core defaults; compatibility-mode defaults are lower).
      maxComputeWorkgroupSizeX: Math.min(limits.maxComputeWorkgroupSizeX, 256),
      maxComputeInvocationsPerWorkgroup: Math.min(limits.maxComputeInvocationsPerWorkgroup, 256),
      maxComputeWorkgroupStorageSize: Math.min(limits.maxComputeWorkgroupStorageSize, 16384),
    },
  });
  const describe = [a.vendor, a.architecture, a.device, a.description].join(' ');
  const fallback =
    (a as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ??
    (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter ??
    false;
  return {
    device,
    info: {
      vendor: a.vendor,
      architecture: a.architecture,
      device: a.device,
      description: a.description,
      software: fallback || SOFTWARE.test(describe),
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
      maxBufferSize: device.limits.maxBufferSize,
      features: [...device.features].sort(),
      maxStorageBuffersPerShaderStage: device.limits.maxStorageBuffersPerShaderStage,
    },
  };
}
