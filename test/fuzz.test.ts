/**
 * Hostile input: every parser is fuzzed with fast-check, with a fixed seed and a
 * stated number of cases, on random bytes and on mutations of valid inputs. Each must load or
 * throw convkit's own typed error (ConvkitError) with a message — never another exception —
 * and must not allocate by a size the input merely claims (checked with a counting backend
 * for model files and by the explicit huge-claim cases).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import jpeg from 'jpeg-js';
import { RefBackend } from '../src/backend/ref.js';
import type { Backend } from '../src/backend/backend.js';
import { type ImageDataset, datasetFromIdx } from '../src/data/dataset.js';
import { encodeIdx, parseIdx } from '../src/data/idx.js';
import { ConfigError, ConvkitError, FormatError } from '../src/errors.js';
import { decodeModel, encodeModel } from '../src/io/modelfile.js';
import type { LayerSpec } from '../src/layers/index.js';
import { Model, type ModelSpec, sequential } from '../src/model/model.js';
import { zoo } from '../src/model/zoo.js';
import { loadCheckpoint, saveCheckpoint } from '../src/node/checkpoint.js';
import { MAX_IMAGE_PIXELS, decodeImage, encodePng } from '../src/node/image.js';
import { toOnnx } from '../src/onnx/export.js';
import { loadOnnx, parseOnnx } from '../src/onnx/import.js';
import { onnx } from '../src/onnx/proto.js';
import { train } from '../src/train/trainer.js';
import { parseNetwork, validateNetwork } from '../web/src/network-def.js';
import {
  FUZZ_SCALE,
  FUZZ_SEED,
  expectLoadsOrTypedError,
  headerOf,
  interestingNumbers,
  interestingU32,
  jsonValue,
  mendPngCrcs,
  mutatedBytes,
  mutatedJson,
  withHeader,
} from './fuzz-util.js';
import { jsonDepth } from '../src/io/json.js';
import { checkRunSettings } from '../src/cli/train-command.js';

const backend = new RefBackend();

/** Runs a property with the fixed seed; returns how many cases loaded and how many were rejected. */
function fuzz<T>(arbitrary: fc.Arbitrary<T>, numRuns: number, run: (input: T) => unknown): { loaded: number; rejected: number } {
  const tally = { loaded: 0, rejected: 0 };
  fc.assert(
    fc.property(arbitrary, (input) => {
      tally[expectLoadsOrTypedError(() => run(input))]++;
    }),
    { seed: FUZZ_SEED, numRuns: Math.round(numRuns * FUZZ_SCALE) },
  );
  return tally;
}

/** A backend that records the largest total it was asked to allocate. */
function countingBackend(): Backend & { allocated: number } {
  const inner = new RefBackend();
  const counting = Object.assign(Object.create(inner) as RefBackend, { allocated: 0 });
  counting.alloc = (n: number) => {
    counting.allocated += n;
    return inner.alloc(n);
  };
  return counting;
}

describe('fuzz: IDX files', () => {
  const valid = encodeIdx(
    [3, 4, 5],
    Uint8Array.from({ length: 60 }, (_, i) => i),
  );
  const labels = encodeIdx([3], Uint8Array.of(1, 2, 9));

  it('random bytes (400 cases), random headers (400), mutated files (600)', (t) => {
    const random = fuzz(fc.uint8Array({ maxLength: 64 }), 400, (b) => parseIdx(b, 'random.idx'));
    const header = fc
      .record({
        type: fc.constantFrom(0x08, 0x09, 0x0d, 0),
        rank: fc.integer({ min: 0, max: 6 }),
        dims: fc.array(fc.constantFrom(...interestingU32), { minLength: 0, maxLength: 6 }),
        payload: fc.integer({ min: 0, max: 300 }),
      })
      .map(({ type, rank, dims, payload }) => {
        const b = new Uint8Array(4 + 4 * dims.length + payload);
        b[2] = type;
        b[3] = rank;
        dims.forEach((d, i) => new DataView(b.buffer).setUint32(4 + 4 * i, d, false));
        return b;
      });
    const headers = fuzz(header, 400, (b) => {
      const r = parseIdx(b, 'header.idx');
      assert.equal(
        r.data.length,
        r.dims.reduce((a, d) => a * d, 1),
        'the data holds exactly the claimed values',
      );
    });
    const mutated = fuzz(mutatedBytes(valid), 600, (b) => parseIdx(b, 'mutated.idx'));
    t.diagnostic(`random ${JSON.stringify(random)}, headers ${JSON.stringify(headers)}, mutated ${JSON.stringify(mutated)}`);
  });

  it('datasetFromIdx on mutated image and label files (400 cases)', () => {
    fuzz(fc.tuple(mutatedBytes(valid), mutatedBytes(labels)), 400, ([img, lab]) => {
      const ds = datasetFromIdx('fuzz', img, 'images.idx', lab, 'labels.idx');
      assert.equal(ds.images.length, ds.count * ds.height * ds.width);
      assert.equal(ds.labels.length, ds.count);
    });
  });
});

describe('fuzz: model files', () => {
  const chainData = {
    dataset: 'mnist',
    channels: 1,
    height: 8,
    width: 8,
    mean: [0.13],
    std: [0.31],
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  };
  // A small chain and a small graph with a residual add, a concat and batch norm (state tensors).
  const chain = encodeModel(
    new Model(
      sequential(
        'tiny',
        [1, 8, 8],
        [{ type: 'conv2d', filters: 4, kernel: 3 }, { type: 'relu' }, { type: 'maxpool2d', kernel: 2 }, { type: 'flatten' }, { type: 'dense', units: 10 }],
      ),
      backend,
    ),
    { data: chainData },
  );
  const graphSpec: ModelSpec = {
    name: 'graph',
    inputShape: [2, 6, 6],
    nodes: [
      { name: 'a', layer: { type: 'conv2d', filters: 2, kernel: 3, padding: 1 }, inputs: ['input'] },
      { name: 'bn', layer: { type: 'batchnorm2d' }, inputs: ['a'] },
      { name: 'sum', layer: { type: 'add' }, inputs: ['bn', 'input'] },
      { name: 'cat', layer: { type: 'concat' }, inputs: ['sum', 'a'] },
      { name: 'pool', layer: { type: 'avgpool2d', kernel: 2 }, inputs: ['cat'] },
      { name: 'flat', layer: { type: 'flatten' }, inputs: ['pool'] },
      { name: 'out', layer: { type: 'dense', units: 3 }, inputs: ['flat'] },
    ],
  };
  const graph = encodeModel(new Model(graphSpec, backend), {}, [{ path: 'optimizer/a.weight/0', data: new Float32Array(36) }]);

  it('the valid files load', () => {
    decodeModel(chain, 'chain.convkit', backend);
    decodeModel(graph, 'graph.convkit', backend);
  });

  it('random bytes (200 cases) and mutated bytes (600)', (t) => {
    const random = fuzz(fc.uint8Array({ maxLength: 200 }), 200, (b) => decodeModel(b, 'random.convkit', backend));
    const mutated = fuzz(fc.oneof(mutatedBytes(chain), mutatedBytes(graph), mutatedBytes(chain, { start: 0, end: 16 })), 600, (b) =>
      decodeModel(b, 'mutated.convkit', backend),
    );
    t.diagnostic(`random ${JSON.stringify(random)}, mutated ${JSON.stringify(mutated)}`);
  });

  it('mutated headers with intact weight data (1000 cases); building allocates no more than the file holds', (t) => {
    const headers = fc.oneof(
      mutatedJson(headerOf(chain)).map((h) => withHeader(chain, h)),
      mutatedJson(headerOf(graph)).map((h) => withHeader(graph, h)),
    );
    const tally = fuzz(headers, 1000, (b) => {
      const counting = countingBackend();
      try {
        decodeModel(b, 'header.convkit', counting);
      } finally {
        // Each parameter and its gradient, plus per-channel scratch: bounded by the file's size.
        assert.ok(counting.allocated <= 3 * (b.length / 4) + 4096, `allocated ${counting.allocated} values for a ${b.length}-byte file`);
      }
    });
    t.diagnostic(`headers ${JSON.stringify(tally)}`);
  });

  it('a header claiming a huge architecture is refused before allocating', () => {
    const header = headerOf(chain) as { spec: ModelSpec };
    (header.spec.nodes[0].layer as { filters: number }).filters = 1e9;
    const counting = countingBackend();
    assert.throws(
      () => decodeModel(withHeader(chain, header), 'huge.convkit', counting),
      (e: Error) => e instanceof FormatError && /architecture is invalid/.test(e.message),
    );
    assert.ok(counting.allocated < 1e6, `allocated ${counting.allocated}`);
    (header.spec.nodes[0].layer as { filters: number }).filters = 40000; // within the global limits, but not in this file
    assert.throws(() => decodeModel(withHeader(chain, header), 'big.convkit', counting), /would allocate more than the limit/);
  });

  it('never executes code or pollutes prototypes: __proto__ and constructor keys stay plain data', () => {
    const header = headerOf(chain);
    const hostile = JSON.stringify(header)
      .replace('{"format"', '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"format"')
      .replace('"metadata":{', '"metadata":{"__proto__":{"polluted":"yes"},"toString":"not a function",');
    const bytes = withHeader(chain, JSON.parse(hostile));
    const { model, metadata } = decodeModel(bytes, 'hostile.convkit', backend);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
    assert.equal(model.parameterCount(), new Model(model.spec, backend).parameterCount());
    assert.equal(typeof metadata.toString, 'string', 'metadata keys are data, not behaviour');
    // In a layer spec they are keys like any other the layer does not know: refused, by name.
    for (const key of ['__proto__', 'constructor']) {
      const layerKeys = JSON.parse(JSON.stringify(header).replace('"type":"conv2d"', `"type":"conv2d","${key}":{"filters":1e9,"polluted":"yes"}`));
      assert.throws(
        () => decodeModel(withHeader(chain, layerKeys), 'hostile.convkit', backend),
        (e: Error) => e instanceof FormatError && e.message.includes(`unknown key "${key}"`),
      );
      assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
    }
    // A layer "type" naming something else than a known layer is an error, never a lookup.
    for (const type of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const h = headerOf(chain) as { spec: ModelSpec };
      (h.spec.nodes[1].layer as { type: string }).type = type;
      assert.throws(
        () => decodeModel(withHeader(chain, h), 'type.convkit', backend),
        (e: Error) => e instanceof FormatError && /unknown layer type/.test(e.message),
      );
    }
  });
});

describe('fuzz: model metadata and JSON depth', () => {
  const model = new Model(
    sequential('tiny', [1, 8, 8], [{ type: 'conv2d', filters: 2, kernel: 3 }, { type: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 3 }]),
    backend,
  );
  const valid = { dataset: 'mnist', channels: 1, height: 8, width: 8, mean: [0.13], std: [0.31], classes: ['a', 'b', 'c'] };
  const file = encodeModel(model, { data: valid });
  const header = headerOf(file);
  /** A field: its valid value (often), something else, or missing. */
  const field = (good: unknown) =>
    fc.oneof({ arbitrary: fc.constant(good), weight: 24 }, { arbitrary: jsonValue, weight: 2 }, { arbitrary: fc.constant(undefined), weight: 1 });
  const numbers = fc.array(fc.oneof(fc.double(), fc.constantFrom(...interestingNumbers), jsonValue), { maxLength: 3 });

  it('metadata.data with every field mutated (800 cases): loads only what predict and eval can use', (t) => {
    const data = fc.record(
      {
        dataset: field('mnist'),
        channels: field(1),
        height: fc.oneof({ arbitrary: field(8), weight: 5 }, { arbitrary: fc.integer({ min: -2, max: 100 }), weight: 1 }),
        width: fc.oneof({ arbitrary: field(8), weight: 5 }, { arbitrary: fc.constantFrom(1e6, 20000, 9, 72, 73), weight: 1 }),
        mean: fc.oneof({ arbitrary: field([0.13]), weight: 5 }, { arbitrary: numbers, weight: 1 }),
        std: fc.oneof({ arbitrary: field([0.31]), weight: 5 }, { arbitrary: numbers, weight: 1 }, { arbitrary: fc.constant([0]), weight: 1 }),
        classes: fc.oneof({ arbitrary: field(['a', 'b', 'c']), weight: 5 }, { arbitrary: fc.array(jsonValue, { maxLength: 4 }), weight: 1 }),
      },
      { requiredKeys: [] },
    );
    const tally = fuzz(fc.oneof({ arbitrary: data, weight: 9 }, { arbitrary: jsonValue, weight: 1 }), 800, (d) => {
      const { metadata } = decodeModel(withHeader(file, { ...header, metadata: { data: d } }), 'meta.convkit', backend);
      // What loaded is usable: preparing an image by it stays in bounds and gives finite values.
      const info = metadata.data as typeof valid;
      assert.ok(info.height >= 8 && info.height <= 72 && info.width >= 8 && info.width <= 72 && info.channels === 1);
      assert.ok(info.std[0] > 0 && Number.isFinite((1 - info.mean[0]) / info.std[0]));
    });
    t.diagnostic(`metadata ${JSON.stringify(tally)}`);
  });

  it('headers nested to random depths anywhere (300 cases): deeper than 64 is a FormatError, never a stack overflow', (t) => {
    const text = JSON.stringify(header);
    const places = [...text.matchAll(/[,{]"/g)].map((m) => m.index! + 1);
    const nesting = fc.record({
      depth: fc.oneof(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 200_000 })),
      at: fc.constantFrom(...places),
      brackets: fc.array(fc.boolean(), { minLength: 1, maxLength: 7 }),
    });
    const tally = fuzz(nesting, 300, ({ depth, at, brackets }) => {
      let open = '',
        close = '';
      for (let i = 0; i < depth; i++) {
        const array = brackets[i % brackets.length];
        open += array ? '[' : '{"k":';
        close = (array ? ']' : '}') + close;
      }
      const hostile = `${text.slice(0, at)}"deep":${open}1${close},${text.slice(at)}`;
      try {
        decodeModel(withHeader(file, hostile), 'deep.convkit', backend);
      } catch (e) {
        if (jsonDepth(hostile) > 64) assert.match((e as Error).message, /levels deep, more than the 64 accepted/);
        throw e;
      }
    });
    t.diagnostic(`depth ${JSON.stringify(tally)}`);
  });
});

describe('fuzz: training checkpoints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convkit-fuzz-ckpt-'));
  const ds: ImageDataset = {
    name: 'tiny',
    count: 32,
    channels: 1,
    height: 8,
    width: 8,
    images: Uint8Array.from({ length: 32 * 64 }, (_, i) => (i * 7) & 255),
    labels: Uint8Array.from({ length: 32 }, (_, i) => i % 3),
    classes: ['a', 'b', 'c'],
    mean: [0.5],
    std: [0.25],
  };
  const spec = sequential('tiny', [1, 8, 8], [{ type: 'conv2d', filters: 2, kernel: 3 }, { type: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 3 }]);
  const options = { epochs: 2, batchSize: 8, lr: 0.01, seed: 3, optimizer: { type: 'adam' as const }, schedule: { type: 'constant' as const } };

  it('mutated checkpoint state (300 cases): loading and resuming training either work or give a FormatError', async (t) => {
    const model = new Model(spec, backend);
    await train(model, ds, {
      ...options,
      checkpointEvery: 3,
      onCheckpoint: (s) => {
        saveCheckpoint(dir, model, s, {});
      },
    });
    const file = new Uint8Array(readFileSync(join(dir, 'checkpoint.convkit')));
    writeFileSync(join(dir, 'checkpoint.prev.convkit'), 'not a checkpoint'); // no fallback: the mutated one is loaded or refused
    const header = headerOf(file) as { metadata: { checkpoint: unknown } };
    const headers = mutatedJson(header.metadata.checkpoint).map((c) => withHeader(file, { ...header, metadata: { ...header.metadata, checkpoint: c } }));
    const tally = { loaded: 0, rejected: 0 };
    await fc.assert(
      fc.asyncProperty(headers, async (bytes) => {
        writeFileSync(join(dir, 'checkpoint.convkit'), bytes);
        let loaded: ReturnType<typeof loadCheckpoint>;
        try {
          loaded = loadCheckpoint(dir, backend);
        } catch (e) {
          assert.ok(e instanceof FormatError, String(e));
          tally.rejected++;
          return;
        }
        tally.loaded++;
        // A state that passed the checks must resume without anything but convkit's own errors.
        await train(loaded.model, ds, { ...options, resume: loaded.state }).catch((e) => {
          if (!(e instanceof ConvkitError)) throw e;
        });
      }),
      { seed: FUZZ_SEED, numRuns: Math.round(300 * FUZZ_SCALE) },
    );
    t.diagnostic(`checkpoints ${JSON.stringify(tally)}`);
  });
});

describe('fuzz: checkpoint run settings', () => {
  const valid = {
    model: 'lenet5',
    dataset: 'mnist',
    epochs: 2,
    batchSize: 64,
    lr: 0.05,
    optimizer: { type: 'sgd', momentum: 0.9, weightDecay: 5e-4 },
    schedule: { type: 'cosine', warmupSteps: 200 },
    seed: 1,
    shift: 1,
    flip: false,
    inputSize: 28,
    channels: 1,
    out: 'lenet5.convkit',
  };

  it('mutated run settings (600 cases): accepted with every field usable, or a FormatError naming the file', (t) => {
    const tally = fuzz(mutatedJson(valid), 600, (run) => {
      const ok = checkRunSettings(run as Record<string, unknown>, 'ckpt.convkit');
      assert.ok(typeof ok.model === 'string' && Number.isSafeInteger(ok.batchSize) && ok.batchSize >= 1 && Number.isFinite(ok.lr) && ok.lr > 0);
      assert.ok(typeof ok.optimizer === 'object' && ok.optimizer !== null && (ok.channels === 1 || ok.channels === 3));
    });
    t.diagnostic(`run settings ${JSON.stringify(tally)}`);
  });
});

describe('fuzz: network definitions', () => {
  const specs = [
    zoo['convnetjs-mnist'].build(),
    zoo.lenet5.build(),
    {
      name: 'graph',
      inputShape: [1, 8, 8],
      nodes: [
        { name: 'c', layer: { type: 'conv2d', filters: 2, kernel: 3, padding: 'same' }, inputs: ['input'] },
        { name: 'r', layer: { type: 'relu' }, inputs: ['c'] },
        { name: 'cat', layer: { type: 'concat' }, inputs: ['r', 'input'] },
        { name: 'p', layer: { type: 'adaptiveavgpool2d', output: 2 }, inputs: ['cat'] },
        { name: 'f', layer: { type: 'flatten' }, inputs: ['p'] },
        { name: 'd', layer: { type: 'dense', units: 10 }, inputs: ['f'] },
      ],
    } satisfies ModelSpec,
  ];

  it('mutated ModelSpecs through new Model (800 cases); sizes within the limits', (t) => {
    const tally = fuzz(fc.oneof(...specs.map((s) => mutatedJson(s))), 800, (spec) => {
      const counting = countingBackend();
      try {
        new Model(spec, counting);
      } finally {
        assert.ok(counting.allocated <= 2 ** 29, `allocated ${counting.allocated} values`);
      }
    });
    t.diagnostic(`specs ${JSON.stringify(tally)}`);
  });

  it('huge layer sizes are a ConfigError before any allocation', () => {
    for (const layer of [
      { type: 'conv2d', filters: 1e9, kernel: 3 },
      { type: 'dense', units: 1e9 },
      { type: 'dense', units: 1e6 },
      { type: 'conv2d', filters: 8, kernel: 30000, padding: 15000 },
      { type: 'adaptiveavgpool2d', output: 1e5 },
    ]) {
      const counting = countingBackend();
      const spec = sequential('huge', [1, 28, 28], [layer as LayerSpec]);
      assert.throws(() => new Model(spec, counting), ConfigError, JSON.stringify(layer));
      assert.ok(counting.allocated < 1e6, `${JSON.stringify(layer)} allocated ${counting.allocated}`);
    }
    assert.throws(
      () => new Model({ name: 'x', inputShape: [1, 1e300, 1], nodes: [{ name: 'r', layer: { type: 'relu' }, inputs: ['input'] }] }, backend),
      ConfigError,
    );
  });

  it('the playground editor text: mutated texts through parseNetwork and validateNetwork (400 cases)', (t) => {
    const text = JSON.stringify({ name: 'net', input: [1, 24, 24], layers: specs[0].nodes.map((n) => n.layer) });
    const texts = fc.oneof(
      mutatedBytes(new TextEncoder().encode(text)).map((b) => new TextDecoder().decode(b)),
      mutatedJson(JSON.parse(text)).map((j) => JSON.stringify(j)),
      fc.string({ maxLength: 80 }),
    );
    const tally = fuzz(texts, 400, (s) => validateNetwork(parseNetwork(s)));
    t.diagnostic(`texts ${JSON.stringify(tally)}`);
  });
});

describe('fuzz: images', () => {
  const pixels = Uint8Array.from({ length: 8 * 6 * 4 }, (_, i) => (i * 37) & 255);
  const png = new Uint8Array(encodePng({ width: 8, height: 6, channels: 4, pixels }));
  const jpg = new Uint8Array(jpeg.encode({ width: 8, height: 6, data: Buffer.from(pixels) }, 90).data);

  function decodeChecked(b: Uint8Array, name: string) {
    const img = decodeImage(b, name);
    assert.ok(img.width * img.height <= MAX_IMAGE_PIXELS);
    assert.equal(img.pixels.length, img.width * img.height * img.channels);
  }

  it('the valid images decode', () => {
    decodeChecked(png, 'valid.png');
    decodeChecked(jpg, 'valid.jpg');
  });

  it('PNG: mutated files (1500 cases, most with chunk CRCs mended) and random bytes after the signature (150)', (t) => {
    // pngjs checks every chunk's CRC; mending them lets damage reach the decoder proper.
    const mutated = fuzz(
      fc.oneof(mutatedBytes(png), mutatedBytes(png, { start: 8, end: 60 }).map(mendPngCrcs), mutatedBytes(png).map(mendPngCrcs)),
      1500,
      (b) => decodeChecked(b, 'mutated.png'),
    );
    const random = fuzz(
      fc.uint8Array({ maxLength: 120 }).map((b) => Uint8Array.from([...png.subarray(0, 8), ...b])),
      150,
      (b) => decodeChecked(b, 'random.png'),
    );
    t.diagnostic(`mutated ${JSON.stringify(mutated)}, random ${JSON.stringify(random)}`);
  });

  it('JPEG: mutated files (500 cases) and random bytes after the SOI marker (150)', (t) => {
    const mutated = fuzz(fc.oneof(mutatedBytes(jpg), mutatedBytes(jpg, { start: 0, end: 200 })), 500, (b) => decodeChecked(b, 'mutated.jpg'));
    const random = fuzz(
      fc.uint8Array({ maxLength: 120 }).map((b) => Uint8Array.from([0xff, 0xd8, 0xff, ...b])),
      150,
      (b) => decodeChecked(b, 'random.jpg'),
    );
    t.diagnostic(`mutated ${JSON.stringify(mutated)}, random ${JSON.stringify(random)}`);
  });

  it('a small file claiming a large image is refused before the decoder allocates it', () => {
    for (const [w, h] of [
      [5000, 5000],
      [8000, 4000],
      [300, 300],
    ]) {
      const claim = png.slice();
      new DataView(claim.buffer).setUint32(16, w, false);
      new DataView(claim.buffer).setUint32(20, h, false);
      assert.throws(
        () => decodeImage(mendPngCrcs(claim), 'claim.png'),
        (e: Error) => e instanceof FormatError && /cannot hold/.test(e.message),
      );
      const claimJpg = jpg.slice();
      const sof = claimJpg.findIndex((v, i) => v === 0xff && claimJpg[i + 1] === 0xc0);
      new DataView(claimJpg.buffer).setUint16(sof + 5, h, false);
      new DataView(claimJpg.buffer).setUint16(sof + 7, w, false);
      if (w * h > 1024 * claimJpg.length + 65536)
        assert.throws(
          () => decodeImage(claimJpg, 'claim.jpg'),
          (e: Error) => e instanceof FormatError && /can encode/.test(e.message),
        );
    }
  });

  it('a PNG or JPEG claiming 60000×60000 pixels is refused without decoding it', () => {
    const hugePng = png.slice();
    new DataView(hugePng.buffer).setUint32(16, 60000, false);
    new DataView(hugePng.buffer).setUint32(20, 60000, false);
    const before = process.memoryUsage().rss;
    assert.throws(
      () => decodeImage(hugePng, 'huge.png'),
      (e: Error) => e instanceof FormatError && /claims 60000×60000 pixels/.test(e.message),
    );
    // JPEG: the frame header (SOF0) holds height then width after the precision byte.
    const hugeJpg = jpg.slice();
    const sof = hugeJpg.findIndex((v, i) => v === 0xff && hugeJpg[i + 1] === 0xc0);
    new DataView(hugeJpg.buffer).setUint16(sof + 5, 60000, false);
    new DataView(hugeJpg.buffer).setUint16(sof + 7, 60000, false);
    assert.throws(
      () => decodeImage(hugeJpg, 'huge.jpg'),
      (e: Error) => e instanceof FormatError && /claims 60000×60000 pixels/.test(e.message),
    );
    assert.ok(process.memoryUsage().rss - before < 200e6, 'nothing near 60000×60000×4 bytes was allocated');
  });
});

describe('fuzz: PNG chunk and JPEG marker sequences', () => {
  const pixels = Uint8Array.from({ length: 8 * 6 * 4 }, (_, i) => (i * 37) & 255);
  const png = new Uint8Array(encodePng({ width: 8, height: 6, channels: 4, pixels }));
  const jpg = new Uint8Array(jpeg.encode({ width: 8, height: 6, data: Buffer.from(pixels) }, 90).data);
  const u32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  const chunk = (type: string, data: ArrayLike<number>) => [...u32(data.length), ...[...type].map((c) => c.charCodeAt(0)), ...Array.from(data), 0, 0, 0, 0];
  const chunksOf = (file: Uint8Array) => {
    const out: number[][] = [];
    for (let at = 8; at + 12 <= file.length; ) {
      const n = new DataView(file.buffer).getUint32(at);
      out.push(Array.from(file.subarray(at, at + 12 + n)));
      at += 12 + n;
    }
    return out;
  };
  const validChunks = chunksOf(png);
  /** A valid sequence with a few parts inserted, replaced or removed at random places. */
  const edited = (valid: number[][], part: fc.Arbitrary<number[]>) =>
    fc.array(fc.record({ at: fc.nat(), action: fc.constantFrom('insert', 'replace', 'remove'), part }), { minLength: 1, maxLength: 3 }).map((edits) => {
      const out = valid.slice();
      for (const e of edits) {
        const i = e.at % (out.length + 1);
        if (e.action === 'insert') out.splice(i, 0, e.part);
        else if (i < out.length) out.splice(i, 1, ...(e.action === 'replace' ? [e.part] : []));
      }
      return out;
    });
  const dims = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constantFrom(...interestingU32));
  const ihdr = fc
    .record({ w: dims, h: dims, depth: fc.constantFrom(1, 2, 3, 4, 8, 16, 0, 255), ct: fc.constantFrom(0, 2, 3, 4, 6, 1, 7), il: fc.constantFrom(0, 1, 2) })
    .map(({ w, h, depth, ct, il }) => chunk('IHDR', [...u32(w), ...u32(h), depth, ct, 0, 0, il]));
  const pngChunk = fc.oneof(
    { arbitrary: fc.constantFrom(...validChunks), weight: 4 },
    { arbitrary: ihdr, weight: 2 },
    {
      arbitrary: fc
        .record({ type: fc.constantFrom('tEXt', 'PLTE', 'IDAT', 'IEND', 'zzZz', 'gAMA'), data: fc.uint8Array({ maxLength: 24 }) })
        .map(({ type, data }) => chunk(type, data)),
      weight: 2,
    },
    {
      arbitrary: fc
        .record({ length: fc.constantFrom(...interestingU32), type: fc.constantFrom('IDAT', 'IHDR', 'tEXt') })
        .map(({ length, type }) => [...u32(length), ...[...type].map((c) => c.charCodeAt(0)), 1, 2, 3]),
      weight: 1,
    },
  );

  function decodeChecked(b: Uint8Array, name: string) {
    const img = decodeImage(b, name);
    assert.ok(img.width * img.height <= MAX_IMAGE_PIXELS);
    assert.equal(img.pixels.length, img.width * img.height * img.channels);
  }

  it('PNG: random sequences of valid, forged and damaged chunks, CRCs mended (800 cases)', (t) => {
    const files = fc
      .oneof({ arbitrary: edited(validChunks, pngChunk), weight: 3 }, { arbitrary: fc.array(pngChunk, { maxLength: 7 }), weight: 1 })
      .map((chunks) => mendPngCrcs(Uint8Array.from([...png.subarray(0, 8), ...chunks.flat()])));
    const tally = fuzz(files, 800, (b) => decodeChecked(b, 'chunks.png'));
    t.diagnostic(`PNG chunk sequences ${JSON.stringify(tally)}`);
  });

  // The valid JPEG's segments, each from its marker up to the next (the scan with its data).
  const segments: number[][] = [];
  for (let at = 2; at < jpg.length; ) {
    const marker = jpg[at + 1];
    let end = marker === 0xd9 ? at + 2 : at + 2 + ((jpg[at + 2] << 8) | jpg[at + 3]);
    if (marker === 0xda) while (end + 1 < jpg.length && !(jpg[end] === 0xff && jpg[end + 1] === 0xd9)) end++;
    segments.push(Array.from(jpg.subarray(at, end)));
    at = end;
  }
  const sofAt = segments.findIndex((s) => s[1] === 0xc0);
  const sof = fc
    .record({
      marker: fc.constantFrom(0xc0, 0xc1, 0xc2, 0xc3, 0xc9),
      w: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constantFrom(0, 1, 8000, 60000, 65535)),
      h: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constantFrom(0, 1, 4000, 60000, 65535)),
    })
    .map(({ marker, w, h }) => {
      const s = segments[sofAt].slice();
      s[1] = marker;
      s.splice(5, 4, h >> 8, h & 255, w >> 8, w & 255);
      return s;
    });
  const jpegPart = fc.oneof(
    { arbitrary: fc.constantFrom(...segments), weight: 5 },
    { arbitrary: sof, weight: 2 },
    { arbitrary: fc.uint8Array({ minLength: 1, maxLength: 6 }).map((b) => Array.from(b)), weight: 1 }, // stray bytes
    {
      arbitrary: fc
        .record({ marker: fc.integer({ min: 0xe0, max: 0xfe }), data: fc.uint8Array({ maxLength: 12 }) })
        .map(({ marker, data }) => [0xff, marker, 0, data.length + 2, ...data]),
      weight: 1,
    },
  );

  it('JPEG: random sequences of valid segments, forged frame headers, stray bytes and APPn (800 cases)', (t) => {
    const files = fc
      .oneof({ arbitrary: edited(segments.slice(1, -1), jpegPart), weight: 3 }, { arbitrary: fc.array(jpegPart, { maxLength: 9 }), weight: 1 })
      .map((parts) => Uint8Array.from([0xff, 0xd8, ...parts.flat(), 0xff, 0xd9]));
    const tally = fuzz(files, 800, (b) => decodeChecked(b, 'markers.jpg'));
    t.diagnostic(`JPEG marker sequences ${JSON.stringify(tally)}`);
  });
});

describe('fuzz: ONNX', () => {
  const small = new Uint8Array(
    toOnnx(
      new Model(
        sequential(
          'tiny',
          [1, 8, 8],
          [
            { type: 'conv2d', filters: 3, kernel: 3, padding: 1 },
            { type: 'relu' },
            { type: 'maxpool2d', kernel: 2 },
            { type: 'flatten' },
            { type: 'dense', units: 4 },
          ],
        ),
        backend,
      ),
    ),
  );
  const torch = new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures/torch-mini-inception-resnet.onnx')));

  const load = (b: Uint8Array) => {
    parseOnnx(b, 'fuzz.onnx');
    const counting = countingBackend();
    try {
      loadOnnx(b, counting, 'fuzz.onnx');
    } finally {
      // Weights come from the file: building allocates no more than three times its size in values.
      assert.ok(counting.allocated <= 3 * b.length + 4096, `allocated ${counting.allocated} values for a ${b.length}-byte file`);
    }
  };

  it('the valid files load', () => {
    load(small);
    load(torch);
  });

  it('a 4 KB file claiming a 3001×3001 kernel is refused before the model is built', () => {
    const proto = onnx.ModelProto.decode(small);
    for (const a of proto.graph!.node!.find((n) => n.opType === 'Conv')!.attribute!) {
      if (a.name === 'kernel_shape') a.ints = [3001, 3001];
      if (a.name === 'pads') a.ints = [1500, 1500, 1500, 1500];
    }
    const counting = countingBackend();
    assert.throws(
      () => loadOnnx(onnx.ModelProto.encode(proto).finish(), counting, 'kernel.onnx'),
      (e: Error) => e instanceof FormatError && /kernel_shape \[3001,3001\] does not match/.test(e.message),
    );
    assert.equal(counting.allocated, 0);
  });

  it('random bytes (300 cases) and mutated files (600)', (t) => {
    const random = fuzz(fc.uint8Array({ maxLength: 200 }), 300, load);
    const mutated = fuzz(fc.oneof(mutatedBytes(small), mutatedBytes(torch)), 600, load);
    t.diagnostic(`random ${JSON.stringify(random)}, mutated ${JSON.stringify(mutated)}`);
  });

  it('the attributes of every operator importer: one replaced or added with a random type and value (400 cases)', (t) => {
    const A = onnx.AttributeProto.AttributeType;
    const w = (name: string, dims: number[]) => ({
      name,
      dims,
      dataType: 1,
      floatData: Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i) / 2 + 0.6),
    });
    const node = (opType: string, input: string[], output: string, attribute: object[] = []) => ({ name: output, opType, input, output: [output], attribute });
    const ints = (name: string, v: number[]) => ({ name, type: A.INTS, ints: v });
    // Dilated grouped Conv, BatchNormalization, LeakyRelu, LRN, squeeze-excitation (GlobalAveragePool, HardSigmoid, Mul),
    // Pad folded into AveragePool, MaxPool, ReduceMean, Gemm: the operators the importer gained.
    const graph = {
      name: 'new-ops',
      output: [{ name: 'y' }],
      input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'N' }, { dimValue: 4 }, { dimValue: 8 }, { dimValue: 8 }] } } } }],
      initializer: [w('cw', [4, 2, 3, 3]), w('s', [4]), w('b', [4]), w('m', [4]), w('v', [4]), w('fw', [3, 4])],
      node: [
        node('Conv', ['x', 'cw'], 'a', [
          ints('dilations', [2, 2]),
          ints('pads', [2, 2, 2, 2]),
          { name: 'group', type: A.INT, i: 2 },
          ints('strides', [1, 1]),
          ints('kernel_shape', [3, 3]),
        ]),
        node('BatchNormalization', ['a', 's', 'b', 'm', 'v'], 'bn', [
          { name: 'epsilon', type: A.FLOAT, f: 1e-5 },
          { name: 'momentum', type: A.FLOAT, f: 0.9 },
        ]),
        node('LeakyRelu', ['bn'], 'c', [{ name: 'alpha', type: A.FLOAT, f: 0.1 }]),
        node('LRN', ['c'], 'd', [
          { name: 'size', type: A.INT, i: 3 },
          { name: 'alpha', type: A.FLOAT, f: 1e-3 },
          { name: 'beta', type: A.FLOAT, f: 0.75 },
          { name: 'bias', type: A.FLOAT, f: 1 },
        ]),
        node('GlobalAveragePool', ['d'], 'g'),
        node('HardSigmoid', ['g'], 'h', [
          { name: 'alpha', type: A.FLOAT, f: 0.2 },
          { name: 'beta', type: A.FLOAT, f: 0.5 },
        ]),
        node('Mul', ['d', 'h'], 'se'),
        node('Pad', ['se'], 'p', [ints('pads', [0, 0, 1, 1, 0, 0, 1, 1]), { name: 'mode', type: A.STRING, s: new TextEncoder().encode('constant') }]),
        node('AveragePool', ['p'], 'ap', [ints('kernel_shape', [3, 3]), { name: 'count_include_pad', type: A.INT, i: 1 }]),
        node('MaxPool', ['ap'], 'mp', [ints('kernel_shape', [2, 2]), ints('strides', [2, 2]), { name: 'ceil_mode', type: A.INT, i: 0 }]),
        node('ReduceMean', ['mp'], 'rm', [ints('axes', [2, 3]), { name: 'keepdims', type: A.INT, i: 0 }]),
        node('Gemm', ['rm', 'fw'], 'y', [
          { name: 'transB', type: A.INT, i: 1 },
          { name: 'alpha', type: A.FLOAT, f: 0.5 },
        ]),
      ],
    };
    const encode = (g: typeof graph) =>
      onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 7, opsetImport: [{ domain: '', version: 13 }], graph: g as never })).finish();
    load(encode(graph));
    const names = [...new Set(graph.node.flatMap((n) => n.attribute.map((a) => (a as { name: string }).name))), 'auto_pad', 'axis', 'transA', 'ratio'];
    const value = fc.oneof(
      fc.record({ type: fc.constant(A.INT), i: fc.constantFrom(...interestingNumbers.filter(Number.isInteger), 0, 1, 2, 3, -1, -3) }),
      fc.record({ type: fc.constant(A.INTS), ints: fc.array(fc.constantFrom(0, 1, 2, 3, -1, 4, 1e6, 2 ** 40), { maxLength: 5 }) }),
      fc.record({ type: fc.constant(A.FLOAT), f: fc.constantFrom(NaN, Infinity, -Infinity, 0, -1, 1e-45, 3e38, 0.5, 5) }),
      fc.record({ type: fc.constant(A.FLOATS), floats: fc.array(fc.float(), { maxLength: 3 }) }),
      fc.record({
        type: fc.constant(A.STRING),
        s: fc.constantFrom('', 'SAME_UPPER', 'SAME_LOWER', 'VALID', 'reflect', '1', 'x').map((v) => new TextEncoder().encode(v)),
      }),
    );
    const edits = fc.array(fc.record({ node: fc.nat(graph.node.length - 1), name: fc.constantFrom(...names), value }), { minLength: 1, maxLength: 3 });
    const tally = fuzz(edits, 400, (list) => {
      const g = structuredClone(graph);
      for (const e of list) {
        const attrs = g.node[e.node].attribute as { name: string }[];
        const at = attrs.findIndex((a) => a.name === e.name);
        const replaced = { name: e.name, ...e.value };
        if (at >= 0) attrs[at] = replaced;
        else attrs.push(replaced);
      }
      load(encode(g));
    });
    t.diagnostic(`attributes ${JSON.stringify(tally)}`);
  });

  it('mutated graphs: fields of the decoded protobuf changed, re-encoded (600 cases)', (t) => {
    const asObject = (b: Uint8Array) => onnx.ModelProto.toObject(onnx.ModelProto.decode(b), { longs: Number, bytes: Array, defaults: false });
    const reencoded = fc.oneof(mutatedJson(asObject(small)), mutatedJson(asObject(torch))).map((o) => {
      try {
        return onnx.ModelProto.encode(onnx.ModelProto.fromObject(o as Record<string, unknown>)).finish();
      } catch {
        return undefined; // not representable as protobuf: nothing to test
      }
    });
    const tally = fuzz(reencoded, 600, (b) => {
      if (b) load(b);
    });
    t.diagnostic(`graphs ${JSON.stringify(tally)}`);
  });
});
