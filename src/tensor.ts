import { ShapeError } from './errors.js';

/** Storage of a tensor: float32 for real work, float64 for gradient checks on the reference backend. */
export type FloatArray = Float32Array | Float64Array;
export type Shape = readonly number[];

export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeToString(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * A dense tensor: a flat typed array plus a shape, row-major. Image tensors are NCHW and
 * batch-first; layers always see whole minibatches.
 */
export class Tensor {
  constructor(
    readonly shape: Shape,
    readonly data: FloatArray,
  ) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new ShapeError(`invalid tensor shape ${shapeToString(shape)}`);
    }
    if (shapeSize(shape) !== data.length) {
      throw new ShapeError(`shape ${shapeToString(shape)} needs ${shapeSize(shape)} values, got ${data.length}`);
    }
  }

  get size(): number {
    return this.data.length;
  }

  /** Same storage, new shape (no copy). */
  reshape(shape: Shape): Tensor {
    return new Tensor(shape, this.data);
  }

  static zeros(shape: Shape, dtype: 'float32' | 'float64' = 'float32'): Tensor {
    const n = shapeSize(shape);
    return new Tensor(shape, dtype === 'float64' ? new Float64Array(n) : new Float32Array(n));
  }

  static from(shape: Shape, values: ArrayLike<number>, dtype: 'float32' | 'float64' = 'float32'): Tensor {
    return new Tensor(shape, dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values));
  }
}
