/// <reference types="@webgpu/types" />
/**
 * Is there a WebGPU adapter worth training on? The automatic backend choice asks this: a
 * hardware adapter means WebGPU, a software one (SwiftShader, llvmpipe) or none means WASM,
 * which is far faster than a GPU emulated on the CPU.
 */
export interface GpuProbe {
  /** An adapter was found (hardware or software). */
  available: boolean;
  /** It renders in software on the CPU. */
  software: boolean;
  /** Vendor, architecture and driver as the adapter reports them ("" when none). */
  description: string;
  /** Why there is no adapter, when there is none. */
  reason?: string;
}

const SOFTWARE_NAMES = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render|warp/i;

/** The readable description and software flag of an adapter's info. */
export function describeAdapter(info: Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean }, fallback = false): { description: string; software: boolean } {
  const description = [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' ');
  return { description, software: fallback || !!info.isFallbackAdapter || SOFTWARE_NAMES.test(description) };
}

/** Asks a GPU object (navigator.gpu or the `webgpu` package's) for its preferred adapter. */
export async function probeGpuObject(gpu: GPU | undefined): Promise<GpuProbe> {
  if (!gpu) return { available: false, software: false, description: '', reason: 'this engine has no WebGPU' };
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return { available: false, software: false, description: '', reason: 'no WebGPU adapter' };
  const fallback = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  return { available: true, ...describeAdapter(adapter.info ?? {}, fallback) };
}
