import { ConfigError } from '../errors.js';
import type { Model } from '../model/model.js';
import { Tensor } from '../tensor.js';
import { Reused, activation, forwardBatch, readAll, softmax } from './run.js';
import { type ClassOptions, classScores } from './saliency.js';
import { scoreNode } from './target.js';
import { checkModelAndImage, checkOptions } from './arguments.js';

export interface OcclusionOptions extends ClassOptions {
  /** Side of the square patch in pixels (default: a quarter of the smaller side, at least 1). */
  patch?: number;
  /** Step between patch positions (default: half the patch, at least 1). */
  stride?: number;
  /** Value written into the patch; default: each channel's mean over the image (a neutral grey). */
  value?: number;
  /** Occluded copies per forward pass (default 32). */
  batchSize?: number;
}

export interface Occlusion {
  classIndex: number;
  /** The class probability of the unoccluded image. */
  probability: number;
  /** Probability drop (clean − occluded) for each patch position, [rows, cols]. */
  map: Tensor;
  /** Per pixel, the mean drop over the patch positions covering it, [H, W] (for overlays). */
  pixelMap: Tensor;
  patch: number;
  stride: number;
}

/**
 * Occlusion sensitivity (Zeiler and Fergus 2014, §4): slide a grey patch over the image and
 * record how much the class probability falls. The occluded copies are filled a batch at a
 * time, so each batch costs one forward pass.
 */
export async function occlusion(model: Model, image: Tensor, o: OcclusionOptions = {}): Promise<Occlusion> {
  checkModelAndImage(model, image, 'occlusion');
  checkOptions(o, 'occlusion');
  const [C, H, W] = model.inputShape;
  const patch = o.patch ?? Math.max(1, Math.floor(Math.min(H, W) / 4));
  const stride = o.stride ?? Math.max(1, Math.floor(patch / 2));
  const batchSize = o.batchSize ?? 32;
  if (!Number.isInteger(patch) || patch < 1 || patch > Math.min(H, W))
    throw new ConfigError(`occlusion: patch must be an integer from 1 to ${Math.min(H, W)} (the image is ${H}×${W}), got ${patch}`);
  if (!Number.isInteger(stride) || stride < 1) throw new ConfigError(`occlusion: stride must be a positive integer, got ${stride}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`occlusion: batchSize must be a positive integer, got ${batchSize}`);
  if (o.value !== undefined && !Number.isFinite(o.value)) throw new ConfigError(`occlusion: value must be a finite number, got ${o.value}`);
  const { scores, classIndex } = await classScores(model, image, o.classIndex);
  const probability = softmax(scores)[classIndex];
  const fill = Array.from({ length: C }, (_, c) => o.value ?? meanOf(image.data.subarray(c * H * W, (c + 1) * H * W)));
  const rows = Math.floor((H - patch) / stride) + 1,
    cols = Math.floor((W - patch) / stride) + 1;
  const map = Tensor.zeros([rows, cols], model.backend.dtype);
  const per = C * H * W;
  const node = scoreNode(model);
  const reused = new Reused(model);
  for (let first = 0; first < rows * cols; first += batchSize) {
    const N = Math.min(batchSize, rows * cols - first);
    const x = reused.batch(N);
    for (let n = 0; n < N; n++) {
      const y0 = Math.floor((first + n) / cols) * stride,
        x0 = ((first + n) % cols) * stride;
      const copy = x.data.subarray(n * per, (n + 1) * per);
      copy.set(image.data.subarray(0, per));
      for (let c = 0; c < C; c++) {
        for (let y = y0; y < y0 + patch; y++) copy.fill(fill[c], c * H * W + y * W + x0, c * H * W + y * W + x0 + patch);
      }
    }
    forwardBatch(model, x);
    const [s] = await readAll(model, [activation(model, node)]);
    const K = s.size / N;
    for (let n = 0; n < N; n++) map.data[first + n] = probability - softmax(s.data.subarray(n * K, (n + 1) * K))[classIndex];
  }
  return { classIndex, probability, map, pixelMap: spreadToPixels(map, patch, stride, H, W), patch, stride };
}

function meanOf(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
}

/** Each pixel gets the mean of the values of the patch positions that cover it (0 where none does). */
function spreadToPixels(map: Tensor, patch: number, stride: number, H: number, W: number): Tensor {
  const [rows, cols] = map.shape;
  const sum = new Float64Array(H * W),
    count = new Uint32Array(H * W);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = map.data[r * cols + c];
      for (let y = r * stride; y < r * stride + patch; y++) {
        for (let x = c * stride; x < c * stride + patch; x++) {
          sum[y * W + x] += v;
          count[y * W + x]++;
        }
      }
    }
  }
  const out = Tensor.zeros([H, W], map.data instanceof Float64Array ? 'float64' : 'float32');
  for (let i = 0; i < H * W; i++) out.data[i] = count[i] ? sum[i] / count[i] : 0;
  return out;
}
