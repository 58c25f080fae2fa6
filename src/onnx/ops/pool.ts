import type { ImportContext } from './context.js';
import { pairAttribute, symmetricPads, withFoldedPad } from './padding.js';

function pool(cx: ImportContext, type: 'maxpool2d' | 'avgpool2d'): void {
  const { node: n, at } = cx;
  const op = n.opType;
  // Only average pooling can take a folded Pad: its zeros then count in the average.
  const x = cx.input(0, type === 'avgpool2d');
  const kernel = at.ints('kernel_shape');
  if (kernel?.length !== 2) cx.fail(`${op} "${n.name}": kernel_shape of 2 values (height, width) is required, got ${JSON.stringify(kernel)}`);
  if ((at.ints('dilations') ?? [1, 1]).some((d) => d !== 1)) cx.fail(`${op} "${n.name}": dilations are not supported`);
  const stride = pairAttribute(cx, 'strides');
  cx.emit(
    {
      type,
      kernel: [kernel![0], kernel![1]],
      stride,
      padding: withFoldedPad(symmetricPads(cx, kernel!, stride, x.shape), x.pad),
      ceil: at.int('ceil_mode') === 1,
      // Zeros from a folded Pad node count in the average, as they did in the original graph.
      ...(type === 'avgpool2d' ? { countPad: at.int('count_include_pad') === 1 || !!x.pad } : {}),
    },
    [x],
  );
}

export const MaxPool = (cx: ImportContext) => pool(cx, 'maxpool2d');
export const AveragePool = (cx: ImportContext) => pool(cx, 'avgpool2d');

export function GlobalAveragePool(cx: ImportContext): void {
  const x = cx.input(0);
  cx.emit({ type: 'avgpool2d', kernel: [x.shape[1], x.shape[2]], stride: 1 }, [x]);
}
