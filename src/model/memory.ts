import { ConfigError, ResourceError } from '../errors.js';

/**
 * What a run of a network needs in memory, by shape arithmetic alone (nothing is allocated), so
 * that a small file or a flag asking for gigabytes is refused before they are allocated:
 *
 *   built      parameters, their gradients and layer state, as the layers allocate them
 *   optimizer  training only: 1 value per parameter for SGD (momentum), 2 for Adam/AdamW
 *   input      N × the input per example
 *   outputs    N × every node's output per example (each layer keeps its own buffer)
 *   scratch    N × the output of max pooling (the argmax) and LRN (its scale), and in training
 *              of dropout (its mask)
 *   gradients  training only: N × every node's inputs (each layer's dL/dx buffers; none for
 *              layers reading only the model input), plus a sum buffer for each node read by
 *              several others
 *   loss       N × classes, twice (probabilities and their gradient)
 *   workspace  the largest convolution's unfolded input (im2col) for one image: C × KH × KW ×
 *              OH × OW — per compute thread on the wasm backend, counted once here
 *
 * all as 4-byte floats.
 */

/** Memory a run may use unless told otherwise: 2 GiB. */
export const DEFAULT_MEMORY_LIMIT = 2 * 2 ** 30;

export interface MemoryOptions {
  /** Examples per batch. */
  batchSize: number;
  /** Training keeps gradients of every activation and the optimizer's state. */
  training: boolean;
  /** Optimizer state counted in training; default 'adam' (the larger). 'none' counts none. */
  optimizer?: 'sgd' | 'adam' | 'adamw' | 'none';
}

/** One node of a network as the estimate sees it: sizes per example. */
export interface NodeFootprint {
  name: string;
  type: string;
  output: number;
  /** Sum of the node's inputs that need a gradient (0 when it reads only the model input). */
  inputs: number;
  /** How many nodes read this one's output. */
  consumers: number;
  /** Kernel workspace for one example (a convolution's unfolded input), if any. */
  workspace?: number;
}

export interface MemoryEstimate {
  /** Everything below, in bytes. */
  bytes: number;
  builtBytes: number;
  optimizerBytes: number;
  activationBytes: number;
  /** The node whose activations (and their gradients) take the most. */
  largest: { node: string; type: string; bytes: number };
  batchSize: number;
  training: boolean;
}

const BYTES = 4;
const SCRATCH_ALWAYS: Record<string, number> = { maxpool2d: 1, lrn: 1 };
const SCRATCH_TRAINING: Record<string, number> = { dropout: 1 };

/** The estimate for a network given its nodes (per example), its input size and what building it allocated. */
export function memoryEstimate(
  nodes: NodeFootprint[],
  inputValues: number,
  builtValues: number,
  parameters: number,
  classes: number,
  options: MemoryOptions,
): MemoryEstimate {
  const N = options.batchSize;
  if (!Number.isSafeInteger(N) || N < 1) throw new ConfigError(`batch size must be a positive integer, got ${N}`);
  const { training } = options;
  const perState = { none: 0, sgd: 1, adam: 2, adamw: 2 }[options.optimizer ?? 'adam'];
  let activations = inputValues + 2 * classes;
  let largest = { node: 'input', type: 'input', bytes: 0 };
  const workspace = Math.max(0, ...nodes.map((n) => n.workspace ?? 0));
  for (const n of nodes) {
    let values = n.output * (1 + (SCRATCH_ALWAYS[n.type] ?? 0) + (training ? (SCRATCH_TRAINING[n.type] ?? 0) : 0));
    if (training) values += n.inputs + (n.consumers > 1 ? n.output : 0);
    activations += values;
    if (values * N * BYTES > largest.bytes) largest = { node: n.name, type: n.type, bytes: values * N * BYTES };
  }
  const builtBytes = builtValues * BYTES;
  const optimizerBytes = training ? perState * parameters * BYTES : 0;
  const activationBytes = (N * activations + workspace) * BYTES;
  return { bytes: builtBytes + optimizerBytes + activationBytes, builtBytes, optimizerBytes, activationBytes, largest, batchSize: N, training };
}

/** Throws a ResourceError naming the model, the largest node and the bytes when the estimate passes the limit. */
export function checkMemory(estimate: MemoryEstimate, limit: number, model: string): void {
  if (estimate.bytes <= limit) return;
  const e = estimate;
  throw new ResourceError(
    `model "${model}" ${e.training ? 'training' : 'inference'} with batch ${e.batchSize} needs about ${formatBytes(e.bytes)} ` +
      `(activations ${formatBytes(e.activationBytes)}, the largest node "${e.largest.node}" (${e.largest.type}) ${formatBytes(e.largest.bytes)}; ` +
      `parameters, gradients and state ${formatBytes(e.builtBytes)}${e.optimizerBytes ? `; optimizer ${formatBytes(e.optimizerBytes)}` : ''}), ` +
      `more than the memory limit of ${formatBytes(limit)}`,
  );
}

export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${n >= 100 ? n.toFixed(0) : n.toFixed(1)} ${units[i]}`;
}

/** Parses "8GiB", "512 MiB", "2G", "1.5GB" or a plain byte count; binary units either way. */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(|b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)\s*$/i.exec(text);
  const scale = m
    ? { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2].toLowerCase().charAt(0) as '' | 'b' | 'k' | 'm' | 'g' | 't']
    : undefined;
  const bytes = m && scale ? Math.floor(Number(m[1]) * scale) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new ConfigError(`a memory size like 2GiB, 512MiB or 1048576 (bytes), got "${text}"`);
  return bytes;
}
