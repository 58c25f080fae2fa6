import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { type Command, Option } from 'commander';
import { ConfigError } from '../errors.js';
import * as explain from '../explain/index.js';
import { softmax } from '../explain/run.js';
import type { Model } from '../model/model.js';
import { writePng } from '../node/image.js';
import { Tensor } from '../tensor.js';
import { loadForExplaining, modelInput, pixelSpace } from './model-input.js';
import { type CommonOptions, meanOption, stdOption, backendOption, integer, jsonOption, memoryLimitOption, threadsOption } from './options.js';
import { Output, percent } from './output.js';

export const explainMethods = ['saliency', 'smoothgrad', 'gradxinput', 'gradcam', 'gradcam++', 'occlusion', 'guided'] as const;
export type ExplainMethod = (typeof explainMethods)[number];

/** Most SmoothGrad samples: each is a forward and a backward pass, so 1e9 ran for days. */
const MAX_SAMPLES = 10_000;

/** Adds `convkit explain` to the program. */
export function registerExplainCommand(program: Command): void {
  program
    .command('explain')
    .description(
      'what the model looks at: heat-map overlays (saliency, SmoothGrad, gradient×input, Grad-CAM, occlusion, guided backpropagation) as PNGs, and the top classes',
    )
    .requiredOption('--model-file <file>', 'model saved by convkit train, or an ONNX file (imported on the fly)')
    .argument('<images...>', 'PNG or JPEG images (grey models: prepared as for convkit predict; colour models: centre square resized and cropped to the input)')
    .addOption(new Option('--method <name>', 'explanation method').choices(explainMethods).default('saliency'))
    .option('--layer <node>', 'Grad-CAM node (default: the last convolution with a spatial output)')
    .option('--class <c>', 'class to explain, by index or name (default: the predicted class)')
    .requiredOption('--out <dir>', 'directory for the PNGs (created if missing): IMAGE-METHOD.png')
    .option('--top <k>', 'how many classes to show', integer('top', 1), 3)
    .option('--samples <n>', `SmoothGrad: noisy copies averaged (at most ${MAX_SAMPLES})`, integer('samples', 1, MAX_SAMPLES), 32)
    .option('--patch <px>', 'occlusion: patch side (default: a quarter of the input side)', integer('patch', 1))
    .option('--stride <px>', 'occlusion: step between patches (default: half the patch)', integer('stride', 1))
    .option('--scale <n>', 'enlarge the PNG by this integer factor (default: to at least 224 pixels wide)', integer('scale', 1))
    .addOption(new Option('--preprocess <how>', 'mnist: centre the ink by mass like MNIST; resize: plain resize').choices(['mnist', 'resize']).default('mnist'))
    .addOption(new Option('--invert <when>', 'invert dark-on-light pictures (auto: when the mean is light)').choices(['auto', 'yes', 'no']).default('auto'))
    .addOption(meanOption())
    .addOption(stdOption())
    .addOption(backendOption('compute backend'))
    .addOption(threadsOption('compute threads for the wasm backend (default: all cores)'))
    .addOption(memoryLimitOption())
    .addOption(jsonOption('print the result, heat maps included, as one JSON object'))
    .action((images: string[], o) => explainCommand({ ...o, images }));
}

export interface ExplainCommandOptions extends CommonOptions {
  modelFile: string;
  images: string[];
  method: ExplainMethod;
  layer?: string;
  class?: string;
  out: string;
  top?: number;
  samples?: number;
  patch?: number;
  stride?: number;
  scale?: number;
  preprocess?: 'mnist' | 'resize';
  invert?: 'auto' | 'yes' | 'no';
  mean?: number[];
  std?: number[];
}

/** One image's heat map at the input's size, what it is of, and the map at its own resolution (for --json). */
interface HeatMap {
  classIndex: number;
  pixels: Tensor;
  map: Tensor;
  layer?: string;
}

async function heatMap(model: Model, image: Tensor, o: ExplainCommandOptions, classIndex: number | undefined): Promise<HeatMap> {
  switch (o.method) {
    case 'saliency':
    case 'smoothgrad':
    case 'gradxinput':
    case 'guided': {
      const run = { saliency: explain.saliency, smoothgrad: explain.smoothGrad, gradxinput: explain.gradientTimesInput, guided: explain.guidedBackprop }[
        o.method
      ];
      const a = await run(model, image, { classIndex, samples: o.samples });
      return { classIndex: a.classIndex, pixels: a.map, map: a.map };
    }
    case 'gradcam':
    case 'gradcam++': {
      const cam = await explain.gradCam(model, image, { classIndex, node: o.layer, plusPlus: o.method === 'gradcam++' });
      return { classIndex: cam.classIndex, pixels: cam.upsampled, map: cam.map, layer: cam.node };
    }
    case 'occlusion': {
      const occ = await explain.occlusion(model, image, { classIndex, patch: o.patch, stride: o.stride });
      return { classIndex: occ.classIndex, pixels: occ.pixelMap, map: occ.map };
    }
  }
}

export async function explainCommand(o: ExplainCommandOptions): Promise<void> {
  const out = new Output(!!o.json);
  const { model, info } = await loadForExplaining(o, out);
  // Check what the user named before any work: the layer, the class, the output directory.
  if (o.layer !== undefined && o.method !== 'gradcam' && o.method !== 'gradcam++')
    throw new ConfigError(`--layer applies to --method gradcam and gradcam++, not ${o.method}`);
  if (o.layer !== undefined) explain.spatialNode(model, o.layer, 'Grad-CAM layer');
  const classes = model.spec.classes ?? info.classes ?? [];
  const classIndex = o.class === undefined ? undefined : classByName(model, classes, o.class);
  for (const file of o.images) if (!existsSync(file)) throw new ConfigError(`image ${file} does not exist`);
  const [, H, W] = model.inputShape;
  const scale = o.scale ?? Math.max(1, Math.ceil(224 / W));
  // The overlay's size is known now: a refused --scale must not leave a directory behind.
  explain.checkPictureSize(W * scale, H * scale);
  prepareDirectory(o.out);
  const name = (k: number) => classes[k] ?? String(k);
  const results = [];
  for (const file of o.images) {
    const { x, inverted } = modelInput(file, info, model, o);
    const image = new Tensor(model.inputShape, x.data.slice());
    const { scores } = await explain.classScores(model, image);
    const probabilities = softmax(scores);
    const top = [...probabilities]
      .map((p, k) => ({ class: name(k), index: k, probability: p }))
      .sort((a, b) => b.probability - a.probability)
      .slice(0, Math.min(o.top ?? 3, probabilities.length));
    const heat = await heatMap(model, image, o, classIndex);
    const range = explain.mapRange(heat.pixels.data);
    const picture = explain.withLegend(
      explain.upscale(explain.overlayHeatmap(explain.imageToRgba(pixelSpace(image, info), [0, 1]), heat.pixels, { alpha: 0.6 }), scale),
      range,
    );
    const target = join(o.out, `${basename(file, extname(file))}-${o.method}.png`);
    writePng(target, { width: picture.width, height: picture.height, channels: 4, pixels: new Uint8Array(picture.data.buffer) });
    results.push({
      image: file,
      inverted,
      out: target,
      method: o.method,
      layer: heat.layer,
      class: name(heat.classIndex),
      classIndex: heat.classIndex,
      probability: probabilities[heat.classIndex],
      score: scores[heat.classIndex],
      top,
      range,
      mapShape: heat.map.shape,
      map: Array.from(heat.map.data),
      width: picture.width,
      height: picture.height,
      preprocessing: { mean: info.mean, std: info.std, source: info.source },
    });
    out.text(
      `${file}: ${top.map((t) => `${t.class} ${percent(t.probability, 1)}`).join(', ')}; ${o.method}${heat.layer ? ` at ${heat.layer}` : ''} for ${name(heat.classIndex)} → ${target}`,
    );
  }
  out.event({ type: 'result', explanations: results });
}

/**
 * A class by name or index. Names come from the graph or, for models trained on a folder, from
 * the model file's data description; a ConfigError lists the valid classes.
 */
function classByName(model: Model, classes: string[], cls: string): number {
  const K = explain.classCount(model);
  const byName = classes.indexOf(cls);
  if (byName >= 0 && byName < K) return byName;
  if (/^\d+$/.test(cls) && Number(cls) < K) return Number(cls);
  const valid = classes.length === K ? classes.map((n, i) => `${i}=${n}`).join(', ') : `0..${K - 1}`;
  throw new ConfigError(`class "${cls}" does not exist in model "${model.name}" (classes: ${valid})`);
}

/** Creates the output directory (and only it, with its missing parents) unless it exists; a file there is an error. */
function prepareDirectory(dir: string): void {
  try {
    if (!statSync(dir).isDirectory()) throw new ConfigError(`--out ${dir} is not a directory`);
    return;
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(`--out ${dir}: ${(e as Error).message}`);
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new ConfigError(`--out ${dir}: cannot create the directory: ${(e as Error).message}`);
  }
}
