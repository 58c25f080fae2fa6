import { ShapeError } from '../errors.js';
import type { ReluRule } from '../layers/layer.js';
import type { Model } from '../model/model.js';
import { type FloatArray, type Shape, Tensor, shapeSize, shapeToString } from '../tensor.js';

/**
 * The plumbing every explanation shares: batches in the backend's own memory, forward passes
 * in evaluation mode (batch norm on running statistics, dropout off), backward passes from any
 * node, and copies of results that outlive the model's reused buffers.
 */

/** Checks one image [C, H, W] (or [1, C, H, W]) against the model's input shape; returns [C, H, W]. */
export function imageShape(model: Model, image: Tensor): Shape {
  const s = image.shape.length === 4 && image.shape[0] === 1 ? image.shape.slice(1) : image.shape;
  const want = model.inputShape;
  if (s.length !== 3 || s.some((d, i) => d !== want[i])) {
    throw new ShapeError(`model "${model.name}" explains images of shape [${want.join(', ')}], got ${shapeToString(image.shape)}`);
  }
  return s;
}

/** An [N, C, H, W] batch allocated by the model's backend. */
export function allocBatch(model: Model, N: number): Tensor {
  return new Tensor([N, ...model.inputShape], model.backend.alloc(N * shapeSize(model.inputShape)));
}

/** Forward pass in evaluation mode of a batch the host has just filled. */
export function forwardBatch(model: Model, x: Tensor): void {
  model.backend.upload(x.data);
  model.forward(x, false);
}

/**
 * Backend arrays kept for the steps of one explanation (input batches by size, gradient seeds
 * by what they hold): a loop that allocated new ones every step grew a wasm heap until the
 * collector ran (activation maximisation: 331 MB after 2 000 steps).
 */
export class Reused {
  private readonly kept = new Map<string, Tensor>();

  constructor(private readonly model: Model) {}

  /** An [N, C, H, W] input batch (the host fills it before each use). */
  batch(N: number): Tensor {
    return this.keep(`batch ${N}`, () => allocBatch(this.model, N));
  }

  /** seedGradient's tensor, filled once: `key` names what `fill` writes. */
  seed(node: string, N: number, key: string, fill: (dy: FloatArray, perExample: number) => void): Tensor {
    return this.keep(`seed ${node} ${N} ${key}`, () => seedGradient(this.model, node, N, fill));
  }

  private keep(key: string, make: () => Tensor): Tensor {
    let t = this.kept.get(key);
    if (!t) this.kept.set(key, (t = make()));
    return t;
  }
}

/** A node's output from the last forward pass. */
export function activation(model: Model, node: string): Tensor {
  const t = model.activations().get(node);
  if (!t) throw new ShapeError(`node "${node}" of model "${model.name}" did not run`);
  return t;
}

/** A zero gradient of the node's output for a batch of N (allocated by the backend, host-filled then uploaded). */
export function seedGradient(model: Model, node: string, N: number, fill: (dy: FloatArray, perExample: number) => void): Tensor {
  const shape = model.activations().get(node)?.shape.slice(1) ?? [];
  const n = shapeSize(shape);
  const dy = new Tensor([N, ...shape], model.backend.alloc(N * n));
  fill(dy.data, n);
  model.backend.upload(dy.data);
  return dy;
}

/** Backward pass in evaluation mode from `node`; returns dy/d(input) (a buffer the model reuses). */
export function backwardFrom(model: Model, node: string, dy: Tensor, reluRule: ReluRule = 'gradient'): Tensor {
  return model.backward(dy, false, true, { from: node, reluRule })!;
}

/** Host copies of tensors, once the backend has finished writing them. */
export async function readAll(model: Model, tensors: Tensor[]): Promise<Tensor[]> {
  await model.backend.download(tensors.map((t) => t.data));
  return tensors.map((t) => new Tensor(t.shape, t.data.slice()));
}

/** Example `i` of a batch tensor as [C, H, W] (a view). */
export function example(t: Tensor, i: number): Tensor {
  const per = t.size / t.shape[0];
  return new Tensor(t.shape.slice(1), t.data.subarray(i * per, (i + 1) * per));
}

/** Index of the largest value. */
export function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

/** Softmax of one row of scores, in double precision. */
export function softmax(scores: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) max = Math.max(max, scores[i]);
  const p = new Float64Array(scores.length);
  let sum = 0;
  for (let i = 0; i < p.length; i++) sum += p[i] = Math.exp(scores[i] - max);
  for (let i = 0; i < p.length; i++) p[i] /= sum;
  return p;
}
