import { ConfigError } from '../errors.js';
import type { Model } from '../model/model.js';
import { Tensor } from '../tensor.js';
import { Reused, activation, forwardBatch, readAll } from './run.js';
import { type Box, unitBox } from './patch-box.js';
import { datasetSize } from './reconstruct.js';
import { spatialNode } from './target.js';
import { checkModelAndImages, checkOptions } from './arguments.js';

export interface TopPatch {
  /** Dataset index of the image. */
  index: number;
  /** The unit's position in the node's feature map and its activation. */
  y: number;
  x: number;
  activation: number;
  /** The unit's receptive field in the image (clipped to it) and the pixels there, [C, height, width]. */
  box: Box;
  patch: Tensor;
}

/**
 * For each channel of a spatial node, the k dataset patches that excite it most: the strongest
 * unit of the channel in each image (one patch per image), cut at that unit's receptive field.
 */
export async function topActivatingPatches(
  model: Model,
  images: Tensor,
  o: { node: string; k?: number; batchSize?: number; channels?: number[] },
): Promise<TopPatch[][]> {
  checkModelAndImages(model, images, 'topActivatingPatches');
  checkOptions(o, 'topActivatingPatches', true);
  const [C, h, w] = spatialNode(model, o.node);
  const k = o.k ?? 9,
    batchSize = o.batchSize ?? 64;
  if (!Number.isInteger(k) || k < 1) throw new ConfigError(`top patches: k must be a positive integer, got ${k}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`top patches: batchSize must be a positive integer, got ${batchSize}`);
  const channels = o.channels ?? Array.from({ length: C }, (_, c) => c);
  for (const c of channels)
    if (!Number.isInteger(c) || c < 0 || c >= C) throw new ConfigError(`top patches: node "${o.node}" has channels 0..${C - 1}, not ${c}`);
  const N = datasetSize(model, images);
  const best = channels.map(() => [] as { index: number; unit: number; activation: number }[]);
  const per = images.size / Math.max(N, 1),
    hw = h * w;
  const reused = new Reused(model);
  for (let first = 0; first < N; first += batchSize) {
    const n = Math.min(batchSize, N - first);
    const batch = reused.batch(n);
    batch.data.set(images.data.subarray(first * per, (first + n) * per));
    forwardBatch(model, batch);
    const [a] = await readAll(model, [activation(model, o.node)]);
    channels.forEach((c, j) => {
      for (let i = 0; i < n; i++) {
        const v = a.data.subarray((i * C + c) * hw, (i * C + c + 1) * hw);
        let unit = 0;
        for (let u = 1; u < hw; u++) if (v[u] > v[unit]) unit = u;
        best[j].push({ index: first + i, unit, activation: v[unit] });
      }
      best[j] = best[j].sort((p, q) => q.activation - p.activation || p.index - q.index).slice(0, k);
    });
  }
  return best.map((list) =>
    list.map(({ index, unit, activation }) => {
      const y = Math.floor(unit / w),
        x = unit % w;
      const box = unitBox(model, o.node, y, x);
      return { index, y, x, activation, box, patch: cut(images, index, box) };
    }),
  );
}

function cut(images: Tensor, index: number, b: Box): Tensor {
  const [, C, H, W] = images.shape;
  const out = Tensor.zeros([C, b.height, b.width], images.data instanceof Float64Array ? 'float64' : 'float32');
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < b.height; y++) {
      const from = ((index * C + c) * H + b.top + y) * W + b.left;
      out.data.set(images.data.subarray(from, from + b.width), (c * b.height + y) * b.width);
    }
  }
  return out;
}
