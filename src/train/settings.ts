/**
 * The valid range of every numeric training setting, in one place: the CLI checks its flags
 * with these rules, `train()` its options, and a resumed checkpoint its saved settings, so a
 * value one of them accepts is never refused by another.
 */
export interface NumberRule {
  integer: boolean;
  min: number;
  max: number;
  /** min itself is not allowed (a positive number). */
  minExclusive?: boolean;
  /** max itself is not allowed. */
  maxExclusive?: boolean;
}

const count = (min: number, max = Number.MAX_SAFE_INTEGER): NumberRule => ({ integer: true, min, max });
const positive: NumberRule = { integer: false, min: 0, minExclusive: true, max: Number.MAX_VALUE };
const nonNegative: NumberRule = { integer: false, min: 0, max: Number.MAX_VALUE };

export const settingRules = {
  epochs: count(1, 1_000_000),
  batchSize: count(1, 65_536),
  lr: positive,
  momentum: { integer: false, min: 0, max: 1, maxExclusive: true },
  weightDecay: nonNegative,
  // The generator takes the seed modulo 2^32: larger seeds would repeat smaller ones.
  seed: count(0, 2 ** 32 - 1),
  shift: count(0, 1024),
  inputSize: count(8, 4096),
  trainLimit: count(1),
  testLimit: count(1),
  clipGradNorm: positive,
  checkpointEvery: count(1),
  scheduleSteps: count(1),
  warmupSteps: count(0),
  stepSize: count(1),
  gamma: positive,
  minLr: nonNegative,
  beta: { integer: false, min: 0, max: 1, maxExclusive: true },
  eps: positive,
} satisfies Record<string, NumberRule>;

export type SettingName = keyof typeof settingRules;

/** "an integer ≥ 1 and ≤ 65536", "a positive number", "a number ≥ 0 and < 1". */
export function describeRule(r: NumberRule): string {
  const low = `${r.minExclusive ? '>' : '≥'} ${r.min}`,
    high = `${r.maxExclusive ? '<' : '≤'} ${r.max}`;
  if (r.integer) return `an integer ${low} and ${high}`;
  if (r.max === Number.MAX_VALUE) return r.min === 0 ? (r.minExclusive ? 'a positive number' : 'a non-negative number') : `a finite number ${low}`;
  return `a number ${low} and ${high}`;
}

export function satisfies(value: unknown, r: NumberRule): boolean {
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (r.integer && !Number.isSafeInteger(value)) return false;
  if (r.minExclusive ? value <= r.min : value < r.min) return false;
  return r.maxExclusive ? value < r.max : value <= r.max;
}

/** "epochs must be an integer ≥ 1 and ≤ 1000000, got 1e+16", or undefined when the value is valid. */
export function settingProblem(name: SettingName, value: unknown, label: string = name): string | undefined {
  const rule = settingRules[name];
  return satisfies(value, rule) ? undefined : `${label} must be ${describeRule(rule)}, got ${JSON.stringify(value) ?? String(value)}`;
}

/** Optional settings: absent is fine, present must satisfy the rule. */
function optionalProblem(name: SettingName, value: unknown, label: string): string | undefined {
  return value === undefined ? undefined : settingProblem(name, value, label);
}

export const optimizerTypes = ['sgd', 'adam', 'adamw'] as const;
export const weightDecayTargets = ['weights', 'all'] as const;

/** What is wrong with an optimizer configuration (from code or a checkpoint), or undefined. */
export function optimizerProblem(o: unknown): string | undefined {
  if (o === null || typeof o !== 'object') return `optimizer must be an object, got ${JSON.stringify(o)}`;
  const c = o as Record<string, unknown>;
  if (!optimizerTypes.includes(c.type as never)) return `unknown optimizer ${JSON.stringify(c.type)} (known: ${optimizerTypes.join(', ')})`;
  if (c.weightDecayOn !== undefined && !weightDecayTargets.includes(c.weightDecayOn as never)) {
    return `optimizer weightDecayOn must be one of ${weightDecayTargets.join(', ')}, got ${JSON.stringify(c.weightDecayOn)}`;
  }
  if (c.nesterov !== undefined && typeof c.nesterov !== 'boolean') return `optimizer nesterov must be true or false, got ${JSON.stringify(c.nesterov)}`;
  return (
    optionalProblem('momentum', c.momentum, 'optimizer momentum') ??
    optionalProblem('weightDecay', c.weightDecay, 'optimizer weightDecay') ??
    optionalProblem('beta', c.beta1, 'optimizer beta1') ??
    optionalProblem('beta', c.beta2, 'optimizer beta2') ??
    optionalProblem('eps', c.eps, 'optimizer eps')
  );
}

/** What is wrong with a schedule configuration (from code or a checkpoint), or undefined. */
export function scheduleProblem(s: unknown): string | undefined {
  if (s === null || typeof s !== 'object') return `schedule must be an object, got ${JSON.stringify(s)}`;
  const c = s as Record<string, unknown>;
  if (c.type !== 'constant' && c.type !== 'step' && c.type !== 'cosine') return `unknown schedule ${JSON.stringify(c.type)} (known: constant, step, cosine)`;
  return (
    optionalProblem('stepSize', c.stepSize, 'schedule stepSize') ??
    optionalProblem('gamma', c.gamma, 'schedule gamma') ??
    optionalProblem('minLr', c.minLr, 'schedule minLr') ??
    optionalProblem('warmupSteps', c.warmupSteps, 'schedule warmupSteps')
  );
}
