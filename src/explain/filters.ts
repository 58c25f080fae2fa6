import { ConfigError } from '../errors.js';
import { INPUT, type Model } from '../model/model.js';
import { Tensor } from '../tensor.js';
import { type ColourMap, diverging } from './colormap.js';
import { type RgbaImage, createRgba } from './render.js';
import { nodeShape } from './target.js';
import { checkModel } from './arguments.js';

/** A convolution's kernels, as the model holds them. */
export interface ConvFilters {
  node: string;
  /** [filters, input channels per group, kh, kw]. */
  weights: Tensor;
  groups: number;
  /** Whether the convolution reads the model's input, so its kernels are in pixel space. */
  readsInput: boolean;
  /** The symmetric range [−m, m] that every drawing of these filters uses (m = the largest |weight|). */
  range: [number, number];
}

/** Names of the model's convolution nodes. */
export function convNodes(model: Model): string[] {
  checkModel(model, 'convNodes');
  return model
    .summary()
    .filter((r) => r.type === 'conv2d')
    .map((r) => r.name);
}

/** A convolution node's kernels (host copy); a ConfigError naming the convolutions if `node` is not one. */
export async function convFilters(model: Model, node: string): Promise<ConvFilters> {
  checkModel(model, 'convFilters');
  nodeShape(model, node, 'layer');
  const row = model.summary().find((r) => r.name === node)!;
  const layer = model.layers.find((l) => l.name === node);
  const weight = layer?.params().find((p) => p.name === 'weight');
  if (row.type !== 'conv2d' || !weight) {
    throw new ConfigError(
      `layer "${node}" of model "${model.name}" is a ${row.type}, not a convolution: it has no filters to draw (convolutions: ${convNodes(model).join(', ') || 'none'})`,
    );
  }
  await model.downloadWeights();
  const weights = new Tensor(weight.value.shape, weight.value.data.slice());
  let m = 0;
  for (const v of weights.data) m = Math.max(m, Math.abs(v));
  const groups = (layer as unknown as { groups?: number }).groups ?? 1;
  return { node, weights, groups, readsInput: row.inputs.length === 1 && row.inputs[0] === INPUT, range: [-(m || 1), m || 1] };
}

/**
 * How filter `f` is drawn: a kernel that reads a 3-channel input as one colour picture (grey is
 * zero, each channel's weight shifts its colour up or down); otherwise one picture per input
 * channel (a single one for grey input) in a diverging map, blue negative, red positive. All on
 * the filters' common range, so pictures compare. At most `maxSlices` slices.
 */
export function filterPictures(f: ConvFilters, filter: number, maxSlices = 32): RgbaImage[] {
  const [O, Cg, kh, kw] = f.weights.shape;
  if (!Number.isInteger(filter) || filter < 0 || filter >= O) throw new ConfigError(`layer "${f.node}" has filters 0..${O - 1}, not ${filter}`);
  const m = f.range[1],
    at = (c: number, i: number) => f.weights.data[(filter * Cg + c) * kh * kw + i];
  if (f.readsInput && Cg === 3) {
    const out = createRgba(kw, kh);
    for (let i = 0; i < kh * kw; i++) for (let c = 0; c < 3; c++) out.data[i * 4 + c] = Math.round(127.5 + (127.5 * at(c, i)) / m);
    return [out];
  }
  return Array.from({ length: Math.min(Cg, maxSlices) }, (_, c) => {
    const out = createRgba(kw, kh);
    for (let i = 0; i < kh * kw; i++) out.data.set(signedColour(at(c, i), m, diverging), i * 4);
    return out;
  });
}

/** A value in [−m, m] through a diverging map (0 at its middle). */
export function signedColour(v: number, m: number, colours: ColourMap = diverging): [number, number, number] {
  return colours(0.5 + v / (2 * m));
}

/** A signed map [h, w] (a reconstruction, a gradient) in the diverging map over [−m, m]. */
export function signedToRgba(map: Tensor, m: number): RgbaImage {
  const [h, w] = map.shape.slice(-2);
  const out = createRgba(w, h);
  for (let i = 0; i < w * h; i++) out.data.set(signedColour(map.data[i], m), i * 4);
  return out;
}
