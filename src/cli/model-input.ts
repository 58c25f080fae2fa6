import { existsSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import type { Model } from '../model/model.js';
import type { DataInfo } from '../node/datasets.js';
import { readImage } from '../node/image.js';
import { Tensor } from '../tensor.js';
import { backendFor } from './backends.js';
import { checkGradientMemory } from './memory-option.js';
import { loadAnyModel, storedSize } from './model-source.js';
import type { CommonOptions } from './options.js';
import type { Output } from './output.js';
import { MNIST_MEAN, MNIST_STD } from '../data/dataset.js';
import { type Picture, type PictureOptions, type StoredImageLayout, pictureInput } from '../data/picture.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../train/finetune.js';

export { loadAnyModel };

/**
 * Which models the explain and visualize commands read, and how an image is prepared for
 * each: the model file's stored preprocessing, or (ONNX files, files without it) an assumption
 * that is reported to the user and can be overridden with --mean/--std.
 */

export type LoadedModel = ReturnType<typeof loadAnyModel>;

/**
 * What explain and visualize start with: the model on the chosen backend, its memory checked for
 * backward passes before any work, and its preprocessing (an assumption is said on stdout).
 */
export async function loadForExplaining(o: CommonOptions & { modelFile: string; mean?: number[]; std?: number[] }, out: Output) {
  const loaded = loadAnyModel(o.modelFile, await backendFor(o));
  checkGradientMemory(loaded.model, o.memoryLimit);
  const info = modelPreprocessing(loaded, o);
  if (info.note) out.text(`${o.modelFile}: ${info.note}`);
  return { model: loaded.model, info };
}

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
  if (C === 3 && Math.min(H, W) >= 64)
    return {
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
      note: 'no stored preprocessing: assuming ImageNet mean/std (torchvision convention); override with --mean/--std',
    };
  if (C === 1) return { ...MNIST_STATS, note: 'no stored preprocessing: assuming MNIST mean/std; override with --mean/--std' };
  return {
    mean: Array(C).fill(0),
    std: Array(C).fill(1),
    note: 'no stored preprocessing: assuming pixels in [0, 1] (mean 0, std 1); override with --mean/--std',
  };
}

/** The preprocessing for a loaded model: --mean/--std if given, else the file's, else the assumption. */
export function modelPreprocessing(loaded: LoadedModel, o: { mean?: number[]; std?: number[]; modelFile: string }): Preprocessing {
  const { model, metadata, onnx } = loaded;
  const [C, H, W] = model.inputShape;
  if (C !== 1 && C !== 3) throw new ConfigError(`${o.modelFile}: input has ${C} channels; only grey (1) and colour (3) images can be prepared`);
  const stored = !onnx && metadata.data ? modelDataInfo(model, metadata) : undefined;
  const assumed = stored ? undefined : assumedPreprocessing(model.inputShape);
  // A grey .convkit file without a data description is taken as MNIST, as convkit predict does (28×28, then the model's crop).
  const base: DataInfo =
    stored ??
    (!onnx && C === 1 && H <= 28 && W <= 28
      ? modelDataInfo(model, metadata)
      : {
          dataset: 'none',
          channels: C,
          height: storedSize(H),
          width: storedSize(W),
          mean: assumed!.mean,
          std: assumed!.std,
          classes: model.spec.classes ?? [],
        });
  if (o.mean || o.std) {
    const mean = perChannel(o.mean ?? base.mean, C, '--mean', o.modelFile),
      std = perChannel(o.std ?? base.std, C, '--std', o.modelFile);
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
 * An image file as model input [1, C, h, w] (uploaded): grey models as convkit predict prepares
 * them (MNIST-style centring or a resize, inversion of dark-on-light pictures); colour models
 * without grey conversion: the central square resized, then the model's central crop, normalised
 * (a picture of exactly the input's size as it is).
 */
export function modelInput(file: string, info: Preprocessing, model: Model, o: PictureOptions): { x: Tensor; inverted: boolean } {
  if (info.channels === 1) return greyModelInput(file, info, model, o);
  const [, h, w] = model.inputShape;
  // A picture already at the input's size is used as it is: cropping would cut off its edges.
  return fileInput(
    file,
    model,
    (img) => {
      const side = img.width === w && img.height === h ? h : info.height;
      return { ...info, height: side, width: side };
    },
    {},
  );
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

/** The data description a model file stores (MNIST's when it has none). */
export function modelDataInfo(model: Model, metadata: Record<string, unknown>): DataInfo {
  return (
    (metadata.data as DataInfo | undefined) ?? {
      dataset: 'mnist',
      channels: 1,
      height: 28,
      width: 28,
      mean: [MNIST_MEAN],
      std: [MNIST_STD],
      classes: model.spec.classes ?? [],
    }
  );
}

/**
 * An image file prepared like the training data of a grey-image model: converted to grey,
 * inverted if dark on light, MNIST-style centring (or a plain resize) at the dataset's size,
 * the model's central crop, normalised; [1, 1, h, w] in the model's backend, uploaded.
 */
export function greyModelInput(file: string, info: DataInfo, model: Model, o: PictureOptions): { x: Tensor; inverted: boolean } {
  return fileInput(file, model, () => ({ ...info, channels: 1 }), o);
}

/**
 * An image file prepared like a colour model's training data: its central square resized to the
 * stored size (area averaging; alpha over white), the model's central crop, normalised per
 * channel; [1, 3, h, w] in the model's backend, uploaded.
 */
export function colourModelInput(file: string, info: DataInfo, model: Model): Tensor {
  return fileInput(file, model, () => ({ ...info, channels: 3 }), {}).x;
}

/** An image file through the data layer's one preparation of pictures (src/data/picture.ts), in the model's backend. */
function fileInput(file: string, model: Model, layoutOf: (img: Picture) => StoredImageLayout, o: PictureOptions): { x: Tensor; inverted: boolean } {
  if (!existsSync(file)) throw new ConfigError(`image ${file} does not exist`);
  const img = readImage(file);
  const [C, h, w] = model.inputShape;
  const x = new Tensor([1, C, h, w], model.backend.alloc(C * h * w));
  const { inverted } = pictureInput(img, layoutOf(img), x, o);
  model.backend.upload(x.data);
  return { x, inverted };
}
