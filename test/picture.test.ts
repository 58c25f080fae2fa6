import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RefBackend } from '../src/backend/ref.ts';
import { type ImageDataset, fillBatch } from '../src/data/dataset.ts';
import { Model, sequential } from '../src/model/model.ts';
import { loadImageFolder } from '../src/node/folder.ts';
import { writePng } from '../src/node/image.ts';
import { loadMnist } from '../src/node/mnist.ts';
import { Tensor } from '../src/tensor.ts';
import { colourModelInput, greyModelInput, modelDataInfo } from '../src/cli/model-input.ts';

/**
 * convkit predict (and explain, visualize) must prepare a picture exactly as training prepared
 * the dataset's images: a stored image written to a PNG and read back by predict's path gives
 * the very numbers fillBatch gives for it.
 */

/** Image `index` of a dataset as fillBatch prepares it for an input of [C, h, w] (central crop). */
function fromDataset(ds: ImageDataset, index: number, [C, h, w]: number[]): Float32Array {
  const x = Tensor.zeros([1, C, h, w]);
  fillBatch(ds, [index], 0, x, new Uint8Array(1), { crop: 'center' });
  return x.data as Float32Array;
}

describe('pictures prepared for a model agree with fillBatch', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'convkit-picture-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const backend = new RefBackend();

  it("grey: MNIST test images through predict's --preprocess resize path, at the full size and with a central crop", () => {
    const mnist = loadMnist('test');
    for (const side of [28, 25]) {
      const model = new Model(sequential('probe', [1, side, side], [{ type: 'flatten' }, { type: 'dense', units: 10 }]), backend, 1);
      const info = modelDataInfo(model, {});
      for (const index of [0, 1, 7]) {
        const file = join(dir, `mnist-${index}.png`);
        const px = mnist.height * mnist.width;
        writePng(file, { width: mnist.width, height: mnist.height, channels: 1, pixels: mnist.images.slice(index * px, (index + 1) * px) });
        const { x, inverted } = greyModelInput(file, info, model, { preprocess: 'resize', invert: 'auto' });
        assert.equal(inverted, false, 'a white digit on black is not inverted');
        assert.deepEqual(Array.from(x.data), Array.from(fromDataset(mnist, index, [1, side, side])), `MNIST test image ${index} at ${side}×${side}`);
      }
    }
  });

  it("colour: an image folder's stored images through predict's colour path (central square, resize, crop, per-channel statistics)", () => {
    const root = join(dir, 'folder');
    const files: string[] = [];
    for (const [k, name] of ['a', 'b'].entries()) {
      mkdirSync(join(root, name), { recursive: true });
      // Not square, with transparency: the central square and the composite over white are part of the path.
      const width = 90 + 7 * k,
        height = 80,
        pixels = new Uint8Array(width * height * 4);
      for (let i = 0; i < width * height; i++) pixels.set([(i * 7 + k * 50) % 256, (i * 13) % 256, (i >> 3) % 256, 128 + (i % 128)], i * 4);
      files.push(join(root, name, 'one.png'));
      writePng(files[k], { width, height, channels: 4, pixels });
    }
    const ds = loadImageFolder(root, 'train', { size: 73, channels: 3 });
    const model = new Model(sequential('probe', [3, 64, 64], [{ type: 'flatten' }, { type: 'dense', units: 2 }]), backend, 1);
    const info = { dataset: `folder:${root}`, channels: 3, height: 73, width: 73, mean: ds.mean, std: ds.std, classes: ds.classes };
    for (let index = 0; index < ds.count; index++) {
      const x = colourModelInput(files[ds.labels[index]], info, model);
      assert.deepEqual(Array.from(x.data), Array.from(fromDataset(ds, index, [3, 64, 64])), `folder image of class ${ds.classes[ds.labels[index]]}`);
    }
  });
});
