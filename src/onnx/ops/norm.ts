import type { ImportContext } from './context.js';

export function BatchNormalization(cx: ImportContext): void {
  const { node: n, at } = cx;
  const x = cx.input(0);
  const [scale, bias, mean, variance] = ['scale', 'bias', 'mean', 'variance'].map((what, i) => cx.constant(i + 1, what));
  const C = x.shape[0];
  if ([scale, bias, mean, variance].some((t) => t.values.length !== C)) cx.fail(`BatchNormalization "${n.name}": parameters must have ${C} values`);
  cx.emit({ type: 'batchnorm2d', eps: at.float('epsilon') ?? 1e-5, momentum: 1 - (at.float('momentum') ?? 0.9) }, [x], {
    weight: Float32Array.from(scale.values),
    bias: Float32Array.from(bias.values),
    running_mean: Float32Array.from(mean.values),
    running_var: Float32Array.from(variance.values),
  });
}

export function LRN(cx: ImportContext): void {
  const { at } = cx;
  const size = at.int('size') ?? 0;
  if (size < 1) cx.fail(`LRN "${cx.node.name}": size must be a positive integer, got ${JSON.stringify(size)}`);
  // ONNX's window is [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉]: for even sizes one channel fewer before c than convkit's default.
  const before = Math.floor((size - 1) / 2);
  cx.emit(
    {
      type: 'lrn',
      size,
      alpha: at.float('alpha') ?? 1e-4,
      beta: at.float('beta') ?? 0.75,
      k: at.float('bias') ?? 1,
      ...(before !== Math.floor(size / 2) ? { before } : {}),
    },
    [cx.input(0)],
  );
}

/**
 * Layer norm over the channels (a layernorm2d layer): ONNX LayerNormalization (opset 17)
 * normalises axis `axis` and all after it, which is the channels alone on a channels-last
 * tensor (axis −1), or wherever the other normalised axes have size 1. The node fused from
 * PyTorch's decomposed form names exactly its reduced axes (`axes`), so that a mean over axis 1
 * of an [N, C, H, W] tensor is one too.
 */
export function LayerNormalization(cx: ImportContext): void {
  const { node: n, at } = cx;
  const x = cx.view(0);
  if (x.view && x.view.kind !== 'channels-last') cx.input(0);
  if (n.output.slice(1).some((o) => o)) cx.fail(`LayerNormalization "${n.name}": its mean and inverse standard deviation outputs are not supported`);
  const rank = x.shape.length + 1;
  const normalise = (a: number) => (a < 0 ? a + rank : a);
  const axis = normalise(at.int('axis') ?? -1);
  const over = (at.ints('axes') ?? Array.from({ length: rank - axis }, (_, k) => axis + k)).map(normalise);
  // ONNX axis k of the tensor as ONNX sees it is convkit's (NCHW) axis order[k].
  const order = x.view ? [0, 2, 3, 1] : Array.from({ length: rank }, (_, k) => k);
  const dims = [0, ...x.shape];
  const axes = over.map((a) => order[a]);
  const ok = over.every((a) => a >= 1 && a < rank) && axes.includes(1) && axes.every((a) => a === 1 || dims[a] === 1);
  if (!ok)
    cx.fail(
      `LayerNormalization "${n.name}": only normalisation over the channels is supported (axes ${JSON.stringify(over)} of a ${x.view ? 'channels-last' : `rank-${rank}`} tensor)`,
    );
  const C = x.shape[0];
  const param = (i: number, what: string, fallback: number) => {
    if (!n.input[i]) return new Float32Array(C).fill(fallback);
    const c = cx.constant(i, what);
    if (c.values.length !== C) cx.fail(`LayerNormalization "${n.name}": its ${what} must have ${C} values, one per channel (got ${JSON.stringify(c.dims)})`);
    return Float32Array.from(c.values, Number);
  };
  const p = cx.emit({ type: 'layernorm2d', eps: at.float('epsilon') ?? 1e-5 }, [{ node: x.node, shape: x.shape }], {
    weight: param(1, 'scale', 1),
    bias: param(2, 'bias', 0),
  });
  if (x.view) cx.setProduced({ ...p, view: x.view });
}
