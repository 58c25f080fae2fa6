import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Backend } from '../src/backend/backend.js';
import { createBackend } from '../src/backend/index.js';
import { RefBackend } from '../src/backend/ref.js';
import { WebGpuBackend } from '../src/backend/webgpu/webgpu.js';
import type { ImageDataset } from '../src/data/dataset.js';
import { RESIZED_CROP_DEFAULTS, resizedCropBox, sampleBox } from '../src/data/resized-crop.js';
import { ConfigError } from '../src/errors.js';
import { Model, type ModelSpec, sequential } from '../src/model/model.js';
import { zoo } from '../src/model/zoo.js';
import { loadOnnx } from '../src/onnx/import.js';
import { Rng } from '../src/rng.js';
import { Tensor } from '../src/tensor.js';
import { IMAGENET_MEAN, IMAGENET_STD, findHead, fineTuneOptions, nodesUntil, withNewHead } from '../src/train/finetune.js';
import { Optimizer } from '../src/train/optimizer.js';
import { train } from '../src/train/trainer.js';
import { webgpuSkip } from './webgpu-env.js';

const backend = new RefBackend();
const fixtures = join(process.cwd(), 'test/fixtures');

interface StepFixture {
  inputShape: number[];
  mean: number[];
  std: number[];
  images: number[];
  labels: number[];
  classes: string[];
  head: string;
  headInit: Record<string, number[]>;
  freezeUntil: string;
  lr: number;
  lrPretrained: number;
  momentum: number;
  weightDecay: number;
  steps: number;
  after: Record<string, number[]>;
}

function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0,
    scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / Math.max(scale, 1e-12);
}

/** A small colour dataset of random bytes, 4 classes. */
function randomDataset(count: number, size: number, seed: number, mean = IMAGENET_MEAN, std = IMAGENET_STD): ImageDataset {
  const rng = new Rng(seed);
  return {
    name: 'random',
    count,
    channels: 3,
    height: size,
    width: size,
    classes: ['a', 'b', 'c', 'd'],
    mean,
    std,
    images: Uint8Array.from({ length: count * 3 * size * size }, () => rng.int(256)),
    labels: Uint8Array.from({ length: count }, (_, i) => i % 4),
  };
}

/** Conv–BN–ReLU twice, global pooling, a dense classifier: small, with batch norm on both sides of a freeze. */
function bnNet(classes = 10): ModelSpec {
  return sequential(
    'bn-net',
    [3, 12, 12],
    [
      { type: 'conv2d', filters: 4, kernel: 3, padding: 1 },
      { type: 'batchnorm2d' },
      { type: 'relu' },
      { type: 'maxpool2d', kernel: 2 },
      { type: 'conv2d', filters: 6, kernel: 3, padding: 1 },
      { type: 'batchnorm2d' },
      { type: 'relu' },
      { type: 'globalavgpool2d' },
      { type: 'flatten' },
      { type: 'dense', units: classes },
    ],
  );
}

/** Non-trivial running statistics, so that using them (or not) shows. */
function withStatistics(model: Model, seed: number): Model {
  const rng = new Rng(seed);
  for (const t of model.stateTensors()) {
    for (let i = 0; i < t.value.size; i++) t.value.data[i] = t.path.endsWith('running_var') ? rng.uniform(0.5, 2) : rng.uniform(-0.3, 0.3);
  }
  return model;
}

describe('fine-tuning: one step against PyTorch', () => {
  it('two SGD steps (momentum, weight decay) with a new head, a frozen front in eval mode and a lower lr for the pretrained layers match PyTorch 1.13 to 1e-5', async () => {
    const f: StepFixture = JSON.parse(readFileSync(join(fixtures, 'torch-finetune.json'), 'utf8'));
    const imported = loadOnnx(readFileSync(join(fixtures, 'torch-finetune.onnx')), backend, 'torch-finetune.onnx');
    assert.equal(findHead(imported), f.head);
    const model = withNewHead(imported, f.classes);
    for (const [path, values] of Object.entries(f.headInit))
      model
        .savedTensors()
        .find((t) => t.path === path)!
        .value.data.set(values);
    const [N, C, H, W] = f.inputShape;
    const data: ImageDataset = {
      name: 'fixture',
      count: N,
      channels: C,
      height: H,
      width: W,
      images: Uint8Array.from(f.images),
      labels: Uint8Array.from(f.labels),
      classes: f.classes,
      mean: f.mean,
      std: f.std,
    };
    const before = new Map(model.savedTensors().map((t) => [t.path, Float32Array.from(t.value.data)]));
    const { freeze, groups } = fineTuneOptions(model, { freezeUntil: f.freezeUntil, lrPretrainedScale: f.lrPretrained / f.lr });
    // One batch per epoch: every step sees the same 8 images (their order within the batch does not change the mean gradient).
    await train(model, data, {
      epochs: f.steps,
      batchSize: N,
      lr: f.lr,
      schedule: { type: 'constant' },
      seed: 3,
      freeze,
      optimizer: { type: 'sgd', momentum: f.momentum, weightDecay: f.weightDecay, groups },
    });
    const frozen = new Set(freeze);
    for (const t of model.savedTensors()) {
      const expected = f.after[t.path];
      assert.ok(expected, `PyTorch has ${t.path}`);
      const node = t.path.slice(0, t.path.lastIndexOf('.'));
      if (frozen.has(node)) assert.deepEqual(t.value.data, before.get(t.path), `${t.path} is frozen: bit-identical`);
      else assert.notDeepEqual(t.value.data, before.get(t.path), `${t.path} trained`);
      const err = relativeError(t.value.data, expected);
      assert.ok(err < 1e-5, `${t.path}: relative error ${err.toExponential(2)}`);
    }
    assert.deepEqual(model.frozenNodes(), [], 'the freeze lasts for the run only');
  });
});

describe('finding the classifier head', () => {
  it('finds the last dense layer (LeNet-5), through softmax/flatten/pooling/activations', () => {
    assert.equal(findHead(new Model(zoo.lenet5.build(), backend)), 'fc3');
    const spec = zoo.lenet5.build();
    spec.nodes.push({ name: 'probs', layer: { type: 'softmax' }, inputs: ['fc3'] });
    assert.equal(findHead(new Model(spec, backend)), 'fc3');
  });

  it('finds a 1×1 conv classifier before ReLU and pooling (torchvision SqueezeNet) and a Gemm after global pooling (ResNet)', () => {
    const squeeze = loadOnnx(readFileSync(join(fixtures, 'torchvision/squeezenet1_1.onnx')), backend);
    const head = findHead(squeeze);
    assert.equal(squeeze.spec.nodes.find((n) => n.name === head)!.layer.type, 'conv2d');
    const resnet = loadOnnx(readFileSync(join(fixtures, 'torchvision/resnet18.onnx')), backend);
    assert.equal(resnet.spec.nodes.find((n) => n.name === findHead(resnet))!.layer.type, 'dense');
  });

  it('refuses clearly when the output is a join of branches or a batch norm', () => {
    const join2: ModelSpec = {
      name: 'two-heads',
      inputShape: [1, 4, 4],
      nodes: [
        { name: 'f', layer: { type: 'flatten' }, inputs: ['input'] },
        { name: 'a', layer: { type: 'dense', units: 3 }, inputs: ['f'] },
        { name: 'b', layer: { type: 'dense', units: 3 }, inputs: ['f'] },
        { name: 'sum', layer: { type: 'add' }, inputs: ['a', 'b'] },
      ],
    };
    assert.throws(
      () => findHead(new Model(join2, backend)),
      (e: Error) => e instanceof ConfigError && /classifier head/.test(e.message) && /add layer/.test(e.message),
    );
    const bnLast = sequential('bn-last', [1, 4, 4], [{ type: 'flatten' }, { type: 'dense', units: 3 }, { type: 'batchnorm2d' }]);
    assert.throws(() => findHead(new Model(bnLast, backend)), /reached a batchnorm2d layer/);
    assert.throws(() => withNewHead(new Model(bnLast, backend), 5), ConfigError);
  });
});

describe('a new head', () => {
  it('has one output per class, He-initialised weights and zero bias; everything else is copied', () => {
    const old = withStatistics(new Model(bnNet(), backend, 4), 9);
    const tuned = withNewHead(old, ['x', 'y', 'z'], { seed: 8 });
    assert.deepEqual(tuned.outputShape, [3]);
    assert.deepEqual(tuned.spec.classes, ['x', 'y', 'z']);
    const oldTensors = new Map(old.savedTensors().map((t) => [t.path, t.value.data]));
    for (const t of tuned.savedTensors()) {
      if (t.path.startsWith('fc1.')) continue;
      assert.deepEqual(t.value.data, oldTensors.get(t.path), t.path);
    }
    const w = tuned.parameters().find((p) => p.path === 'fc1.weight')!.value.data;
    const std = Math.sqrt(Array.from(w).reduce((s, v) => s + v * v, 0) / w.length);
    assert.ok(Math.abs(std - Math.sqrt(2 / 6)) < 0.2, `He scale for 6 inputs: std ${std}`);
    assert.ok(
      tuned
        .parameters()
        .find((p) => p.path === 'fc1.bias')!
        .value.data.every((v) => v === 0),
    );
  });
});

describe('freezing', () => {
  it('frozen batch norm uses (and keeps) its running statistics; frozen weights stay bit-identical; unfrozen batch norm updates its own', async () => {
    const model = withNewHead(withStatistics(new Model(bnNet(), backend, 2), 5), 4, { seed: 3 });
    const before = new Map(model.savedTensors().map((t) => [t.path, Float32Array.from(t.value.data)]));
    const data = randomDataset(32, 12, 1);
    // In training mode the frozen front computes what evaluation computes: the running statistics, not the batch's.
    model.setFrozen(nodesUntil(model, 'relu2'));
    const x = new Tensor(
      [2, 3, 12, 12],
      Float32Array.from({ length: 2 * 3 * 144 }, (_, i) => Math.sin(i)),
    );
    const trainingMode = Float32Array.from(model.forward(x, true).data);
    model.setFrozen([]);
    assert.deepEqual(trainingMode, Float32Array.from(model.forward(x, false).data));

    const { freeze } = fineTuneOptions(model, { freezeUntil: 'pool1' });
    await train(model, data, {
      epochs: 1,
      batchSize: 8,
      lr: 0.1,
      seed: 1,
      freeze,
      schedule: { type: 'constant' },
      optimizer: { type: 'sgd', momentum: 0.9, weightDecay: 0.01 },
    });
    for (const t of model.savedTensors()) {
      const frozen = freeze.includes(t.path.slice(0, t.path.lastIndexOf('.')));
      if (frozen) assert.deepEqual(t.value.data, before.get(t.path), `${t.path}: frozen (no update, no weight decay, statistics kept)`);
      else assert.notDeepEqual(t.value.data, before.get(t.path), `${t.path}: trains`);
    }
  });

  it('refuses an unknown node (listing the valid names) and a freeze that takes the head', () => {
    const model = new Model(bnNet(), backend);
    assert.throws(
      () => fineTuneOptions(model, { freezeUntil: 'conv9' }),
      (e: Error) => e instanceof ConfigError && /no node "conv9"/.test(e.message) && /conv1, batchnorm2d1/.test(e.message),
    );
    assert.throws(() => fineTuneOptions(model, { freezeUntil: 'fc1' }), /would freeze the classifier head "fc1" too/);
  });
});

describe('parameter groups in the optimizer', () => {
  for (const type of ['sgd', 'adam', 'adamw'] as const) {
    it(`${type}: a group's parameters step exactly as with lr × lrScale; scale 0 leaves them alone`, () => {
      const make = () => new Model(bnNet(), backend, 6);
      const a = make(),
        b = make(),
        c = make();
      for (const m of [a, b, c])
        m.parameters().forEach((p, k) =>
          p.grad.data.forEach((_, i) => {
            p.grad.data[i] = Math.cos(i + 7 * k);
          }),
        );
      const body = a.spec.nodes.map((n) => n.name).filter((n) => n !== 'fc1');
      new Optimizer({ type, weightDecay: 0.01, groups: [{ nodes: body, lrScale: 0.25 }] }, backend).step(a.parameters(), 0.2);
      new Optimizer({ type, weightDecay: 0.01 }, backend).step(
        b.parameters().filter((p) => !p.path.startsWith('fc1.')),
        0.05,
      );
      new Optimizer({ type, weightDecay: 0.01 }, backend).step(
        b.parameters().filter((p) => p.path.startsWith('fc1.')),
        0.2,
      );
      assert.deepEqual(
        a.parameters().map((p) => Array.from(p.value.data)),
        b.parameters().map((p) => Array.from(p.value.data)),
      );
      const before = c.parameters().map((p) => Float32Array.from(p.value.data));
      new Optimizer({ type, groups: [{ nodes: body, lrScale: 0 }] }, backend).step(c.parameters(), 0.2);
      c.parameters().forEach((p, k) => {
        if (!p.path.startsWith('fc1.')) assert.deepEqual(p.value.data, before[k], p.path);
      });
    });
  }

  it('refuses malformed groups', () => {
    assert.throws(() => new Optimizer({ type: 'sgd', groups: [{ nodes: ['a'], lrScale: -1 }] }, backend), ConfigError);
    assert.throws(
      () =>
        new Optimizer(
          {
            type: 'sgd',
            groups: [
              { nodes: ['a'], lrScale: 1 },
              { nodes: ['a'], lrScale: 2 },
            ],
          },
          backend,
        ),
      /more than one/,
    );
    assert.throws(() => new Optimizer({ type: 'sgd', groups: 'x' as never }, backend), ConfigError);
  });
});

describe('random resized crops', () => {
  it("draw boxes within torchvision's area and aspect-ratio ranges, reproducibly from the seed", () => {
    const draw = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 200 }, () => resizedCropBox(rng, 40, 30, RESIZED_CROP_DEFAULTS));
    };
    const boxes = draw(4);
    assert.deepEqual(boxes, draw(4));
    for (const b of boxes) {
      assert.ok(b.top >= 0 && b.left >= 0 && b.top + b.height <= 40 && b.left + b.width <= 30, JSON.stringify(b));
      const area = (b.height * b.width) / 1200,
        ratio = b.width / b.height;
      if (b.height === 40 && b.width === 30) continue; // the fallback
      assert.ok(area > 0.06 && area < 1.05 && ratio > 0.7 && ratio < 1.45, JSON.stringify(b));
    }
    // An impossible request falls back to the largest central box within the ratios.
    assert.deepEqual(resizedCropBox(new Rng(1), 10, 40, { scale: [1, 1], ratio: [1, 1] }), { top: 0, left: 15, height: 10, width: 10 });
  });

  it('resample a box bilinearly: the whole image at its own size is the image, mirrored when flipped', () => {
    const img = Uint8Array.from({ length: 20 }, (_, i) => i * 10);
    const out = new Float32Array(20);
    sampleBox(img, 0, 5, { top: 0, left: 0, height: 4, width: 5 }, out, 0, 4, 5, false, 1, 0);
    assert.deepEqual(Array.from(out), Array.from(img));
    sampleBox(img, 0, 5, { top: 0, left: 0, height: 4, width: 5 }, out, 0, 4, 5, true, 1, 0);
    assert.deepEqual(Array.from(out.subarray(0, 5)), [40, 30, 20, 10, 0]);
    // Halving a 2×2 box averages it.
    sampleBox(img, 0, 5, { top: 1, left: 1, height: 2, width: 2 }, out, 0, 1, 1, false, 1, 0);
    assert.equal(out[0], (60 + 70 + 110 + 120) / 4);
  });

  it('train() with resized crops and flips is reproducible and changes the run', async () => {
    const run = async (resizedCrop: boolean) => {
      const m = new Model(bnNet(4), backend, 2);
      await train(m, randomDataset(16, 14, 2), {
        epochs: 1,
        batchSize: 8,
        lr: 0.05,
        seed: 4,
        flip: true,
        resizedCrop,
        schedule: { type: 'constant' },
        optimizer: { type: 'sgd' },
      });
      return m.parameters().map((p) => Array.from(p.value.data));
    };
    const a = await run(true);
    assert.deepEqual(a, await run(true));
    assert.notDeepEqual(a, await run(false));
  });
});

describe('fine-tuning on WebGPU (SwiftShader when there is no GPU)', { skip: webgpuSkip }, () => {
  it("with a frozen front and a lower lr for the pretrained layers: frozen weights and statistics bit-identical to wasm's (untouched), trained ones within 1e-4", async () => {
    const gpu = await WebGpuBackend.create();
    const cpu = await createBackend('wasm', { threads: 1 });
    try {
      const run = async (b: Backend) => {
        const model = withNewHead(withStatistics(new Model(bnNet(), b, 2), 5), 4, { seed: 3 });
        const before = new Map(model.savedTensors().map((t) => [t.path, Float32Array.from(t.value.data)]));
        const { freeze, groups } = fineTuneOptions(model, { freezeUntil: 'pool1', lrPretrainedScale: 0.1 });
        await train(model, randomDataset(16, 12, 4), {
          epochs: 2,
          batchSize: 8,
          lr: 0.05,
          seed: 1,
          freeze,
          schedule: { type: 'constant' },
          optimizer: { type: 'sgd', momentum: 0.9, weightDecay: 1e-3, groups },
        });
        await model.downloadWeights();
        return { model, before, frozen: new Set(freeze) };
      };
      const [g, c] = [await run(gpu), await run(cpu)];
      const cpuTensors = new Map(c.model.savedTensors().map((t) => [t.path, t.value.data]));
      for (const t of g.model.savedTensors()) {
        const node = t.path.slice(0, t.path.lastIndexOf('.'));
        if (g.frozen.has(node)) {
          assert.deepEqual(t.value.data, g.before.get(t.path), `${t.path}: frozen on webgpu`);
          assert.deepEqual(t.value.data, cpuTensors.get(t.path), `${t.path}: the same on wasm`);
        } else {
          assert.notDeepEqual(t.value.data, g.before.get(t.path), `${t.path}: trains on webgpu`);
          // A conv bias before batch norm has no gradient in exact arithmetic (the norm removes it): its
          // values stay at rounding noise (~1e-10), so differences are measured against at least 1e-3.
          const expected = cpuTensors.get(t.path)!;
          let diff = 0,
            scale = 1e-3;
          for (let i = 0; i < expected.length; i++) {
            diff = Math.max(diff, Math.abs(t.value.data[i] - expected[i]));
            scale = Math.max(scale, Math.abs(expected[i]));
          }
          const err = diff / scale;
          assert.ok(err < 1e-4, `${t.path}: webgpu vs wasm relative error ${err.toExponential(2)}`);
        }
      }
    } finally {
      gpu.dispose();
      cpu.dispose?.();
    }
  });
});
