import type { ImportContext } from './context.js';

export function BatchNormalization(cx: ImportContext): void {
  const { node: n, at } = cx;
  const x = cx.input(0);
  const [scale, bias, mean, variance] = ['scale', 'bias', 'mean', 'variance'].map((what, i) => cx.constant(i + 1, what));
  const C = x.shape[0];
  if ([scale, bias, mean, variance].some((t) => t.values.length !== C)) cx.fail(`BatchNormalization "${n.name}": parameters must have ${C} values`);
  cx.emit({ type: 'batchnorm2d', eps: at.float('epsilon') ?? 1e-5, momentum: 1 - (at.float('momentum') ?? 0.9) }, [x], {
    weight: Float32Array.from(scale.values), bias: Float32Array.from(bias.values),
    running_mean: Float32Array.from(mean.values), running_var: Float32Array.from(variance.values),
  });
}

export function LRN(cx: ImportContext): void {
  const { at } = cx;
  const size = at.int('size') ?? 0;
  if (size < 1) cx.fail(`LRN "${cx.node.name}": size must be a positive integer, got ${JSON.stringify(size)}`);
  // ONNX's window is [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉]: for even sizes one channel fewer before c than convkit's default.
  const before = Math.floor((size - 1) / 2);
  cx.emit({ type: 'lrn', size, alpha: at.float('alpha') ?? 1e-4, beta: at.float('beta') ?? 0.75, k: at.float('bias') ?? 1,
    ...(before !== Math.floor(size / 2) ? { before } : {}) }, [cx.input(0)]);
}
