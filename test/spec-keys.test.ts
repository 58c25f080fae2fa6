/**
 * Specs refuse keys they do not know (a dropped setting silently builds another network):
 * every layer type, the model spec and its nodes, the playground's layer-stack text and the
 * spec inside a model file.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RefBackend } from '../src/backend/ref.js';
import { ConfigError, FormatError } from '../src/errors.js';
import { decodeModel, encodeModel } from '../src/io/modelfile.js';
import { type LayerSpec, createLayer, layerSpecKeys, layerTypes } from '../src/layers/index.js';
import { Model, type ModelSpec } from '../src/model/model.js';
import { parseNetwork, validateNetwork } from '../web/src/network-def.js';
import { layerCases } from './layer-cases.js';

const ref = new RefBackend();

function throwsUnknownKey(fn: () => unknown, parts: string[], type: new (...a: never[]) => Error = ConfigError): void {
  assert.throws(fn, (e: Error) => {
    assert.ok(e instanceof type, `${e.name}: ${e.message}`);
    for (const p of parts) assert.ok(e.message.includes(p), `message "${e.message}" should name ${p}`);
    return true;
  });
}

describe('layer specs refuse unknown keys', () => {
  it('every layer type has a list of keys and a case here', () => {
    const covered = new Set(layerCases.map(([, spec]) => spec.type));
    for (const type of layerTypes) {
      assert.ok(layerSpecKeys[type]?.includes('type'), `${type} declares its keys`);
      assert.ok(covered.has(type), `${type} has a case`);
    }
  });

  for (const [label, spec, shapes] of layerCases) {
    it(`${label}: an unknown key is a ConfigError naming the layer, the key and the valid keys`, () => {
      throwsUnknownKey(() => createLayer({ ...spec, bogus: 1 } as LayerSpec, 'mylayer'),
        ['"mylayer"', spec.type, '"bogus"', layerSpecKeys[spec.type].join(', ')]);
    });

    it(`${label}: its own config() (what model files store) passes the check`, () => {
      const layer = createLayer(structuredClone(spec), 'a');
      layer.build(shapes, ref);
      const again = createLayer(layer.config() as unknown as LayerSpec, 'b');
      assert.deepEqual(again.inferShape(shapes), layer.outputShape);
    });
  }

  it('settings of other types are refused where they mean nothing', () => {
    throwsUnknownKey(() => createLayer({ type: 'relu', slope: 0.1 } as LayerSpec, 'r'), ['"slope"']);
    throwsUnknownKey(() => createLayer({ type: 'maxpool2d', kernel: 2, countPad: true } as LayerSpec, 'p'), ['"countPad"']);
    throwsUnknownKey(() => createLayer({ type: 'globalavgpool2d', output: 2 } as LayerSpec, 'g'), ['"output"']);
    throwsUnknownKey(() => createLayer({ type: 'conv2d', filters: 2, kernel: 3, dilations: 2 } as LayerSpec, 'c'), ['"dilations"']);
  });
});

describe('model specs refuse unknown keys', () => {
  const base = (): ModelSpec => ({ name: 'm', inputShape: [1, 4, 4], nodes: [{ name: 'fc', layer: { type: 'dense', units: 2 }, inputs: ['input'] }] });

  it('at the top level', () => {
    throwsUnknownKey(() => new Model({ ...base(), input: [1, 4, 4] } as ModelSpec, ref), ['model "m"', '"input"', 'inputShape']);
  });

  it('in a node', () => {
    const spec = base();
    spec.nodes[0] = { ...spec.nodes[0], input: 'input' } as never;
    throwsUnknownKey(() => new Model(spec, ref), ['node "fc"', '"input"', 'inputs']);
  });

  it('in a layer, naming the node', () => {
    const spec = base();
    spec.nodes[0].layer = { type: 'dense', units: 2, activation: 'relu' } as never;
    throwsUnknownKey(() => new Model(spec, ref), ['layer "fc" (dense)', '"activation"']);
  });

  it('in the spec of a model file (a FormatError naming the file)', () => {
    const model = new Model(base(), ref);
    (model.spec.nodes[0].layer as unknown as Record<string, unknown>).dilation = 2;
    const bytes = encodeModel(model);
    throwsUnknownKey(() => decodeModel(bytes, 'net.convkit', ref), ['net.convkit', 'layer "fc" (dense)', '"dilation"'], FormatError);
  });

  it('in the playground editor text', () => {
    throwsUnknownKey(() => parseNetwork('{"input": [1, 28, 28], "layers": [{"type": "dense", "units": 10}], "optimizer": "adam"}'),
      ['"optimizer"', 'layers']);
    throwsUnknownKey(() => validateNetwork(parseNetwork('{"name": "n", "inputShape": [1, 4, 4], "nodes": [], "extra": 1}')), ['"extra"']);
  });

});
