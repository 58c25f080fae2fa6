/**
 * Builds the pictures of docs/EXPLAIN.md in docs/img/explain/: trains LeNet-5 and the
 * ConvNetJS demo net on MNIST and LeNet-5 on Fashion-MNIST with the CLI (cached in the model
 * folder), exports the Fashion-MNIST net to ONNX, then draws attributions (saliency, Grad-CAM,
 * occlusion, guided backpropagation), filters, activation maximisation, top patches and top
 * images, a hand-drawn-style digit explained by `convkit explain`, and a receptive field.
 *
 *   node --import tsx scripts/explain-gallery.ts [output folder] [model folder]
 *
 * The pictures made with `convkit visualize` and `convkit explain` run the built CLI (dist/):
 * run `npm run build` first. About two minutes on two cores, most of it training.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createBackend } from '../src/backend/index.js';
import * as explain from '../src/explain/index.js';
import type { Model } from '../src/model/model.js';
import { loadModel } from '../src/node/files.js';
import { readImage, writePng } from '../src/node/image.js';
import { loadFashionMnist } from '../src/node/fashion-mnist.js';
import { loadMnist } from '../src/node/mnist.js';
import { loadOnnx } from '../src/onnx/import.js';
import { Tensor } from '../src/tensor.js';
import type { ImageDataset } from '../src/data/dataset.js';

const out = process.argv[2] ?? 'docs/img/explain';
const models = process.argv[3] ?? join(tmpdir(), 'convkit-explain-gallery');
mkdirSync(out, { recursive: true });
mkdirSync(models, { recursive: true });

function convkit(...args: string[]): string {
  const r = spawnSync(process.execPath, ['bin/convkit.js', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`convkit ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

/** A model trained by the CLI, kept in the model folder between runs. */
function trained(name: string, ...args: string[]): string {
  const file = join(models, `${name}.convkit`);
  if (!existsSync(file))
    console.log(
      convkit('train', ...args, '--seed', '1', '--backend', 'wasm', '--out', file)
        .trim()
        .split('\n')
        .at(-1),
    );
  return file;
}

const lenet = trained('lenet5-mnist', '--model', 'lenet5', '--dataset', 'mnist', '--epochs', '1');
const convnetjs = trained('convnetjs-mnist', '--model', 'convnetjs-mnist', '--dataset', 'mnist', '--epochs', '1');
const fashion = trained('lenet5-fashion', '--model', 'lenet5', '--dataset', 'fashion-mnist', '--epochs', '2');
const fashionOnnx = join(models, 'lenet5-fashion.onnx');
if (!existsSync(fashionOnnx)) convkit('export', '--model-file', fashion, '--out', fashionOnnx);

function save(name: string, img: explain.RgbaImage): void {
  const rgb = new Uint8Array(img.width * img.height * 3);
  for (let p = 0; p < img.width * img.height; p++) rgb.set(img.data.subarray(p * 4, p * 4 + 3), p * 3);
  writePng(join(out, name), { width: img.width, height: img.height, channels: 3, pixels: rgb });
}

/** Test image i of a dataset as the model's normalised input [1, h, w] (central crop). */
function input(ds: ImageDataset, i: number, model: Model, mean: number, std: number): Tensor {
  const [, h, w] = model.inputShape;
  const top = (ds.height - h) >> 1,
    left = (ds.width - w) >> 1;
  const t = Tensor.zeros(model.inputShape);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) t.data[y * w + x] = (ds.images[i * ds.height * ds.width + (top + y) * ds.width + left + x] / 255 - mean) / std;
  return t;
}

const SCALE = 4;

/**
 * One row per image: the image, then saliency, Grad-CAM, occlusion and guided backpropagation
 * for the predicted class, each over the image in viridis scaled to its own range.
 */
async function attributionPanel(name: string, model: Model, ds: ImageDataset, indices: number[], mean: number, std: number): Promise<string[]> {
  const rows = [],
    notes: string[] = [];
  for (const i of indices) {
    const image = input(ds, i, model, mean, std);
    const base = explain.imageToRgba(image);
    const sal = await explain.saliency(model, image);
    const cam = await explain.gradCam(model, image);
    const occ = await explain.occlusion(model, image);
    const guided = await explain.guidedBackprop(model, image);
    const over = (m: Tensor) => explain.upscale(explain.overlayHeatmap(base, m, { alpha: 0.7 }), SCALE);
    rows.push({
      label: String(sal.classIndex),
      images: [explain.upscale(base, SCALE), over(sal.map), over(cam.upsampled), over(occ.pixelMap), over(guided.map)],
    });
    notes.push(`image ${i} (true ${ds.classes[ds.labels[i]]}): predicted ${sal.classIndex}, Grad-CAM at ${cam.node}, occlusion patch ${occ.patch}`);
  }
  save(name, explain.labelledRows(rows, { textScale: 2 }));
  return notes;
}

const backend = await createBackend('wasm', { threads: 1 });
const mnist = loadMnist('test');
const fashionTest = loadFashionMnist('test');
const lenetModel = loadModel(lenet, backend).model;
const convnetjsModel = loadModel(convnetjs, backend).model;
const fashionModel = loadModel(fashion, backend);
const fashionData = fashionModel.metadata.data as { mean: number[]; std: number[] };

// The first test digits of a few classes: 7, 2, 1, 0, 4, 9 (indices 0, 1, 2, 3, 4, 7).
const digits = [0, 1, 2, 3, 4, 7];
console.log((await attributionPanel('lenet5-attributions.png', lenetModel, mnist, digits, 0.1307, 0.3081)).join('\n'));
console.log((await attributionPanel('convnetjs-attributions.png', convnetjsModel, mnist, digits, 0.1307, 0.3081)).join('\n'));
// Fashion-MNIST: one test item of each of the first six classes.
const firstOf = (ds: ImageDataset, c: number) => Array.from(ds.labels).findIndex((l, i) => l === c && i >= 0);
console.log(
  (
    await attributionPanel(
      'fashion-attributions.png',
      fashionModel.model,
      fashionTest,
      [0, 1, 2, 3, 4, 5].map((c) => firstOf(fashionTest, c)),
      fashionData.mean[0],
      fashionData.std[0],
    )
  ).join('\n'),
);

// Filters, activation maximisation, top patches and top images, with the CLI.
const visualize = (file: string, model: string, layer: string, what: string, ...rest: string[]) => {
  const text = convkit(
    'visualize',
    '--model-file',
    model,
    '--layer',
    layer,
    '--what',
    what,
    '--out',
    join(out, file),
    '--backend',
    'wasm',
    '--threads',
    '1',
    ...rest,
  );
  console.log(text.trim());
};
visualize('lenet5-conv1-filters.png', lenet, 'conv1', 'filters');
visualize('lenet5-conv2-filters.png', lenet, 'conv2', 'filters', '--channels', '0-7', '--scale', '6');
visualize('convnetjs-conv1-filters.png', convnetjs, 'conv1', 'filters');
visualize('lenet5-conv1-maximize.png', lenet, 'conv1', 'maximize');
visualize('lenet5-relu1-maximize.png', lenet, 'relu1', 'maximize');
visualize('lenet5-conv2-maximize.png', lenet, 'conv2', 'maximize');
visualize('convnetjs-conv2-maximize.png', convnetjs, 'conv2', 'maximize');
visualize('lenet5-conv1-patches.png', lenet, 'conv1', 'top-patches', '--k', '8', '--test-limit', '2000', '--scale', '6');
visualize('lenet5-conv2-patches.png', lenet, 'conv2', 'top-patches', '--channels', '0-9', '--k', '8', '--test-limit', '2000', '--scale', '3');
visualize('convnetjs-conv2-patches.png', convnetjs, 'conv2', 'top-patches', '--channels', '0-9', '--k', '8', '--test-limit', '2000', '--scale', '3');
visualize('lenet5-conv2-images.png', lenet, 'conv2', 'top-images', '--channels', '4,12', '--k', '6', '--test-limit', '2000', '--scale', '2');
visualize('fashion-conv2-patches.png', fashion, 'conv2', 'top-patches', '--channels', '0-7', '--k', '8', '--test-limit', '2000', '--scale', '3');

// A digit as a user would photograph it: dark ink with thick, uneven strokes on light paper, 160×160.
function drawnDigit(strokes: [number, number][][], width: number): Uint8Array {
  const S = 160,
    px = new Uint8Array(S * S);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      let d = Infinity;
      for (const line of strokes) {
        for (let k = 0; k + 1 < line.length; k++) {
          const [ax, ay] = line[k],
            [bx, by] = line[k + 1];
          const t = Math.max(0, Math.min(1, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2 || 1)));
          d = Math.min(d, Math.hypot(x - ax - t * (bx - ax), y - ay - t * (by - ay)));
        }
      }
      // Paper a little darker towards the bottom right, ink with a soft edge.
      const paper = 236 - (x + y) / 16,
        ink = 40;
      const a = Math.min(1, Math.max(0, (width / 2 + 1 - d) / 2));
      px[y * S + x] = Math.round(paper * (1 - a) + ink * a);
    }
  }
  return px;
}
// A 7 with a crossbar (as many people write it) and a 4 left open at the top.
const seven = drawnDigit(
  [
    [
      [38, 36],
      [122, 32],
      [100, 78],
      [76, 132],
    ],
    [
      [62, 84],
      [114, 80],
    ],
  ],
  13,
);
const four = drawnDigit(
  [
    [
      [92, 28],
      [44, 100],
      [124, 98],
    ],
    [
      [102, 58],
      [100, 136],
    ],
  ],
  12,
);
const scratch = mkdtempSync(join(tmpdir(), 'convkit-explain-gallery-'));
for (const [name, px] of [
  ['drawn-7', seven],
  ['drawn-4', four],
] as const) {
  writePng(join(out, `${name}.png`), { width: 160, height: 160, channels: 1, pixels: px });
  for (const method of ['gradcam', 'occlusion', 'guided']) {
    const text = convkit(
      'explain',
      '--model-file',
      lenet,
      '--method',
      method,
      '--out',
      scratch,
      '--scale',
      '6',
      '--backend',
      'wasm',
      '--threads',
      '1',
      join(out, `${name}.png`),
    );
    console.log(text.trim());
    copyFileSync(join(scratch, `${name}-${method}.png`), join(out, `${name}-${method}.png`));
  }
}

// The imported ONNX model (the Fashion-MNIST LeNet-5 exported by convkit export): ONNX stores
// no preprocessing, so the model file's statistics are passed with --mean/--std.
const bag = join(scratch, 'fashion-item.png');
const item = firstOf(fashionTest, 8);
writePng(bag, { width: 28, height: 28, channels: 1, pixels: fashionTest.images.subarray(item * 784, (item + 1) * 784) });
for (const method of ['gradcam', 'saliency']) {
  const text = convkit(
    'explain',
    '--model-file',
    fashionOnnx,
    '--method',
    method,
    '--preprocess',
    'resize',
    '--invert',
    'no',
    '--mean',
    String(fashionData.mean[0]),
    '--std',
    String(fashionData.std[0]),
    '--out',
    scratch,
    '--scale',
    '6',
    '--backend',
    'wasm',
    '--threads',
    '1',
    bag,
  );
  console.log(text.trim());
  copyFileSync(join(scratch, `fashion-item-${method}.png`), join(out, `onnx-fashion-${method}.png`));
}
visualize(
  'onnx-fashion-conv1-filters.png',
  fashionOnnx,
  readLayer(fashionOnnx),
  'filters',
  '--mean',
  String(fashionData.mean[0]),
  '--std',
  String(fashionData.std[0]),
);

/** The ONNX import's name for the first convolution. */
function readLayer(file: string): string {
  return explain.convNodes(loadOnnx(readFileSync(file), backend, file))[0];
}

// A colour model trained in PyTorch (scripts/explain-shapes.py: the class is the shape of the red
// object, a blue one distracts), exported to ONNX and explained through the importer with the
// ImageNet statistics convkit assumes for colour ONNX inputs of 64 pixels and more.
const shapesOnnx = join(models, 'shapes.onnx');
if (!existsSync(shapesOnnx)) {
  const r = spawnSync('/usr/bin/python3', ['scripts/explain-shapes.py', models], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`scripts/explain-shapes.py failed:\n${r.stderr}`);
  console.log(r.stdout.trim().split('\n').at(-1));
}
{
  const pictures = ['triangle', 'circle', 'square'].map((c) => join(models, 'shapes', c, readdirSync(join(models, 'shapes', c)).sort()[0]));
  const cells: { width: number; height: number; data: Uint8ClampedArray }[] = [];
  for (const file of pictures) {
    const text = convkit(
      'explain',
      '--model-file',
      shapesOnnx,
      '--method',
      'gradcam',
      '--out',
      scratch,
      '--scale',
      '3',
      '--backend',
      'wasm',
      '--threads',
      '1',
      file,
    );
    console.log(text.trim());
    const png = readImage(join(scratch, `${basename(file, '.png')}-gradcam.png`));
    const original = readImage(file);
    cells.push(
      { width: original.width, height: original.height, data: new Uint8ClampedArray(original.pixels) },
      { width: png.width, height: png.height, data: new Uint8ClampedArray(png.pixels) },
    );
  }
  // Each picture (enlarged 3×) above its Grad-CAM, in three columns.
  const grid = explain.grid(
    [0, 2, 4]
      .map((i) => cells[i])
      .map((c) => explain.upscale(c, 3))
      .concat([1, 3, 5].map((i) => cells[i])),
    { columns: 3, gap: 4 },
  );
  save('shapes-gradcam.png', grid);
  const shapesModel = loadOnnx(readFileSync(shapesOnnx), backend, shapesOnnx);
  const [first, , last] = explain.convNodes(shapesModel);
  visualize('shapes-filters.png', shapesOnnx, first, 'filters');
  visualize(
    'shapes-patches.png',
    shapesOnnx,
    last,
    'top-patches',
    '--dataset',
    `folder:${join(models, 'shapes')}`,
    '--channels',
    '0-7',
    '--k',
    '6',
    '--scale',
    '2',
  );
}

// A receptive field: the strongest conv2 unit of channel 12 on test digit 0, its 14×14 box drawn on the digit.
{
  const image = input(mnist, 0, lenetModel, 0.1307, 0.3081);
  const [best] = await explain.topActivatingPatches(lenetModel, new Tensor([1, ...lenetModel.inputShape], image.data), { node: 'conv2', k: 1, channels: [12] });
  const p = best[0];
  const S = 8,
    img = explain.upscale(explain.imageToRgba(image), S);
  for (let y = p.box.top * S; y < (p.box.top + p.box.height) * S; y++) {
    for (let x = p.box.left * S; x < (p.box.left + p.box.width) * S; x++) {
      const edge = y < p.box.top * S + 2 || y >= (p.box.top + p.box.height) * S - 2 || x < p.box.left * S + 2 || x >= (p.box.left + p.box.width) * S - 2;
      if (edge) img.data.set([240, 60, 40, 255], (y * img.width + x) * 4);
    }
  }
  save('lenet5-conv2-field.png', img);
  console.log(`receptive field: conv2 channel 12 unit [${p.y}, ${p.x}] activation ${p.activation.toFixed(3)}, box ${JSON.stringify(p.box)}`);
}

backend.dispose?.();
const files = readdirSync(out).filter((f) => f.endsWith('.png'));
const bytes = files.reduce((s, f) => s + statSync(join(out, f)).size, 0);
console.log(`${files.length} pictures in ${out}, ${(bytes / 1024).toFixed(0)} KB`);
