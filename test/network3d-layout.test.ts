/**
 * The 3-D network view's layout and connections in Node (no browser, no WebGL): which layers
 * become slabs, and that a hovered unit's marked units in every layer below are exactly the
 * units it depends on — checked against a brute-force walk through each layer's kernel
 * windows (taps, stride, padding, dilation), not against the receptive-field arithmetic the
 * view uses.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type LayerSpec, Model, type ModelSpec, RefBackend, receptiveFields, sequential, zoo } from '../src/index.js';
import { MAX_UNITS_PER_SLAB, type Slab, markConnected, planSlabs, unitOffset } from '../web/src/ui/network3d-layout.js';

interface Built {
  spec: ModelSpec;
  layers: LayerSpec[];
  slabs: Slab[];
  fields: ReturnType<typeof receptiveFields>;
  model: Model;
}

function build(spec: ModelSpec): Built {
  const model = new Model(spec, new RefBackend());
  const rows = model.summary();
  return {
    spec,
    model,
    layers: spec.nodes.map((n) => n.layer),
    fields: receptiveFields(model),
    slabs: planSlabs(
      [...model.inputShape],
      rows.map((r) => ({ name: r.name, type: r.type, outputShape: [...r.outputShape] })),
      10,
    ),
  };
}

/** Shape [C, H, W] (or [n]) of every layer's output, 'input' first. */
function shapes(b: Built): number[][] {
  return [[...b.model.inputShape], ...b.model.summary().map((r) => [...r.outputShape])];
}

const pair = (v: unknown, fallback: number): [number, number] => (Array.isArray(v) ? [v[0], v[1]] : typeof v === 'number' ? [v, v] : [fallback, fallback]);

/**
 * The units of layer `l`'s input that unit `unit` of layer `l` reads, straight from the layer's
 * definition: its window's taps that fall inside the input (padding reads nothing).
 */
function directInputs(b: Built, l: number, unit: number): number[] {
  const spec = b.layers[l] as LayerSpec & Record<string, unknown>;
  const [inShape, outShape] = [shapes(b)[l], shapes(b)[l + 1]];
  const inSize = inShape.reduce((a, x) => a * x, 1);
  if (outShape.length !== 3) return spec.type === 'flatten' || ['relu', 'dropout'].includes(spec.type) ? [unit] : [...Array(inSize).keys()];
  const [, H, W] = outShape,
    [C, IH, IW] = inShape;
  const c = Math.floor(unit / (H * W)),
    r = Math.floor(unit / W) % H,
    x = unit % W;
  if (spec.type === 'relu' || spec.type === 'batchnorm2d' || spec.type === 'dropout') return [unit];
  const [kh, kw] = pair(spec.kernel, 1),
    [sh, sw] = pair(spec.stride, spec.type === 'conv2d' ? 1 : pair(spec.kernel, 1)[0]);
  const [ph, pw] = pair(spec.padding, 0),
    [dh, dw] = pair(spec.dilation, 1);
  const channels = spec.type === 'conv2d' ? [...Array(C).keys()] : [c];
  const out: number[] = [];
  for (const ci of channels) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const ir = r * sh - ph + i * dh,
          ix = x * sw - pw + j * dw;
        if (ir >= 0 && ir < IH && ix >= 0 && ix < IW) out.push((ci * IH + ir) * IW + ix);
      }
    }
  }
  return out;
}

/** Every unit of each earlier layer that a unit depends on, by walking the windows down one layer at a time. */
function dependencies(b: Built, l: number, unit: number): Map<number, Set<number>> {
  const deps = new Map<number, Set<number>>([[l + 1, new Set([unit])]]);
  for (let k = l; k >= 0; k--) {
    const below = new Set<number>();
    for (const u of deps.get(k + 1)!) for (const v of directInputs(b, k, u)) below.add(v);
    deps.set(k, below); // layer k's input: index k in shapes(), i.e. the output of layer k − 1 (0: the image)
  }
  return deps;
}

/** Layer index (into shapes()) whose output a slab shows. */
const slabLayer = (s: Slab) => s.source + 1;

/**
 * For each chosen unit of each slab, the view's marks in every slab below equal the brute-force
 * dependencies. `extent`: a dilated kernel reads taps with gaps between them, while a field is
 * the extent they span: then the marks hold every dependency and stay within the field's size.
 */
function checkConnections(b: Built, pick: (slab: Slab) => number[], extent = false): number {
  let checked = 0;
  b.slabs.forEach((slab, s) => {
    for (const unit of pick(slab)) {
      const deps = dependencies(b, slab.source, unit);
      for (let below = 0; below < s; below++) {
        const lower = b.slabs[below];
        const mask = new Uint8Array(lower.units);
        const count = markConnected(b.slabs, b.fields, s, unit, below, mask);
        const marked = new Set<number>();
        mask.forEach((m, u) => {
          if (m) marked.add(u);
        });
        const expected = deps.get(slabLayer(lower))!;
        assert.equal(count, marked.size);
        const what = `${slab.nodes.join('+')} unit ${unit} → ${lower.nodes.join('+')}`;
        if (!extent) assert.deepEqual(marked, expected, what);
        else {
          for (const u of expected) assert.ok(marked.has(u), `${what}: unit ${u} is a dependency`);
          const f = b.fields.get(slab.nodes[0])!;
          assert.ok(marked.size <= (lower.kind === 'maps' ? lower.channels : 1) * f.size[0] * f.size[1] || lower.kind !== 'maps', what);
        }
        checked++;
      }
    }
  });
  return checked;
}

const everyUnit = (slab: Slab) => [...Array(slab.units).keys()];
/** Corners, edges and a few inner units: where padding and rounding could go wrong. */
const someUnits = (slab: Slab) => {
  if (slab.kind !== 'maps') return [slab.units - 1]; // a vector's units all read everything below
  const { height: H, width: W } = slab;
  const picks = new Set<number>();
  for (const c of [0, slab.shownChannels - 1]) {
    for (const r of [0, 1, Math.floor(H / 2), H - 2, H - 1])
      for (const x of [0, 1, Math.floor(W / 2), W - 2, W - 1]) {
        if (r >= 0 && x >= 0 && r < H && x < W) picks.add((c * H + r) * W + x);
      }
  }
  return [...picks].filter((u) => u < slab.units);
};

describe('3-D view: slabs', () => {
  test('LeNet-5: activations join their layer, flatten joins the pooling, the last dense layer is the output', () => {
    const b = build(zoo.lenet5.build());
    assert.deepEqual(
      b.slabs.map((s) => [s.kind, s.nodes.join('+'), s.units]),
      [
        ['input', 'input', 784],
        ['maps', 'conv1+relu1', 4704],
        ['maps', 'pool1', 1176],
        ['maps', 'conv2+relu2', 1600],
        ['maps', 'pool2+flatten1', 400],
        ['vector', 'fc1+relu3', 120],
        ['vector', 'fc2+relu4', 84],
        ['output', 'fc3', 10],
      ],
    );
    assert.deepEqual(
      b.slabs.map((s) => s.mixesChannels),
      [false, true, false, true, false, true, true, true],
    );
  });

  test('units lie inside their slab footprint, no two in one place', () => {
    const b = build(zoo.lenet5.build());
    for (const slab of b.slabs) {
      const seen = new Set<string>();
      const at = { x: 0, y: 0, z: 0 };
      for (let u = 0; u < slab.units; u++) {
        unitOffset(slab, u, at);
        if (slab.kind !== 'output') {
          assert.ok(Math.abs(at.x) < slab.extent[0] / 2 && Math.abs(at.z) < slab.extent[1] / 2, `${slab.nodes[0]} unit ${u}`);
        }
        seen.add(`${at.x},${at.y},${at.z}`);
      }
      assert.equal(seen.size, slab.units, slab.nodes[0]);
    }
  });

  test('a layer too wide to draw whole shows its first channels', () => {
    const b = build(
      sequential('wide', [1, 28, 28], [{ type: 'conv2d', filters: 64, kernel: 3, padding: 1 }, { type: 'flatten' }, { type: 'dense', units: 10 }]),
    );
    const conv = b.slabs[1];
    assert.equal(conv.channels, 64);
    assert.equal(conv.shownChannels, Math.floor(MAX_UNITS_PER_SLAB / 784));
    assert.equal(conv.units, conv.shownChannels * 784);
  });
});

describe("3-D view: a unit's connections are the units it depends on", () => {
  test('LeNet-5: every unit of conv1 and pool1; corners, edges and centres above', () => {
    const b = build(zoo.lenet5.build());
    const checked = checkConnections(b, (slab) =>
      slab.kind === 'input' ? [] : ['conv1', 'pool1'].includes(slab.nodes[0]) ? everyUnit(slab) : someUnits(slab),
    );
    assert.ok(checked > 5000, `${checked} unit-to-layer checks`);
  });

  test('the ConvNetJS net: padding 2 and 3×3 pooling with stride 3', () => {
    checkConnections(build(zoo['convnetjs-mnist'].build()), (slab) => (slab.kind === 'input' ? [] : someUnits(slab)));
  });

  test('strided convolution, padded pooling windows, a rectangular kernel', () => {
    const spec = sequential(
      'odd',
      [1, 28, 28],
      [
        { type: 'conv2d', filters: 3, kernel: 3, stride: 2, padding: 1 },
        { type: 'relu' },
        { type: 'avgpool2d', kernel: 3, stride: 2, padding: 1 },
        { type: 'conv2d', filters: 2, kernel: [1, 3] },
        { type: 'flatten' },
        { type: 'dense', units: 10 },
      ],
    );
    checkConnections(build(spec), (slab) => (slab.kind === 'input' ? [] : someUnits(slab)));
  });

  test('a dilated kernel: every tap it reads is marked, within its field', () => {
    const spec = sequential(
      'dilated',
      [1, 28, 28],
      [
        { type: 'conv2d', filters: 3, kernel: 3, padding: 1 },
        { type: 'conv2d', filters: 4, kernel: 3, dilation: 2, padding: 2 },
        { type: 'relu' },
        { type: 'maxpool2d', kernel: 2 },
        { type: 'flatten' },
        { type: 'dense', units: 10 },
      ],
    );
    checkConnections(build(spec), (slab) => (slab.kind === 'input' ? [] : someUnits(slab)), true);
  });
});
