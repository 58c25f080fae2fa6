import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RefBackend } from '../src/backend/ref.js';
import type { LayerSpec } from '../src/layers/index.js';
import { outputSize } from '../src/layers/pool2d.js';
import { GraphBuilder } from '../src/model/graph-builder.js';
import { INPUT, Model, type ModelSpec } from '../src/model/model.js';
import { type ReceptiveField, fieldBounds, receptiveFields, throughWindow } from '../src/model/receptive-field.js';
import { alexnet, vgg16 } from '../src/model/zoo-classic.js';
import { zoo } from '../src/model/zoo.js';
import { Rng } from '../src/rng.js';
import { Tensor } from '../src/tensor.js';
import { layerCases } from './layer-cases.js';

const ref = new RefBackend();
const fieldsOf = (spec: ModelSpec) => receptiveFields(new Model(spec, ref));

describe('receptive fields of published networks', () => {
  it('LeNet-5 conv2: 14; AlexNet conv5: 163, pool5: 195; VGG-16 conv5_3: 196, pool5: 212', () => {
    const lenet = fieldsOf(zoo.lenet5.build());
    assert.deepEqual(lenet.get('conv2'), { size: [14, 14], jump: [2, 2], start: [-2, -2] });
    // Channel counts do not change fields: small widths keep the test light.
    const alex = fieldsOf(alexnet({ width: 1 / 32 }));
    assert.deepEqual(
      [alex.get('conv2d5')!.size, alex.get('maxpool2d3')!.size],
      [
        [163, 163],
        [195, 195],
      ],
    );
    assert.deepEqual(
      [alex.get('conv2d5')!.jump, alex.get('maxpool2d3')!.jump],
      [
        [16, 16],
        [32, 32],
      ],
    );
    const vgg = fieldsOf(vgg16({ width: 1 / 64 }));
    assert.deepEqual(
      [vgg.get('conv2d13')!.size, vgg.get('maxpool2d5')!.size],
      [
        [196, 196],
        [212, 212],
      ],
    );
    // Adaptive pooling 7×7 → 7×7 is the identity; the classifier sees every position.
    assert.deepEqual(vgg.get('adaptiveavgpool2d1'), vgg.get('maxpool2d5'));
    assert.deepEqual(vgg.get('dense1'), { size: [212 + 6 * 32, 212 + 6 * 32], jump: [0, 0], start: [-90, -90] });
  });

  it('dilation spreads the taps; rows and columns are separate', () => {
    assert.deepEqual(throughWindow({ size: 1, jump: 1, start: 0 }, 3, 1, 2, 2), { size: 5, jump: 1, start: -2 });
    assert.deepEqual(throughWindow({ size: 5, jump: 2, start: -2 }, 3, 2, 0, 3), { size: 17, jump: 4, start: -2 });
    const rect = fieldsOf({
      name: 'r',
      inputShape: [1, 20, 30],
      nodes: [
        { name: 'c', layer: { type: 'conv2d', filters: 1, kernel: [3, 5], stride: [1, 2], padding: [1, 0] }, inputs: [INPUT] },
        { name: 'p', layer: { type: 'maxpool2d', kernel: [2, 3], stride: [2, 1] }, inputs: ['c'] },
      ],
    });
    assert.deepEqual(rect.get('p'), { size: [4, 9], jump: [2, 2], start: [-1, 0] });
    assert.deepEqual(fieldBounds(rect.get('p')!, 3, 2), { top: 5, left: 4, bottom: 8, right: 12 });
  });
});

/**
 * Random small graphs: chains of convolutions and pooling with branches joined by add or
 * concat, some with padding and ceil mode (`padded`), max pooling and ReLU (not `linear`),
 * ending in global pooling or flatten + dense or neither. Sizes per axis are tracked
 * here so that joined branches agree.
 */
interface Tip {
  name: string;
  c: number;
  h: number;
  w: number;
}

function randomGraph(rng: Rng, linear: boolean, padded: boolean): ModelSpec {
  const H = 10 + rng.int(9),
    W = 10 + rng.int(9),
    C = 1 + rng.int(2);
  const g = new GraphBuilder('random', [C, H, W]);
  const pick = <T>(xs: T[]) => xs[rng.int(xs.length)];
  /** One conv or pool layer after `tip`, or null when it would not fit. */
  const window = (tip: Tip): Tip | null => {
    const pool = rng.next() < 0.4;
    const k = [1 + rng.int(3), 1 + rng.int(3)].map((v) => (pool ? Math.max(v, 2) : v));
    const s = [pick([1, 1, 2]), pick([1, 1, 2])];
    const p = padded ? k.map((v) => rng.int(Math.floor(v / 2) + 1)) : [0, 0];
    const ceil = pool && padded && rng.next() < 0.3;
    const size = [0, 1].map((a) =>
      pool ? outputSize([tip.h, tip.w][a], k[a], s[a], p[a], ceil) : Math.floor(([tip.h, tip.w][a] + 2 * p[a] - k[a]) / s[a]) + 1,
    );
    if (size[0] < 1 || size[1] < 1) return null;
    const layer: LayerSpec = pool
      ? { type: linear || rng.next() < 0.5 ? 'avgpool2d' : 'maxpool2d', kernel: [k[0], k[1]], stride: [s[0], s[1]], padding: [p[0], p[1]], ceil }
      : { type: 'conv2d', filters: 1 + rng.int(2), kernel: [k[0], k[1]], stride: [s[0], s[1]], padding: [p[0], p[1]] };
    let name = g.add(layer, tip.name);
    if (!linear && rng.next() < 0.5) name = g.add({ type: 'relu' }, name);
    return { name, c: pool ? tip.c : (layer as { filters: number }).filters, h: size[0], w: size[1] };
  };
  let tip: Tip = { name: INPUT, c: C, h: H, w: W };
  for (let step = 0; step < 3 + rng.int(3); step++) {
    if (rng.next() < 0.5) {
      tip = window(tip) ?? tip;
      continue;
    }
    // A branch: one or two layers, and beside it a stride-1 convolution sized to match.
    let a = window(tip);
    if (a && rng.next() < 0.5) a = window(a) ?? a;
    if (!a || a.h > tip.h || a.w > tip.w) continue;
    const concat = rng.next() < 0.5;
    const b = g.add({ type: 'conv2d', filters: concat ? 1 : a.c, kernel: [tip.h - a.h + 1, tip.w - a.w + 1] }, tip.name);
    tip = concat ? { ...a, name: g.add({ type: 'concat' }, [a.name, b]), c: a.c + 1 } : { ...a, name: g.add({ type: 'add' }, [a.name, b]) };
  }
  if (rng.next() < 0.3) g.add({ type: 'globalavgpool2d' }, tip.name);
  // biome-ignore lint/suspicious/noDuplicateElseIf: each rng.next() is a fresh draw, not the same condition
  else if (rng.next() < 0.3) g.add({ type: 'dense', units: 2 }, g.add({ type: 'flatten' }, tip.name));
  return g.build();
}

/**
 * For each node and output position, the bounding box of the input pixels whose change changes
 * it: one forward pass on a batch holding the image and, for each pixel, a copy with that
 * pixel (all channels) raised by 1. Float64, so untouched outputs are bit-identical.
 */
function influence(model: Model): Map<string, { rows: number; cols: number; box: Int32Array }> {
  const [C, H, W] = model.inputShape;
  const N = H * W + 1,
    plane = H * W;
  const x = new Tensor([N, C, H, W], new Float64Array(N * C * plane));
  const rng = new Rng(7);
  for (let i = 0; i < C * plane; i++) x.data[i] = rng.normal();
  for (let p = 0; p < plane; p++) {
    for (let i = 0; i < C * plane; i++) x.data[(p + 1) * C * plane + i] = x.data[i];
    for (let c = 0; c < C; c++) x.data[(p + 1) * C * plane + c * plane + p] += 1;
  }
  model.forward(x);
  const result = new Map<string, { rows: number; cols: number; box: Int32Array }>();
  for (const [name, y] of model.activations()) {
    const per = y.size / N;
    const [channels, rows, cols] = y.shape.length === 4 ? [y.shape[1], y.shape[2], y.shape[3]] : [per, 1, 1];
    // Per output position: top, left, bottom, right of the influencing pixels (empty: top > bottom).
    const box = new Int32Array(rows * cols * 4);
    for (let q = 0; q < rows * cols; q++) box.set([H, W, -1, -1], q * 4);
    for (let p = 0; p < plane; p++) {
      const py = Math.floor(p / W),
        px = p % W;
      for (let c = 0; c < channels; c++) {
        for (let q = 0; q < rows * cols; q++) {
          const k = c * rows * cols + q;
          if (y.data[(p + 1) * per + k] === y.data[k]) continue;
          box[q * 4] = Math.min(box[q * 4], py);
          box[q * 4 + 1] = Math.min(box[q * 4 + 1], px);
          box[q * 4 + 2] = Math.max(box[q * 4 + 2], py);
          box[q * 4 + 3] = Math.max(box[q * 4 + 3], px);
        }
      }
    }
    result.set(name, { rows, cols, box });
  }
  return result;
}

describe('receptive fields against brute force', () => {
  it('on random graphs with branches, the outputs a pixel changes are those whose field holds it', (t) => {
    const rng = new Rng(2024);
    let graphs = 0,
      tightNodes = 0,
      tightJoins = 0,
      looseJoins = 0,
      checkedPositions = 0;
    for (let trial = 0; trial < 200; trial++) {
      const linear = rng.next() < 0.6,
        padded = rng.next() < 0.4;
      const spec = randomGraph(rng, linear, padded);
      const model = new Model(spec, new RefBackend('float64'), trial + 1);
      const fields = receptiveFields(model);
      const seen = influence(model);
      const [, H, W] = model.inputShape;
      // Without padding or ceil mode, max or ReLU, every pixel of a field (inside the image)
      // counts, so the field must be exactly the influence's bounding box — as long as the
      // branches joined on the way had equal jumps (otherwise one constant-size window covers
      // them loosely). Padding and ceil-mode overhang read positions that do not exist: their
      // fields may hold image pixels that earlier strides skipped, which then count for nothing.
      const exact = new Set<string>([INPUT]);
      for (const node of spec.nodes) {
        const inputs = node.inputs.map((n) => fields.get(n)!);
        const sameJumps = inputs.every((f) => f.jump[0] === inputs[0].jump[0] && f.jump[1] === inputs[0].jump[1]);
        if (linear && !padded && sameJumps && node.inputs.every((n) => exact.has(n))) exact.add(node.name);
        if (inputs.length > 1 && exact.has(node.name)) tightJoins++;
        if (!sameJumps) looseJoins++;
      }
      for (const node of spec.nodes) {
        const field = fields.get(node.name) as ReceptiveField;
        const { rows, cols, box } = seen.get(node.name)!;
        for (let i = 0; i < rows; i++) {
          for (let j = 0; j < cols; j++) {
            const b = fieldBounds(field, i, j);
            const [top, left, bottom, right] = box.subarray((i * cols + j) * 4, (i * cols + j) * 4 + 4);
            const where = `graph ${trial} (${JSON.stringify(spec.nodes.map((n) => [n.name, n.layer, n.inputs]))}), node ${node.name} position (${i}, ${j}): influence rows ${top}–${bottom} cols ${left}–${right}, field ${JSON.stringify(b)}`;
            if (top <= bottom) assert.ok(top >= b.top && bottom <= b.bottom && left >= b.left && right <= b.right, `outside the field: ${where}`);
            if (exact.has(node.name)) {
              const clipped = [Math.max(b.top, 0), Math.max(b.left, 0), Math.min(b.bottom, H - 1), Math.min(b.right, W - 1)];
              const expected = clipped[0] <= clipped[2] && clipped[1] <= clipped[3] ? clipped : [H, W, -1, -1];
              assert.deepEqual([top, left, bottom, right], expected, `not tight: ${where}`);
            }
            checkedPositions++;
          }
        }
        if (exact.has(node.name)) tightNodes++;
      }
      graphs++;
    }
    t.diagnostic(
      `${graphs} graphs, ${checkedPositions} output positions checked, ${tightNodes} nodes checked for tightness ` +
        `(${tightJoins} of them add or concat); ${looseJoins} joins of branches with different jumps`,
    );
    assert.ok(tightNodes > 150 && tightJoins > 15 && looseJoins > 100, 'the random graphs cover the cases');
  });
});

describe('every layer type gives exact receptive fields (the class of a new layer falling back to the whole input)', () => {
  // A layer whose positions pass through unchanged must say so (keepsPositions), or be one the
  // arithmetic knows (convolution, pooling); then a pixel influences exactly the outputs whose
  // fields hold it. Checked by perturbing every input pixel of a one-layer model.
  const windowed = new Set(['conv2d', 'maxpool2d', 'avgpool2d', 'adaptiveavgpool2d', 'globalavgpool2d']);
  for (const [label, spec, shapes] of layerCases) {
    if (shapes.some((s) => s.length !== 3 || s.join() !== shapes[0].join())) continue; // inputs of one shape, read twice if needed
    it(`${label}: a pixel changes exactly the outputs whose fields hold it`, () => {
      const [C, H, W] = shapes[0];
      const model = new Model(
        { name: 'one', inputShape: [C, H, W], nodes: [{ name: 'l', layer: spec, inputs: shapes.map(() => INPUT) }] },
        new RefBackend('float64'),
        3,
      );
      const out = model.outputShape;
      if (out.length !== 3) return; // dense, flatten, global pooling: every output sees the whole input by definition
      const layer = model.layers.find((l) => l.name === 'l')!;
      assert.ok(
        layer.keepsPositions || windowed.has(spec.type),
        `${spec.type}: spatial output, but neither keepsPositions nor known to src/model/receptive-field.ts`,
      );
      const field = receptiveFields(model).get('l')!;
      const rng = new Rng(5);
      const x = new Tensor(
        [1, C, H, W],
        Float64Array.from({ length: C * H * W }, () => rng.uniform(-1, 1)),
      );
      const base = Float64Array.from(model.forward(x).data);
      for (let h = 0; h < H; h++) {
        for (let w = 0; w < W; w++) {
          const y = new Tensor([1, C, H, W], Float64Array.from(x.data));
          for (let c = 0; c < C; c++) y.data[(c * H + h) * W + w] += 0.5;
          const moved = model.forward(y).data;
          for (let i = 0; i < base.length; i++) {
            if (Math.abs(moved[i] - base[i]) < 1e-12) continue;
            const oh = Math.floor(i / out[2]) % out[1],
              ow = i % out[2];
            const b = fieldBounds(field, oh, ow);
            assert.ok(
              b.top <= h && h <= b.bottom && b.left <= w && w <= b.right,
              `pixel (${h}, ${w}) changed output (${oh}, ${ow}), whose field is rows ${b.top}–${b.bottom}, columns ${b.left}–${b.right}`,
            );
          }
        }
      }
      if (layer.keepsPositions) assert.deepEqual(field.size, [1, 1], 'a position-keeping layer sees one position');
    });
  }
});
