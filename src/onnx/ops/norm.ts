import type { ImportContext } from './context.js';

export function BatchNormalization(cx: ImportContext): void {
  const { node: n, at } = cx;
  const x = cx.input(0);
  const [scale, bias, mean, variance] = ['scale', 'bias', 'mean', 'variance'].map((what, i) => cx.constant(i + 1, what));
  const C = x.shape[0];
  if ([scale, bias, mean, variance].some((t) => t.values.length !== C)) cx.fail(`BatchNormalization "${n.name}": parameters must have ${C} values`);
  cx.emit({ type: 'batchnorm2d', eps: (at.get('epsilon') as number) ?? 1e-5, momentum: 1 - ((at.get('momentum') as number) ?? 0.9) }, [x], {
    weight: Float32Array.from(scale.values), bias: Float32Array.from(bias.values),
    running_mean: Float32Array.from(mean.values), running_var: Float32Array.from(variance.values),
  });
}

export function LRN(cx: ImportContext): void {
  const { at } = cx;
  cx.emit({ type: 'lrn', size: at.get('size') as number, alpha: (at.get('alpha') as number) ?? 1e-4, beta: (at.get('beta') as number) ?? 0.75, k: (at.get('bias') as number) ?? 1 }, [cx.input(0)]);
}
