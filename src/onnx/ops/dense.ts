import { shapeSize } from '../../tensor.js';
import type { ImportContext } from './context.js';

function dense(cx: ImportContext, gemm: boolean): void {
  const { node: n, at } = cx;
  const op = n.opType;
  if (gemm && at.int('transA')) cx.fail(`Gemm "${n.name}": transA is not supported`);
  const x = cx.input(0);
  const w = cx.constant(1, 'weight');
  if (w.dims.length !== 2) cx.fail(`${op} "${n.name}": weight must be 2-D`);
  const transB = gemm && at.int('transB') === 1;
  const [units, features] = transB ? w.dims : [w.dims[1], w.dims[0]];
  if (features !== shapeSize(x.shape)) cx.fail(`${op} "${n.name}": weight expects ${features} features, input has ${shapeSize(x.shape)}`);
  const alpha = gemm ? (at.float('alpha') ?? 1) : 1;
  const beta = gemm ? (at.float('beta') ?? 1) : 1;
  const W = new Float32Array(units * features);
  for (let u = 0; u < units; u++)
    for (let f = 0; f < features; f++) W[u * features + f] = alpha * Number(transB ? w.values[u * features + f] : w.values[f * units + u]);
  // MatMul has a bias only when fused with the Add that follows it (src/onnx/patterns.ts).
  const hasBias = !!n.input[2];
  const weights: Record<string, Float32Array> = { weight: W };
  if (hasBias) {
    const b = cx.constant(2, 'bias');
    if (b.values.length !== units) cx.fail(`${op} "${n.name}": bias must have ${units} values (broadcasting other shapes is not supported)`);
    weights.bias = Float32Array.from(b.values, (v) => beta * Number(v));
  }
  cx.emit({ type: 'dense', units, bias: hasBias }, [x], weights);
}

export const Gemm = (cx: ImportContext) => dense(cx, true);
/** MatMul by a constant (with its bias, when fused with the Add after it): a dense layer, or on a channels-last tensor (a Linear over the channels) a 1×1 convolution. */
export function MatMul(cx: ImportContext): void {
  const x = cx.view(0);
  if (x.view?.kind !== 'channels-last') return dense(cx, false);
  const n = cx.node;
  const w = cx.constant(1, 'weight');
  const C = x.shape[0];
  if (w.dims.length !== 2 || w.dims[0] !== C)
    cx.fail(`MatMul "${n.name}": on a channels-last tensor of ${C} channels the weight must be [${C}, units], got ${JSON.stringify(w.dims)}`);
  const units = w.dims[1];
  const W = new Float32Array(units * C);
  for (let u = 0; u < units; u++) for (let c = 0; c < C; c++) W[u * C + c] = Number(w.values[c * units + u]);
  const weights: Record<string, Float32Array> = { weight: W };
  if (n.input[2]) {
    const b = cx.constant(2, 'bias');
    if (b.values.length !== units) cx.fail(`MatMul "${n.name}": bias must have ${units} values, one per unit`);
    weights.bias = Float32Array.from(b.values, Number);
  }
  const p = cx.emit({ type: 'conv2d', filters: units, kernel: 1, bias: !!n.input[2] }, [{ node: x.node, shape: x.shape }], weights);
  cx.setProduced({ ...p, view: x.view });
}
