import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { availableParallelism } from 'node:os';
import { describeAdapter } from '../backend/gpu-probe.js';
import { type Backend, type BackendChoice, WasmBackend, backendNames, createBackend, probeGpu, selectBackend } from '../backend/index.js';
import { MNIST_MEAN, MNIST_STD, limitDataset } from '../data/dataset.js';
import { invert, meanValue, mnistStyle, resizeArea } from '../data/preprocess.js';
import { ConfigError, ConvkitError, FormatError } from '../errors.js';
import { Model, estimateMemory } from '../model/model.js';
import { DEFAULT_MEMORY_LIMIT } from '../model/memory.js';
import { receptiveFields } from '../model/receptive-field.js';
import { zoo, zooEntry } from '../model/zoo.js';
import { type DataInfo, dataInfo, datasetNames, loadDataset, loadDatasetSplits } from '../node/datasets.js';
import { checkWritable, saveModel } from '../node/files.js';
import { readGreyImage } from '../node/image.js';
import { squarePlanes } from '../node/folder.js';
import { loadAnyModel, readLabels, recordedInput, storedSize } from './model-source.js';
import { type FineTuneSettings, type TrainFromOptions, checkFineTuneSettings, fineTuneModel, fineTuneRun, fineTuneTrainOptions } from './train-from.js';
import { Tensor, shapeToString } from '../tensor.js';
import { checkClassCount, evaluate } from '../train/evaluate.js';
import { recipeFor } from '../train/recipes.js';
import { optimizerProblem, scheduleProblem, settingProblem } from '../train/settings.js';
import { claimCheckpointDir, loadCheckpoint, saveCheckpoint } from '../node/checkpoint.js';
import { DivergenceError, type TrainEvent, type TrainOptions, type TrainState, train } from '../train/trainer.js';
import { checkCommandMemory } from './memory-option.js';
import { Output, percent, table } from './output.js';

export interface CommonOptions {
  json?: boolean;
  backend?: string;
  threads?: number;
  /** --memory-limit in bytes (default DEFAULT_MEMORY_LIMIT). */
  memoryLimit?: number;
}

const openBackends: Backend[] = [];
const choices = new WeakMap<Backend, BackendChoice>();

/** The compute backend a command asked for (auto by default: WebGPU on a hardware GPU, else SIMD kernels on every core). */
export async function backendFor(o: CommonOptions): Promise<Backend> {
  const choice = await selectBackend(o.backend ?? 'auto', { threads: o.threads });
  openBackends.push(choice.backend);
  choices.set(choice.backend, choice);
  return choice.backend;
}

/** Why this backend: "wasm (auto: no WebGPU adapter)". */
export function backendReason(backend: Backend): string {
  return choices.get(backend)?.reason ?? backend.name;
}

/** Stops the backends' worker threads so the process can exit. */
export function closeBackends(): void {
  for (const b of openBackends.splice(0)) b.dispose?.();
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
type RunSettings = Pick<TrainOptions, 'epochs' | 'batchSize' | 'lr' | 'optimizer' | 'schedule' | 'seed' | 'clipGradNorm'>
  & Required<Pick<TrainOptions, 'shift' | 'flip'>>
  & {
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
    model: o.model, dataset: o.dataset, epochs: o.epochs ?? d.epochs, batchSize: o.batch ?? d.batch,
    lr: o.lr ?? (optimizer === 'sgd' ? d.lr : 1e-3),
    optimizer: { type: optimizer, momentum: o.momentum ?? d.momentum, weightDecay: o.weightDecay ?? d.weightDecay, weightDecayOn: o.weightDecayOn ?? 'weights' },
    schedule: o.schedule && o.schedule !== d.schedule.type ? { type: o.schedule } : d.schedule,
    seed: o.seed, shift: o.shift ?? d.shift ?? 0, flip: o.flip ?? false, inputSize: o.inputSize ?? defaultSize,
    channels: o.channels ?? (o.dataset.startsWith('folder:') ? 3 : (defaultChannels as 1 | 3)), clipGradNorm: o.clipGradNorm, trainLimit: o.trainLimit, testLimit: o.testLimit,
    out: o.out ?? `${o.model}.convkit`, resizedCrop: o.resizedCrop ?? false,
  };
}

/**
 * A checkpoint's settings come from a file whose header is not checksummed: check them with
 * the same rules as the command-line flags (src/train/settings.ts) before use.
 */
export function checkRunSettings(run: Record<string, unknown>, file: string): RunSettings {
  if (run === null || typeof run !== 'object' || Array.isArray(run)) throw new FormatError(`${file}: damaged training checkpoint: run settings are ${JSON.stringify(run)}`);
  const shown = (k: string) => `run setting ${k} is ${JSON.stringify(run[k])}`;
  const required = ['epochs', 'batchSize', 'lr', 'seed', 'shift', 'inputSize'] as const;
  const optional = ['trainLimit', 'testLimit', 'clipGradNorm'] as const;
  const problem = (['model', 'dataset', 'out'] as const).filter((k) => typeof run[k] !== 'string').map(shown)[0]
    ?? required.map((k) => settingProblem(k, run[k], `run setting ${k}`)).find(Boolean)
    ?? optional.map((k) => (run[k] === undefined ? undefined : settingProblem(k, run[k], `run setting ${k}`))).find(Boolean)
    ?? (run.channels !== 1 && run.channels !== 3 ? shown('channels') : undefined)
    ?? (typeof run.flip !== 'boolean' ? shown('flip') : undefined)
    ?? optimizerProblem(run.optimizer) ?? scheduleProblem(run.schedule);
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
    checkFineTuneSettings(settings.fineTune, ck.file, model);
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
  checkCommandMemory((model ?? source)?.estimateMemory(memory) ?? estimateMemory(zooEntry(settings.model).build({
    inputShape: [settings.channels, settings.inputSize, settings.inputSize] }), memory), o.memoryLimit, settings.model);
  const splits = loadDatasetSplits(settings.dataset, { size: storedSize(settings.inputSize), channels: settings.channels,
    maxBytes: o.memoryLimit ?? DEFAULT_MEMORY_LIMIT, mean: settings.fineTune?.mean, std: settings.fineTune?.std });
  const trainSet = limitDataset(splits.train, settings.trainLimit);
  const testSet = limitDataset(splits.test, settings.testLimit);
  if (settings.fineTune && !model) model = fineTuneModel(source!, settings.fineTune, trainSet, settings.seed);
  model ??= new Model(zooEntry(settings.model).build({
    classes: trainSet.classes.length, inputShape: [trainSet.channels, settings.inputSize, settings.inputSize],
  }), backend, settings.seed);
  model.memoryLimit = o.memoryLimit ?? DEFAULT_MEMORY_LIMIT;
  checkCommandMemory(model.estimateMemory(memory), o.memoryLimit, settings.model);
  const checkpointDir = o.checkpointDir ?? o.resume;
  if (model.outputShape[0] !== trainSet.classes.length) {
    throw new ConfigError(`model ${model.name} has ${model.outputShape[0]} outputs but ${settings.dataset} has ${trainSet.classes.length} classes`);
  }
  const { out: outFile, ...shown } = settings;
  out.event({ type: 'start', ...shown, backend: backend.name, backendChoice: backendReason(backend), parameters: model.parameterCount(),
    trainExamples: trainSet.count, testExamples: testSet.count, out: outFile, resumed: !!resume });
  out.text(`Training ${settings.model} (${model.parameterCount().toLocaleString('en')} parameters) on ${settings.dataset}: ${trainSet.count} training, ${testSet.count} test images`);
  const opt = settings.optimizer;
  if (settings.fineTune) out.text(fineTuneLine(settings.fineTune, model));
  out.text(`${opt.type} lr ${settings.lr} (${settings.schedule.type}), ${opt.type === 'sgd' ? `momentum ${opt.momentum}, ` : ''}weight decay ${opt.weightDecay}${opt.weightDecayOn === 'all' ? ' on all parameters' : ''}, batch ${settings.batchSize}, ${settings.epochs} epochs, seed ${settings.seed}, backend ${backendReason(backend)}`);

  const bar = out.progressBar('epoch {epoch}/{epochs} {bar} {value}/{total} | loss {loss} | acc {acc} | {speed} img/s | ETA {eta_formatted}');
  let barEpoch = 0;
  // SIGINT (Ctrl-C) and SIGTERM (kill, container stops) end the run after the current batch,
  // with a checkpoint when --checkpoint-dir is set.
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => { interrupted ??= signal; };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const onEvent = (e: TrainEvent) => {
    out.event(e);
    if (e.type === 'batch') {
      if (!bar) return;
      const payload = { epoch: e.epoch, epochs: settings.epochs, loss: e.loss.toFixed(4), acc: percent(e.accuracy, 1), speed: Math.round(e.imagesPerSecond) };
      if (barEpoch !== e.epoch) { barEpoch = e.epoch; bar.start(e.batches, e.batch, payload); }
      else bar.update(e.batch, payload);
    } else {
      bar?.stop();
      barEpoch = 0;
      out.text(`epoch ${e.epoch}: train loss ${e.trainLoss.toFixed(4)}, train accuracy ${percent(e.trainAccuracy)}, test accuracy ${percent(e.testAccuracy)}, ${Math.round(e.imagesPerSecond)} img/s, ${e.seconds.toFixed(1)} s`);
    }
  };
  const onCheckpoint = checkpointDir
    ? (state: TrainState) => {
      saveCheckpoint(checkpointDir, model!, state, settings as unknown as Record<string, unknown>);
      out.event({ type: 'checkpoint', dir: checkpointDir, epoch: state.epoch, batch: state.batch });
    }
    : undefined;
  let result;
  try {
    result = await train(model, trainSet, {
      epochs: settings.epochs, batchSize: settings.batchSize, lr: settings.lr, optimizer: settings.optimizer, schedule: settings.schedule,
      seed: settings.seed, shift: settings.shift, flip: settings.flip, clipGradNorm: settings.clipGradNorm, testSet, onEvent,
      shouldStop: () => interrupted !== undefined, onCheckpoint, checkpointEvery: o.checkpointEvery, resume,
      resizedCrop: settings.resizedCrop, ...fineTuneTrainOptions(model, settings),
    });
  } catch (e) {
    if (e instanceof DivergenceError && checkpointDir && existsSync(checkpointDir)) {
      throw new DivergenceError(`${e.message} The last good checkpoint is kept in ${checkpointDir}.`);
    }
    // A lost GPU or a failed kernel: the checkpoints do not depend on the backend, so the run can go on on the CPU.
    if (backend.name === 'webgpu' && e instanceof ConvkitError && !(e instanceof DivergenceError) && checkpointDir && existsSync(checkpointDir)) {
      throw new ConvkitError(`${e.message} To continue on the CPU from the last checkpoint: convkit train --resume ${checkpointDir} --out ${outFile} --backend wasm`);
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
    if (e instanceof ConvkitError && checkpointDir) throw new ConvkitError(`${e.message}. The trained weights are in the checkpoint in ${checkpointDir}: make room and run convkit train --resume ${checkpointDir} --out ${outFile} to save them.`);
    throw e;
  }
  const where = result.stopped ? `Interrupted${checkpointDir ? `; checkpoint in ${checkpointDir} (continue with --resume ${checkpointDir} --out ${outFile})` : ''}` : 'Done';
  out.text(`${where}: test accuracy ${percent(result.testAccuracy)} after ${result.epochs} epoch(s), ${result.seconds.toFixed(1)} s; model saved to ${outFile}`);
  out.event({ type: 'result', testAccuracy: result.testAccuracy, trainLoss: result.trainLoss, trainAccuracy: result.trainAccuracy,
    imagesPerSecond: result.imagesPerSecond, seconds: result.seconds, epochs: result.epochs, stopped: result.stopped,
    history: result.history, modelFile: outFile });
  if (result.stopped) process.exitCode = interrupted === 'SIGTERM' ? 143 : 130;
}

/** Images per evaluation batch. */
const EVAL_BATCH = 100;

/** "Fine-tuning net.onnx: new 5-class head "fc", frozen up to "layer3" (41 nodes), pretrained layers at lr 0.001". */
function fineTuneLine(ft: FineTuneSettings, model: Model): string {
  const frozen = ft.freeze ? model.spec.nodes.findIndex((n) => n.name === ft.freeze) + 1 : 0;
  return `Fine-tuning ${ft.from}: ${ft.newHead !== undefined ? `new ${ft.newHead}-class head` : 'head'} "${ft.head}"`
    + `${ft.freeze ? `, frozen up to "${ft.freeze}" (${frozen} nodes)` : ''}, pretrained layers at lr ${ft.lrPretrained}`
    + `${ft.mean ? `, normalised with mean ${ft.mean.map((v) => +v.toFixed(4)).join(',')} std ${ft.std!.map((v) => +v.toFixed(4)).join(',')}` : ''}`
    + `${ft.resizedCrop ? ', random resized crops' : ''}`;
}

export interface EvalCommandOptions extends CommonOptions {
  modelFile: string;
  dataset?: string;
  testLimit?: number;
}

export async function evalCommand(o: EvalCommandOptions): Promise<void> {
  const out = new Output(!!o.json);
  const backend = await backendFor(o);
  const { model, metadata, onnx } = loadAnyModel(o.modelFile, backend);
  model.memoryLimit = o.memoryLimit ?? DEFAULT_MEMORY_LIMIT;
  checkCommandMemory(model.estimateMemory({ batchSize: EVAL_BATCH, training: false }), o.memoryLimit, model.name);
  // Images prepared as predict prepares them: the file's checked description, ImageNet's for imported colour models.
  const info = recordedInput(model, metadata, o.modelFile);
  const datasetName = o.dataset || info?.dataset || (onnx ? undefined : 'mnist');
  if (datasetName === undefined) throw new ConfigError(`eval needs --dataset for ${o.modelFile}: an ONNX file records no dataset (e.g. --dataset folder:PATH)`);
  const testSet = limitDataset(loadDataset(datasetName, 'test', info ? { size: info.height, channels: info.channels as 1 | 3, mean: info.mean, std: info.std } : {}), o.testLimit);
  checkClassCount(model, testSet);
  const t0 = performance.now();
  const r = await evaluate(model, testSet, EVAL_BATCH);
  const seconds = (performance.now() - t0) / 1000;
  out.text(`${basename(o.modelFile)} (${model.name}) on ${datasetName} test set (${r.count} images): accuracy ${percent(r.accuracy)}${r.confusion.length > 5 ? ` (top-5 ${percent(r.top5)})` : ''}, loss ${r.loss.toFixed(4)}, ${Math.round(r.count / seconds)} img/s`);
  out.text('');
  out.text('Confusion matrix (rows: true class, columns: predicted):');
  const classes = testSet.classes;
  out.text(table(['', ...classes], r.confusion.map((row, i) => [classes[i], ...row]), [false, ...classes.map(() => true)]));
  out.event({ type: 'result', accuracy: r.accuracy, top5: r.top5, loss: r.loss, count: r.count, confusion: r.confusion, classes, seconds });
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
  if (model.inputShape[0] !== 1 && !colour) throw new ConfigError(`predict reads grey or colour images; ${o.modelFile} expects ${model.inputShape[0]} channels`);
  const info = recordedInput(model, metadata, o.modelFile) ?? modelDataInfo(model, metadata);
  if (colour && info.channels !== 3) throw new ConfigError(`${o.modelFile} takes colour images but records no colour normalisation (mean and std per channel)`);
  const K = model.outputShape[0];
  const classes = o.labels ? readLabels(o.labels, K) : model.spec.classes ?? info.classes ?? [];
  const top = Math.min(o.top ?? 3, K);
  const results = [];
  for (const file of o.images) {
    const { x, inverted } = colour ? { x: colourModelInput(file, info, model), inverted: false } : greyModelInput(file, info, model, o);
    const probs = Array.from((await model.predictAsync(x)).data);
    const ranked = probs.map((p, k) => ({ class: classes[k] ?? String(k), index: k, probability: p }))
      .sort((a, b) => b.probability - a.probability).slice(0, top);
    results.push({ image: file, inverted, top: ranked });
    out.text(`${file}: ${ranked.map((r) => `${r.class} ${percent(r.probability, 1)}`).join(', ')}`);
  }
  out.event({ type: 'result', predictions: results });
}

/** The data description a model file stores (MNIST's when it has none). */
export function modelDataInfo(model: Model, metadata: Record<string, unknown>): DataInfo {
  return (metadata.data as DataInfo | undefined) ?? { dataset: 'mnist', channels: 1, height: 28, width: 28, mean: [MNIST_MEAN], std: [MNIST_STD], classes: model.spec.classes ?? [] };
}

/**
 * An image file prepared like the training data of a grey-image model: converted to grey,
 * inverted if dark on light, MNIST-style centring (or a plain resize) at the dataset's size,
 * the model's central crop, normalised; [1, 1, h, w] in the model's backend, uploaded.
 */
export function greyModelInput(file: string, info: DataInfo, model: Model, o: { preprocess?: 'mnist' | 'resize'; invert?: 'auto' | 'yes' | 'no' }): { x: Tensor; inverted: boolean } {
  if (!existsSync(file)) throw new ConfigError(`image ${file} does not exist`);
  const backend = model.backend;
  const [, h, w] = model.inputShape;
  let grey = readGreyImage(file);
  const inverted = o.invert === 'yes' || ((o.invert ?? 'auto') === 'auto' && meanValue(grey) > 0.5);
  if (inverted) grey = invert(grey);
  const bytes = o.preprocess === 'resize'
    ? Uint8Array.from(resizeArea(grey, info.width, info.height).data, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255))
    : mnistStyle(grey, info.width);
  const x = new Tensor([1, 1, h, w], backend.alloc(h * w));
  const top0 = (info.height - h) >> 1, left0 = (info.width - w) >> 1;
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
    x.data[i * w + j] = (bytes[(top0 + i) * info.width + left0 + j] / 255 - info.mean[0]) / info.std[0];
  }
  backend.upload(x.data);
  return { x, inverted };
}

/**
 * An image file prepared like a colour model's training data: its central square resized to the
 * stored size (area averaging; alpha over white), the model's central crop, normalised per
 * channel; [1, 3, h, w] in the model's backend, uploaded.
 */
export function colourModelInput(file: string, info: DataInfo, model: Model): Tensor {
  if (!existsSync(file)) throw new ConfigError(`image ${file} does not exist`);
  const [, h, w] = model.inputShape;
  const planes = squarePlanes(file, info.height, 3);
  const x = new Tensor([1, 3, h, w], model.backend.alloc(3 * h * w));
  const top0 = (info.height - h) >> 1, left0 = (info.height - w) >> 1;
  planes.forEach((plane, c) => {
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
      // Bytes first, as the training data was stored.
      const byte = Math.round(Math.min(1, Math.max(0, plane.data[(top0 + i) * info.height + left0 + j])) * 255);
      x.data[(c * h + i) * w + j] = (byte / 255 - info.mean[c]) / info.std[c];
    }
  });
  model.backend.upload(x.data);
  return x;
}

export interface SummaryCommandOptions extends CommonOptions {
  model?: string;
  modelFile?: string;
}

export async function summaryCommand(o: SummaryCommandOptions): Promise<void> {
  const out = new Output(!!o.json);
  const backend = await createBackend('ref');
  let model: Model;
  if (o.modelFile) model = loadAnyModel(o.modelFile, backend).model;
  else if (o.model) model = new Model(zooEntry(o.model).build(), backend);
  else throw new ConfigError(`summary needs --model NAME (one of: ${Object.keys(zoo).join(', ')}) or --model-file FILE`);
  const fields = receptiveFields(model);
  const rows = model.summary().map((r) => ({ ...r, receptiveField: fields.get(r.name)! }));
  const isChain = rows.every((r, i) => r.inputs.length === 1 && r.inputs[0] === (i === 0 ? 'input' : rows[i - 1].name));
  const headers = ['Layer (type)', 'Output shape', 'Param #', 'RF size', 'Jump', ...(isChain ? [] : ['Connected to'])];
  // One number when rows and columns agree; jump 0 (no spatial positions left) shows as —.
  const axes = ([h, w]: [number, number]) => (h === w ? String(h) : `${h}×${w}`);
  const jump = (j: [number, number]) => (j[0] === 0 && j[1] === 0 ? '—' : axes(j));
  const body = [
    ['input (input)', shapeToString(['N', ...model.inputShape] as never), 0, '1', '1', ...(isChain ? [] : [''])],
    ...rows.map((r) => [`${r.name} (${r.type})`, shapeToString(['N', ...r.outputShape] as never), r.params.toLocaleString('en'),
      axes(r.receptiveField.size), jump(r.receptiveField.jump), ...(isChain ? [] : [r.inputs.join(', ')])]),
  ];
  out.text(`Model: ${model.name}`);
  out.text(table(headers, body, [false, false, true, true, true, false]));
  out.text(`Total params: ${model.parameterCount().toLocaleString('en')}`);
  out.text('RF size: input pixels (rows × columns) one output position sees, padding included; jump: input pixels between neighbouring positions (—: none left).');
  out.event({ type: 'result', model: model.name, inputShape: model.inputShape, layers: rows, totalParams: model.parameterCount() });
}

export async function infoCommand(o: CommonOptions): Promise<void> {
  const out = new Output(!!o.json);
  const backend = await backendFor(o);
  const choice = choices.get(backend);
  const gpu = choice?.gpu ?? await probeGpu();
  const wasm = backend instanceof WasmBackend ? backend : undefined;
  const gpuInfo = (backend as { info?: { vendor: string; architecture: string; device: string; description: string; software: boolean } }).info;
  const adapter = gpuInfo ? describeAdapter(gpuInfo) : undefined;
  const info = {
    type: 'result', backend: backend.name, backendChoice: backendReason(backend), dtype: backend.dtype,
    simd: wasm ? true : false, relaxedSimd: wasm ? wasm.variant === 'relaxed' : false, threads: wasm?.threads ?? 1,
    cores: availableParallelism(), sharedMemory: typeof SharedArrayBuffer !== 'undefined',
    webgpu: { available: gpu.available, software: gpu.software, adapter: adapter?.description ?? gpu.description, reason: gpu.reason },
    node: process.version, backends: backendNames, models: Object.keys(zoo), datasets: datasetNames,
  };
  const gpuLine = gpu.available ? `${info.webgpu.adapter}${gpu.software ? ' (software: correctness only, slow)' : ''}` : `none (${gpu.reason})`;
  out.text([
    `backend: ${info.backendChoice} (${info.dtype})`,
    `simd: ${info.simd ? `yes (${info.relaxedSimd ? 'relaxed SIMD with fused multiply-add' : '128-bit SIMD'})` : 'no'}`,
    `threads: ${info.threads} of ${info.cores} cores`,
    `webgpu: ${gpuLine}`,
    `node: ${info.node}`,
    `backends: ${info.backends.join(', ')}`,
    `models: ${info.models.join(', ')}`,
    `datasets: ${info.datasets.join(', ')}`,
  ].join('\n'));
  out.event(info);
}

