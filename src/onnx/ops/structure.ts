import { shapeSize } from '../../tensor.js';
import type { ImportContext } from './context.js';

export function Flatten(cx: ImportContext): void {
  if (cx.isConstant(0)) return foldFlatten(cx);
  if ((cx.at.int('axis') ?? 1) !== 1) cx.fail(`Flatten "${cx.node.name}": only axis 1 is supported`);
  cx.emit({ type: 'flatten' }, [cx.input(0)]);
}

export function Reshape(cx: ImportContext): void {
  const n = cx.node;
  const target = cx.known(1);
  if (!target) cx.fail(`Reshape "${n.name}": the target shape must be known at import time`);
  if (cx.isConstant(0)) return foldReshape(cx, target);
  if (channelShuffleStep(cx, target)) return;
  const x = cx.input(0);
  // [N or a fixed batch, -1 or the feature count]: a flatten (at most one -1, as ONNX requires).
  const [batch, features] = target;
  const batchOk = batch === 'N' || batch === 0 || (Number.isSafeInteger(batch) && (batch as number) >= 1) || (batch === -1 && features !== -1);
  const flat = target.length === 2 && batchOk && (features === -1 || features === shapeSize(x.shape));
  if (!flat) cx.fail(`Reshape "${n.name}": only flattening to [N, features] is supported (target ${JSON.stringify(target)})`);
  cx.emit({ type: 'flatten' }, [x]);
}

/**
 * The Reshapes of a channel shuffle: [N, C, H, W] → [N, groups, C/groups, H, W] (a view), and
 * after the Transpose [0, 2, 1, 3, 4] back to [N, C, H, W] (a channelshuffle layer).
 */
function channelShuffleStep(cx: ImportContext, target: (number | 'N')[]): boolean {
  const x = cx.view(0);
  if (x.shape.length !== 3) return false;
  const [C, H, W] = x.shape;
  const batch = (d: number | 'N') => d === 'N' || d === 0 || d === -1 || (typeof d === 'number' && d > 0);
  if (x.view?.kind === 'shuffled') {
    if (target.length === 4 && batch(target[0]) && (target[1] === C || target[1] === -1) && target[2] === H && target[3] === W) {
      cx.emit({ type: 'channelshuffle', groups: x.view.groups }, [{ node: x.node, shape: x.shape }]);
      return true;
    }
    return false;
  }
  if (x.view || target.length !== 5 || !batch(target[0]) || target[3] !== H || target[4] !== W) return false;
  let [g, per] = [target[1], target[2]];
  if (g === -1 && typeof per === 'number' && per > 0) g = C / per;
  if (per === -1 && typeof g === 'number' && g > 0) per = C / g;
  if (typeof g !== 'number' || typeof per !== 'number' || !Number.isInteger(g) || g < 1 || g * per !== C) return false;
  cx.setProduced({ ...x, view: { kind: 'grouped', groups: g } });
  return true;
}

export function Dropout(cx: ImportContext): void {
  // Dropout is the identity at inference; on a known tensor it is an alias.
  if (cx.isConstant(0)) return cx.setConstant(cx.constant(0, 'input'));
  const x = cx.input(0);
  // Opset ≥ 12 passes the ratio as an optional input; older opsets as an attribute.
  const ratio = cx.at.float('ratio') ?? (cx.node.input[1] ? Number(cx.constant(1, 'ratio').values[0]) : 0.5);
  cx.emit({ type: 'dropout', rate: ratio }, [x]);
}

/**
 * Exporters alias initializers through Identity (PyTorch writes one for every tensor it
 * de-duplicates, such as equal zero biases), so an alias of a known tensor stays known.
 */
export function Identity(cx: ImportContext): void {
  if (cx.isConstant(0)) return cx.setConstant(cx.constant(0, 'input'));
  const known = cx.known(0);
  if (known) return cx.setKnown(known);
  cx.setProduced(cx.input(0, true));
}

export function Concat(cx: ImportContext): void {
  const n = cx.node;
  // Shape arithmetic (pieces of a target shape) is evaluated at import time.
  const known = n.input.map((_, i) => cx.known(i));
  if (known.every((k) => k)) return cx.setKnown(known.flatMap((k) => k!));
  const axis = cx.at.int('axis');
  if (axis !== 1 && axis !== -3) cx.fail(`Concat "${n.name}": only channel concatenation (axis 1) is supported`);
  cx.emit(
    { type: 'concat' },
    n.input.map((_, i) => cx.input(i)),
  );
}

export function Pad(cx: ImportContext): void {
  const { node: n, at } = cx;
  const x = cx.input(0, true);
  const mode = at.string('mode') ?? 'constant';
  const pads = at.ints('pads') ?? (n.input[1] ? (cx.known(1) as number[]) : undefined);
  const value = n.input[2] ? Number(cx.constant(2, 'constant value').values[0]) : 0;
  if (
    mode !== 'constant' ||
    value !== 0 ||
    !pads ||
    pads.length !== 8 ||
    pads[0] ||
    pads[1] ||
    pads[4] ||
    pads[5] ||
    pads[2] !== pads[6] ||
    pads[3] !== pads[7] ||
    x.pad
  ) {
    cx.fail(`Pad "${n.name}": only symmetric zero padding of height and width is supported`);
  }
  cx.setProduced({ ...x, pad: [pads[2], pads[3]] });
}

function squeezeOrUnsqueeze(cx: ImportContext): void {
  const { node: n, at } = cx;
  const known = cx.known(0);
  if (cx.isConstant(0)) return foldSqueeze(cx);
  if (known) return cx.setKnown(known);
  // Trailing unit axes on a flat [N, C] tensor (as around BatchNormalization of features) change nothing here.
  const x = cx.input(0, true);
  const axes = at.ints('axes') ?? (n.input[1] ? (cx.known(1) as number[] | undefined) : undefined);
  if (x.shape.length !== 1 || !axes || axes.some((a) => a < 2)) cx.fail(`${n.opType} "${n.name}": only trailing unit axes on flat features are supported`);
  cx.setProduced(x);
}
export const Squeeze = squeezeOrUnsqueeze;
export const Unsqueeze = squeezeOrUnsqueeze;

/** Flatten of a known tensor: the same values as [d0, rest]. */
function foldFlatten(cx: ImportContext): void {
  const c = cx.constant(0, 'input');
  const axis = cx.at.int('axis') ?? 1;
  const a = axis < 0 ? axis + c.dims.length : axis;
  if (a < 0 || a > c.dims.length) cx.fail(`Flatten "${cx.node.name}": axis ${axis} out of range for ${JSON.stringify(c.dims)}`);
  const prod = (d: number[]) => d.reduce((p, q) => p * q, 1);
  cx.setConstant({ dims: [prod(c.dims.slice(0, a)), prod(c.dims.slice(a))], values: c.values });
}

/** Reshape of a known tensor: its values with the target's dimensions (0 copies, -1 infers). */
function foldReshape(cx: ImportContext, target: (number | 'N')[]): void {
  const n = cx.node;
  const c = cx.constant(0, 'input');
  const count = c.values.length;
  const dims = target.map((d, i) => (d === 0 ? c.dims[i] : d));
  if (dims.some((d) => d === 'N' || d === undefined || d < -1) || dims.filter((d) => d === -1).length > 1) {
    cx.fail(`Reshape "${n.name}": target ${JSON.stringify(target)} is not a valid shape for the constant ${JSON.stringify(c.dims)}`);
  }
  const fixed = (dims as number[]).filter((d) => d !== -1).reduce((p, q) => p * q, 1);
  const resolved = (dims as number[]).map((d) => (d === -1 ? (fixed ? count / fixed : 0) : d));
  if (resolved.reduce((p, q) => p * q, 1) !== count || !resolved.every(Number.isInteger)) {
    cx.fail(`Reshape "${n.name}": cannot reshape the constant ${JSON.stringify(c.dims)} to ${JSON.stringify(target)}`);
  }
  cx.setConstant({ dims: resolved, values: c.values });
}

/** Squeeze/Unsqueeze of a known tensor: the same values with unit axes removed or inserted. */
function foldSqueeze(cx: ImportContext): void {
  const n = cx.node;
  const c = cx.constant(0, 'input');
  const axes = cx.at.ints('axes') ?? (n.input[1] ? (cx.known(1) as number[] | undefined) : undefined);
  let dims: number[];
  if (n.opType === 'Squeeze') {
    const rank = c.dims.length;
    const drop = new Set((axes ?? c.dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => (a < 0 ? a + rank : a)));
    if ([...drop].some((a) => c.dims[a] !== 1)) cx.fail(`Squeeze "${n.name}": axes ${JSON.stringify(axes)} are not unit axes of ${JSON.stringify(c.dims)}`);
    dims = c.dims.filter((_, i) => !drop.has(i));
  } else {
    if (!axes) cx.fail(`Unsqueeze "${n.name}": the axes must be known at import time`);
    const rank = c.dims.length + axes.length;
    const add = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
    if (add.size !== axes.length || [...add].some((a) => a < 0 || a >= rank)) cx.fail(`Unsqueeze "${n.name}": invalid axes ${JSON.stringify(axes)}`);
    dims = [];
    for (let i = 0, k = 0; i < rank; i++) dims.push(add.has(i) ? 1 : c.dims[k++]);
  }
  cx.setConstant({ dims, values: c.values });
}
