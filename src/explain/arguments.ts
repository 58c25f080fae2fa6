import { ConfigError } from '../errors.js';
import type { Model } from '../model/model.js';
import { Tensor } from '../tensor.js';

/**
 * The explanation functions' checks of what JavaScript callers pass: TypeScript stops a
 * dataset given in place of a Tensor at compile time, JavaScript would fail deep inside with a
 * TypeError that names nothing. Each check names the function, the argument and what it got.
 */

function described(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return `an array of ${v.length} items`;
  if (typeof v !== 'object') return `a ${typeof v} (${String(v).slice(0, 40)})`;
  const keys = Object.keys(v);
  const dataset = ['images', 'labels', 'count'].every((k) => keys.includes(k));
  return `an object with keys ${keys.slice(0, 8).join(', ') || '(none)'}${dataset ? ' (a dataset: fill a Tensor [N, C, H, W] from it with fillBatch)' : ''}`;
}

function isTensor(v: unknown): v is Tensor {
  if (v instanceof Tensor) return true;
  const t = v as Tensor | null;
  return !!t && typeof t === 'object' && Array.isArray(t.shape) && (t.data instanceof Float32Array || t.data instanceof Float64Array);
}

/** A ConfigError unless `model` is a Model (something with an input shape, a backend and a forward pass). */
export function checkModel(model: unknown, fn: string): asserts model is Model {
  const m = model as Model | null;
  if (!m || typeof m !== 'object' || !Array.isArray(m.inputShape) || typeof m.forward !== 'function' || typeof m.backend !== 'object') {
    throw new ConfigError(`${fn}: model must be a convkit Model, got ${described(model)}`);
  }
}

/** A ConfigError unless `value` is a Tensor; `shape` says which one is expected (e.g. "[N, 1, 28, 28]"). */
export function checkTensor(value: unknown, fn: string, name: string, shape: string): asserts value is Tensor {
  if (!isTensor(value)) throw new ConfigError(`${fn}: ${name} must be a Tensor ${shape}, got ${described(value)}`);
}

/** The model and one image [C, H, W] (or [1, C, H, W]) of an explanation. */
export function checkModelAndImage(model: unknown, image: unknown, fn: string): asserts model is Model {
  checkModel(model, fn);
  checkTensor(image, fn, 'image', `[${model.inputShape.join(', ')}]`);
}

/** The model and a batch of images [N, C, H, W]. */
export function checkModelAndImages(model: unknown, images: unknown, fn: string): asserts model is Model {
  checkModel(model, fn);
  checkTensor(images, fn, 'images', `[N, ${model.inputShape.join(', ')}]`);
}

/** An options object (absent is fine: the defaults apply). */
export function checkOptions(o: unknown, fn: string, required = false): void {
  if (o === undefined && !required) return;
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new ConfigError(`${fn}: options must be an object, got ${described(o)}`);
}
