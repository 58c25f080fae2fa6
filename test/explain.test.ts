import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createBackend } from '../src/backend/index.js';
import { ConfigError, ShapeError } from '../src/errors.js';
import type { Backend } from '../src/backend/backend.js';
import { RefBackend } from '../src/backend/ref.js';
import * as explain from '../src/explain/index.js';
import { MNIST_MEAN, MNIST_STD, fillBatch, limitDataset } from '../src/data/dataset.js';
import { decodeModel, encodeModel } from '../src/io/modelfile.js';
import { Model, sequential } from '../src/model/model.js';
import { zoo } from '../src/model/zoo.js';
import { loadMnist } from '../src/node/mnist.js';
import { loadOnnx } from '../src/onnx/import.js';
import { Rng } from '../src/rng.js';
import { Tensor, shapeSize } from '../src/tensor.js';
import { webgpuSkip } from './webgpu-env.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const reference = JSON.parse(readFileSync(join(fixtures, 'torch-explain.json'), 'utf8'));

/** |a − b| ≤ tol · max|b| for every element: relative to the reference's scale, so near-zero entries do not dominate. */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  assert.ok(scale > 0, `${what}: the reference is all zeros, which proves nothing`);
  let worst = 0,
    at = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i] - expected[i]);
    if (e > worst) {
      worst = e;
      at = i;
    }
  }
  assert.ok(
    worst <= tol * scale,
    `${what}: element ${at} is ${actual[at]}, PyTorch says ${expected[at]} (error ${(worst / scale).toExponential(2)} of the scale ${scale.toExponential(2)})`,
  );
}

function firstInput(name: string): Tensor {
  const io = JSON.parse(readFileSync(join(fixtures, `torch-${name}.json`), 'utf8'));
  const shape = io.inputShape.slice(1);
  return Tensor.from(shape, io.input.slice(0, shape[0] * shape[1] * shape[2]), 'float64');
}

const backends: { name: string; make: () => Promise<Backend>; tol: number; skip?: string | false }[] = [
  { name: 'ref-float64', make: async () => new RefBackend('float64'), tol: 1e-7 },
  { name: 'wasm', make: () => createBackend('wasm'), tol: 1e-4 },
];
// A software GPU is slow: it runs the PyTorch comparison only.
const withGpu = [...backends, { name: 'webgpu', make: () => createBackend('webgpu'), tol: 1e-4, skip: webgpuSkip }];

for (const b of withGpu) {
  describe(`explanations agree with PyTorch (float64) on ${b.name}`, { skip: b.skip }, () => {
    let backend: Backend;
    before(async () => {
      backend = await b.make();
    });
    after(() => backend.dispose?.());

    for (const name of ['lenet5', 'mini-inception-resnet']) {
      const ref = reference[name];
      const model = () => loadOnnx(readFileSync(join(fixtures, `torch-${name}.onnx`)), backend, `torch-${name}.onnx`);
      const image = firstInput(name);

      it(`${name}: saliency is d(logit)/d(input) of the predicted class`, async () => {
        const s = await explain.saliency(model(), image);
        assert.equal(s.classIndex, ref.classIndex);
        assert.ok(Math.abs(s.score - ref.logits[ref.classIndex]) <= b.tol * Math.max(...ref.logits.map(Math.abs)));
        assertClose(s.attribution.data, ref.saliency, b.tol, 'saliency');
      });

      it(`${name}: Grad-CAM and Grad-CAM++ at ${ref.camNode}, and their bilinear upsampling`, async () => {
        const m = model();
        for (const [key, plusPlus] of [
          ['gradcam', false],
          ['gradcamPlusPlus', true],
        ] as const) {
          const cam = await explain.gradCam(m, image, { node: ref.camNode, plusPlus });
          assert.deepEqual(cam.map.shape, ref[key].mapShape);
          assertClose(cam.map.data, ref[key].map, b.tol, `${key} map`);
          assertClose(cam.upsampled.data, ref[key].upsampled, b.tol, `${key} upsampled`);
        }
      });

      it(`${name}: guided backpropagation of the class logit`, async () => {
        const g = await explain.guidedBackprop(model(), image);
        assertClose(g.attribution.data, ref.guided, b.tol, 'guided backpropagation');
      });

      it(`${name}: deconvnet reconstruction of channel ${ref.deconvnet.channel} of ${ref.deconvnet.node}`, async () => {
        const { reconstructions } = await explain.reconstruct(model(), [image], {
          node: ref.deconvnet.node,
          channel: ref.deconvnet.channel,
          unit: 'sum',
          rule: 'deconvnet',
        });
        assertClose(reconstructions[0].data, ref.deconvnet.reconstruction, b.tol, 'deconvnet');
      });
    }
  });
}

/** A model whose class-0 logit is 4·(sum of the 2×2 block at rows 2–3, columns 5–6) of an 8×8 image; class 1's is 0. */
function regionModel(backend: Backend): Model {
  const model = new Model(sequential('region', [1, 8, 8], [{ type: 'conv2d', filters: 2, kernel: 8 }, { type: 'flatten' }]), backend);
  const weight = model.parameters().find((p) => p.path === 'conv1.weight')!.value.data;
  const bias = model.parameters().find((p) => p.path === 'conv1.bias')!.value.data;
  weight.fill(0);
  bias.fill(0);
  for (const [y, x] of [
    [2, 5],
    [2, 6],
    [3, 5],
    [3, 6],
  ])
    weight[y * 8 + x] = 4;
  model.uploadWeights();
  return model;
}

function mnistSubset(n: number, inputShape: readonly number[]): Tensor {
  const ds = limitDataset(loadMnist('test'), n);
  const x = new Tensor([n, ...inputShape], new Float32Array(n * shapeSize(inputShape)));
  fillBatch(
    ds,
    Array.from({ length: n }, (_, i) => i),
    0,
    x,
    new Uint8Array(n),
    { crop: 'center' },
  );
  return x;
}

function mnistRange(): [number, number] {
  return [-MNIST_MEAN / MNIST_STD, (1 - MNIST_MEAN) / MNIST_STD];
}

for (const b of backends) {
  describe(`explanations on ${b.name}`, () => {
    let backend: Backend;
    before(async () => {
      backend = await b.make();
    });
    after(() => backend.dispose?.());

    it('occlusion: the map peaks where the answer depends on the image', async () => {
      const model = regionModel(backend);
      const image = Tensor.zeros([1, 8, 8]);
      image.data.fill(0.1);
      for (const [y, x] of [
        [2, 5],
        [2, 6],
        [3, 5],
        [3, 6],
      ])
        image.data[y * 8 + x] = 1;
      const o = await explain.occlusion(model, image, { patch: 2, stride: 1, value: 0, batchSize: 5 });
      assert.equal(o.classIndex, 0);
      assert.deepEqual(o.map.shape, [7, 7]);
      const peak = argmaxOf(o.map.data);
      assert.deepEqual([Math.floor(peak / 7), peak % 7], [2, 5], 'the patch that covers the whole block hurts most');
      // The clean probability is σ(16·… ) ≈ 1; covering the block makes both logits 0 → ½.
      assert.ok(Math.abs(o.map.data[peak] - (o.probability - 0.5)) < 1e-5);
      const pixelPeak = argmaxOf(o.pixelMap.data);
      assert.ok(
        [
          [2, 5],
          [2, 6],
          [3, 5],
          [3, 6],
        ].some(([y, x]) => pixelPeak === y * 8 + x),
        `pixel map peak ${pixelPeak} lies in the block`,
      );
      // Patches away from the block change nothing.
      assert.equal(o.map.data[6 * 7 + 0], 0);
    });

    it('activation maximisation excites its channel more than any of 300 MNIST digits', async () => {
      const model = new Model(zoo.lenet5.build(), backend, 7);
      const images = mnistSubset(300, model.inputShape);
      for (const [node, channel] of [
        ['conv2', 3],
        ['relu3', 11],
      ] as const) {
        const best = await explain.maximizeActivation(model, { node, channel, steps: 60, range: mnistRange(), seed: 5 });
        const dataset = await explain.channelActivations(model, uploaded(backend, images), node, channel, 'mean');
        const top = Math.max(...dataset);
        assert.ok(best.activation > top, `${node}:${channel}: optimised ${best.activation} vs best digit ${top}`);
        const [lo, hi] = mnistRange();
        assert.ok(
          best.image.data.every((v) => v >= lo - 1e-6 && v <= hi + 1e-6),
          'the input stays in the data range',
        );
      }
    });

    it('activation maximisation is reproducible from its seed', async () => {
      const model = new Model(zoo.lenet5.build(), backend, 7);
      const a = await explain.maximizeActivation(model, { node: 'conv1', channel: 2, steps: 5, seed: 9 });
      const c = await explain.maximizeActivation(model, { node: 'conv1', channel: 2, steps: 5, seed: 9 });
      const d = await explain.maximizeActivation(model, { node: 'conv1', channel: 2, steps: 5, seed: 10 });
      assert.deepEqual(a.image.data, c.image.data);
      assert.notDeepEqual(a.image.data, d.image.data);
    });
  });
}

function uploaded(backend: Backend, t: Tensor): Tensor {
  const copy = new Tensor(t.shape, backend.alloc(t.size));
  copy.data.set(t.data);
  return copy;
}

function argmaxOf(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

function randomImages(n: number, shape: readonly number[], seed: number): Tensor {
  const rng = new Rng(seed);
  return Tensor.from(
    [n, ...shape],
    Array.from({ length: n * shapeSize(shape) }, () => rng.uniform(-1, 1)),
  );
}

function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

function someNonZero(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) return true;
  return false;
}

for (const b of backends) {
  describe(`every method runs on zoo, saved-and-loaded and ONNX models (${b.name})`, () => {
    let backend: Backend;
    before(async () => {
      backend = await b.make();
    });
    after(() => backend.dispose?.());

    const models: [string, (backend: Backend) => Model][] = [
      ['zoo lenet5', (be) => new Model(zoo.lenet5.build(), be, 3)],
      [
        'saved and loaded convnetjs-mnist',
        (be) => decodeModel(encodeModel(new Model(zoo['convnetjs-mnist'].build(), new RefBackend('float32'), 4)), 'm.convkit', be).model,
      ],
      [
        'imported ONNX residual net',
        (be) => loadOnnx(readFileSync(join(fixtures, 'torch-mini-inception-resnet.onnx')), be, 'torch-mini-inception-resnet.onnx'),
      ],
    ];
    for (const [what, make] of models) {
      it(what, async () => {
        const model = make(backend);
        const [C, H, W] = model.inputShape;
        const dataset = randomImages(6, model.inputShape, 11);
        const image = new Tensor(model.inputShape, dataset.data.slice(0, C * H * W));
        const pixelMaps = [
          await explain.saliency(model, image),
          await explain.smoothGrad(model, image, { samples: 5, batchSize: 2 }),
          await explain.gradientTimesInput(model, image),
          await explain.guidedBackprop(model, image),
        ];
        for (const a of pixelMaps) {
          assert.deepEqual(a.attribution.shape, [C, H, W]);
          assert.deepEqual(a.map.shape, [H, W]);
          assert.ok(allFinite(a.attribution.data) && someNonZero(a.attribution.data));
        }
        const node = explain.defaultCamNode(model);
        for (const plusPlus of [false, true]) {
          const cam = await explain.gradCam(model, image, { plusPlus });
          assert.equal(cam.node, node);
          assert.deepEqual(cam.upsampled.shape, [H, W]);
          assert.ok(allFinite(cam.upsampled.data) && cam.map.data.every((v) => v >= 0));
        }
        const occ = await explain.occlusion(model, image);
        assert.deepEqual(occ.pixelMap.shape, [H, W]);
        assert.ok(allFinite(occ.map.data));
        const { reconstructions } = await explain.reconstruct(model, [image], { node, channel: 0, rule: 'deconvnet' });
        assert.deepEqual(reconstructions[0].shape, [C, H, W]);
        const top = await explain.topActivatingImages(model, dataset, { node, channel: 1, k: 2, batchSize: 4 });
        assert.equal(top.length, 2);
        assert.ok(top[0].activation >= top[1].activation);
        const best = await explain.maximizeActivation(model, { node, channel: 0, steps: 3 });
        assert.ok(Number.isFinite(best.activation));
        const patches = await explain.topActivatingPatches(model, dataset, { node, k: 2, batchSize: 4 });
        assert.equal(patches.length, model.summary().find((r) => r.name === node)!.outputShape[0], 'one list per channel');
        for (const p of patches.flat()) assert.deepEqual(p.patch.shape, [C, p.box.height, p.box.width]);
        const rgb = explain.imageToRgba(image);
        const overlay = explain.withLegend(explain.overlayHeatmap(rgb, pixelMaps[0].map), explain.mapRange(pixelMaps[0].map.data));
        assert.equal(overlay.width, W);
        assert.ok(overlay.height > H);
      });
    }
  });
}

describe('explanations: class scores, evaluation mode and bad requests', () => {
  const backend = new RefBackend('float64');
  const layers = zoo.lenet5.build().nodes.map((n) => n.layer);
  const image = randomImages(1, [1, 28, 28], 5);

  it('a model ending in softmax is explained at its logits', async () => {
    const plain = new Model(sequential('plain', [1, 28, 28], layers), backend, 2);
    const withSoftmax = new Model(sequential('soft', [1, 28, 28], [...layers, { type: 'softmax' }]), backend, 2);
    assert.equal(explain.scoreNode(withSoftmax), 'fc3');
    const a = await explain.saliency(plain, image),
      b = await explain.saliency(withSoftmax, image);
    assert.equal(a.classIndex, b.classIndex);
    assert.deepEqual(b.attribution.data, a.attribution.data);
    const camA = await explain.gradCam(plain, image),
      camB = await explain.gradCam(withSoftmax, image);
    assert.deepEqual(camB.map.data, camA.map.data);
  });

  it('dropout and batch norm run in evaluation mode: repeatable, and dropout changes nothing', async () => {
    const withDropout = [...layers.slice(0, 8), { type: 'dropout' as const, rate: 0.5 }, ...layers.slice(8)];
    const plain = new Model(sequential('plain', [1, 28, 28], layers), backend, 2);
    const dropped = new Model(sequential('dropped', [1, 28, 28], withDropout), backend, 2);
    const a = await explain.saliency(plain, image);
    const b1 = await explain.smoothGrad(dropped, image, { samples: 3 }),
      b2 = await explain.smoothGrad(dropped, image, { samples: 3 });
    assert.deepEqual(b1.attribution.data, b2.attribution.data);
    assert.deepEqual((await explain.saliency(dropped, image)).attribution.data, a.attribution.data);
    const bn = new Model(
      sequential(
        'bn',
        [1, 28, 28],
        [{ type: 'conv2d', filters: 4, kernel: 3 }, { type: 'batchnorm2d' }, { type: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 3 }],
      ),
      backend,
      2,
    );
    const s1 = await explain.saliency(bn, image),
      s2 = await explain.saliency(bn, image);
    assert.deepEqual(s1.attribution.data, s2.attribution.data);
  });

  it('guided backpropagation and deconvnet differ from the gradient exactly by their ReLU rules', async () => {
    // One ReLU between a 1×1 convolution and the score: every rule is checkable by hand.
    const model = new Model(
      sequential(
        'tiny',
        [1, 1, 4],
        [
          { type: 'conv2d', filters: 1, kernel: 1 },
          { type: 'relu' },
          { type: 'conv2d', filters: 1, kernel: 1 },
          { type: 'flatten' },
          { type: 'dense', units: 1 },
        ],
      ),
      backend,
      1,
    );
    const p = new Map(model.parameters().map((q) => [q.path, q.value.data]));
    p.get('conv1.weight')!.set([1]);
    p.get('conv1.bias')!.set([0]);
    p.get('conv2.weight')!.set([1]);
    p.get('conv2.bias')!.set([0]);
    p.get('fc1.weight')!.set([1, -1, 1, -1]);
    p.get('fc1.bias')!.set([0]);
    const x = Tensor.from([1, 1, 4], [1, 1, -1, -1], 'float64');
    const grad = await explain.reconstruct(model, [x], { node: 'fc1', channel: 0, unit: 'sum', rule: 'gradient' });
    const guided = await explain.reconstruct(model, [x], { node: 'fc1', channel: 0, unit: 'sum', rule: 'guided' });
    const deconv = await explain.reconstruct(model, [x], { node: 'fc1', channel: 0, unit: 'sum', rule: 'deconvnet' });
    assert.deepEqual([...grad.reconstructions[0].data], [1, -1, 0, 0]);
    assert.deepEqual([...guided.reconstructions[0].data], [1, 0, 0, 0]);
    assert.deepEqual([...deconv.reconstructions[0].data], [1, 0, 1, 0]);
    // Training's backward pass is untouched by the last visualisation pass.
    model.forward(new Tensor([1, 1, 1, 4], x.data), true);
    const dx = model.backward(Tensor.from([1, 1], [1], 'float64'), true, true)!;
    assert.deepEqual([...dx.data], [1, -1, 0, 0]);
  });

  it('unknown layers, classes and channels are ConfigErrors that list the valid ones', async () => {
    const model = new Model(zoo.lenet5.build(), backend, 1);
    await assert.rejects(
      explain.gradCam(model, image, { node: 'conv9' }),
      (e: Error) => e instanceof ConfigError && /no Grad-CAM layer "conv9"/.test(e.message) && /conv1, relu1, pool1, conv2/.test(e.message),
    );
    await assert.rejects(
      explain.gradCam(model, image, { node: 'fc1' }),
      (e: Error) =>
        e instanceof ConfigError && /not a feature map/.test(e.message) && /spatial nodes: conv1, relu1, pool1, conv2, relu2, pool2/.test(e.message),
    );
    await assert.rejects(
      explain.saliency(model, image, { classIndex: 10 }),
      (e: Error) => e instanceof ConfigError && /class 10 does not exist/.test(e.message) && /9=9/.test(e.message),
    );
    await assert.rejects(explain.saliency(model, image, { classIndex: 'cat' }), (e: Error) => e instanceof ConfigError && /class "cat"/.test(e.message));
    assert.equal((await explain.saliency(model, image, { classIndex: '7' })).classIndex, 7);
    await assert.rejects(
      explain.reconstruct(model, [image], { node: 'conv2', channel: 16 }),
      (e: Error) => e instanceof ConfigError && /channels 0..15/.test(e.message),
    );
    await assert.rejects(
      explain.reconstruct(model, [image], { node: 'conv2', channel: 0, unit: [10, 0] }),
      (e: Error) => e instanceof ConfigError && /outside node "conv2"/.test(e.message),
    );
    await assert.rejects(
      explain.occlusion(model, image, { patch: 29 }),
      (e: Error) => e instanceof ConfigError && /patch must be an integer from 1 to 28/.test(e.message),
    );
    await assert.rejects(explain.saliency(model, randomImages(1, [1, 24, 24], 1)), (e: Error) => e instanceof ShapeError && /\[1, 28, 28\]/.test(e.message));
    await assert.rejects(explain.maximizeActivation(model, { node: 'conv1', channel: 0, range: [1, 0] }), ConfigError);
  });

  it('JavaScript callers passing a dataset, an array or nothing get a ConfigError naming the function and the argument, never a TypeError', async () => {
    const model = new Model(zoo.lenet5.build(), backend, 1);
    const dataset = limitDataset(loadMnist('test'), 2);
    const bads: [string, unknown][] = [
      ['dataset', dataset],
      ['array', [0, 1, 2]],
      ['undefined', undefined],
      ['null', null],
      ['number', 3],
    ];
    const calls: [string, (bad: unknown) => Promise<unknown> | unknown, RegExp][] = [
      ['classScores', (b) => explain.classScores(model, b as Tensor), /image must be a Tensor \[1, 28, 28\]/],
      ['saliency', (b) => explain.saliency(model, b as Tensor), /image must be a Tensor/],
      ['smoothGrad', (b) => explain.smoothGrad(model, b as Tensor), /image must be a Tensor/],
      ['gradientTimesInput', (b) => explain.gradientTimesInput(model, b as Tensor), /image must be a Tensor/],
      ['guidedBackprop', (b) => explain.guidedBackprop(model, b as Tensor), /image must be a Tensor/],
      ['gradCam', (b) => explain.gradCam(model, b as Tensor), /image must be a Tensor/],
      ['occlusion', (b) => explain.occlusion(model, b as Tensor), /image must be a Tensor/],
      ['reconstruct', (b) => explain.reconstruct(model, [b as Tensor], { node: 'conv1', channel: 0 }), /images\[0\] must be a Tensor/],
      ['channelActivations', (b) => explain.channelActivations(model, b as Tensor, 'conv1', 0), /images must be a Tensor \[N, 1, 28, 28\]/],
      [
        'topActivatingImages',
        (b) => explain.topActivatingImages(model, b as Tensor, { node: 'conv1', channel: 0 }),
        /images must be a Tensor \[N, 1, 28, 28\]/,
      ],
      ['topActivatingPatches', (b) => explain.topActivatingPatches(model, b as Tensor, { node: 'conv1' }), /images must be a Tensor \[N, 1, 28, 28\]/],
      ['saliency', (b) => explain.saliency(b as Model, image), /model must be a convkit Model/],
      ['maximizeActivation', (b) => explain.maximizeActivation(b as Model, { node: 'conv1', channel: 0 }), /model must be a convkit Model/],
      ['maximizeLayer', (b) => explain.maximizeLayer(b as Model, { node: 'conv1' }), /model must be a convkit Model/],
      ['convFilters', (b) => explain.convFilters(b as Model, 'conv1'), /model must be a convkit Model/],
      ['unitBox', (b) => explain.unitBox(b as Model, 'conv1', 0, 0), /model must be a convkit Model/],
      ['explain', (b) => explain.spatialNode(b as Model, 'conv1'), /model must be a convkit Model/],
    ];
    for (const [name, call, message] of calls) {
      for (const [what, bad] of bads) {
        await assert.rejects(
          async () => call(bad),
          (e: Error) => {
            assert.ok(e instanceof ConfigError, `${name}(${what}): ${e.name}: ${e.message}`);
            assert.match(e.message, new RegExp(`^${name}: `), `${name}(${what})`);
            assert.match(e.message, message, `${name}(${what})`);
            return true;
          },
        );
      }
    }
    await assert.rejects(
      explain.topActivatingImages(model, dataset as unknown as Tensor, { node: 'conv1', channel: 0 }),
      /a dataset: fill a Tensor \[N, C, H, W\] from it with fillBatch/,
    );
    await assert.rejects(explain.saliency(model, image, 'conv1' as never), /saliency: options must be an object, got a string/);
    await assert.rejects(explain.maximizeActivation(model, undefined as never), /maximizeActivation: options must be an object, got undefined/);
  });

  it("top patches are cut at the unit's receptive field", async () => {
    const model = new Model(zoo.lenet5.build(), backend, 1);
    // conv1 5×5 pad 2 → 5 px centred on the unit; pool 2/2 → 6 px, jump 2; conv2 5×5 → 14 px,
    // its first unit seeing rows −2…11 (two of them conv1's padding).
    assert.deepEqual(explain.unitBox(model, 'conv1', 10, 12), { top: 8, left: 10, height: 5, width: 5 });
    assert.deepEqual(explain.unitBox(model, 'conv1', 0, 0), { top: 0, left: 0, height: 3, width: 3 });
    assert.deepEqual(explain.unitBox(model, 'conv2', 0, 0), { top: 0, left: 0, height: 12, width: 12 });
    assert.deepEqual(explain.unitBox(model, 'conv2', 9, 9), { top: 16, left: 16, height: 12, width: 12 });
    const dataset = randomImages(5, [1, 28, 28], 8);
    const patches = await explain.topActivatingPatches(model, dataset, { node: 'conv1', k: 3 });
    assert.equal(patches.length, 6);
    const acts = model.forward(new Tensor([5, 1, 28, 28], Float64Array.from(dataset.data)), false) && model.activations().get('conv1')!;
    for (const [c, list] of patches.entries()) {
      assert.equal(list.length, 3);
      for (const p of list) {
        assert.equal(acts.data[((p.index * 6 + c) * 28 + p.y) * 28 + p.x], p.activation);
        assert.equal(p.patch.data[0], dataset.data[(p.index * 28 + p.box.top) * 28 + p.box.left]);
      }
      assert.ok(list[0].activation >= list[1].activation && list[1].activation >= list[2].activation);
    }
  });

  it('rendering: viridis end points, overlay size, legend and grid', () => {
    assert.deepEqual(explain.viridis(0), [68, 1, 84]);
    assert.deepEqual(explain.viridis(1), [253, 231, 37]);
    const map = Tensor.from([2, 3], [0, 1, 2, 3, 4, 5]);
    const heat = explain.heatmapToRgba(map);
    assert.deepEqual([...heat.data.subarray(0, 4)], [68, 1, 84, 255]);
    assert.deepEqual([...heat.data.subarray(20, 24)], [253, 231, 37, 255]);
    const legend = explain.withLegend(explain.upscale(heat, 10), [0, 5]);
    assert.equal(legend.width, 30);
    assert.ok(legend.height > 20);
    const g = explain.grid([heat, heat, heat], { columns: 2, gap: 1 });
    assert.deepEqual([g.width, g.height], [7, 5]);
    assert.equal(explain.formatValue(0.000123), '1.2e-4');
    assert.equal(explain.formatValue(2.5), '2.5');
  });

  it('bilinear resizing matches PyTorch (align_corners=False) on a 2×2 map', () => {
    // torch.nn.functional.interpolate(torch.tensor([[[[1., 2.], [3., 4.]]]]), size=(4, 4), mode='bilinear')
    const up = explain.resizeBilinear(Tensor.from([2, 2], [1, 2, 3, 4], 'float64'), 4, 4);
    assert.deepEqual([...up.data], [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4]);
  });
});

describe('explanations allocate per call, not per step', () => {
  // A loop that allocates backend arrays every step grows a wasm heap until the collector runs
  // (activation maximisation once did: 331 MB after 2 000 steps). Counting the backend's
  // allocations catches every loop like it: the count must not depend on the number of steps.
  const model = new Model(zoo.lenet5.build(), new RefBackend(), 1);
  const image = Tensor.zeros([1, 28, 28]);
  for (let i = 0; i < image.size; i++) image.data[i] = Math.sin(i / 7);
  const allocations = async (run: () => Promise<unknown>) => {
    const backend = model.backend;
    const alloc = backend.alloc.bind(backend);
    let count = 0;
    backend.alloc = (n: number) => {
      count++;
      return alloc(n);
    };
    try {
      await run();
    } finally {
      backend.alloc = alloc;
    }
    return count;
  };
  it('activation maximisation: the same backend allocations for 3 and for 30 steps', async () => {
    const run = (steps: number) => allocations(() => explain.maximizeActivation(model, { node: 'conv2', channel: 1, steps, blurEvery: 0 }));
    await run(1); // the model's own buffers for batch 1, allocated once
    assert.equal(await run(30), await run(3));
  });
  it('SmoothGrad: the same backend allocations for 2 and for 8 batches of samples', async () => {
    const run = (samples: number) => allocations(() => explain.smoothGrad(model, image, { samples, batchSize: 4 }));
    await run(4);
    assert.equal(await run(32), await run(8));
  });
  it('occlusion: the same backend allocations for 1 and for 4 batches of patches', async () => {
    // 14×14 patches: 4 positions, one batch of 4; 7×7 patches: 16 positions, four batches.
    const run = (patch: number) => allocations(() => explain.occlusion(model, image, { patch, stride: patch, batchSize: 4 }));
    await run(14);
    assert.equal(await run(7), await run(14));
  });
  it('top patches and top images: the same backend allocations for 1 and for 5 batches of images', async () => {
    const images = new Tensor(
      [40, 1, 28, 28],
      new Float32Array(40 * 784).map((_, i) => Math.sin(i / 11)),
    );
    const run = (n: number) =>
      allocations(async () => {
        const some = new Tensor([n, 1, 28, 28], images.data.subarray(0, n * 784));
        await explain.topActivatingPatches(model, some, { node: 'conv2', k: 2, batchSize: 8 });
        await explain.topActivatingImages(model, some, { node: 'conv2', channel: 0, k: 2, batchSize: 8 });
      });
    await run(8);
    assert.equal(await run(40), await run(8));
  });
});
