import { ConfigError } from '../errors.js';
import type { ScheduleConfig } from './schedule.js';

/** Training settings that work well for a zoo model; the CLI's defaults. */
export interface TrainDefaults {
  epochs: number;
  batch: number;
  optimizer: 'sgd' | 'adam';
  lr: number;
  momentum: number;
  weightDecay: number;
  schedule: ScheduleConfig;
  /** Random translation augmentation in pixels (default 0). */
  shift?: number;
}

const imagenet: TrainDefaults = {
  epochs: 30,
  batch: 32,
  optimizer: 'sgd',
  lr: 0.01,
  momentum: 0.9,
  weightDecay: 5e-4,
  schedule: { type: 'cosine', warmupSteps: 500 },
};

/** How each zoo model (src/model/zoo.ts, by name) is trained by default. */
export const recipes: Record<string, TrainDefaults> = {
  // Seeds 1–3 give 99.17 / 99.10 / 99.15 % after 3 epochs (docs/BENCHMARKS.md).
  lenet5: { epochs: 3, batch: 64, optimizer: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 5e-4, schedule: { type: 'cosine', warmupSteps: 200 }, shift: 1 },
  'convnetjs-mnist': { epochs: 3, batch: 64, optimizer: 'sgd', lr: 0.03, momentum: 0.9, weightDecay: 5e-4, schedule: { type: 'cosine', warmupSteps: 200 } },
  'mnist-best': {
    epochs: 10,
    batch: 64,
    optimizer: 'sgd',
    lr: 0.05,
    momentum: 0.9,
    weightDecay: 5e-4,
    schedule: { type: 'cosine', warmupSteps: 300 },
    shift: 2,
  },
  alexnet: imagenet,
  'alexnet-tv': imagenet,
  zfnet: imagenet,
  vgg11: imagenet,
  vgg16: imagenet,
  googlenet: imagenet,
  resnet18: imagenet,
  resnet50: imagenet,
  densenet121: imagenet,
};

/**
 * Fine-tuning a model from a file (`convkit train --from FILE`): SGD with momentum 0.9 at lr
 * 0.01 for the head (the pretrained layers at a tenth of it when the head is new), weight decay
 * 1e-4, a cosine schedule without warm-up, 5 epochs of batches of 32.
 */
export const fineTuneRecipe: TrainDefaults = {
  epochs: 5,
  batch: 32,
  optimizer: 'sgd',
  lr: 0.01,
  momentum: 0.9,
  weightDecay: 1e-4,
  schedule: { type: 'cosine' },
};

export function recipeFor(model: string): TrainDefaults {
  const recipe = Object.hasOwn(recipes, model) ? recipes[model] : undefined;
  if (!recipe) throw new ConfigError(`no training recipe for model "${model}" (available: ${Object.keys(recipes).join(', ')})`);
  return recipe;
}
