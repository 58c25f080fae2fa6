import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createBackend } from '../src/backend/index.js';
import type { Backend } from '../src/backend/backend.js';
import { RefBackend } from '../src/backend/ref.js';
import * as explain from '../src/explain/index.js';
import { loadOnnx } from '../src/onnx/import.js';
import { Tensor } from '../src/tensor.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const reference = JSON.parse(readFileSync(join(fixtures, 'torch-explain.json'), 'utf8'));

/** |a − b| ≤ tol · max|b| for every element: relative to the reference's scale, so near-zero entries do not dominate. */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  assert.ok(scale > 0, `${what}: the reference is all zeros, which proves nothing`);
  let worst = 0, at = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i] - expected[i]);
    if (e > worst) { worst = e; at = i; }
  }
  assert.ok(worst <= tol * scale, `${what}: element ${at} is ${actual[at]}, PyTorch says ${expected[at]} (error ${(worst / scale).toExponential(2)} of the scale ${scale.toExponential(2)})`);
}

function firstInput(name: string): Tensor {
  const io = JSON.parse(readFileSync(join(fixtures, `torch-${name}.json`), 'utf8'));
  const shape = io.inputShape.slice(1);
  return Tensor.from(shape, io.input.slice(0, shape[0] * shape[1] * shape[2]), 'float64');
}

const backends: { name: string; make: () => Promise<Backend>; tol: number }[] = [
  { name: 'ref-float64', make: async () => new RefBackend('float64'), tol: 1e-7 },
  { name: 'wasm', make: () => createBackend('wasm'), tol: 1e-4 },
];

for (const b of backends) {
  describe(`explanations agree with PyTorch (float64) on ${b.name}`, () => {
    let backend: Backend;
    before(async () => { backend = await b.make(); });
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
        for (const [key, plusPlus] of [['gradcam', false], ['gradcamPlusPlus', true]] as const) {
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
        const { reconstructions } = await explain.reconstruct(model(), [image], { node: ref.deconvnet.node, channel: ref.deconvnet.channel, unit: 'sum', rule: 'deconvnet' });
        assertClose(reconstructions[0].data, ref.deconvnet.reconstruction, b.tol, 'deconvnet');
      });
    }
  });
}
