import type { LayerSpec } from '../../layers/index.js';
import type { ImportContext } from './context.js';

/** An element-wise activation: on a channels-last tensor too, whose output stays channels-last. */
function elementwise(cx: ImportContext, layer: LayerSpec): void {
  const x = cx.view(0);
  if (x.view && x.view.kind !== 'channels-last') cx.input(0);
  const p = cx.emit(layer, [{ node: x.node, shape: x.shape }]);
  if (x.view) cx.setProduced({ ...p, view: x.view });
}

const simple = (layer: LayerSpec) => (cx: ImportContext) => elementwise(cx, layer);

/** Exact GELU (opset 20's Gelu, or PyTorch's erf form fused before the walk); the tanh approximation is refused. */
export function Gelu(cx: ImportContext): void {
  const approximate = cx.at.string('approximate') ?? 'none';
  if (approximate !== 'none') cx.fail(`Gelu "${cx.node.name}": only the exact GELU is supported, not approximate "${approximate}"`);
  elementwise(cx, { type: 'gelu' });
}

/** Erf appears in PyTorch's exact GELU, which the importer fuses before this walk. */
export function Erf(cx: ImportContext): void {
  cx.fail(`Erf "${cx.node.name}": only supported inside GELU, x·0.5·(1 + erf(x/√2))`);
}

/** ONNX HardSwish (opset 14): x·hardsigmoid(x) with PyTorch's alpha 1/6, beta 1/2, as two layers. */
export function HardSwish(cx: ImportContext): void {
  const x = cx.input(0);
  const gate = cx.emit({ type: 'hardsigmoid', alpha: 1 / 6, beta: 0.5 }, [x]);
  cx.emit({ type: 'mul' }, [x, gate]);
}

export const Relu = simple({ type: 'relu' });
export const Tanh = simple({ type: 'tanh' });
export const Sigmoid = simple({ type: 'sigmoid' });

/** ONNX HardSigmoid: clamp(alpha·x + beta, 0, 1), ONNX's defaults alpha 0.2, beta 0.5. */
export function HardSigmoid(cx: ImportContext): void {
  elementwise(cx, { type: 'hardsigmoid', alpha: cx.at.float('alpha') ?? 0.2, beta: cx.at.float('beta') ?? 0.5 });
}

export function LeakyRelu(cx: ImportContext): void {
  elementwise(cx, { type: 'leakyrelu', slope: cx.at.float('alpha') ?? 0.01 });
}

export function Clip(cx: ImportContext): void {
  const { node: n, at } = cx;
  const x = cx.input(0);
  // Opset ≥ 11 passes min and max as inputs; ReLU (0, none) and ReLU6 (0, 6) are the CNN uses.
  const lo = n.input[1] ? Number(cx.constant(1, 'min').values[0]) : (at.float('min') ?? -Infinity);
  const hi = n.input[2] ? Number(cx.constant(2, 'max').values[0]) : (at.float('max') ?? Infinity);
  if (lo !== 0 || (hi !== 6 && hi !== Infinity && hi < 3.4e38))
    cx.fail(`Clip "${n.name}": only Clip(0, 6) (ReLU6) and Clip(0) (ReLU) are supported, got (${lo}, ${hi})`);
  cx.emit({ type: hi === 6 ? 'relu6' : 'relu' }, [x]);
}

export function Softmax(cx: ImportContext): void {
  const x = cx.input(0);
  const axis = cx.at.int('axis') ?? -1;
  if (x.shape.length !== 1 || (axis !== 1 && axis !== -1)) cx.fail(`Softmax "${cx.node.name}": only softmax over the features of a flat input is supported`);
  cx.emit({ type: 'softmax' }, [x]);
}
