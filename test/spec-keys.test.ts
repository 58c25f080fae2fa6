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
import { headerOf, withHeader } from './fuzz-util.js';
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
      throwsUnknownKey(
        () => createLayer({ ...spec, bogus: 1 } as unknown as LayerSpec, 'mylayer'),
        ['"mylayer"', spec.type, '"bogus"', layerSpecKeys[spec.type].join(', ')],
      );
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
    throwsUnknownKey(() => parseNetwork('{"input": [1, 28, 28], "layers": [{"type": "dense", "units": 10}], "optimizer": "adam"}'), ['"optimizer"', 'layers']);
    throwsUnknownKey(() => validateNetwork(parseNetwork('{"name": "n", "inputShape": [1, 4, 4], "nodes": [], "extra": 1}')), ['"extra"']);
  });
});

describe('layer specs refuse values of the wrong kind', () => {
  // JSON (model files, the playground) can put anything in a setting: a string or number where
  // true/false belongs was truthy on one backend and 0 on another; NaN, strings or 1e300 in a
  // number made every output NaN.
  const base: Partial<Record<string, Record<string, unknown>>> = {
    conv2d: { filters: 2, kernel: 3 },
    dense: { units: 3 },
    maxpool2d: { kernel: 2 },
    avgpool2d: { kernel: 2 },
    lrn: { size: 3 },
  };
  const flags: [string, string][] = [
    ['conv2d', 'bias'],
    ['dense', 'bias'],
    ['maxpool2d', 'ceil'],
    ['avgpool2d', 'ceil'],
    ['avgpool2d', 'countPad'],
    ['batchnorm2d', 'affine'],
  ];
  const numbers: [string, string, unknown[]][] = [
    ['leakyrelu', 'slope', [NaN, Infinity, 1e300, 'x', '2', {}, [1]]],
    ['lrn', 'alpha', [NaN, -1, 1e300, 'x', '2', true]],
    ['lrn', 'beta', [NaN, -Infinity, 'x', [1, 2, 3]]],
    ['lrn', 'k', [NaN, 0, -1, 'x', {}]],
    ['batchnorm2d', 'eps', [Infinity, 1e300, '2', true, 0]],
    ['batchnorm2d', 'momentum', [true, '0.5', -0.1, NaN]],
  ];
  const build = (type: string, key: string, value: unknown) => createLayer({ type, ...base[type], [key]: value } as LayerSpec, 'l1');

  it('true/false settings take only true or false', () => {
    for (const [type, key] of flags) {
      for (const v of ['x', 'true', 1, 0, 0.5, {}, [true]]) throwsUnknownKey(() => build(type, key, v), ['"l1"', key, 'true or false', JSON.stringify(v)]);
      for (const v of [true, false, undefined]) build(type, key, v);
    }
  });

  it('numbers must be finite in float32 and in range', () => {
    for (const [type, key, values] of numbers) {
      for (const v of values) throwsUnknownKey(() => build(type, key, v), ['"l1"', key]);
    }
    build('leakyrelu', 'slope', -0.5);
    build('lrn', 'k', 1);
    build('batchnorm2d', 'eps', 1e-3);
  });

  it('init names one of the initialisations', () => {
    for (const type of ['conv2d', 'dense']) {
      for (const v of ['x', 'He', 1, true]) throwsUnknownKey(() => build(type, 'init', v), ['"l1"', 'init must be one of he, glorot, lecun']);
      for (const v of ['he', 'glorot', 'lecun']) build(type, 'init', v);
    }
  });

  it('a model file whose layer holds a string for a number is a FormatError naming the file', () => {
    const model = new Model(
      { name: 'm', inputShape: [1, 4, 4], nodes: [{ name: 'act', layer: { type: 'leakyrelu' }, inputs: ['input'] }], output: 'act' },
      ref,
    );
    const bytes = encodeModel(model);
    const header = headerOf(bytes);
    const patched = withHeader(bytes, JSON.stringify(header).replace('"type":"leakyrelu"', '"type":"leakyrelu","slope":"1"'));
    throwsUnknownKey(() => decodeModel(patched, 'slope.convkit', ref), ['slope.convkit', 'slope must be a finite number'], FormatError);
  });
});
