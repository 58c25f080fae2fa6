import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RefBackend } from '../src/backend/ref.js';
import { Model } from '../src/model/model.js';
import { zoo } from '../src/model/zoo.js';
import { saveModel } from '../src/node/files.js';
import { readImage, writePng } from '../src/node/image.js';
import { loadMnist } from '../src/node/mnist.js';
import { loadAnyModel, modelInput, modelPreprocessing, pixelSpace } from '../src/cli/model-input.js';
import { webgpuSkip } from './webgpu-env.js';

// These run the built CLI (dist/): `npm test` builds first; alone, run `npx tsc -p .` before.
const dir = mkdtempSync(join(tmpdir(), 'convkit-visualize-cli-'));
const cli = (...args: string[]) => spawnSync(process.execPath, [join(process.cwd(), 'bin/convkit.js'), ...args], { encoding: 'utf8', cwd: dir });
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);
const fixtures = join(import.meta.dirname, 'fixtures');

const lenet = join(dir, 'lenet5.convkit');
saveModel(lenet, new Model(zoo.lenet5.build(), new RefBackend('float32'), 3));
const test = loadMnist('test');
const digit = join(dir, 'digit.png');
writePng(digit, { width: 28, height: 28, channels: 1, pixels: test.images.subarray(0, 784) });

// A colour model (LeNet-5 on 3×32×32) and a folder dataset of colour pictures, as convkit train would record them.
const colourModel = join(dir, 'colour.convkit');
const colourData = join(dir, 'shapes');
const colourInfo = {
  dataset: `folder:${colourData}`,
  channels: 3,
  height: 32,
  width: 32,
  mean: [0.5, 0.4, 0.3],
  std: [0.25, 0.25, 0.25],
  classes: ['red', 'blue'],
};
saveModel(colourModel, new Model(zoo.lenet5.build({ inputShape: [3, 32, 32], classes: 2 }), new RefBackend('float32'), 5), { data: colourInfo });
/** A w×h RGB picture: a square of `colour` on grey. */
function squarePicture(w: number, h: number, colour: [number, number, number], at: number): Uint8Array {
  const px = new Uint8Array(w * h * 3).fill(128);
  for (let y = at; y < at + 10 && y < h; y++) for (let x = at; x < at + 10 && x < w; x++) px.set(colour, (y * w + x) * 3);
  return px;
}
for (const [cls, colour] of [
  ['red', [230, 20, 20]],
  ['blue', [20, 20, 230]],
] as const) {
  mkdirSync(join(colourData, cls), { recursive: true });
  for (let i = 0; i < 5; i++)
    writePng(join(colourData, cls, `${i}.png`), { width: 40, height: 30, channels: 3, pixels: squarePicture(40, 30, [...colour], 4 + 2 * i) });
}
const redPicture = join(colourData, 'red', '0.png');

describe('convkit visualize', () => {
  it("--what filters: the first convolution's kernels as a labelled grid, 3 per row, with a diverging legend", () => {
    const out = join(dir, 'filters.png');
    const r = cli('visualize', '--model-file', lenet, '--layer', 'conv1', '--what', 'filters', '--out', out, '--backend', 'ref', '--json');
    assert.equal(r.status, 0, r.stderr);
    const result = lastJson(r.stdout);
    const png = readImage(out);
    // 6 cells of 5×5 enlarged 10×, in 3 columns with 4-pixel gaps; 2 rows of label (12) and cell (50); legend 34 pixels.
    assert.deepEqual([png.width, png.height], [4 + 3 * (50 + 4), 4 + 2 * (12 + 50 + 4) + 34]);
    assert.deepEqual([result.width, result.height], [png.width, png.height]);
    assert.deepEqual(result.channels, [0, 1, 2, 3, 4, 5]);
    assert.equal(result.filters[0].weights.length, 25);
    // Zero weight is white in the diverging map: the legend's middle is white, its ends blue and red.
    const at = (x: number, y: number) => Array.from(png.pixels.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));
    const bar = png.height - 34 + 4 + 6;
    assert.ok(at(0, bar)[2] > at(0, bar)[0], 'blue at the negative end');
    assert.ok(at(png.width - 1, bar)[0] > at(png.width - 1, bar)[2], 'red at the positive end');
  });

  it('--what filters on a deeper convolution: one row of channel slices per filter', () => {
    const out = join(dir, 'filters2.png');
    const r = cli(
      'visualize',
      '--model-file',
      lenet,
      '--layer',
      'conv2',
      '--what',
      'filters',
      '--channels',
      '0-3,9',
      '--out',
      out,
      '--backend',
      'ref',
      '--json',
    );
    assert.equal(r.status, 0, r.stderr);
    const result = lastJson(r.stdout);
    assert.deepEqual(result.channels, [0, 1, 2, 3, 9]);
    assert.deepEqual(result.filters[4].shape, [6, 5, 5]);
    const png = readImage(out);
    // Label column: widest label 1 character (3×2) + 4; then 6 slices of 50 px with 4-pixel gaps.
    assert.deepEqual([png.width, png.height], [4 + 10 + 6 * (50 + 4), 4 + 5 * (50 + 4) + 34]);
  });

  for (const what of ['maximize', 'top-patches', 'top-images']) {
    it(`--what ${what} writes a labelled grid PNG of the size it reports, with numbers in --json`, () => {
      const out = join(dir, `${what}.png`);
      const r = cli(
        'visualize',
        '--model-file',
        lenet,
        '--layer',
        'conv2',
        '--what',
        what,
        '--channels',
        '2,5',
        '--k',
        '3',
        '--steps',
        '5',
        '--test-limit',
        '50',
        '--out',
        out,
        '--backend',
        'ref',
        '--json',
      );
      assert.equal(r.status, 0, r.stderr);
      const result = lastJson(r.stdout);
      const png = readImage(out);
      assert.deepEqual([png.width, png.height], [result.width, result.height]);
      assert.deepEqual(
        result.units.map((u: { channel: number }) => u.channel),
        [2, 5],
      );
      if (what === 'maximize') {
        // Two 28×28 cells enlarged 2× side by side, each under its label.
        assert.deepEqual([png.width, png.height], [4 + 2 * (56 + 4), 4 + 12 + 56 + 4]);
        assert.ok(result.units.every((u: { activation: number }) => Number.isFinite(u.activation)));
      } else {
        assert.equal(result.dataset, 'mnist');
        for (const u of result.units) {
          const list = u.patches ?? u.images;
          assert.equal(list.length, 3);
          assert.ok(list.every((p: { index: number }) => p.index >= 0 && p.index < 50));
          assert.ok(list[0].activation >= list[2].activation);
        }
        // conv2's receptive field is 14 pixels (cells enlarged 4×); an image cell is the image above its reconstruction (2×57).
        const cell = what === 'top-patches' ? [56, 56] : [56, 2 * 57];
        assert.equal(png.width, 4 + 10 + 3 * (cell[0] + 4));
        assert.equal(png.height, 4 + 2 * (cell[1] + 4) + (what === 'top-images' ? 34 : 0));
      }
    });
  }

  it('bad layer, channel or kind: a clear error listing the valid ones, and nothing written', () => {
    const out = join(dir, 'never.png');
    let r = cli('visualize', '--model-file', lenet, '--layer', 'conv7', '--what', 'filters', '--out', out, '--backend', 'ref');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no layer "conv7".*nodes: conv1, relu1, pool1, conv2/);
    r = cli('visualize', '--model-file', lenet, '--layer', 'pool1', '--what', 'filters', '--out', out, '--backend', 'ref');
    assert.match(r.stderr, /"pool1".* is a maxpool2d, not a convolution \(convolutions: conv1, conv2\)/);
    r = cli('visualize', '--model-file', lenet, '--layer', 'fc1', '--what', 'top-patches', '--out', out, '--backend', 'ref');
    assert.match(r.stderr, /not a feature map.*spatial nodes: conv1, relu1, pool1, conv2, relu2, pool2/);
    r = cli('visualize', '--model-file', lenet, '--layer', 'conv1', '--channels', '2,6', '--out', out, '--backend', 'ref');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--channels: layer "conv1" has filters 0\.\.5, not 6/);
    r = cli('visualize', '--model-file', lenet, '--layer', 'conv1', '--channels', '3-1', '--out', out);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /runs backwards/);
    r = cli('visualize', '--model-file', lenet, '--layer', 'conv1', '--what', 'deepdream', '--out', out);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /filters, maximize, top-patches, top-images/);
    r = cli('visualize', '--model-file', lenet, '--layer', 'conv1', '--what', 'top-patches', '--dataset', 'cifar', '--out', out, '--backend', 'ref');
    assert.match(r.stderr, /unknown dataset "cifar"/);
    r = cli('visualize', '--model-file', join(dir, 'missing.convkit'), '--layer', 'conv1', '--out', out, '--backend', 'ref');
    assert.match(r.stderr, /cannot read .*missing\.convkit: no such file/);
    r = cli('visualize', '--model-file', lenet, '--layer', 'conv1', '--out', join(dir, 'no-such-dir', 'x.png'), '--backend', 'ref');
    assert.match(r.stderr, /cannot write .*the directory .*no-such-dir does not exist/);
    r = cli('visualize', '--model-file', lenet, '--layer', 'conv2', '--what', 'top-images', '--k', '65', '--out', out);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /k must be an integer ≥ 1 and ≤ 64/);
    // Sizes multiply (scale × cells): the picture is checked before it is allocated.
    r = cli('visualize', '--model-file', lenet, '--layer', 'conv1', '--scale', '100000', '--out', out, '--backend', 'ref');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /a picture of 500000×500000 pixels is too large to draw \(at most 67,108,864 pixels\)/);
    r = cli('explain', '--model-file', lenet, '--scale', '1000000', '--out', join(dir, 'never-scale'), '--backend', 'ref', digit);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /a picture of 28000000×28000000 pixels is too large to draw/);
    assert.equal(existsSync(join(dir, 'never-scale')), false, 'a refused --scale creates no directory');
    assert.equal(existsSync(out), false);
    assert.equal(
      readdirSync(dir).some((f) => f.startsWith('never') && f !== 'never-scale'),
      false,
    );
  });
});

describe('explain and visualize on ONNX files', () => {
  it('a grey ONNX model (PyTorch LeNet-5): Grad-CAM and saliency, MNIST statistics assumed and said so', () => {
    for (const method of ['gradcam', 'saliency']) {
      const out = join(dir, `onnx-${method}`);
      const r = cli(
        'explain',
        '--model-file',
        join(fixtures, 'torch-lenet5.onnx'),
        '--method',
        method,
        '--out',
        out,
        '--backend',
        'ref',
        '--scale',
        '2',
        digit,
        '--json',
      );
      assert.equal(r.status, 0, r.stderr);
      const [e] = lastJson(r.stdout).explanations;
      assert.deepEqual(e.preprocessing, { mean: [0.1307], std: [0.3081], source: 'assumed' });
      assert.ok(e.map.every(Number.isFinite) && e.map.some((v: number) => v !== 0));
      assert.equal(readImage(e.out).width, 56);
    }
    const r = cli('explain', '--model-file', join(fixtures, 'torch-lenet5.onnx'), '--out', join(dir, 'onnx-text'), '--backend', 'ref', digit);
    assert.match(r.stdout, /no stored preprocessing: assuming MNIST mean\/std; override with --mean\/--std/);
  });

  it('a colour ONNX model (torchvision ResNet-18, 64×64): ImageNet statistics assumed, --mean/--std override them; visualize its filters in colour', () => {
    const onnx = join(fixtures, 'torchvision', 'resnet18.onnx');
    const out = join(dir, 'resnet');
    let r = cli('explain', '--model-file', onnx, '--method', 'gradcam', '--out', out, '--backend', 'ref', redPicture, '--json');
    assert.equal(r.status, 0, r.stderr);
    let [e] = lastJson(r.stdout).explanations;
    assert.deepEqual(e.preprocessing, { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], source: 'assumed' });
    assert.equal(readImage(e.out).width, 64 * 4);
    r = cli(
      'explain',
      '--model-file',
      onnx,
      '--method',
      'saliency',
      '--mean',
      '0.5',
      '--std',
      '0.5,0.25,0.5',
      '--out',
      out,
      '--backend',
      'ref',
      redPicture,
      '--json',
    );
    assert.equal(r.status, 0, r.stderr);
    [e] = lastJson(r.stdout).explanations;
    assert.deepEqual(e.preprocessing, { mean: [0.5, 0.5, 0.5], std: [0.5, 0.25, 0.5], source: 'flags' });
    r = cli('explain', '--model-file', onnx, '--std', '0.5,0.5', '--out', join(dir, 'never-std'), '--backend', 'ref', redPicture);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--std has 2 values, but .*resnet18\.onnx takes 3-channel images \(give 1 or 3\)/);
    assert.equal(existsSync(join(dir, 'never-std')), false);
    const filters = join(dir, 'resnet-filters.png');
    r = cli('visualize', '--model-file', onnx, '--layer', '_conv1_Conv', '--what', 'filters', '--out', filters, '--backend', 'ref', '--json');
    assert.equal(r.status, 0, r.stderr);
    const png = readImage(filters);
    assert.deepEqual([png.width, png.height], [lastJson(r.stdout).width, lastJson(r.stdout).height]);
    let coloured = 0;
    for (let p = 0; p < png.width * png.height; p++) if (png.pixels[p * 4] !== png.pixels[p * 4 + 1]) coloured++;
    assert.ok(coloured > 100, 'a 3-channel first layer is drawn in colour');
    r = cli('visualize', '--model-file', onnx, '--layer', 'nope', '--out', join(dir, 'never.png'), '--backend', 'ref');
    assert.match(r.stderr, /no layer "nope" \(nodes: _conv1_Conv, _relu_Relu, /);
  });
});

describe('colour models', () => {
  it("images keep their colour: the central square resized, normalised per channel with the model file's statistics", async () => {
    const loaded = loadAnyModel(colourModel, new RefBackend('float32'));
    const info = modelPreprocessing(loaded, { modelFile: colourModel });
    assert.equal(info.source, 'model file');
    const { x } = modelInput(redPicture, info, loaded.model, {});
    assert.deepEqual(x.shape, [1, 3, 32, 32]);
    const pixels = pixelSpace(x, info);
    // The 40×30 picture's central 30×30 square at 32×32: grey background, and the red square at (4..13) − 5 columns.
    const at = (c: number, y: number, x: number) => pixels.data[(c * 32 + y) * 32 + x];
    assert.ok(Math.abs(at(0, 30, 30) - 128 / 255) < 0.01 && Math.abs(at(2, 30, 30) - 128 / 255) < 0.01);
    assert.ok(at(0, 8, 2) > 0.85 && at(1, 8, 2) < 0.15 && at(2, 8, 2) < 0.15, `red stays red: ${[0, 1, 2].map((c) => at(c, 8, 2))}`);
  });

  it("a colour picture already at an ONNX model's input size is used pixel for pixel, not resized and cropped", () => {
    const onnx = join(fixtures, 'torchvision', 'resnet18.onnx');
    const loaded = loadAnyModel(onnx, new RefBackend('float32'));
    const info = modelPreprocessing(loaded, { modelFile: onnx });
    assert.equal(info.height, 73, 'other sizes: resized to 73, centre 64 cut out (resize 256, crop 224)');
    const file = join(dir, 'exact-64.png');
    const px = squarePicture(64, 64, [10, 200, 30], 0);
    writePng(file, { width: 64, height: 64, channels: 3, pixels: px });
    const pixels = pixelSpace(modelInput(file, info, loaded.model, {}).x, info);
    for (const [y, x] of [
      [0, 0],
      [9, 9],
      [10, 10],
      [63, 63],
    ]) {
      for (let c = 0; c < 3; c++)
        assert.ok(Math.abs(pixels.data[(c * 64 + y) * 64 + x] - px[(y * 64 + x) * 3 + c] / 255) < 1e-5, `pixel [${y}, ${x}] channel ${c}`);
    }
  });

  it('explain and visualize a colour .convkit model; a grey dataset for it is refused by name', () => {
    const out = join(dir, 'colour-explain');
    let r = cli('explain', '--model-file', colourModel, '--method', 'gradcam', '--class', 'blue', '--out', out, '--backend', 'ref', redPicture, '--json');
    assert.equal(r.status, 0, r.stderr);
    const [e] = lastJson(r.stdout).explanations;
    assert.equal(e.class, 'blue');
    assert.equal(e.preprocessing.source, 'model file');
    assert.equal(readImage(e.out).width, 32 * 7);
    r = cli('explain', '--model-file', colourModel, '--class', 'green', '--out', join(dir, 'never-class'), '--backend', 'ref', redPicture);
    assert.match(r.stderr, /class "green" does not exist.*0=red, 1=blue/);
    assert.equal(existsSync(join(dir, 'never-class')), false);
    const patches = join(dir, 'colour-patches.png');
    r = cli(
      'visualize',
      '--model-file',
      colourModel,
      '--layer',
      'conv2',
      '--what',
      'top-patches',
      '--k',
      '2',
      '--channels',
      '0,1',
      '--out',
      patches,
      '--backend',
      'ref',
      '--json',
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(lastJson(r.stdout).dataset, `folder:${colourData}`);
    assert.ok(readImage(patches).width > 0);
    r = cli(
      'visualize',
      '--model-file',
      colourModel,
      '--layer',
      'conv2',
      '--what',
      'top-images',
      '--dataset',
      'mnist',
      '--out',
      join(dir, 'never-mnist.png'),
      '--backend',
      'ref',
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /dataset mnist has 1×28×28 images; model .*colour\.convkit needs 3×32×32/);
    assert.equal(existsSync(join(dir, 'never-mnist.png')), false);
  });
});

describe('the same explanations and pictures on every backend', () => {
  // The ref backend is the oracle; wasm and webgpu (SwiftShader without a GPU) must agree with it through the CLI.
  const run = (backend: string, ...args: string[]) => {
    const r = cli(...args, '--backend', backend, '--json');
    assert.equal(r.status, 0, r.stderr);
    return lastJson(r.stdout);
  };
  const close = (a: number[], b: number[], what: string) => {
    const scale = Math.max(...b.map(Math.abs), 1e-12);
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 1e-3 * scale, `${what}[${i}]: ${v} vs ${b[i]}`));
  };
  const explainMaps = (backend: string) =>
    ['gradcam', 'saliency'].map(
      (method) =>
        run(backend, 'explain', '--model-file', join(fixtures, 'torch-lenet5.onnx'), '--method', method, '--out', join(dir, `backend-${backend}`), digit)
          .explanations[0],
    );
  const patches = (backend: string) =>
    run(
      backend,
      'visualize',
      '--model-file',
      lenet,
      '--layer',
      'conv2',
      '--what',
      'top-patches',
      '--channels',
      '0-3',
      '--k',
      '3',
      '--test-limit',
      '40',
      '--out',
      join(dir, `patches-${backend}.png`),
    ).units;
  const reference = { explain: explainMaps('ref'), patches: patches('ref') };

  for (const backend of ['wasm', 'webgpu']) {
    it(`${backend}: Grad-CAM and saliency maps, top-patch activations as on ref`, { skip: backend === 'webgpu' && webgpuSkip }, () => {
      explainMaps(backend).forEach((e, i) => {
        assert.equal(e.classIndex, reference.explain[i].classIndex);
        close(e.map, reference.explain[i].map, `${e.method} map`);
      });
      patches(backend).forEach((u: { patches: { index: number; activation: number }[] }, c: number) => {
        close(
          u.patches.map((p) => p.activation),
          reference.patches[c].patches.map((p: { activation: number }) => p.activation),
          `channel ${c} activations`,
        );
      });
    });
  }
});
