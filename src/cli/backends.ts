import { type Backend, type BackendChoice, selectBackend } from '../backend/index.js';
import type { CommonOptions } from './options.js';

const openBackends: Backend[] = [];
const choices = new WeakMap<Backend, BackendChoice>();

/** The compute backend a command asked for (auto by default: WebGPU on a hardware GPU, else SIMD kernels on every core). */
export async function backendFor(o: CommonOptions): Promise<Backend> {
  const choice = await selectBackend(o.backend ?? 'auto', { threads: o.threads });
  openBackends.push(choice.backend);
  choices.set(choice.backend, choice);
  return choice.backend;
}

/** How the backend was chosen (the GPU probe included), when backendFor chose it. */
export function backendChoice(backend: Backend): BackendChoice | undefined {
  return choices.get(backend);
}

/** Why this backend: "wasm (auto: no WebGPU adapter)". */
export function backendReason(backend: Backend): string {
  return choices.get(backend)?.reason ?? backend.name;
}

/** Stops the backends' worker threads so the process can exit. */
export function closeBackends(): void {
  for (const b of openBackends.splice(0)) b.dispose?.();
}
