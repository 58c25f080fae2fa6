/**
 * Every backward pass of every layer type overwrites every parameter gradient and every
 * input gradient it returns: a gradient buffer filled with garbage before backward must end
 * up holding exactly what a freshly zeroed one gets, in training and in evaluation mode, on
 * every backend. (A gradient left alone keeps last step's values, which the optimizer applies
 * again.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Backend } from '../src/backend/backend.js';
import { createBackend } from '../src/backend/index.js';
import { RefBackend } from '../src/backend/ref.js';
import { createLayer, layerTypes } from '../src/layers/index.js';
import { Model } from '../src/model/model.js';
import { Rng } from '../src/rng.js';
import { Tensor, shapeSize } from '../src/tensor.js';
import { layerCases } from './layer-cases.js';
import { webgpuSkip } from './webgpu-env.js';

const backends: { label: string; create: () => Promise<Backend>; skip?: string | false }[] = [
  { label: 'ref float32', create: async () => new RefBackend('float32') },
  { label: 'ref float64', create: async () => new RefBackend('float64') },
  { label: 'wasm, 1 thread', create: () => createBackend('wasm', { threads: 1 }) },
  { label: 'webgpu', create: () => createBackend('webgpu'), skip: webgpuSkip },
];

const N = 3;

function fill(be: Backend, t: Tensor, value: (i: number) => number): void {
  for (let i = 0; i < t.size; i++) t.data[i] = value(i);
  be.upload(t.data);
}

/** NaN, huge and ordinary values: any of them left in a gradient shows. */
const garbage = (i: number) => [NaN, 1e30, -7.5, Infinity][i % 4];

describe('every layer type is covered here', () => {
  it('has a case for each type createLayer knows', () => {
    const covered = new Set(layerCases.map(([, spec]) => spec.type));
    for (const type of layerTypes) assert.ok(covered.has(type), `no gradient-overwrite case for layer type "${type}"`);
  });
});

for (const b of backends) {
  describe(`backward overwrites every gradient: ${b.label}`, { skip: b.skip }, () => {
    let be: Backend;
    before(async () => {
      be = await b.create();
    });
    after(() => {
      be.dispose?.();
    });

    for (const training of [true, false]) {
      for (const [label, spec, shapes] of layerCases) {
        it(`${label}, ${training ? 'training' : 'evaluation'}`, async () => {
          const layer = createLayer(structuredClone(spec), 'layer');
          const outShape = layer.build(shapes, be);
          const rng = new Rng(label.length * 31 + (training ? 1 : 0));
          // Parameters and running statistics away from their initial values (γ = 1, β = 0, …).
          for (const p of layer.params()) fill(be, p.value, () => rng.uniform(-1.5, 1.5));
          for (const s of layer.state()) fill(be, s.value, () => rng.uniform(0.5, 1.5));
          const inputs = shapes.map((s) => {
            const t = new Tensor([N, ...s], be.alloc(N * shapeSize(s)));
            fill(be, t, () => rng.uniform(-2, 2));
            return t;
          });
          const dyValues = Array.from({ length: N * shapeSize(outShape) }, () => rng.uniform(-1, 1));

          /** One forward and backward pass; the parameter gradients and returned input gradients, as copies. */
          const pass = async () => {
            const ctx = { backend: be, training, rng: new Rng(99) }; // the same dropout mask every pass
            layer.forward(inputs, ctx);
            const dy = new Tensor([N, ...outShape], be.alloc(dyValues.length));
            fill(be, dy, (i) => dyValues[i]);
            const dxs = layer.backward(dy, ctx);
            const grads = layer.params().map((p) => p.grad);
            await be.download([...grads, ...dxs].map((t) => t.data));
            return { grads: grads.map((g) => Array.from(g.data)), dxs, dxValues: dxs.map((d) => Array.from(d.data)) };
          };

          for (const p of layer.params()) fill(be, p.grad, () => 0);
          const fresh = await pass();
          assert.equal(fresh.dxs.length, shapes.length, 'one input gradient per input');
          for (const p of layer.params()) fill(be, p.grad, garbage);
          for (const dx of fresh.dxs) fill(be, dx, garbage);
          const reused = await pass();
          layer.params().forEach((p, k) => {
            assert.deepEqual(reused.grads[k], fresh.grads[k], `gradient of "${p.name}" not overwritten`);
          });
          reused.dxValues.forEach((dx, k) => assert.deepEqual(dx, fresh.dxValues[k], `input gradient ${k} not overwritten`));
          // Every trainable layer gets a non-zero gradient in both modes (γ, β included in evaluation).
          layer.params().forEach((p, k) => {
            assert.ok(
              fresh.grads[k].some((v) => v !== 0),
              `gradient of "${p.name}" is all zeros`,
            );
          });
        });
      }
    }
  });
}

describe('model backward writes the gradients of parameters the output does not depend on', () => {
  for (const b of backends) {
    it(`a dead branch and nodes past the output get zero gradients: ${b.label}`, { skip: b.skip }, async () => {
      const be = await b.create();
      try {
        const model = new Model(
          {
            name: 'branches',
            inputShape: [2, 4, 4],
            output: 'fc',
            nodes: [
              { name: 'conv', layer: { type: 'conv2d', filters: 2, kernel: 3, padding: 1 }, inputs: ['input'] },
              { name: 'dead', layer: { type: 'conv2d', filters: 2, kernel: 1 }, inputs: ['conv'] },
              { name: 'deadbn', layer: { type: 'batchnorm2d' }, inputs: ['dead'] },
              { name: 'fc', layer: { type: 'dense', units: 3 }, inputs: ['conv'] },
              { name: 'after', layer: { type: 'dense', units: 2 }, inputs: ['fc'] },
            ],
          },
          be,
          3,
        );
        const rng = new Rng(4);
        const x = new Tensor([N, 2, 4, 4], be.alloc(N * 32));
        fill(be, x, () => rng.uniform(-1, 1));
        for (const p of model.parameters()) fill(be, p.grad, garbage);
        model.forward(x, true);
        const dy = new Tensor([N, 3], be.alloc(N * 3));
        fill(be, dy, (i) => Math.cos(i));
        model.backward(dy, true);
        const params = model.parameters();
        await be.download(params.map((p) => p.grad.data));
        for (const p of params) {
          const reached = p.path.startsWith('conv.') || p.path.startsWith('fc.');
          if (reached) assert.ok(p.grad.data.every(Number.isFinite) && p.grad.data.some((v) => v !== 0), `${p.path} gradient computed`);
          else
            assert.ok(
              p.grad.data.every((v) => v === 0),
              `${p.path} gradient is zero, got ${Array.from(p.grad.data.slice(0, 4))}`,
            );
        }
      } finally {
        be.dispose?.();
      }
    });
  }
});
