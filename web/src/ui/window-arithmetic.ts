/**
 * The arithmetic the overview writes out for one output channel, on the real values: which
 * input cells a convolution's or pooling layer's output cell reads, and a convolution split
 * into one map of products per input channel (their sum plus the bias is the layer's output).
 * Window geometry is read by the library's own layer from the spec ('same' padding, pairs,
 * dilation, groups), so it cannot drift from what the network computes. No DOM here.
 */
import { type ModelSpec, createLayer } from 'convkit';

export interface Windows {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
}

/** Cells [top..bottom] × [left..right] of a map; may reach into the padding. */
export interface Cells {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

/** The windows of node `name` if it is a convolution or a pooling layer (nothing is allocated); null otherwise. */
export function windowsOf(spec: ModelSpec, name: string): Windows | null {
  const node = spec.nodes.find((n) => n.name === name);
  if (!node) return null;
  try {
    const layer = createLayer(node.layer, name) as unknown as Partial<Windows>;
    if (!layer.kernel || !layer.stride || !layer.padding) return null;
    return { kernel: layer.kernel, stride: layer.stride, padding: layer.padding, dilation: layer.dilation ?? [1, 1], groups: layer.groups ?? 1 };
  } catch {
    return null;
  }
}

/** The input cells output cell (y, x) reads: a dilated kernel covers the extent of its taps. */
export function windowCells(g: Windows, y: number, x: number): Cells {
  const top = y * g.stride[0] - g.padding[0],
    left = x * g.stride[1] - g.padding[1];
  return { top, left, bottom: top + g.dilation[0] * (g.kernel[0] - 1), right: left + g.dilation[1] * (g.kernel[1] - 1) };
}

/** The input values a pooling window reads (padding left out), and whether it reaches into the padding. */
export function windowValues(g: Windows, plane: Float32Array, H: number, W: number, y: number, x: number): { values: number[]; padded: boolean } {
  const cells = windowCells(g, y, x);
  const values: number[] = [];
  let padded = false;
  for (let iy = cells.top; iy <= cells.bottom; iy += g.dilation[0])
    for (let ix = cells.left; ix <= cells.right; ix += g.dilation[1]) {
      if (iy >= 0 && iy < H && ix >= 0 && ix < W) values.push(plane[iy * W + ix]);
      else padded = true;
    }
  return { values, padded };
}

/**
 * Output channel `o` of a convolution as one map of products per input channel it reads (its
 * group's, from `first`), on input [C, H, W] with weights [O, C/groups, KH, KW] and output
 * [O, OH, OW]. Adding the maps and the bias gives the layer's output channel.
 */
export function convPartials(
  input: Float32Array,
  inputShape: readonly number[],
  weights: { shape: readonly number[]; data: Float32Array },
  outputShape: readonly number[],
  g: Windows,
  o: number,
): { first: number; partials: Float32Array[] } {
  const [, H, W] = inputShape;
  const [O, OH, OW] = outputShape;
  const [, Cg, KH, KW] = weights.shape;
  const first = Math.floor(o / (O / g.groups)) * Cg;
  const partials: Float32Array[] = [];
  for (let c = 0; c < Cg; c++) {
    const p = new Float32Array(OH * OW);
    const plane = (first + c) * H * W;
    const kernel = (o * Cg + c) * KH * KW;
    for (let y = 0; y < OH; y++)
      for (let x = 0; x < OW; x++) {
        let s = 0;
        for (let ky = 0; ky < KH; ky++)
          for (let kx = 0; kx < KW; kx++) {
            const iy = y * g.stride[0] + ky * g.dilation[0] - g.padding[0],
              ix = x * g.stride[1] + kx * g.dilation[1] - g.padding[1];
            if (iy >= 0 && iy < H && ix >= 0 && ix < W) s += input[plane + iy * W + ix] * weights.data[kernel + ky * KW + kx];
          }
        p[y * OW + x] = s;
      }
    partials.push(p);
  }
  return { first, partials };
}
