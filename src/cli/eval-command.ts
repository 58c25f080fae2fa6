import { basename } from 'node:path';
import type { Command } from 'commander';
import { limitDataset } from '../data/dataset.js';
import { DEFAULT_MEMORY_LIMIT } from '../model/memory.js';
import { ConfigError } from '../errors.js';
import { loadDataset } from '../node/datasets.js';
import { checkClassCount, evaluate } from '../train/evaluate.js';
import { backendFor } from './backends.js';
import { checkCommandMemory } from './memory-option.js';
import { loadAnyModel, recordedInput } from './model-source.js';
import { type CommonOptions, backendOption, jsonOption, memoryLimitOption, setting, threadsOption } from './options.js';
import { Output, percent, table } from './output.js';

/** `convkit eval`: a saved model's test accuracy and confusion matrix. */
export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('test accuracy and confusion matrix of a saved model')
    .requiredOption('--model-file <file>', 'model saved by convkit train, or an ONNX file (.onnx)')
    .option('--dataset <name>', 'dataset (default: the one it was trained on; needed for .onnx files)')
    .option('--test-limit <n>', 'use only the first N test images', setting('testLimit', '--test-limit'))
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(jsonOption())
    .addOption(memoryLimitOption())
    .action((o) => evalCommand(o));
}

/** Images per evaluation batch, and the fewest it is halved to when a large model would not fit the memory limit. */
const EVAL_BATCH = 100;
const MIN_EVAL_BATCH = 10;

export interface EvalCommandOptions extends CommonOptions {
  modelFile: string;
  dataset?: string;
  testLimit?: number;
}

export async function evalCommand(o: EvalCommandOptions): Promise<void> {
  const out = new Output(!!o.json);
  const backend = await backendFor(o);
  const { model, metadata, onnx } = loadAnyModel(o.modelFile, backend);
  const limit = o.memoryLimit ?? DEFAULT_MEMORY_LIMIT;
  model.memoryLimit = limit;
  // Large inputs (224 px) take smaller batches: halved (down to MIN_EVAL_BATCH) until the batch fits the memory limit.
  let batch = EVAL_BATCH;
  while (batch > MIN_EVAL_BATCH && model.estimateMemory({ batchSize: batch, training: false }).bytes > limit)
    batch = Math.max(MIN_EVAL_BATCH, Math.ceil(batch / 2));
  checkCommandMemory(model.estimateMemory({ batchSize: batch, training: false }), o.memoryLimit, model.name);
  // Images prepared as predict prepares them: the file's checked description, ImageNet's for imported colour models.
  const info = recordedInput(model, metadata, o.modelFile);
  const datasetName = o.dataset || info?.dataset || (onnx ? undefined : 'mnist');
  if (datasetName === undefined) throw new ConfigError(`eval needs --dataset for ${o.modelFile}: an ONNX file records no dataset (e.g. --dataset folder:PATH)`);
  const testSet = limitDataset(
    loadDataset(datasetName, 'test', info ? { size: info.height, channels: info.channels as 1 | 3, mean: info.mean, std: info.std } : {}),
    o.testLimit,
  );
  checkClassCount(model, testSet);
  const t0 = performance.now();
  const r = await evaluate(model, testSet, batch);
  const seconds = (performance.now() - t0) / 1000;
  out.text(
    `${basename(o.modelFile)} (${model.name}) on ${datasetName} test set (${r.count} images): accuracy ${percent(r.accuracy)}${r.confusion.length > 5 ? ` (top-5 ${percent(r.top5)})` : ''}, loss ${r.loss.toFixed(4)}, ${Math.round(r.count / seconds)} img/s`,
  );
  out.text('');
  out.text('Confusion matrix (rows: true class, columns: predicted):');
  const classes = testSet.classes;
  out.text(
    table(
      ['', ...classes],
      r.confusion.map((row, i) => [classes[i], ...row]),
      [false, ...classes.map(() => true)],
    ),
  );
  out.event({ type: 'result', accuracy: r.accuracy, top5: r.top5, loss: r.loss, count: r.count, confusion: r.confusion, classes, seconds });
}
