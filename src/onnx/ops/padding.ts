import type { Shape } from '../../tensor.js';
import type { ImportContext } from './context.js';

/** Converts ONNX pads/auto_pad to convkit's symmetric [padH, padW]. */
export function symmetricPads(cx: ImportContext, kernel: number[], stride: number[], input: Shape): [number, number] {
  const auto = cx.at.string('auto_pad') ?? 'NOTSET';
  if (!['NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER'].includes(auto)) cx.fail(`node "${cx.node.name}": unknown auto_pad ${JSON.stringify(auto)}`);
  if (auto === 'VALID') return [0, 0];
  if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    const total = [0, 1].map((i) => Math.max(0, (Math.ceil(input[i + 1] / stride[i]) - 1) * stride[i] + kernel[i] - input[i + 1]));
    if (total.some((t) => t % 2 !== 0)) cx.fail(`node "${cx.node.name}": asymmetric ${auto} padding is not supported`);
    return [total[0] / 2, total[1] / 2];
  }
  const pads = cx.at.ints('pads') ?? [0, 0, 0, 0];
  if (pads.length !== 4 || pads[0] !== pads[2] || pads[1] !== pads[3])
    cx.fail(`node "${cx.node.name}": asymmetric pads ${JSON.stringify(pads)} are not supported`);
  return [pads[0], pads[1]];
}

/** Adds the zeros of a Pad node folded into this consumer. */
export function withFoldedPad(p: [number, number], pending?: [number, number]): [number, number] {
  return pending ? [p[0] + pending[0], p[1] + pending[1]] : p;
}

/** A spatial attribute of two values (strides): [height, width], default [1, 1]; other lengths are other ranks. */
export function pairAttribute(cx: ImportContext, name: string): [number, number] {
  const v = cx.at.ints(name) ?? [1, 1];
  if (v.length !== 2) cx.fail(`${cx.node.opType} "${cx.node.name}": ${name} must have 2 values (height, width), got ${JSON.stringify(v)}`);
  return [v[0], v[1]];
}
