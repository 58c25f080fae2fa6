/**
 * Training settings as text: checked field by field with messages that state the real limits,
 * and written to / read from the page's query string so a setup can be shared as a link.
 */
import { ConfigError } from 'convkit';
import { type OptimizerName, type ScheduleName, type TrainSettings, defaultSettings } from './protocol.js';

interface NumberRule {
  label: string;
  ok: (v: number) => boolean;
  rule: string;
}

const numberRules: Record<'lr' | 'momentum' | 'batchSize' | 'weightDecay' | 'scheduleEpochs', NumberRule> = {
  lr: { label: 'learning rate', ok: (v) => v > 0 && v <= 10, rule: 'a number above 0 and at most 10 (e.g. 0.01)' },
  momentum: { label: 'momentum', ok: (v) => v >= 0 && v < 1, rule: 'a number from 0 up to (not including) 1' },
  batchSize: { label: 'batch size', ok: (v) => Number.isInteger(v) && v >= 1 && v <= 1024, rule: 'a whole number from 1 to 1024' },
  weightDecay: { label: 'weight decay', ok: (v) => v >= 0 && v < 1, rule: 'a number from 0 up to (not including) 1' },
  scheduleEpochs: { label: 'schedule length', ok: (v) => v > 0 && v <= 100, rule: 'above 0 and at most 100 epochs' },
};

/** One numeric setting from text; throws ConfigError naming the field, the value and the limits. */
export function checkNumber(name: keyof typeof numberRules, text: string): number {
  const { label, ok, rule } = numberRules[name];
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || !ok(v)) throw new ConfigError(`${label} must be ${rule}, got ${JSON.stringify(text)}`);
  return v;
}

const optimizers: OptimizerName[] = ['sgd', 'adam'];
const schedules: ScheduleName[] = ['constant', 'cosine'];

/** Settings from field texts (the form's, or a query string's); a missing field keeps `base`'s value. */
export function settingsFromText(get: (name: string) => string | null, base: TrainSettings = defaultSettings): TrainSettings {
  const num = (name: keyof typeof numberRules) => {
    const text = get(name);
    return text === null ? base[name] : checkNumber(name, text);
  };
  const choice = <T extends string>(name: string, allowed: T[], fallback: T): T => {
    const text = get(name);
    if (text === null) return fallback;
    if (!(allowed as string[]).includes(text)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(text)}`);
    return text as T;
  };
  const augment = get('augment');
  if (augment !== null && augment !== 'true' && augment !== 'false') throw new ConfigError(`augment must be true or false, got ${JSON.stringify(augment)}`);
  return {
    optimizer: choice('optimizer', optimizers, base.optimizer),
    lr: num('lr'),
    momentum: num('momentum'),
    batchSize: num('batchSize'),
    weightDecay: num('weightDecay'),
    augment: augment === null ? base.augment : augment === 'true',
    schedule: choice('schedule', schedules, base.schedule),
    scheduleEpochs: num('scheduleEpochs'),
  };
}

const keys: (keyof TrainSettings)[] = ['optimizer', 'lr', 'momentum', 'batchSize', 'weightDecay', 'augment', 'schedule', 'scheduleEpochs'];

/** The settings in a query string (from `?lr=0.01&batchSize=64…`): only the keys present, checked; other parameters are left alone. */
export function settingsFromQuery(params: URLSearchParams, base: TrainSettings = defaultSettings): TrainSettings {
  return settingsFromText((name) => params.get(name), base);
}

/** Whether the query string names any setting. */
export function queryHasSettings(params: URLSearchParams): boolean {
  return keys.some((k) => params.has(k));
}

/** Writes the settings into `params` (other parameters, such as backend, stay). */
export function settingsToQuery(s: TrainSettings, params: URLSearchParams): URLSearchParams {
  for (const k of keys) params.set(k, String(s[k]));
  return params;
}

/** The test digit number typed by the user: a whole number within the test set, else a ConfigError (no silent clamping). */
export function parseTestIndex(text: string, count: number): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isInteger(v) || v < 0 || v >= count) {
    throw new ConfigError(`test digit # must be a whole number from 0 to ${count - 1}, got ${JSON.stringify(text)}`);
  }
  return v;
}
