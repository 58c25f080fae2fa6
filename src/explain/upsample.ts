import { Tensor } from '../tensor.js';

/**
 * Bilinear resize of an [h, w] map to [H, W] with pixel centres aligned (PyTorch's
 * interpolate(mode='bilinear', align_corners=False)): output pixel centres map back onto the
 * input grid, and samples past the first or last centre repeat the edge value.
 */
export function resizeBilinear(map: Tensor, H: number, W: number): Tensor {
  const [h, w] = map.shape;
  const out = Tensor.zeros([H, W], map.data instanceof Float64Array ? 'float64' : 'float32');
  const ys = axis(h, H),
    xs = axis(w, W);
  for (let Y = 0; Y < H; Y++) {
    const [y0, y1, fy] = ys[Y];
    for (let X = 0; X < W; X++) {
      const [x0, x1, fx] = xs[X];
      const top = (1 - fx) * map.data[y0 * w + x0] + fx * map.data[y0 * w + x1];
      const bottom = (1 - fx) * map.data[y1 * w + x0] + fx * map.data[y1 * w + x1];
      out.data[Y * W + X] = (1 - fy) * top + fy * bottom;
    }
  }
  return out;
}

/** For each output index: the two input indices it lies between and the weight of the second. */
function axis(n: number, N: number): [number, number, number][] {
  const scale = n / N;
  return Array.from({ length: N }, (_, i) => {
    const src = Math.max(0, (i + 0.5) * scale - 0.5);
    const i0 = Math.min(Math.floor(src), n - 1);
    const i1 = i0 < n - 1 ? i0 + 1 : i0;
    return [i0, i1, src - i0];
  });
}
