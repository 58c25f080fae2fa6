import { type Command, InvalidArgumentError, Option } from 'commander';
import { type ImageDataset, fillBatch, limitDataset } from '../data/dataset.js';
import { ConfigError } from '../errors.js';
import * as explain from '../explain/index.js';
import type { Model } from '../model/model.js';
import { loadDataset } from '../node/datasets.js';
import { checkWritable } from '../node/files.js';
import { writePng } from '../node/image.js';
import { Tensor } from '../tensor.js';
import { type Preprocessing, loadForExplaining, pixelSpace } from './model-input.js';
import { type CommonOptions, meanOption, stdOption, backendOption, integer, jsonOption, memoryLimitOption, setting, threadsOption } from './options.js';
import { Output } from './output.js';

export const visualizeKinds = ['filters', 'maximize', 'top-patches', 'top-images'] as const;
export type VisualizeKind = (typeof visualizeKinds)[number];

/** "0-7,12" → [0, …, 7, 12]. */
export function channelList(v: string): number[] {
  const out: number[] = [];
  for (const part of v.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new InvalidArgumentError(`channels must be numbers and ranges such as 0-7,12; "${part}" is neither`);
    const a = Number(m[1]),
      b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new InvalidArgumentError(`channel range ${part} runs backwards`);
    if (b - a > 4096) throw new InvalidArgumentError(`channel range ${part} is too long (at most 4097 channels)`);
    for (let c = a; c <= b; c++) if (!out.includes(c)) out.push(c);
  }
  return out;
}

/** Adds `convkit visualize` to the program. */
/** Most activation-maximisation steps: each is a forward and a backward pass, so 1e9 ran for days. */
const MAX_STEPS = 10_000;

export function registerVisualizeCommand(program: Command): void {
  program
    .command('visualize')
    .description(
      'what a layer learned, as a labelled grid PNG: its filters, inputs that maximise each channel, or the dataset patches and images that excite each channel most',
    )
    .requiredOption('--model-file <file>', 'model saved by convkit train, or an ONNX file (imported on the fly)')
    .requiredOption('--layer <node>', 'the node to show (see convkit summary --model-file)')
    .addOption(
      new Option(
        '--what <kind>',
        'filters: the kernels (a convolution); maximize: inputs that maximise each channel; top-patches: the receptive-field patches that excite each channel most; top-images: the images that do, with guided-backpropagation reconstructions',
      )
        .choices(visualizeKinds)
        .default('filters'),
    )
    .option(
      '--dataset <name>',
      'top-patches, top-images: test images to search: mnist, fashion-mnist or folder:PATH (default: the dataset the model was trained on, else mnist)',
    )
    .option('--test-limit <n>', 'top-patches, top-images: search only the first N test images (default 2000)', setting('testLimit', '--test-limit'))
    .option('--channels <list>', 'channels (filters) to show, e.g. 0-7,12 (default: the first 64 for filters, the first 16 otherwise)', channelList)
    .option('--k <n>', 'top-patches, top-images: how many per channel (at most 64)', integer('k', 1, 64), 8)
    .option('--steps <n>', `maximize: gradient-ascent steps (at most ${MAX_STEPS})`, integer('steps', 1, MAX_STEPS), 200)
    .option('--scale <n>', 'enlarge each cell by this integer factor (default: to at least 48 pixels)', integer('scale', 1))
    .requiredOption('--out <file>', 'the PNG to write')
    .addOption(meanOption())
    .addOption(stdOption())
    .addOption(backendOption('compute backend'))
    .addOption(threadsOption('compute threads for the wasm backend (default: all cores)'))
    .addOption(memoryLimitOption())
    .addOption(jsonOption('print the result, with the numbers behind the picture, as one JSON object'))
    .action((o) => visualizeCommand(o));
}

export interface VisualizeCommandOptions extends CommonOptions {
  modelFile: string;
  layer: string;
  what: VisualizeKind;
  dataset?: string;
  testLimit?: number;
  channels?: number[];
  k?: number;
  steps?: number;
  scale?: number;
  out: string;
  mean?: number[];
  std?: number[];
}

const TEXT_SCALE = 2;

/** The layer's channel count for this kind of picture; errors list the valid layers. */
function layerChannels(model: Model, o: VisualizeCommandOptions): number {
  switch (o.what) {
    case 'filters': {
      explain.nodeShape(model, o.layer, 'layer');
      const row = model.summary().find((r) => r.name === o.layer)!;
      if (row.type !== 'conv2d')
        throw new ConfigError(
          `--what filters: layer "${o.layer}" of model "${model.name}" is a ${row.type}, not a convolution (convolutions: ${explain.convNodes(model).join(', ') || 'none'})`,
        );
      return row.outputShape[0];
    }
    case 'top-patches':
      return explain.spatialNode(model, o.layer)[0];
    default:
      return explain.nodeShape(model, o.layer, 'layer')[0];
  }
}

/** The test images to search, prepared like the model's input: [N, C, h, w] normalised with the model's statistics. */
function searchImages(
  model: Model,
  info: Preprocessing,
  o: VisualizeCommandOptions,
): { name: string; images: Tensor; classes: string[]; labels: ArrayLike<number> } {
  const name = o.dataset ?? (info.source === 'model file' && info.dataset !== 'none' ? info.dataset : 'mnist');
  const [C, h, w] = model.inputShape;
  // Folder images are stored as in training when the model file says how; otherwise at the input's size, uncropped.
  const size = info.source === 'model file' ? info.height : h;
  const full = loadDataset(name, 'test', { size, channels: C === 1 ? 1 : 3, mean: info.mean, std: info.std });
  if (full.channels !== C || full.height < h || full.width < w) {
    throw new ConfigError(`dataset ${name} has ${full.channels}×${full.height}×${full.width} images; model ${o.modelFile} needs ${C}×${h}×${w}`);
  }
  const ds: ImageDataset = { ...limitDataset(full, o.testLimit ?? 2000), mean: info.mean, std: info.std };
  const images = Tensor.zeros([ds.count, C, h, w]);
  const labels = new Int32Array(ds.count);
  fillBatch(
    ds,
    Array.from({ length: ds.count }, (_, i) => i),
    0,
    images,
    labels,
    { crop: 'center' },
  );
  return { name, images, classes: ds.classes, labels };
}

const toPixels = (image: Tensor, info: Preprocessing) => explain.imageToRgba(pixelSpace(image, info), [0, 1]);
const cellScale = (side: number, o: VisualizeCommandOptions) => o.scale ?? Math.max(1, Math.ceil(48 / side));

/** A reconstruction [C, H, W] as one signed map (channels summed), in the diverging map scaled to its own largest |value|. */
function reconstructionPicture(r: Tensor): explain.RgbaImage {
  const [C, H, W] = r.shape;
  const sum = Tensor.zeros([H, W]);
  for (let c = 0; c < C; c++) for (let i = 0; i < H * W; i++) sum.data[i] += r.data[c * H * W + i];
  let m = 0;
  for (const v of sum.data) m = Math.max(m, Math.abs(v));
  return explain.signedToRgba(sum, m || 1);
}

/** One picture on top of another, 1 pixel apart. */
function stacked(a: explain.RgbaImage, b: explain.RgbaImage): explain.RgbaImage {
  const out = explain.createRgba(Math.max(a.width, b.width), a.height + 1 + b.height, [255, 255, 255]);
  explain.paste(out, a, 0, 0);
  explain.paste(out, b, 0, a.height + 1);
  return out;
}

export async function visualizeCommand(o: VisualizeCommandOptions): Promise<void> {
  const out = new Output(!!o.json);
  const { model, info } = await loadForExplaining(o, out);
  // Everything the user named is checked before any work, and before anything is written.
  const count = layerChannels(model, o);
  const defaultCount = o.what === 'filters' ? 64 : 16;
  const channels = o.channels ?? Array.from({ length: Math.min(count, defaultCount) }, (_, c) => c);
  for (const c of channels)
    if (c >= count) throw new ConfigError(`--channels: layer "${o.layer}" has ${o.what === 'filters' ? 'filters' : 'channels'} 0..${count - 1}, not ${c}`);
  const search = o.what === 'top-patches' || o.what === 'top-images' ? searchImages(model, info, o) : undefined;
  if (search && search.images.shape[0] === 0) throw new ConfigError(`dataset ${search.name} has no test images`);
  checkWritable(o.out);
  if (!o.channels && count > channels.length) out.text(`${o.layer} has ${count} channels; showing 0..${channels.length - 1} (choose with --channels)`);

  let picture: explain.RgbaImage;
  let numbers: Record<string, unknown>[];
  const [C, H, W] = model.inputShape;
  switch (o.what) {
    case 'filters': {
      const f = await explain.convFilters(model, o.layer);
      const [, Cg, kh, kw] = f.weights.shape;
      const s = cellScale(Math.max(kh, kw), o);
      const colour = f.readsInput && Cg === 3;
      if (Cg === 1 || colour) {
        picture = explain.labelledCells(
          channels.map((c) => ({ label: String(c), image: explain.upscale(explain.filterPictures(f, c)[0], s) })),
          { textScale: TEXT_SCALE },
        );
      } else {
        if (Cg > 32) out.text(`each filter of ${o.layer} reads ${Cg} channels; showing the slices of channels 0..31`);
        picture = explain.labelledRows(
          channels.map((c) => ({ label: String(c), images: explain.filterPictures(f, c).map((p) => explain.upscale(p, s)) })),
          { textScale: TEXT_SCALE },
        );
      }
      picture = explain.withLegend(picture, f.range, TEXT_SCALE, colour ? explain.greys : explain.diverging);
      numbers = channels.map((c) => ({
        channel: c,
        shape: [Cg, kh, kw],
        weights: Array.from(f.weights.data.subarray(c * Cg * kh * kw, (c + 1) * Cg * kh * kw)),
      }));
      out.text(
        `${o.layer}: ${channels.length} filters of ${Cg}×${kh}×${kw}${colour ? ' (colour: grey is 0)' : ' (blue negative, red positive)'}, weights within ±${explain.formatValue(f.range[1])}`,
      );
      break;
    }
    case 'maximize': {
      // The ascent stays within the values real pixels take after normalisation.
      const lo = Math.min(...info.mean.map((m, c) => -m / info.std[c])),
        hi = Math.max(...info.mean.map((m, c) => (1 - m) / info.std[c]));
      const results = await explain.maximizeLayer(model, { node: o.layer, channels, steps: o.steps, range: [lo, hi] });
      const s = cellScale(Math.max(H, W), o);
      picture = explain.labelledCells(
        results.map((r) => ({ label: String(r.channel), image: explain.upscale(toPixels(r.image, info), s) })),
        { textScale: TEXT_SCALE },
      );
      numbers = results.map((r) => ({ channel: r.channel, activation: r.activation }));
      out.text(
        `${o.layer}: inputs that maximise channels ${channels.join(', ')} (${o.steps ?? 200} steps); mean activations ${results.map((r) => explain.formatValue(r.activation)).join(', ')}`,
      );
      break;
    }
    case 'top-patches': {
      const patches = await explain.topActivatingPatches(model, search!.images, { node: o.layer, k: o.k, channels });
      const side = Math.max(...patches.flat().map((p) => Math.max(p.box.height, p.box.width)));
      const s = cellScale(side, o);
      picture = explain.labelledRows(
        patches.map((list, j) => ({ label: String(channels[j]), images: list.map((p) => explain.upscale(toPixels(p.patch, info), s)) })),
        { textScale: TEXT_SCALE },
      );
      numbers = patches.map((list, j) => ({
        channel: channels[j],
        patches: list.map((p) => ({ index: p.index, label: search!.labels[p.index], y: p.y, x: p.x, activation: p.activation, box: p.box })),
      }));
      out.text(
        `${o.layer}: the ${o.k ?? 8} patches of ${search!.images.shape[0]} ${search!.name} test images that excite each of channels ${channels.join(', ')} most (receptive fields up to ${side} pixels)`,
      );
      break;
    }
    case 'top-images': {
      const s = cellScale(Math.max(H, W), o);
      const rows = [];
      numbers = [];
      for (const channel of channels) {
        const top = await explain.topActivatingImages(model, search!.images, { node: o.layer, channel, k: o.k ?? 8 });
        rows.push({
          label: String(channel),
          images: top.map((t) => explain.upscale(stacked(toPixels(imageOf(search!.images, t.index), info), reconstructionPicture(t.reconstruction)), s)),
        });
        numbers.push({ channel, images: top.map((t) => ({ index: t.index, label: search!.labels[t.index], activation: t.activation })) });
      }
      picture = explain.withLegend(explain.labelledRows(rows, { textScale: TEXT_SCALE }), [-1, 1], TEXT_SCALE, explain.diverging);
      out.text(
        `${o.layer}: the ${o.k ?? 8} of ${search!.images.shape[0]} ${search!.name} test images that excite each of channels ${channels.join(', ')} most, each above its guided-backpropagation reconstruction (scaled to its own largest value)`,
      );
      break;
    }
  }
  writePng(o.out, { width: picture.width, height: picture.height, channels: 3, pixels: dropAlpha(picture) });
  out.text(`→ ${o.out} (${picture.width}×${picture.height})`);
  out.event({
    type: 'result',
    out: o.out,
    what: o.what,
    layer: o.layer,
    channels,
    width: picture.width,
    height: picture.height,
    inputShape: [C, H, W],
    preprocessing: { mean: info.mean, std: info.std, source: info.source },
    dataset: search?.name,
    [o.what === 'filters' ? 'filters' : 'units']: numbers,
  });
}

function imageOf(images: Tensor, i: number): Tensor {
  const per = images.size / images.shape[0];
  return new Tensor(images.shape.slice(1), images.data.subarray(i * per, (i + 1) * per));
}

function dropAlpha(img: explain.RgbaImage): Uint8Array {
  const rgb = new Uint8Array(img.width * img.height * 3);
  for (let p = 0; p < img.width * img.height; p++) rgb.set(img.data.subarray(p * 4, p * 4 + 3), p * 3);
  return rgb;
}
