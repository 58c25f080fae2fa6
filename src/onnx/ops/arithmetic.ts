import type { LayerSpec } from '../../layers/index.js';
import type { Constant, Produced } from '../graph.js';
import type { ImportContext } from './context.js';
import { foldShapeArithmetic } from './shape.js';

/**
 * Per-channel arithmetic with a tensor from the file (layer scales, normalising constants)
 * becomes a depthwise 1×1 convolution, whose weight and bias hold the constant: it runs and
 * trains on every backend like any other convolution. A scale (Mul, Div) has no bias, so that
 * PyTorch's layer scale keeps its one parameter per channel.
 */
function perChannel(cx: ImportContext, x: Produced, c: Constant, weight: (v: number) => number, bias?: (v: number) => number): void {
  const n = cx.node;
  const C = x.shape[0];
  const values = c.values.length;
  let ok: boolean;
  if (x.view?.kind === 'channels-last') {
    // Channels are the last axis: a per-channel constant is [C] (or [1, …, 1, C]).
    ok = x.shape.length === 3 && (values === 1 || (values === C && c.dims.at(-1) === C && c.dims.length <= 4));
  } else {
    const dims = c.dims.slice(c.dims.length > 3 ? c.dims.length - 3 : 0);
    const lead = c.dims.slice(0, c.dims.length - dims.length);
    ok =
      !x.view &&
      x.shape.length === 3 &&
      lead.every((d) => d === 1) &&
      (values === 1 ? true : values === C && dims.length === 3 && dims[0] === C && dims[1] === 1 && dims[2] === 1);
  }
  if (!ok)
    cx.fail(
      `${n.opType} "${n.name}": only a scalar or per-channel constant ([C, 1, 1], or [C] on a channels-last tensor) on a [C, H, W] tensor is supported (constant ${JSON.stringify(c.dims)}, tensor ${JSON.stringify(x.shape)}${x.view ? `, ${x.view.kind}` : ''})`,
    );
  const at = (i: number) => Number(c.values[values === 1 ? 0 : i]);
  const weights: Record<string, Float32Array> = { weight: Float32Array.from({ length: C }, (_, i) => weight(at(i))) };
  if (bias) weights.bias = Float32Array.from({ length: C }, (_, i) => bias(at(i)));
  const p = cx.emit({ type: 'conv2d', filters: C, kernel: 1, groups: C, bias: !!bias }, [{ node: x.node, shape: x.shape }], weights);
  if (x.view) cx.setProduced({ ...p, view: x.view });
}

/** The computed operand and the constant one, for an operator with one of each. */
function split(cx: ImportContext): { x: Produced; c: Constant; constantFirst: boolean } | undefined {
  const n = cx.node;
  if (n.input.length !== 2) return undefined;
  const [c0, c1] = [cx.isConstant(0), cx.isConstant(1)];
  if (c0 === c1) return undefined;
  return c1 ? { x: cx.view(0), c: cx.constant(1, 'operand'), constantFirst: false } : { x: cx.view(1), c: cx.constant(0, 'operand'), constantFirst: true };
}

/** Inputs of an element-wise operator on two or more computed tensors: all seen alike (the same view, or none). */
function sameViews(cx: ImportContext): Produced[] {
  const xs = cx.node.input.map((_, i) => cx.view(i));
  if (xs.some((x) => x.view && x.view.kind !== 'channels-last') || xs.some((x) => x.view?.kind !== xs[0].view?.kind)) {
    xs.forEach((_, i) => cx.input(i));
  }
  return xs;
}

/** Emits a layer over tensors that share a view; its output is seen the same way. */
function emitKeepingView(cx: ImportContext, layer: LayerSpec, xs: Produced[]): void {
  const p = cx.emit(
    layer,
    xs.map((x) => ({ node: x.node, shape: x.shape })),
  );
  if (xs[0].view) cx.setProduced({ ...p, view: xs[0].view });
}

function add(cx: ImportContext): void {
  const n = cx.node;
  if (foldShapeArithmetic(cx)) return;
  const k = n.opType === 'Add' ? split(cx) : undefined;
  if (k)
    return perChannel(
      cx,
      k.x,
      k.c,
      () => 1,
      (v) => v,
    );
  if (n.input.some((_, i) => cx.isConstant(i)))
    cx.fail(`${n.opType} "${n.name}": adding a constant tensor is only supported as Add of one computed and one per-channel constant tensor`);
  emitKeepingView(cx, { type: 'add' }, sameViews(cx));
}
export const Add = add;
export const Sum = add;

export function Sub(cx: ImportContext): void {
  if (foldShapeArithmetic(cx)) return;
  const k = split(cx);
  if (!k) return cx.fail(`Sub "${cx.node.name}": only subtracting a constant from a computed tensor (or the reverse) is supported`);
  if (k.constantFirst)
    perChannel(
      cx,
      k.x,
      k.c,
      () => -1,
      (v) => v,
    );
  else
    perChannel(
      cx,
      k.x,
      k.c,
      () => 1,
      (v) => -v,
    );
}

export function Mul(cx: ImportContext): void {
  if (cx.node.input.length !== 2) cx.fail(`Mul "${cx.node.name}": takes 2 inputs, got ${cx.node.input.length}`);
  if (foldShapeArithmetic(cx)) return;
  const k = split(cx);
  if (k) return perChannel(cx, k.x, k.c, (v) => v);
  if (cx.isConstant(0) && cx.isConstant(1)) cx.fail(`Mul "${cx.node.name}": a product of two constants should have been folded by the exporter`);
  emitKeepingView(cx, { type: 'mul' }, sameViews(cx));
}

export function Div(cx: ImportContext): void {
  if (foldShapeArithmetic(cx)) return;
  const k = split(cx);
  if (!k || k.constantFirst) return cx.fail(`Div "${cx.node.name}": only dividing a computed tensor by a constant is supported`);
  if (Array.from(k.c.values).some((v) => Number(v) === 0)) cx.fail(`Div "${cx.node.name}": division by a constant that holds zeros`);
  perChannel(cx, k.x, k.c, (v) => 1 / v);
}

/** ReduceMean over height and width: global average pooling (keepdims 0 also flattens). */
export function ReduceMean(cx: ImportContext): void {
  const n = cx.node;
  const x = cx.input(0);
  const axes = (cx.at.ints('axes') ?? []).map((a) => (a < 0 ? a + 4 : a)).sort();
  if (x.shape.length !== 3 || axes.length !== 2 || axes[0] !== 2 || axes[1] !== 3) {
    cx.fail(`ReduceMean "${n.name}": only the mean over height and width (axes 2, 3) of a [N, C, H, W] tensor is supported`);
  }
  const pooled = cx.emit({ type: 'globalavgpool2d' }, [x]);
  if ((cx.at.int('keepdims') ?? 1) === 0) cx.emit({ type: 'flatten' }, [pooled]);
}

/** Pow and Sqrt appear in PyTorch's decomposed layer norm, which the importer fuses before this walk. */
function onlyInLayerNorm(cx: ImportContext): void {
  cx.fail(
    `${cx.node.opType} "${cx.node.name}": only supported inside a layer norm over channels (ReduceMean, Sub, Pow 2, ReduceMean, Add ε, Sqrt, Div, optional Mul and Add by constants)`,
  );
}
export const Pow = onlyInLayerNorm;
export const Sqrt = onlyInLayerNorm;
