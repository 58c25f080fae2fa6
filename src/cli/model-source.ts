import { existsSync, statSync } from 'node:fs';
import type { Backend } from '../backend/backend.js';
import { ConfigError } from '../errors.js';
import type { Model } from '../model/model.js';
import { type DataInfo, checkDataInfo } from '../io/data-info.js';
import { loadModel } from '../node/files.js';
import { readBytes } from '../node/mnist.js';
import { loadOnnx } from '../onnx/import.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../train/finetune.js';

/** A model from an ONNX file (named .onnx) or else a .convkit file, with the loaders' own errors. */
export function loadAnyModel(file: string, backend: Backend): { model: Model; metadata: Record<string, unknown>; onnx: boolean } {
  if (!/\.onnx$/i.test(file)) return { ...loadModel(file, backend), onnx: false };
  return { model: loadOnnx(readBytes(file), backend, file), metadata: { importedFrom: file }, onnx: true };
}

/** Images are stored a little larger than the model input so that training can take random crops, and evaluation a central one. */
export function storedSize(inputSize: number): number {
  return inputSize >= 64 ? Math.round((inputSize * 8) / 7) : inputSize;
}

/**
 * How images must be prepared for a model: its file's recorded data description when it has
 * one (checked: the header is not checksummed); else, for a 3-channel model of input ≥ 64 with
 * none (imported from ONNX, say), ImageNet's mean and standard deviation, which torchvision's
 * models expect; else undefined (the caller decides).
 */
export function recordedInput(model: Model, metadata: Record<string, unknown>, file: string): DataInfo | undefined {
  if (metadata.data !== undefined) return checkDataInfo(metadata.data, model.inputShape, model.outputShape, file);
  const [C, H, W] = model.inputShape;
  if (C === 3 && Math.min(H, W) >= 64) {
    return { dataset: '', channels: 3, height: storedSize(H), width: storedSize(W), mean: IMAGENET_MEAN, std: IMAGENET_STD, classes: model.spec.classes ?? [] };
  }
  return undefined;
}

/** Largest --labels file: ImageNet's 1000 names take 10 KB. */
const MAX_LABELS_BYTES = 16 * 1024 * 1024;

/** --labels FILE: one class name a line (blank lines at the end ignored), as many as the model has outputs. */
export function readLabels(file: string, outputs: number): string[] {
  if (!existsSync(file)) throw new ConfigError(`--labels: ${file} does not exist`);
  // A regular file of sensible size: --labels /dev/zero read until memory ran out.
  const size = statSync(file).size;
  if (size > MAX_LABELS_BYTES) throw new ConfigError(`--labels: ${file} has ${size} bytes, more than the ${MAX_LABELS_BYTES} a list of class names needs`);
  const lines = new TextDecoder()
    .decode(readBytes(file))
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((l) => l.trim());
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  if (lines.length !== outputs) throw new ConfigError(`--labels: ${file} has ${lines.length} class names, the model has ${outputs} outputs`);
  return lines;
}
