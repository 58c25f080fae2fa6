import type { LayerSpec } from '../../layers/index.js';
import type { ImportContext } from './context.js';

const simple = (layer: LayerSpec) => (cx: ImportContext) => cx.emit(layer, [cx.input(0)]);

export const Relu = simple({ type: 'relu' });
export const Tanh = simple({ type: 'tanh' });
export const Sigmoid = simple({ type: 'sigmoid' });

/** ONNX HardSigmoid: clamp(alpha·x + beta, 0, 1), ONNX's defaults alpha 0.2, beta 0.5. */
export function HardSigmoid(cx: ImportContext): void {
  cx.emit({ type: 'hardsigmoid', alpha: cx.at.float('alpha') ?? 0.2, beta: cx.at.float('beta') ?? 0.5 }, [cx.input(0)]);
}

export function LeakyRelu(cx: ImportContext): void {
  cx.emit({ type: 'leakyrelu', slope: cx.at.float('alpha') ?? 0.01 }, [cx.input(0)]);
}

export function Clip(cx: ImportContext): void {
  const { node: n, at } = cx;
  const x = cx.input(0);
  // Opset ≥ 11 passes min and max as inputs; ReLU (0, none) and ReLU6 (0, 6) are the CNN uses.
  const lo = n.input[1] ? Number(cx.constant(1, 'min').values[0]) : (at.float('min') ?? -Infinity);
  const hi = n.input[2] ? Number(cx.constant(2, 'max').values[0]) : (at.float('max') ?? Infinity);
  if (lo !== 0 || (hi !== 6 && hi !== Infinity && hi < 3.4e38)) cx.fail(`Clip "${n.name}": only Clip(0, 6) (ReLU6) and Clip(0) (ReLU) are supported, got (${lo}, ${hi})`);
  cx.emit({ type: hi === 6 ? 'relu6' : 'relu' }, [x]);
}

export function Softmax(cx: ImportContext): void {
  const x = cx.input(0);
  const axis = cx.at.int('axis') ?? -1;
  if (x.shape.length !== 1 || (axis !== 1 && axis !== -1)) cx.fail(`Softmax "${cx.node.name}": only softmax over the features of a flat input is supported`);
  cx.emit({ type: 'softmax' }, [x]);
}
