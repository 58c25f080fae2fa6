/**
 * Each torchvision family that imports, with a new 5-class head and one fine-tuning step (front
 * frozen up to the middle of the graph), exports back to ONNX and runs in ONNX Runtime Web with
 * the outputs convkit computes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-web';
import { RefBackend } from '../src/backend/ref.js';
import type { ImageDataset } from '../src/data/dataset.js';
import { toOnnx } from '../src/onnx/export.js';
import { loadOnnx } from '../src/onnx/import.js';
import { Rng } from '../src/rng.js';
import { Tensor, shapeSize } from '../src/tensor.js';
import { IMAGENET_MEAN, IMAGENET_STD, findHead, fineTuneOptions, withNewHead } from '../src/train/finetune.js';
import { train } from '../src/train/trainer.js';

ort.env.wasm.numThreads = 1;
const backend = new RefBackend();
const dir = join(process.cwd(), 'test/fixtures/torchvision');
// The families test/torchvision.test.ts imports (importing that file would run its tests too).
const IMPORTED_FAMILIES = [
  'vgg11_bn',
  'resnet18',
  'resnet50',
  'resnext50_32x4d',
  'wide_resnet50_2',
  'googlenet',
  'inception_v3',
  'densenet121',
  'squeezenet1_0',
  'squeezenet1_1',
  'mobilenet_v2',
  'regnet_x_400mf',
  'mobilenet_v3_small',
  'mobilenet_v3_large',
  'efficientnet_b0',
  'regnet_y_400mf',
  'mnasnet0_5',
  'shufflenet_v2_x0_5',
  'convnext_tiny',
];

describe('torchvision families: import → new head, freeze, one SGD step → export → ONNX Runtime Web', () => {
  for (const family of IMPORTED_FAMILIES) {
    it(`${family}: same outputs as convkit after fine-tuning (max relative error < 1e-4)`, async (t) => {
      const imported = loadOnnx(readFileSync(join(dir, `${family}.onnx`)), backend, `${family}.onnx`);
      const model = withNewHead(imported, ['a', 'b', 'c', 'd', 'e'], { seed: 2 });
      const [C, H, W] = model.inputShape;
      const rng = new Rng(3);
      const data: ImageDataset = {
        name: family,
        count: 2,
        channels: C,
        height: H,
        width: W,
        classes: model.spec.classes!,
        images: Uint8Array.from({ length: 2 * C * H * W }, () => rng.int(256)),
        labels: Uint8Array.from([1, 3]),
        mean: IMAGENET_MEAN,
        std: IMAGENET_STD,
      };
      const middle = model.spec.nodes[Math.floor(model.spec.nodes.length / 2)].name;
      const { freeze, groups } = fineTuneOptions(model, { freezeUntil: middle, lrPretrainedScale: 0.1 });
      const before = model.parameters().map((p) => Float32Array.from(p.value.data));
      await train(model, data, {
        epochs: 1,
        batchSize: 2,
        lr: 0.01,
        seed: 1,
        freeze,
        schedule: { type: 'constant' },
        optimizer: { type: 'sgd', momentum: 0.9, weightDecay: 1e-4, groups },
      });
      const head = findHead(model);
      model.parameters().forEach((p, k) => {
        if (p.path.startsWith(`${head}.weight`)) assert.notDeepEqual(p.value.data, before[k], 'the new head trained');
        if (freeze.includes(p.path.slice(0, p.path.lastIndexOf('.')))) assert.deepEqual(p.value.data, before[k], `${p.path} frozen`);
      });
      const x = new Tensor(
        [2, C, H, W],
        Float32Array.from({ length: 2 * shapeSize([C, H, W]) }, () => rng.uniform(-2, 2)),
      );
      const ours = Float32Array.from(model.forward(x).data);
      const session = await ort.InferenceSession.create(toOnnx(model));
      const theirs = (await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x.data as Float32Array, [...x.shape]) }))[session.outputNames[0]]
        .data as Float32Array;
      let diff = 0,
        scale = 0;
      for (let i = 0; i < ours.length; i++) {
        diff = Math.max(diff, Math.abs(ours[i] - theirs[i]));
        scale = Math.max(scale, Math.abs(theirs[i]));
      }
      t.diagnostic(`${family}: ${freeze.length} nodes frozen, max relative error ${(diff / scale).toExponential(2)}`);
      assert.ok(diff / scale < 1e-4, `relative error ${diff / scale}`);
    });
  }
});
