import type { Shape } from '../../tensor.js';
import type { ImportContext } from './context.js';

/** Converts ONNX pads/auto_pad to convkit's symmetric [padH, padW]. */
export function symmetricPads(cx: ImportContext, kernel: number[], stride: number[], input: Shape): [number, number] {
  const auto = (cx.at.get('auto_pad') as string | undefined) ?? 'NOTSET';
  if (auto === 'VALID') return [0, 0];
  if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    const total = [0, 1].map((i) => Math.max(0, (Math.ceil(input[i + 1] / stride[i]) - 1) * stride[i] + kernel[i] - input[i + 1]));
    if (total.some((t) => t % 2 !== 0)) cx.fail(`node "${cx.node.name}": asymmetric ${auto} padding is not supported`);
    return [total[0] / 2, total[1] / 2];
  }
  const pads = (cx.at.get('pads') as number[] | undefined) ?? [0, 0, 0, 0];
  if (pads.length !== 4 || pads[0] !== pads[2] || pads[1] !== pads[3]) cx.fail(`node "${cx.node.name}": asymmetric pads ${JSON.stringify(pads)} are not supported`);
  return [pads[0], pads[1]];
}

/** Adds the zeros of a Pad node folded into this consumer. */
export function withFoldedPad(p: [number, number], pending?: [number, number]): [number, number] {
  return pending ? [p[0] + pending[0], p[1] + pending[1]] : p;
}
