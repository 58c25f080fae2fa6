import { basename } from 'node:path';
import type { Backend } from '../backend/backend.js';
import type { ImageDataset } from '../data/dataset.js';
import { statisticsProblem } from '../io/data-info.js';
import { ConfigError, FormatError } from '../errors.js';
import type { Model } from '../model/model.js';
import { findHead, fineTuneOptions, withNewHead } from '../train/finetune.js';
import type { OptimizerConfig } from '../train/optimizer.js';
import { fineTuneRecipe } from '../train/recipes.js';
import { settingProblem } from '../train/settings.js';
import type { ScheduleConfig } from '../train/schedule.js';
import { loadAnyModel, recordedInput } from './model-source.js';

/** What `convkit train --from FILE` adds to a run's settings (stored in checkpoints, so --resume goes on the same way). */
export interface FineTuneSettings {
  from: string;
  /** Classes of the new head, when the classifier was replaced. */
  newHead?: number;
  /** The classifier node: trained at the full learning rate. */
  head: string;
  /** Every node up to and including this one is frozen. */
  freeze?: string;
  /** Learning rate of the pretrained, unfrozen layers (the schedule scales it like lr). */
  lrPretrained: number;
  resizedCrop: boolean;
  /** Normalisation the model expects (undefined: the training data's own statistics). */
  mean?: number[];
  std?: number[];
}

export interface TrainFromOptions {
  from: string;
  model?: string;
  dataset: string;
  newHead?: number;
  freeze?: string;
  lrPretrained?: number;
  mean?: number[];
  std?: number[];
  resizedCrop?: boolean;
  flip?: boolean;
  inputSize?: number;
  channels?: 1 | 3;
  epochs?: number;
  batch?: number;
  lr?: number;
  optimizer?: 'sgd' | 'adam' | 'adamw';
  momentum?: number;
  weightDecay?: number;
  schedule?: 'cosine' | 'step' | 'constant';
  shift?: number;
  out?: string;
  seed: number;
  clipGradNorm?: number;
  trainLimit?: number;
  testLimit?: number;
}

/** The run settings of a fine-tuning run, and the model it starts from (checked before any data is read). */
export function fineTuneRun(o: TrainFromOptions, backend: Backend) {
  if (o.model !== undefined)
    throw new ConfigError(`--model ${o.model} and --from ${o.from} are exclusive: train a zoo model by name, or continue the model in a file`);
  const { model: source, metadata } = loadAnyModel(o.from, backend);
  const [C, H, W] = source.inputShape;
  if (H !== W) throw new ConfigError(`--from ${o.from}: fine-tuning needs a square input, the model takes ${H}×${W}`);
  if (o.inputSize !== undefined && o.inputSize !== H) throw new ConfigError(`--input-size ${o.inputSize}: ${o.from} takes ${H}×${W} inputs`);
  if (o.channels !== undefined && o.channels !== C) throw new ConfigError(`--channels ${o.channels}: ${o.from} takes ${C}-channel images`);
  if (C !== 1 && C !== 3) throw new ConfigError(`--from ${o.from}: images have 1 or 3 channels, the model takes ${C}`);
  const recorded = recordedInput(source, metadata, o.from);
  const mean = checkStats('mean', o.mean, C, o.from) ?? recorded?.mean;
  const std = checkStats('std', o.std, C, o.from) ?? recorded?.std;
  if ((mean === undefined) !== (std === undefined))
    throw new ConfigError(`${o.mean ? '--mean' : '--std'} needs ${o.mean ? '--std' : '--mean'} too: ${o.from} records no normalisation`);
  if (o.newHead !== undefined && o.newHead < 2) throw new ConfigError(`--new-head ${o.newHead}: a classifier needs at least 2 classes`);
  const head = findHead(source);
  // An unknown --freeze node, or one that takes the head, is refused before any data is read.
  try {
    fineTuneOptions(source, { freezeUntil: o.freeze, head });
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(`--freeze ${o.freeze}: ${e.message}`);
    throw e;
  }
  const r = fineTuneRecipe;
  const optimizer = o.optimizer ?? r.optimizer;
  const lr = o.lr ?? (optimizer === 'sgd' ? r.lr : 1e-3);
  const natural = C === 3 && o.dataset.startsWith('folder:');
  const fineTune: FineTuneSettings = {
    from: o.from,
    newHead: o.newHead,
    head,
    freeze: o.freeze,
    lrPretrained: o.lrPretrained ?? (o.newHead !== undefined ? lr / 10 : lr),
    resizedCrop: o.resizedCrop ?? natural,
    mean,
    std,
  };
  return {
    source,
    settings: {
      model: source.name,
      dataset: o.dataset,
      epochs: o.epochs ?? r.epochs,
      batchSize: o.batch ?? r.batch,
      lr,
      optimizer: { type: optimizer, momentum: o.momentum ?? r.momentum, weightDecay: o.weightDecay ?? r.weightDecay } as OptimizerConfig,
      schedule: (o.schedule && o.schedule !== r.schedule.type ? { type: o.schedule } : r.schedule) as ScheduleConfig,
      seed: o.seed,
      clipGradNorm: o.clipGradNorm,
      trainLimit: o.trainLimit,
      testLimit: o.testLimit,
      shift: o.shift ?? 0,
      flip: o.flip ?? natural,
      inputSize: H,
      channels: C as 1 | 3,
      out: o.out ?? `${basename(o.from).replace(/\.(onnx|convkit)$/i, '')}-finetuned.convkit`,
      fineTune,
    },
  };
}

/** --mean/--std against the model: one value per channel, in the range a model file may record. */
function checkStats(key: 'mean' | 'std', v: number[] | undefined, channels: number, file: string): number[] | undefined {
  if (v === undefined) return undefined;
  const problem = statisticsProblem(key, v, channels);
  if (problem) throw new ConfigError(`--${key} ${v.join(',')}: ${problem} (${file} takes ${channels}-channel images)`);
  return v;
}

/** The model to train: the file's, with a new head for the dataset's classes when asked (class names from the dataset). */
export function fineTuneModel(source: Model, ft: FineTuneSettings, trainSet: ImageDataset, seed: number): Model {
  if (ft.newHead === undefined) {
    if (source.outputShape[0] !== trainSet.classes.length) {
      throw new ConfigError(
        `${ft.from} has ${source.outputShape[0]} outputs but the dataset has ${trainSet.classes.length} classes: add --new-head ${trainSet.classes.length} to replace the classifier`,
      );
    }
    if (source.outputShape[0] === trainSet.classes.length && !source.spec.classes) source.spec.classes = [...trainSet.classes];
    return source;
  }
  if (ft.newHead !== trainSet.classes.length) {
    throw new ConfigError(
      `--new-head ${ft.newHead}, but the dataset has ${trainSet.classes.length} classes (${trainSet.classes.slice(0, 10).join(', ')}${trainSet.classes.length > 10 ? ', …' : ''})`,
    );
  }
  return withNewHead(source, trainSet.classes, { seed, head: ft.head });
}

/** The train() options a fine-tuning run adds: frozen nodes, the pretrained layers' learning rate, resized crops. */
export function fineTuneTrainOptions(model: Model, s: { lr: number; optimizer: OptimizerConfig; fineTune?: FineTuneSettings }) {
  const ft = s.fineTune;
  if (!ft) return {};
  const { freeze, groups } = fineTuneOptions(model, { freezeUntil: ft.freeze, head: ft.head, lrPretrainedScale: ft.lrPretrained / s.lr });
  return { freeze, resizedCrop: ft.resizedCrop, optimizer: { ...s.optimizer, groups } };
}

/**
 * A checkpoint's fine-tuning settings come from a header that is not checksummed: check them
 * before use, against the checkpoint's own model (its node names, outputs and input channels),
 * by the rules the command line applies. Anything else is a damaged checkpoint, naming the field.
 */
export function checkFineTuneSettings(ft: unknown, file: string, model: Model): void {
  if (ft === undefined) return;
  const fail = (what: string): never => {
    throw new FormatError(`${file}: damaged training checkpoint: fine-tuning setting ${what}`);
  };
  if (ft === null || typeof ft !== 'object' || Array.isArray(ft)) fail(`is ${JSON.stringify(ft)?.slice(0, 100)}, not an object`);
  const f = ft as Record<string, unknown>;
  const shown = (k: string) => `${k} is ${JSON.stringify(f[k])?.slice(0, 100)}`;
  const nodes = model.spec.nodes.map((n) => n.name);
  if (typeof f.from !== 'string' || f.from === '') fail(`${shown('from')}, not a file name`);
  if (typeof f.head !== 'string' || !nodes.includes(f.head)) fail(`${shown('head')}, not a node of the model`);
  const head = model.spec.nodes.find((n) => n.name === f.head)!;
  if (head.layer.type !== 'dense' && head.layer.type !== 'conv2d') fail(`${shown('head')}, a ${head.layer.type} node, not a dense or conv2d classifier`);
  if (f.freeze !== undefined) {
    if (typeof f.freeze !== 'string' || !nodes.includes(f.freeze)) fail(`${shown('freeze')}, not a node of the model`);
    if (nodes.indexOf(f.freeze as string) >= nodes.indexOf(f.head as string))
      fail(`${shown('freeze')}: freezing up to it would freeze the head "${f.head}" too`);
  }
  if (f.newHead !== undefined && f.newHead !== model.outputShape[0]) fail(`${shown('newHead')}, the model has ${model.outputShape[0]} outputs`);
  const lrProblem = settingProblem('lr', f.lrPretrained, 'lrPretrained');
  if (lrProblem) fail(lrProblem);
  if (typeof f.resizedCrop !== 'boolean') fail(`${shown('resizedCrop')}, not true or false`);
  if ((f.mean === undefined) !== (f.std === undefined)) fail(`mean and std must be given together (${shown('mean')}, ${shown('std')})`);
  for (const k of ['mean', 'std'] as const) {
    const problem = f[k] === undefined ? undefined : statisticsProblem(k, f[k], model.inputShape[0]);
    if (problem) fail(problem);
  }
}
