import { ConfigError } from '../errors.js';
import { scheduleProblem } from './settings.js';

/**
 * Learning-rate schedules as pure functions of the step: lr(step) for step in [0, totalSteps).
 *  - constant;
 *  - step: multiply by `gamma` (0.1) every `stepSize` steps (default: a third of the run);
 *  - cosine: half a cosine from lr down to minLr over the run, after an optional linear warm-up.
 * Warm-up lasts `warmupSteps` but never more than a tenth of the run (`warmupLength`): a
 * recipe's warm-up made for full runs must not swallow a short one.
 */
export type ScheduleConfig =
  | { type: 'constant' }
  | { type: 'step'; stepSize?: number; gamma?: number }
  | { type: 'cosine'; minLr?: number; warmupSteps?: number };

/** Steps of linear warm-up in a run of `totalSteps`: the configured number, at most a tenth of the run. */
export function warmupLength(warmupSteps: number, totalSteps: number): number {
  return Math.min(warmupSteps, Math.floor(totalSteps / 10));
}

export function makeSchedule(config: ScheduleConfig, baseLr: number, totalSteps: number): (step: number) => number {
  const problem = scheduleProblem(config);
  if (problem) throw new ConfigError(problem);
  switch (config.type) {
    case 'constant':
      return () => baseLr;
    case 'step': {
      const stepSize = config.stepSize ?? Math.max(1, Math.ceil(totalSteps / 3));
      const gamma = config.gamma ?? 0.1;
      return (step) => baseLr * Math.pow(gamma, Math.floor(step / stepSize));
    }
    case 'cosine': {
      const minLr = config.minLr ?? 0,
        warm = warmupLength(config.warmupSteps ?? 0, totalSteps);
      return (step) => {
        if (step < warm) return (baseLr * (step + 1)) / warm;
        const t = Math.min(1, (step - warm) / Math.max(1, totalSteps - warm));
        return minLr + 0.5 * (baseLr - minLr) * (1 + Math.cos(Math.PI * t));
      };
    }
    default:
      throw new ConfigError(`unknown schedule ${JSON.stringify((config as { type: unknown }).type)} (known: constant, step, cosine)`);
  }
}
