import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { describeAdapter } from '../backend/gpu-probe.js';
import { WasmBackend, backendNames, probeGpu } from '../backend/index.js';
import { zoo } from '../model/zoo.js';
import { datasetNames } from '../node/datasets.js';
import { backendChoice, backendFor, backendReason } from './backends.js';
import { type CommonOptions, backendOption, jsonOption, threadsOption } from './options.js';
import { Output } from './output.js';

/** `convkit info`: the backend, its capabilities, and what is available. */
export function registerInfoCommand(program: Command): void {
  program
    .command('info')
    .description('the backend, its capabilities, and what is available')
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(jsonOption())
    .action((o) => infoCommand(o));
}

export async function infoCommand(o: CommonOptions): Promise<void> {
  const out = new Output(!!o.json);
  const backend = await backendFor(o);
  const choice = backendChoice(backend);
  const gpu = choice?.gpu ?? (await probeGpu());
  const wasm = backend instanceof WasmBackend ? backend : undefined;
  const gpuInfo = (backend as { info?: { vendor: string; architecture: string; device: string; description: string; software: boolean } }).info;
  const adapter = gpuInfo ? describeAdapter(gpuInfo) : undefined;
  const info = {
    type: 'result',
    backend: backend.name,
    backendChoice: backendReason(backend),
    dtype: backend.dtype,
    simd: wasm !== undefined,
    relaxedSimd: wasm ? wasm.variant === 'relaxed' : false,
    threads: wasm?.threads ?? 1,
    cores: availableParallelism(),
    sharedMemory: typeof SharedArrayBuffer !== 'undefined',
    webgpu: { available: gpu.available, software: gpu.software, adapter: adapter?.description ?? gpu.description, reason: gpu.reason },
    node: process.version,
    backends: backendNames,
    models: Object.keys(zoo),
    datasets: datasetNames,
  };
  const gpuLine = gpu.available ? `${info.webgpu.adapter}${gpu.software ? ' (software: correctness only, slow)' : ''}` : `none (${gpu.reason})`;
  out.text(
    [
      `backend: ${info.backendChoice} (${info.dtype})`,
      `simd: ${info.simd ? `yes (${info.relaxedSimd ? 'relaxed SIMD with fused multiply-add' : '128-bit SIMD'})` : 'no'}`,
      `threads: ${info.threads} of ${info.cores} cores`,
      `webgpu: ${gpuLine}`,
      `node: ${info.node}`,
      `backends: ${info.backends.join(', ')}`,
      `models: ${info.models.join(', ')}`,
      `datasets: ${info.datasets.join(', ')}`,
    ].join('\n'),
  );
  out.event(info);
}
