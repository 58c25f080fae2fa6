import type { Backend } from '../backend/backend.js';
import { ConfigError, ShapeError } from '../errors.js';
import { INIT_NAMES, type InitName } from '../init.js';
import type { Rng } from '../rng.js';
import { type Shape, Tensor, shapeSize, shapeToString } from '../tensor.js';

/** Batch sizes whose buffers a layer keeps at once (most recently used first). */
const KEPT_SIZES = 3;

/** A trainable tensor and its gradient (same shape). */
export interface Param {
  name: string;
  value: Tensor;
  grad: Tensor;
  /** Whether weight decay applies (weights yes, biases no). */
  decay: boolean;
}

/** A tensor a layer keeps and saves but does not train (batch norm's running statistics). */
export interface StateTensor {
  name: string;
  value: Tensor;
}

export interface RunContext {
  backend: Backend;
  training: boolean;
  rng: Rng;
  /** False when nobody needs dL/d(input) of this layer (it reads the model input): layers may skip it. */
  inputGradient?: boolean;
  /**
   * How ReLU-type layers pass gradients back; 'gradient' (the default) is the true derivative.
   * The others serve visualisation only: 'guided' (guided backpropagation) passes only positive
   * gradients where the input was positive, 'deconvnet' only positive gradients, wherever they are.
   */
  reluRule?: ReluRule;
}

export type ReluRule = 'gradient' | 'guided' | 'deconvnet';

/**
 * A layer: a node's computation. Shapes given to `build` and returned by it are per example
 * (no batch dimension); tensors given to `forward` are whole minibatches [N, ...shape].
 * `backward` takes dL/d(output) and returns dL/d(input) for each input (an empty list when
 * ctx.inputGradient is false and the layer skipped that product), and writes the
 * parameter gradients (overwriting them: a parameter is used once per forward pass).
 * Output and gradient buffers are allocated once per batch size and reused every step.
 */
export abstract class Layer {
  abstract readonly type: string;
  name = '';
  /**
   * Each output position reads only the same position of its inputs (activations, normalisation
   * over channels, element-wise merges, channel reordering): receptive fields pass through
   * unchanged. False means the layer mixes positions in ways the receptive-field arithmetic
   * (src/model/receptive-field.ts) must know, or — for a layer it does not know — the whole input.
   */
  readonly keepsPositions: boolean = false;
  protected inputShapes: Shape[] = [];
  protected outShape: Shape = [];
  private buffers = new Map<string, Tensor[]>();

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

  /** Non-trainable tensors saved with the model. */
  state(): StateTensor[] {
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
        throw new ShapeError(
          `${this.describe()}: expected input of shape ${shapeToString(['N', ...this.inputShapes[i]] as never)}, got ${shapeToString(t.shape)}`,
        );
      }
    });
    return N;
  }

  describe(): string {
    return `layer "${this.name}" (${this.type})`;
  }

  /**
   * A reusable buffer of this shape. A few sizes are kept per key (training batches, evaluation
   * batches, single predictions), so alternating between batch sizes allocates nothing: a
   * dropped buffer would hold backend memory until the garbage collector happened to run.
   */
  protected buffer(key: string, shape: Shape, backend: Backend): Tensor {
    const n = shapeSize(shape);
    let kept = this.buffers.get(key);
    if (!kept) this.buffers.set(key, (kept = []));
    const i = kept.findIndex((t) => t.size === n);
    let t: Tensor;
    if (i >= 0) {
      t = kept[i];
      if (i > 0) {
        kept.splice(i, 1);
        kept.unshift(t);
      }
    } else {
      t = new Tensor(shape, backend.alloc(n));
      kept.unshift(t);
      if (kept.length > KEPT_SIZES) kept.pop();
    }
    return t.shape.length === shape.length && t.shape.every((d, j) => d === shape[j]) ? t : t.reshape(shape);
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
  if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => Number.isInteger(x) && x >= 0)) {
    throw new ShapeError(`layer "${layer}": ${what} must be a non-negative integer or a pair of them, got ${JSON.stringify(v)}`);
  }
  return [p[0], p[1]];
}

/**
 * Reads an optional true/false setting of a layer spec. Specs come from JSON (model files, the
 * playground), where a string or a number would otherwise be taken as truthy by one backend and
 * as 0 by another.
 */
export function flag(v: unknown, fallback: boolean, what: string, layer: string): boolean {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new ConfigError(`layer "${layer}": ${what} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** Reads an optional number of a layer spec that must be finite and satisfy `ok` (described by `range`). */
export function finiteNumber(
  v: unknown,
  fallback: number,
  what: string,
  layer: string,
  ok: (x: number) => boolean = () => true,
  range = 'a finite number',
): number {
  if (v === undefined || v === null) return fallback;
  // Finite as a float32 too: kernels compute in float32, where 1e300 is infinite.
  if (typeof v !== 'number' || !Number.isFinite(Math.fround(v)) || !ok(v))
    throw new ConfigError(`layer "${layer}": ${what} must be ${range}, got ${JSON.stringify(v) ?? String(v)}`);
  return v;
}

/** Reads an optional weight initialisation name. */
export function initName(v: unknown, layer: string): InitName {
  if (v === undefined || v === null) return 'he';
  if (!(INIT_NAMES as readonly unknown[]).includes(v))
    throw new ConfigError(`layer "${layer}": init must be one of ${INIT_NAMES.join(', ')}, got ${JSON.stringify(v)}`);
  return v as InitName;
}
