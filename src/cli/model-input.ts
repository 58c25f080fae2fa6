import { existsSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import type { Backend } from '../backend/backend.js';
import { ConfigError } from '../errors.js';
import { STATISTIC_RANGES } from '../io/data-info.js';
import type { Model } from '../model/model.js';
import type { DataInfo } from '../node/datasets.js';
import { squarePlanes } from '../node/folder.js';
import { readImage } from '../node/image.js';
import { Tensor } from '../tensor.js';
import { greyModelInput, modelDataInfo } from './commands.js';
import { loadAnyModel, storedSize } from './model-source.js';
import { MNIST_MEAN, MNIST_STD } from '../data/dataset.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../train/finetune.js';

export { loadAnyModel };

/**
 * Which models the explain and visualize commands read, and how an image is prepared for
 * each: the model file's stored preprocessing, or (ONNX files, files without it) an assumption
 * that is reported to the user and can be overridden with --mean/--std.
 */

export type LoadedModel = ReturnType<typeof loadAnyModel>;

/** How pixels become model input, and where that came from (said to the user when assumed). */
export interface Preprocessing extends DataInfo {
  source: 'model file' | 'assumed' | 'flags';
  /** Why these values, when they are not the model file's own. */
  note?: string;
}

const MNIST_STATS = { mean: [MNIST_MEAN], std: [MNIST_STD] };

/**
 * The preprocessing assumed for a model that stores none (ONNX files have no place for it):
 * ImageNet's mean and standard deviation for colour inputs of at least 64 pixels (what
 * torchvision's models expect), MNIST's for grey ones (as convkit's own files without
 * metadata), and plain pixels in [0, 1] otherwise.
 */
export function assumedPreprocessing(inputShape: readonly number[]): { mean: number[]; std: number[]; note: string } {
  const [C, H, W] = inputShape;
  if (C === 3 && Math.min(H, W) >= 64) return { mean: IMAGENET_MEAN, std: IMAGENET_STD, note: 'no stored preprocessing: assuming ImageNet mean/std (torchvision convention); override with --mean/--std' };
  if (C === 1) return { ...MNIST_STATS, note: 'no stored preprocessing: assuming MNIST mean/std; override with --mean/--std' };
  return { mean: Array(C).fill(0), std: Array(C).fill(1), note: 'no stored preprocessing: assuming pixels in [0, 1] (mean 0, std 1); override with --mean/--std' };
}

/** The preprocessing for a loaded model: --mean/--std if given, else the file's, else the assumption. */
export function modelPreprocessing(loaded: LoadedModel, o: { mean?: number[]; std?: number[]; modelFile: string }): Preprocessing {
  const { model, metadata, onnx } = loaded;
  const [C, H, W] = model.inputShape;
  if (C !== 1 && C !== 3) throw new ConfigError(`${o.modelFile}: input has ${C} channels; only grey (1) and colour (3) images can be prepared`);
  const stored = !onnx && metadata.data ? modelDataInfo(model, metadata) : undefined;
  const assumed = stored ? undefined : assumedPreprocessing(model.inputShape);
  // A grey .convkit file without a data description is taken as MNIST, as convkit predict does (28×28, then the model's crop).
  const base: DataInfo = stored ?? (!onnx && C === 1 && H <= 28 && W <= 28 ? modelDataInfo(model, metadata) : {
    dataset: 'none', channels: C, height: storedSize(H), width: storedSize(W), mean: assumed!.mean, std: assumed!.std, classes: model.spec.classes ?? [],
  });
  if (o.mean || o.std) {
    const mean = perChannel(o.mean ?? base.mean, C, '--mean', o.modelFile), std = perChannel(o.std ?? base.std, C, '--std', o.modelFile);
    return { ...base, mean, std, source: 'flags' };
  }
  return stored ? { ...stored, source: 'model file' } : { ...base, source: 'assumed', note: assumed!.note };
}

function perChannel(values: number[], C: number, flag: string, file: string): number[] {
  if (values.length === 1) return Array(C).fill(values[0]);
  if (values.length !== C) throw new ConfigError(`${flag} has ${values.length} values, but ${file} takes ${C}-channel images (give 1 or ${C})`);
  return values;
}

/**
 * Commander parser of --mean/--std: comma-separated statistics of pixel/255, each in the range
 * model files allow (an empty piece is not 0).
 */
export function statisticList(statistic: 'mean' | 'std') {
  const { ok, range } = STATISTIC_RANGES[statistic];
  return (v: string) => {
    const values = v.split(',').map((s) => (s.trim() === '' ? NaN : Number(s)));
    if (!values.every((x) => Number.isFinite(x) && ok(x))) {
      throw new InvalidArgumentError(`--${statistic} must be comma-separated numbers ${range} (of pixel/255), one per channel, e.g. ${statistic === 'std' ? '0.229,0.224,0.225' : '0.485,0.456,0.406'}`);
    }
    return values;
  };
}

/**
 * An image file as model input [1, C, h, w] (uploaded): grey models as convkit predict prepares
 * them (MNIST-style centring or a resize, inversion of dark-on-light pictures); colour models
 * without grey conversion: the central square resized, then the model's central crop, normalised
 * (a picture of exactly the input's size as it is).
 */
export function modelInput(file: string, info: Preprocessing, model: Model, o: { preprocess?: 'mnist' | 'resize'; invert?: 'auto' | 'yes' | 'no' }): { x: Tensor; inverted: boolean } {
  if (info.channels === 1) return greyModelInput(file, info, model, o);
  if (!existsSync(file)) throw new ConfigError(`image ${file} does not exist`);
  const [C, h, w] = model.inputShape;
  // A picture already at the input's size is used as it is: cropping would cut off its edges.
  const { width, height } = readImage(file);
  const side = width === w && height === h ? h : info.height;
  const planes = squarePlanes(file, side, 3);
  const x = new Tensor([1, C, h, w], model.backend.alloc(C * h * w));
  const top0 = (side - h) >> 1, left0 = (side - w) >> 1;
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
      const v = Math.min(1, Math.max(0, planes[c].data[(top0 + i) * side + left0 + j]));
      x.data[(c * h + i) * w + j] = (v - info.mean[c]) / info.std[c];
    }
  }
  model.backend.upload(x.data);
  return { x, inverted: false };
}

/** A normalised image [C, H, W] back in pixel values 0–1 (for drawing), clamped. */
export function pixelSpace(image: Tensor, info: { mean: number[]; std: number[] }): Tensor {
  const [C, H, W] = image.shape.slice(-3);
  const out = Tensor.zeros([C, H, W]);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < H * W; i++) out.data[c * H * W + i] = Math.min(1, Math.max(0, image.data[c * H * W + i] * info.std[c] + info.mean[c]));
  }
  return out;
}
