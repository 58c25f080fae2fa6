/**
 * Stands in for src/backend/gpu-probe-node.ts in the web build (see vite.config.ts): that
 * module probes Dawn in a child process. Browsers probe navigator.gpu directly and never
 * reach it.
 */
import type { GpuProbe } from '../../../src/backend/gpu-probe.js';

export async function probeGpuInChild(): Promise<GpuProbe> {
  return { available: false, software: false, description: '', reason: 'no child processes in a browser' };
}
