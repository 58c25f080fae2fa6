import { shapeSize } from '../../tensor.js';
import type { ImportContext } from './context.js';

export function Flatten(cx: ImportContext): void {
  if (((cx.at.get('axis') as number) ?? 1) !== 1) cx.fail(`Flatten "${cx.node.name}": only axis 1 is supported`);
  cx.emit({ type: 'flatten' }, [cx.input(0)]);
}

export function Reshape(cx: ImportContext): void {
  const n = cx.node;
  const x = cx.input(0);
  const target = cx.known(1);
  if (!target) cx.fail(`Reshape "${n.name}": the target shape must be known at import time`);
  // [N or a fixed batch, -1 or the feature count]: a flatten.
  const flat = target.length === 2 && (target[1] === -1 || target[1] === shapeSize(x.shape));
  if (!flat) cx.fail(`Reshape "${n.name}": only flattening to [N, features] is supported (target ${JSON.stringify(target)})`);
  cx.emit({ type: 'flatten' }, [x]);
}

export function Dropout(cx: ImportContext): void {
  const x = cx.input(0);
  // Opset ≥ 12 passes the ratio as an optional input; older opsets as an attribute.
  const ratio = (cx.at.get('ratio') as number) ?? (cx.node.input[1] ? Number(cx.constant(1, 'ratio').values[0]) : 0.5);
  cx.emit({ type: 'dropout', rate: ratio }, [x]);
}

export function Identity(cx: ImportContext): void {
  cx.setProduced(cx.input(0, true));
}

function add(cx: ImportContext): void {
  const n = cx.node;
  if (n.input.some((_, i) => cx.isConstant(i))) cx.fail(`${n.opType} "${n.name}": adding a constant tensor is not supported`);
  cx.emit({ type: 'add' }, n.input.map((_, i) => cx.input(i)));
}
export const Add = add;
export const Sum = add;

export function Concat(cx: ImportContext): void {
  const n = cx.node;
  // Shape arithmetic (pieces of a target shape) is evaluated at import time.
  const known = n.input.map((_, i) => cx.known(i));
  if (known.every((k) => k)) return cx.setKnown(known.flatMap((k) => k!));
  const axis = cx.at.get('axis') as number;
  if (axis !== 1 && axis !== -3) cx.fail(`Concat "${n.name}": only channel concatenation (axis 1) is supported`);
  cx.emit({ type: 'concat' }, n.input.map((_, i) => cx.input(i)));
}

export function Pad(cx: ImportContext): void {
  const { node: n, at } = cx;
  const x = cx.input(0, true);
  const mode = (at.get('mode') as string | undefined) ?? 'constant';
  const pads = (at.get('pads') as number[] | undefined) ?? (n.input[1] ? cx.known(1) as number[] : undefined);
  const value = n.input[2] ? Number(cx.constant(2, 'constant value').values[0]) : 0;
  if (mode !== 'constant' || value !== 0 || !pads || pads.length !== 8 || pads[0] || pads[1] || pads[4] || pads[5] || pads[2] !== pads[6] || pads[3] !== pads[7] || x.pad) {
    cx.fail(`Pad "${n.name}": only symmetric zero padding of height and width is supported`);
  }
  cx.setProduced({ ...x, pad: [pads[2], pads[3]] });
}

function squeezeOrUnsqueeze(cx: ImportContext): void {
  const { node: n, at } = cx;
  const known = cx.known(0);
  if (known) return cx.setKnown(known);
  // Trailing unit axes on a flat [N, C] tensor (as around BatchNormalization of features) change nothing here.
  const x = cx.input(0, true);
  const axes = (at.get('axes') as number[] | undefined) ?? (n.input[1] ? (cx.known(1) as number[] | undefined) : undefined);
  if (x.shape.length !== 1 || !axes || axes.some((a) => a < 2)) cx.fail(`${n.opType} "${n.name}": only trailing unit axes on flat features are supported`);
  cx.setProduced(x);
}
export const Squeeze = squeezeOrUnsqueeze;
export const Unsqueeze = squeezeOrUnsqueeze;
