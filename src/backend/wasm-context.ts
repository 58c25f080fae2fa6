import type { KernelExports } from './wasm-kernels.js';
import type { WasmHeap } from './wasm-heap.js';
import type { RecordWriter } from './wasm-records.js';
import type { Scratch } from './wasm-scratch.js';
import type { KernelRunner } from './wasm-split.js';

/** What the wasm backend's orchestration (GEMM, convolutions, Winograd) works with. */
export interface WasmContext {
  readonly k: KernelExports;
  readonly heap: WasmHeap;
  readonly records: RecordWriter;
  readonly scratch: Scratch;
  readonly run: KernelRunner;
  /** Workspace bytes of one gemm call (gemmWorkspaceBytes). */
  readonly gemmBytes: number;
}
