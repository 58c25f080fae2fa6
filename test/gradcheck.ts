import { RefBackend } from '../src/backend/ref.js';
import type { LayerSpec } from '../src/layers/index.js';
import { Model, type ModelSpec } from '../src/model/model.js';
import { Rng } from '../src/rng.js';
import { Tensor, shapeSize } from '../src/tensor.js';

export const f64 = new RefBackend('float64');

export function randomTensor(shape: number[], rng: Rng, backend = f64): Tensor {
  const t = new Tensor(shape, backend.alloc(shapeSize(shape)));
  for (let i = 0; i < t.size; i++) t.data[i] = rng.uniform(-1, 1);
  return t;
}

/** ‖a − b‖ / max(‖a‖, ‖b‖, tiny): the relative error of a whole gradient. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i] - b[i]) ** 2;
    na += a[i] ** 2;
    nb += b[i] ** 2;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(na), Math.sqrt(nb), 1e-12);
}

export interface GradCheckResult {
  input: number;
  params: Record<string, number>;
}

/**
 * Checks a model's backward pass against central finite differences in float64. The loss is
 * L = Σ output ⊙ R for a fixed random R, which exercises every output element. The model's
 * RNG is rewound before each forward pass so dropout masks stay fixed. `training` false checks
 * the evaluation-mode pass (batch norm with its running statistics).
 */
export function gradCheck(spec: ModelSpec, batch: number, seed = 7, eps = 1e-6, training = true): GradCheckResult {
  const rng = new Rng(seed);
  const model = new Model(spec, f64, seed);
  // Random (not zero) biases so that every parameter is exercised away from special points.
  for (const p of model.parameters()) for (let i = 0; i < p.value.size; i++) p.value.data[i] = rng.uniform(-0.5, 0.5);
  const x = randomTensor([batch, ...spec.inputShape], rng);
  // Spread inputs over [-8, 8] so that capped activations (relu6, hardsigmoid) see both sides of the cap.
  if (spec.nodes.some((n) => n.layer.type === 'relu6' || n.layer.type === 'hardsigmoid')) for (let i = 0; i < x.size; i++) x.data[i] *= 8;
  const rngState = model.rng.getState();
  const run = () => {
    model.rng.setState(rngState);
    return model.forward(x, training);
  };
  const out = run();
  const R = randomTensor([...out.shape], rng);
  const loss = () => {
    const y = run();
    let s = 0;
    for (let i = 0; i < y.size; i++) s += y.data[i] * R.data[i];
    return s;
  };
  run();
  const dx = Float64Array.from(model.backward(R, training, true)!.data);
  const analytic = new Map(model.parameters().map((p) => [p.path, Float64Array.from(p.grad.data)]));

  const numeric = (values: Float64Array | Float32Array) => {
    const g = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const old = values[i];
      values[i] = old + eps;
      const plus = loss();
      values[i] = old - eps;
      const minus = loss();
      values[i] = old;
      g[i] = (plus - minus) / (2 * eps);
    }
    return g;
  };
  const result: GradCheckResult = { input: relativeError(dx, numeric(x.data)), params: {} };
  for (const p of model.parameters()) result.params[p.path] = relativeError(analytic.get(p.path)!, numeric(p.value.data));
  return result;
}

/** A one-layer model around `layer` for the given per-example input shape. */
export function single(layer: LayerSpec, inputShape: [number, number, number]): ModelSpec {
  return { name: `single-${layer.type}`, inputShape, nodes: [{ name: 'layer', layer, inputs: ['input'] }] };
}
