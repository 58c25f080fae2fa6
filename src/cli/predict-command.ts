import { type Command, Option } from 'commander';
import { ConfigError } from '../errors.js';
import { DEFAULT_MEMORY_LIMIT } from '../model/memory.js';
import { backendFor } from './backends.js';
import { checkCommandMemory } from './memory-option.js';
import { colourModelInput, greyModelInput, modelDataInfo } from './model-input.js';
import { loadAnyModel, readLabels, recordedInput } from './model-source.js';
import { type CommonOptions, backendOption, integer, jsonOption, memoryLimitOption, threadsOption } from './options.js';
import { Output, percent } from './output.js';

/** `convkit predict`: the top classes of each image. */
export function registerPredictCommand(program: Command): void {
  program
    .command('predict')
    .description('top classes with probabilities for PNG or JPEG images')
    .requiredOption('--model-file <file>', 'model saved by convkit train')
    .argument('<images...>', 'image files (any size; converted to grey and fitted to the model input)')
    .option('--top <k>', 'how many classes to show', integer('top', 1), 3)
    .option('--labels <file>', 'class names, one a line (e.g. the 1000 ImageNet classes), instead of those the model file keeps')
    .addOption(
      new Option('--preprocess <how>', 'mnist: centre the ink by mass in a 20×20 box like MNIST; resize: plain resize')
        .choices(['mnist', 'resize'])
        .default('mnist'),
    )
    .addOption(new Option('--invert <when>', 'invert dark-on-light pictures (auto: when the mean is light)').choices(['auto', 'yes', 'no']).default('auto'))
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(jsonOption())
    .addOption(memoryLimitOption())
    .action((images, o) => predictCommand({ ...o, images }));
}

export interface PredictCommandOptions extends CommonOptions {
  modelFile: string;
  images: string[];
  top?: number;
  labels?: string;
  preprocess?: 'mnist' | 'resize';
  invert?: 'auto' | 'yes' | 'no';
}

export async function predictCommand(o: PredictCommandOptions): Promise<void> {
  const out = new Output(!!o.json);
  const backend = await backendFor(o);
  const { model, metadata } = loadAnyModel(o.modelFile, backend);
  model.memoryLimit = o.memoryLimit ?? DEFAULT_MEMORY_LIMIT;
  checkCommandMemory(model.estimateMemory({ batchSize: 1, training: false }), o.memoryLimit, model.name);
  const colour = model.inputShape[0] === 3;
  if (model.inputShape[0] !== 1 && !colour)
    throw new ConfigError(`predict reads grey or colour images; ${o.modelFile} expects ${model.inputShape[0]} channels`);
  const info = recordedInput(model, metadata, o.modelFile) ?? modelDataInfo(model, metadata);
  if (colour && info.channels !== 3) throw new ConfigError(`${o.modelFile} takes colour images but records no colour normalisation (mean and std per channel)`);
  const K = model.outputShape[0];
  const classes = o.labels ? readLabels(o.labels, K) : (model.spec.classes ?? info.classes ?? []);
  const top = Math.min(o.top ?? 3, K);
  const results = [];
  for (const file of o.images) {
    const { x, inverted } = colour ? { x: colourModelInput(file, info, model), inverted: false } : greyModelInput(file, info, model, o);
    const probs = Array.from((await model.predictAsync(x)).data);
    const ranked = probs
      .map((p, k) => ({ class: classes[k] ?? String(k), index: k, probability: p }))
      .sort((a, b) => b.probability - a.probability)
      .slice(0, top);
    results.push({ image: file, inverted, top: ranked });
    out.text(`${file}: ${ranked.map((r) => `${r.class} ${percent(r.probability, 1)}`).join(', ')}`);
  }
  out.event({ type: 'result', predictions: results });
}
