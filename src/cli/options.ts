import { statisticsProblem } from '../io/data-info.js';
import { InvalidArgumentError, Option } from 'commander';
import { availableParallelism } from 'node:os';
import { backendNames } from '../backend/index.js';
import { MAX_THREADS, checkThreads } from '../backend/wasm.js';
import { type SettingName, describeRule, satisfies, settingRules } from '../train/settings.js';

/**
 * The option builders and argument parsers every command shares, so that a flag with the same
 * name means and accepts the same everywhere. A command may word its help text its own way.
 */

export { debugOption } from './errors.js';
export { memoryLimitOption } from './memory-option.js';

/** What every command that computes accepts: output form, backend, threads, memory budget. */
export interface CommonOptions {
  json?: boolean;
  backend?: string;
  threads?: number;
  /** --memory-limit in bytes (default DEFAULT_MEMORY_LIMIT). */
  memoryLimit?: number;
}

export const jsonOption = (description = 'print one JSON object per line: progress events, then the result') => new Option('--json', description);

export const backendOption = (
  description = 'compute backend: auto (WebGPU on a hardware GPU, else wasm), wasm (SIMD kernels, threads), webgpu (GPU; in Node through the webgpu package) or ref (plain reference)',
) => new Option('--backend <name>', description).choices(backendNames).default('auto');

export const threadsOption = (description = `compute threads for the wasm backend: 1 to the number of cores, at most ${MAX_THREADS} (default: all cores)`) =>
  new Option('--threads <n>', description).argParser((v: string) => {
    try {
      return checkThreads(Number(v), availableParallelism());
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  });

/** A numeric flag that is a training setting, checked by the same rule as train() and resumed checkpoints. */
export function setting(name: SettingName, flag: string) {
  const rule = settingRules[name];
  return (v: string) => {
    const n = v.trim() === '' ? NaN : Number(v);
    if (!satisfies(n, rule)) throw new InvalidArgumentError(`${flag} must be ${describeRule(rule)}`);
    return n;
  };
}

/** An integer flag that is not a training setting: at least `min`, at most `max`. */
export function integer(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string) => {
    const n = v.trim() === '' ? NaN : Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}${max < Number.MAX_SAFE_INTEGER ? ` and ≤ ${max}` : ''}`);
    return n;
  };
}

/**
 * --mean/--std: comma-separated statistics of pixel/255, one per channel, by the rule a model
 * file records them with (src/io/data-info.ts), so a run can never save a file it cannot load
 * again. An empty entry ("", "1,,2") is a mistake, not a zero.
 */
export function statisticList(key: 'mean' | 'std') {
  const example = key === 'mean' ? '0.485,0.456,0.406' : '0.229,0.224,0.225';
  return (v: string) => {
    const parts = v.split(',').map((x) => x.trim());
    const values = parts.map((x) => (x === '' ? NaN : Number(x)));
    const bad = values.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0)
      throw new InvalidArgumentError(`--${key} must be comma-separated numbers, one per channel (e.g. ${example}); "${parts[bad]}" is not a number`);
    const problem = statisticsProblem(key, values);
    if (problem) throw new InvalidArgumentError(`--${key}: ${problem} (statistics of pixel values scaled to 0–1, e.g. ${example})`);
    return values;
  };
}

/** --mean and --std of explain and visualize: the model's own normalisation unless given. */
export const meanOption = () =>
  new Option(
    '--mean <list>',
    "per-channel mean of pixel/255 to normalise with (default: the model file's; ONNX: ImageNet's for colour inputs ≥ 64 px)",
  ).argParser(statisticList('mean'));
export const stdOption = () =>
  new Option('--std <list>', 'per-channel standard deviation to normalise with (default as --mean)').argParser(statisticList('std'));
