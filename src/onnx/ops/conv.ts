import type { ImportContext } from './context.js';
import { pairAttribute, symmetricPads, withFoldedPad } from './padding.js';

export function Conv(cx: ImportContext): void {
  const { node: n, at } = cx;
  const x = cx.input(0, true);
  const w = cx.constant(1, 'weight');
  if (w.dims.length !== 4) cx.fail(`Conv "${n.name}": weight must be 4-D`);
  const kernel = at.ints('kernel_shape') ?? w.dims.slice(2);
  if (kernel.length !== 2 || kernel[0] !== w.dims[2] || kernel[1] !== w.dims[3]) {
    cx.fail(`Conv "${n.name}": kernel_shape ${JSON.stringify(kernel)} does not match the weight's ${JSON.stringify(w.dims.slice(2))}`);
  }
  const dilations = at.ints('dilations') ?? [1, 1];
  if (dilations.length !== 2) cx.fail(`Conv "${n.name}": dilations must have 2 values`);
  const stride = pairAttribute(cx, 'strides');
  // The effective kernel of a dilated convolution decides SAME padding.
  const extent = kernel.map((k, i) => (k - 1) * dilations[i] + 1);
  const padding = withFoldedPad(symmetricPads(cx, extent, stride, x.shape), x.pad);
  const bias = n.input[2] ? cx.constant(2, 'bias') : undefined;
  const layer = {
    type: 'conv2d' as const,
    filters: w.dims[0],
    kernel: [kernel[0], kernel[1]] as [number, number],
    stride,
    padding,
    groups: at.int('group') ?? 1,
    bias: !!bias,
    ...(dilations.some((d) => d !== 1) ? { dilation: [dilations[0], dilations[1]] as [number, number] } : {}),
  };
  cx.emit(layer, [x], { weight: Float32Array.from(w.values), ...(bias ? { bias: Float32Array.from(bias.values) } : {}) });
}
