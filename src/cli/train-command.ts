import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { limitDataset } from '../data/dataset.js';
import { ConfigError, ConvkitError, FormatError } from '../errors.js';
import { Model, estimateMemory } from '../model/model.js';
import { DEFAULT_MEMORY_LIMIT } from '../model/memory.js';
import { zooEntry } from '../model/zoo.js';
import { dataInfo, loadDatasetSplits } from '../node/datasets.js';
import { checkWritable, saveModel } from '../node/files.js';
import { claimCheckpointDir, loadCheckpoint, saveCheckpoint } from '../node/checkpoint.js';
import { recipeFor } from '../train/recipes.js';
import { optimizerProblem, scheduleProblem, settingProblem, weightDecayTargets } from '../train/settings.js';
import { DivergenceError, type TrainEvent, type TrainOptions, type TrainState, train } from '../train/trainer.js';
import { backendFor, backendReason } from './backends.js';
import { checkCommandMemory } from './memory-option.js';
import { storedSize } from './model-source.js';
import { type CommonOptions, backendOption, integer, jsonOption, memoryLimitOption, statisticList, setting, threadsOption } from './options.js';
import { Output, percent } from './output.js';
import { type FineTuneSettings, type TrainFromOptions, checkFineTuneSettings, fineTuneModel, fineTuneRun, fineTuneTrainOptions } from './train-from.js';

/** `convkit train`: a zoo model (or a model file, to fine-tune) trained on a dataset, checkpointed, saved. */
export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description('train a model on a dataset and save it (defaults: LeNet-5 on MNIST)')
    .option('--model <name>', 'model from the zoo (see convkit summary; default lenet5)')
    .option('--from <file>', 'fine-tune or continue the model in this .convkit or .onnx file instead of a zoo model')
    .option('--new-head <n>', "with --from: replace the classifier by a new one for the dataset's N classes", integer('new-head', 2))
    .option('--freeze <node>', 'with --from: freeze every node up to and including this one (names as convkit summary --model-file shows)')
    .option(
      '--lr-pretrained <x>',
      'with --from: learning rate of the pretrained layers (default lr/10 with --new-head, else lr)',
      setting('lr', '--lr-pretrained'),
    )
    .option(
      '--mean <list>',
      "with --from: per-channel mean of pixel/255 to normalise with (default: the model file's; ImageNet's for imported 3-channel models of input ≥ 64)",
      statisticList('mean'),
    )
    .option('--std <list>', 'with --from: per-channel standard deviation to normalise with', statisticList('std'))
    .option('--resized-crop', 'augment with random resized crops (torchvision RandomResizedCrop; default with --from on colour folder datasets)')
    .option('--no-resized-crop', 'no random resized crops')
    .option('--dataset <name>', 'mnist, fashion-mnist or folder:PATH (PATH/<class>/*.png|jpg)', 'mnist')
    .option('--epochs <n>', 'passes over the training set (model default)', setting('epochs', '--epochs'))
    .option('--batch <n>', 'minibatch size (model default: 64)', setting('batchSize', '--batch'))
    .option('--lr <x>', 'base learning rate (model default)', setting('lr', '--lr'))
    .addOption(new Option('--optimizer <name>', 'optimizer (model default: sgd)').choices(['sgd', 'adam', 'adamw']))
    .option('--momentum <x>', 'SGD momentum (default 0.9)', setting('momentum', '--momentum'))
    .option('--weight-decay <x>', 'L2 weight decay (default 5e-4)', setting('weightDecay', '--weight-decay'))
    .addOption(
      new Option(
        '--weight-decay-on <params>',
        'what weight decay applies to: weights (conv and dense weights; default) or all (every parameter, as PyTorch)',
      ).choices([...weightDecayTargets]),
    )
    .addOption(new Option('--schedule <name>', 'learning-rate schedule (default cosine)').choices(['cosine', 'step', 'constant']))
    .option('--seed <n>', 'random seed: same seed, same run bit for bit', setting('seed', '--seed'), 1)
    .option('--train-limit <n>', 'use only the first N training images', setting('trainLimit', '--train-limit'))
    .option('--test-limit <n>', 'use only the first N test images', setting('testLimit', '--test-limit'))
    .option('--shift <px>', 'augment with random translations of up to this many pixels (model default, usually 0)', setting('shift', '--shift'))
    .option('--flip', 'augment with random horizontal flips (natural images; default with --from on colour folder datasets)')
    .option('--no-flip', 'no random flips')
    .option('--input-size <n>', 'model input side in pixels (model default; folder images are resized to it)', setting('inputSize', '--input-size'))
    .option('--channels <n>', 'image channels for folder datasets: 1 or 3 (default 3)', (v: string) => {
      if (v !== '1' && v !== '3') throw new InvalidArgumentError('channels must be 1 or 3');
      return Number(v);
    })
    .option('--clip-grad-norm <x>', 'rescale gradients whose global L2 norm exceeds x', setting('clipGradNorm', '--clip-grad-norm'))
    .option('--out <file>', 'where to save the trained model (default: MODEL.convkit)')
    .option('--checkpoint-dir <dir>', 'write resumable checkpoints here (atomically; the previous one is kept)')
    .option('--checkpoint-every <n>', 'also checkpoint every N batches (default: each epoch)', setting('checkpointEvery', '--checkpoint-every'))
    .option('--resume <dir>', 'continue the run checkpointed in DIR with its saved settings (--epochs may extend it)')
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(jsonOption())
    .addOption(memoryLimitOption())
    .action((o) => trainCommand(o));
}

export interface TrainCommandOptions extends CommonOptions, Partial<Omit<TrainFromOptions, 'dataset' | 'channels'>> {
  model?: string;
  dataset: string;
  epochs?: number;
  batch?: number;
  lr?: number;
  optimizer?: 'sgd' | 'adam' | 'adamw';
  momentum?: number;
  weightDecay?: number;
  weightDecayOn?: 'weights' | 'all';
  schedule?: 'cosine' | 'step' | 'constant';
  seed: number;
  trainLimit?: number;
  testLimit?: number;
  shift?: number;
  flip?: boolean;
  inputSize?: number;
  channels?: 1 | 3;
  clipGradNorm?: number;
  out?: string;
  checkpointDir?: string;
  checkpointEvery?: number;
  resume?: string;
}

/**
 * The settings of a training run: the trainer's own options plus what the CLI chose (model,
 * data, output). Stored in checkpoints so that --resume continues the same run.
 */
type RunSettings = Pick<TrainOptions, 'epochs' | 'batchSize' | 'lr' | 'optimizer' | 'schedule' | 'seed' | 'clipGradNorm'> &
  Required<Pick<TrainOptions, 'shift' | 'flip'>> & {
    model: string;
    dataset: string;
    /** Model input side; images are stored slightly larger for random crops when it is ≥ 64. */
    inputSize: number;
    channels: 1 | 3;
    trainLimit?: number;
    testLimit?: number;
    out: string;
    /** Random resized crops (torchvision's RandomResizedCrop) instead of plain random crops. */
    resizedCrop?: boolean;
    /** Set when the run fine-tunes a model from a file (convkit train --from). */
    fineTune?: FineTuneSettings;
  };

function runSettings(o: TrainCommandOptions & { model: string }): RunSettings {
  const entry = zooEntry(o.model);
  const d = recipeFor(o.model);
  const [defaultChannels, defaultSize] = entry.build().inputShape;
  const optimizer = o.optimizer ?? d.optimizer;
  return {
    model: o.model,
    dataset: o.dataset,
    epochs: o.epochs ?? d.epochs,
    batchSize: o.batch ?? d.batch,
    lr: o.lr ?? (optimizer === 'sgd' ? d.lr : 1e-3),
    optimizer: {
      type: optimizer,
      momentum: o.momentum ?? d.momentum,
      weightDecay: o.weightDecay ?? d.weightDecay,
      weightDecayOn: o.weightDecayOn ?? 'weights',
    },
    schedule: o.schedule && o.schedule !== d.schedule.type ? { type: o.schedule } : d.schedule,
    seed: o.seed,
    shift: o.shift ?? d.shift ?? 0,
    flip: o.flip ?? false,
    inputSize: o.inputSize ?? defaultSize,
    channels: o.channels ?? (o.dataset.startsWith('folder:') ? 3 : (defaultChannels as 1 | 3)),
    clipGradNorm: o.clipGradNorm,
    trainLimit: o.trainLimit,
    testLimit: o.testLimit,
    out: o.out ?? `${o.model}.convkit`,
    resizedCrop: o.resizedCrop ?? false,
  };
}

/**
 * A checkpoint's settings come from a file whose header is not checksummed: check them with
 * the same rules as the command-line flags (src/train/settings.ts) before use.
 */
export function checkRunSettings(run: Record<string, unknown>, file: string): RunSettings {
  if (run === null || typeof run !== 'object' || Array.isArray(run))
    throw new FormatError(`${file}: damaged training checkpoint: run settings are ${JSON.stringify(run)}`);
  const shown = (k: string) => `run setting ${k} is ${JSON.stringify(run[k])}`;
  const required = ['epochs', 'batchSize', 'lr', 'seed', 'shift', 'inputSize'] as const;
  const optional = ['trainLimit', 'testLimit', 'clipGradNorm'] as const;
  const problem =
    (['model', 'dataset', 'out'] as const).filter((k) => typeof run[k] !== 'string').map(shown)[0] ??
    required.map((k) => settingProblem(k, run[k], `run setting ${k}`)).find(Boolean) ??
    optional.map((k) => (run[k] === undefined ? undefined : settingProblem(k, run[k], `run setting ${k}`))).find(Boolean) ??
    (run.channels !== 1 && run.channels !== 3 ? shown('channels') : undefined) ??
    (typeof run.flip !== 'boolean' ? shown('flip') : undefined) ??
    optimizerProblem(run.optimizer) ??
    scheduleProblem(run.schedule);
  if (problem) throw new FormatError(`${file}: damaged training checkpoint: ${problem}`);
  return run as unknown as RunSettings;
}

/**
 * Where a resumed run saves its model: --out when given; otherwise the file name stored in the
 * checkpoint, without its folders, in the current directory — a checkpoint made elsewhere
 * never decides where this run writes.
 */
function resumedOut(stored: string, out: string | undefined, file: string): string {
  if (out !== undefined) return out;
  const name = basename(stored);
  if (name === '' || name === '.' || name === '..') throw new FormatError(`${file}: damaged training checkpoint: run setting out is ${JSON.stringify(stored)}`);
  return name;
}

export async function trainCommand(o: TrainCommandOptions): Promise<void> {
  // The checkpoint directory is checked and locked before anything else, not at the first checkpoint.
  const dir = o.checkpointDir ?? o.resume;
  const release = dir !== undefined && (o.checkpointDir !== undefined || existsSync(dir)) ? claimCheckpointDir(dir) : undefined;
  try {
    await runTraining(o);
  } finally {
    release?.();
  }
}

async function runTraining(o: TrainCommandOptions): Promise<void> {
  const out = new Output(!!o.json);
  const backend = await backendFor(o);
  let model: Model | undefined, settings: RunSettings, resume: TrainState | undefined, source: Model | undefined;
  if (o.resume) {
    const ck = loadCheckpoint(o.resume, backend);
    ({ model, state: resume } = ck);
    settings = checkRunSettings(ck.run, ck.file);
    settings.out = resumedOut(settings.out, o.out, ck.file);
    checkFineTuneSettings(settings.fineTune, ck.file, model!);
    if (o.epochs !== undefined) settings.epochs = o.epochs;
    out.text(`Resuming from ${ck.file}: epoch ${resume.epoch}, batch ${resume.batch}`);
  } else if (o.from) {
    ({ settings, source } = fineTuneRun({ ...o, from: o.from }, backend));
  } else {
    settings = runSettings({ ...o, model: o.model ?? 'lenet5' });
  }
  checkWritable(settings.out);
  // Before any data is loaded: the network must fit at this batch size (the class count hardly matters).
  const memory = { batchSize: settings.batchSize, training: true, optimizer: settings.optimizer.type } as const;
  checkCommandMemory(
    (model ?? source)?.estimateMemory(memory) ??
      estimateMemory(
        zooEntry(settings.model).build({
          inputShape: [settings.channels, settings.inputSize, settings.inputSize],
        }),
        memory,
      ),
    o.memoryLimit,
    settings.model,
  );
  const splits = loadDatasetSplits(settings.dataset, {
    size: storedSize(settings.inputSize),
    channels: settings.channels,
    maxBytes: o.memoryLimit ?? DEFAULT_MEMORY_LIMIT,
    mean: settings.fineTune?.mean,
    std: settings.fineTune?.std,
  });
  const trainSet = limitDataset(splits.train, settings.trainLimit);
  const testSet = limitDataset(splits.test, settings.testLimit);
  if (settings.fineTune && !model) model = fineTuneModel(source!, settings.fineTune, trainSet, settings.seed);
  model ??= new Model(
    zooEntry(settings.model).build({
      classes: trainSet.classes.length,
      inputShape: [trainSet.channels, settings.inputSize, settings.inputSize],
    }),
    backend,
    settings.seed,
  );
  model.memoryLimit = o.memoryLimit ?? DEFAULT_MEMORY_LIMIT;
  checkCommandMemory(model.estimateMemory(memory), o.memoryLimit, settings.model);
  const checkpointDir = o.checkpointDir ?? o.resume;
  if (model.outputShape[0] !== trainSet.classes.length) {
    throw new ConfigError(`model ${model.name} has ${model.outputShape[0]} outputs but ${settings.dataset} has ${trainSet.classes.length} classes`);
  }
  const { out: outFile, ...shown } = settings;
  out.event({
    type: 'start',
    ...shown,
    backend: backend.name,
    backendChoice: backendReason(backend),
    parameters: model.parameterCount(),
    trainExamples: trainSet.count,
    testExamples: testSet.count,
    out: outFile,
    resumed: !!resume,
  });
  out.text(
    `Training ${settings.model} (${model.parameterCount().toLocaleString('en')} parameters) on ${settings.dataset}: ${trainSet.count} training, ${testSet.count} test images`,
  );
  const opt = settings.optimizer;
  if (settings.fineTune) out.text(fineTuneLine(settings.fineTune, model));
  out.text(
    `${opt.type} lr ${settings.lr} (${settings.schedule.type}), ${opt.type === 'sgd' ? `momentum ${opt.momentum}, ` : ''}weight decay ${opt.weightDecay}${opt.weightDecayOn === 'all' ? ' on all parameters' : ''}, batch ${settings.batchSize}, ${settings.epochs} epochs, seed ${settings.seed}, backend ${backendReason(backend)}`,
  );

  const bar = out.progressBar('epoch {epoch}/{epochs} {bar} {value}/{total} | loss {loss} | acc {acc} | {speed} img/s | ETA {eta_formatted}');
  let barEpoch = 0;
  // SIGINT (Ctrl-C) and SIGTERM (kill, container stops) end the run after the current batch,
  // with a checkpoint when --checkpoint-dir is set.
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted ??= signal;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const onEvent = (e: TrainEvent) => {
    out.event(e);
    if (e.type === 'batch') {
      if (!bar) return;
      const payload = { epoch: e.epoch, epochs: settings.epochs, loss: e.loss.toFixed(4), acc: percent(e.accuracy, 1), speed: Math.round(e.imagesPerSecond) };
      if (barEpoch !== e.epoch) {
        barEpoch = e.epoch;
        bar.start(e.batches, e.batch, payload);
      } else bar.update(e.batch, payload);
    } else {
      bar?.stop();
      barEpoch = 0;
      out.text(
        `epoch ${e.epoch}: train loss ${e.trainLoss.toFixed(4)}, train accuracy ${percent(e.trainAccuracy)}, test accuracy ${percent(e.testAccuracy)}, ${Math.round(e.imagesPerSecond)} img/s, ${e.seconds.toFixed(1)} s`,
      );
    }
  };
  const onCheckpoint = checkpointDir
    ? (state: TrainState) => {
        saveCheckpoint(checkpointDir, model!, state, settings as unknown as Record<string, unknown>);
        out.event({ type: 'checkpoint', dir: checkpointDir, epoch: state.epoch, batch: state.batch });
      }
    : undefined;
  let result: Awaited<ReturnType<typeof train>>;
  try {
    result = await train(model, trainSet, {
      epochs: settings.epochs,
      batchSize: settings.batchSize,
      lr: settings.lr,
      optimizer: settings.optimizer,
      schedule: settings.schedule,
      seed: settings.seed,
      shift: settings.shift,
      flip: settings.flip,
      clipGradNorm: settings.clipGradNorm,
      testSet,
      onEvent,
      shouldStop: () => interrupted !== undefined,
      onCheckpoint,
      checkpointEvery: o.checkpointEvery,
      resume,
      resizedCrop: settings.resizedCrop,
      ...fineTuneTrainOptions(model, settings),
    });
  } catch (e) {
    if (e instanceof DivergenceError && checkpointDir && existsSync(checkpointDir)) {
      throw new DivergenceError(`${e.message} The last good checkpoint is kept in ${checkpointDir}.`);
    }
    // A lost GPU or a failed kernel: the checkpoints do not depend on the backend, so the run can go on on the CPU.
    if (backend.name === 'webgpu' && e instanceof ConvkitError && !(e instanceof DivergenceError) && checkpointDir && existsSync(checkpointDir)) {
      throw new ConvkitError(
        `${e.message} To continue on the CPU from the last checkpoint: convkit train --resume ${checkpointDir} --out ${outFile} --backend wasm`,
      );
    }
    throw e;
  } finally {
    bar?.stop();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  try {
    saveModel(outFile, model, { data: dataInfo(trainSet, settings.dataset), training: { ...shown, epochs: result.epochs }, testAccuracy: result.testAccuracy });
  } catch (e) {
    // The last checkpoint holds these weights: resuming it only saves the model again.
    if (e instanceof ConvkitError && checkpointDir)
      throw new ConvkitError(
        `${e.message}. The trained weights are in the checkpoint in ${checkpointDir}: make room and run convkit train --resume ${checkpointDir} --out ${outFile} to save them.`,
      );
    throw e;
  }
  const where = result.stopped
    ? `Interrupted${checkpointDir ? `; checkpoint in ${checkpointDir} (continue with --resume ${checkpointDir} --out ${outFile})` : ''}`
    : 'Done';
  out.text(
    `${where}: test accuracy ${percent(result.testAccuracy)} after ${result.epochs} epoch(s), ${result.seconds.toFixed(1)} s; model saved to ${outFile}`,
  );
  out.event({
    type: 'result',
    testAccuracy: result.testAccuracy,
    trainLoss: result.trainLoss,
    trainAccuracy: result.trainAccuracy,
    imagesPerSecond: result.imagesPerSecond,
    seconds: result.seconds,
    epochs: result.epochs,
    stopped: result.stopped,
    history: result.history,
    modelFile: outFile,
  });
  if (result.stopped) process.exitCode = interrupted === 'SIGTERM' ? 143 : 130;
}

/** "Fine-tuning net.onnx: new 5-class head "fc", frozen up to "layer3" (41 nodes), pretrained layers at lr 0.001". */
function fineTuneLine(ft: FineTuneSettings, model: Model): string {
  const frozen = ft.freeze ? model.spec.nodes.findIndex((n) => n.name === ft.freeze) + 1 : 0;
  return (
    `Fine-tuning ${ft.from}: ${ft.newHead !== undefined ? `new ${ft.newHead}-class head` : 'head'} "${ft.head}"` +
    `${ft.freeze ? `, frozen up to "${ft.freeze}" (${frozen} nodes)` : ''}, pretrained layers at lr ${ft.lrPretrained}` +
    `${ft.mean ? `, normalised with mean ${ft.mean.map((v) => +v.toFixed(4)).join(',')} std ${ft.std!.map((v) => +v.toFixed(4)).join(',')}` : ''}` +
    `${ft.resizedCrop ? ', random resized crops' : ''}`
  );
}
