import type { Backend } from '../backend/backend.js';
import { ShapeError } from '../errors.js';
import type { Rng } from '../rng.js';
import { type Shape, Tensor, shapeSize, shapeToString } from '../tensor.js';

/** A trainable tensor and its gradient (same shape). */
export interface Param {
  name: string;
  value: Tensor;
  grad: Tensor;
  /** Whether weight decay applies (weights yes, biases no). */
  decay: boolean;
}

export interface RunContext {
  backend: Backend;
  training: boolean;
  rng: Rng;
}

/**
 * A layer: a node's computation. Shapes given to `build` and returned by it are per example
 * (no batch dimension); tensors given to `forward` are whole minibatches [N, ...shape].
 * `backward` takes dL/d(output) and returns dL/d(input) for each input, and writes the
 * parameter gradients (overwriting them: a parameter is used once per forward pass).
 * Output and gradient buffers are allocated once per batch size and reused every step.
 */
export abstract class Layer {
  abstract readonly type: string;
  name = '';
  protected inputShapes: Shape[] = [];
  protected outShape: Shape = [];
  private buffers = new Map<string, Tensor>();

  /** The layer's settings, as stored in model files. */
  abstract config(): Record<string, unknown>;

  /** Validates the input shapes, allocates parameters, returns the output shape. */
  build(inputShapes: Shape[], backend: Backend): Shape {
    this.inputShapes = inputShapes;
    this.outShape = this.inferShape(inputShapes);
    this.allocateParams(backend);
    return this.outShape;
  }

  get outputShape(): Shape {
    return this.outShape;
  }

  /** The output shape for these input shapes (validating them) without allocating anything. */
  inferShape(inputShapes: Shape[]): Shape {
    return this.computeOutputShape(inputShapes);
  }

  protected abstract computeOutputShape(inputShapes: Shape[]): Shape;
  protected allocateParams(_backend: Backend): void {}

  params(): Param[] {
    return [];
  }

  /** Fills the parameters with their initial values. */
  initParams(_rng: Rng): void {}

  abstract forward(inputs: Tensor[], ctx: RunContext): Tensor;
  abstract backward(dy: Tensor, ctx: RunContext): Tensor[];

  /** Throws a ShapeError naming this layer unless the batch matches the shapes it was built for. */
  protected checkInputs(inputs: Tensor[]): number {
    if (inputs.length !== this.inputShapes.length) {
      throw new ShapeError(`${this.describe()}: expected ${this.inputShapes.length} input(s), got ${inputs.length}`);
    }
    const N = inputs[0].shape[0];
    inputs.forEach((t, i) => {
      const expected = [N, ...this.inputShapes[i]];
      if (t.shape.length !== expected.length || t.shape.some((d, j) => d !== expected[j])) {
        throw new ShapeError(`${this.describe()}: expected input of shape ${shapeToString(['N', ...this.inputShapes[i]] as never)}, got ${shapeToString(t.shape)}`);
      }
    });
    return N;
  }

  describe(): string {
    return `layer "${this.name}" (${this.type})`;
  }

  /** A reusable buffer of this shape, reallocated only when the size changes (e.g. a new batch size). */
  protected buffer(key: string, shape: Shape, backend: Backend): Tensor {
    const cached = this.buffers.get(key);
    if (cached && cached.size === shapeSize(shape)) {
      return cached.shape.every((d, i) => d === shape[i]) && cached.shape.length === shape.length ? cached : cached.reshape(shape);
    }
    const t = new Tensor(shape, backend.alloc(shapeSize(shape)));
    this.buffers.set(key, t);
    return t;
  }

  protected newParam(name: string, shape: Shape, backend: Backend, decay: boolean): Param {
    const n = shapeSize(shape);
    return { name, value: new Tensor(shape, backend.alloc(n)), grad: new Tensor(shape, backend.alloc(n)), decay };
  }
}

/** Reads a size given as n or [h, w]. */
export function pair(v: number | readonly number[] | undefined, fallback: number, what: string, layer: string): [number, number] {
  if (v === undefined) return [fallback, fallback];
  const p: readonly number[] = typeof v === 'number' ? [v, v] : v;
  if (p.length !== 2 || !p.every((x) => Number.isInteger(x) && x >= 0)) {
    throw new ShapeError(`layer "${layer}": ${what} must be a non-negative integer or a pair of them, got ${JSON.stringify(v)}`);
  }
  return [p[0], p[1]];
}
