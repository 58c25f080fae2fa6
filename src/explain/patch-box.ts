import { ConfigError } from '../errors.js';
import type { Model } from '../model/model.js';
import { fieldBounds, receptiveFields } from '../model/receptive-field.js';
import { checkModel } from './arguments.js';

/** The input box a unit of a node sees (its receptive field, src/model/receptive-field.ts), clipped to the image. */
export interface Box {
  top: number;
  left: number;
  height: number;
  width: number;
}

// A model's graph does not change once built: its fields are worked out once.
const fieldsOf = new WeakMap<Model, ReturnType<typeof receptiveFields>>();

export function unitBox(model: Model, node: string, y: number, x: number): Box {
  checkModel(model, 'unitBox');
  let fields = fieldsOf.get(model);
  if (!fields) fieldsOf.set(model, (fields = receptiveFields(model)));
  const field = fields.get(node);
  if (!field) throw new ConfigError(`model "${model.name}" has no node "${node}"`);
  const [, H, W] = model.inputShape;
  const b = fieldBounds(field, y, x);
  const top = Math.max(0, b.top),
    left = Math.max(0, b.left);
  const bottom = Math.min(H - 1, b.bottom),
    right = Math.min(W - 1, b.right);
  return { top, left, height: Math.max(0, bottom - top + 1), width: Math.max(0, right - left + 1) };
}
