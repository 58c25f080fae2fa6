import { InvalidArgumentError, Option } from 'commander';
import { DEFAULT_MEMORY_LIMIT, type MemoryEstimate, checkMemory, formatBytes, parseByteSize } from '../model/memory.js';
import { ResourceError } from '../errors.js';
import type { Model } from '../model/model.js';

/** --memory-limit: the most memory a command may plan to use for activations, weights and optimizer state. */
export const memoryLimitOption = () =>
  new Option(
    '--memory-limit <size>',
    `most memory the run may need, e.g. 8GiB or 512MiB (default ${formatBytes(DEFAULT_MEMORY_LIMIT)}); checked before anything is allocated`,
  ).argParser((v: string) => {
    try {
      return parseByteSize(v);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  });

/** Refuses an estimate over the command's memory limit, saying how to raise it. */
export function checkCommandMemory(estimate: MemoryEstimate, limit: number | undefined, model: string): void {
  try {
    checkMemory(estimate, limit ?? DEFAULT_MEMORY_LIMIT, model);
  } catch (e) {
    if (e instanceof ResourceError) throw new ResourceError(`${e.message}; a smaller batch or input needs less, or raise the limit with --memory-limit`);
    throw e;
  }
}

/**
 * Sets and checks the memory of a command that runs backward passes on one image at a time
 * (explain, visualize): training-like (every activation's gradient kept) without optimizer state.
 */
export function checkGradientMemory(model: Model, limit: number | undefined): void {
  model.memoryLimit = limit ?? DEFAULT_MEMORY_LIMIT;
  checkCommandMemory(model.estimateMemory({ batchSize: 1, training: true, optimizer: 'none' }), limit, model.name);
}

/** Refuses a plain byte count over the command's memory limit (images, datasets). */
export function checkCommandBytes(bytes: number, limit: number | undefined, what: string): void {
  const max = limit ?? DEFAULT_MEMORY_LIMIT;
  if (bytes > max)
    throw new ResourceError(`${what} needs about ${formatBytes(bytes)}, more than the memory limit of ${formatBytes(max)} (raise it with --memory-limit)`);
}
