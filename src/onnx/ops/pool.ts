import type { ImportContext } from './context.js';
import { symmetricPads, withFoldedPad } from './padding.js';

function pool(cx: ImportContext, type: 'maxpool2d' | 'avgpool2d'): void {
  const { node: n, at } = cx;
  const op = n.opType;
  // Only average pooling can take a folded Pad: its zeros then count in the average.
  const x = cx.input(0, type === 'avgpool2d');
  const kernel = at.get('kernel_shape') as number[];
  if (!kernel) cx.fail(`${op} "${n.name}": kernel_shape is required`);
  if (((at.get('dilations') as number[]) ?? [1, 1]).some((d) => d !== 1)) cx.fail(`${op} "${n.name}": dilations are not supported`);
  const stride = ((at.get('strides') as number[]) ?? [1, 1]) as [number, number];
  cx.emit({ type, kernel: [kernel[0], kernel[1]], stride,
    padding: withFoldedPad(symmetricPads(cx, kernel, stride, x.shape), x.pad), ceil: at.get('ceil_mode') === 1,
    // Zeros from a folded Pad node count in the average, as they did in the original graph.
    ...(type === 'avgpool2d' ? { countPad: at.get('count_include_pad') === 1 || !!x.pad } : {}) }, [x]);
}

export const MaxPool = (cx: ImportContext) => pool(cx, 'maxpool2d');
export const AveragePool = (cx: ImportContext) => pool(cx, 'avgpool2d');

export function GlobalAveragePool(cx: ImportContext): void {
  const x = cx.input(0);
  cx.emit({ type: 'avgpool2d', kernel: [x.shape[1], x.shape[2]], stride: 1 }, [x]);
}
