// Reads the MNIST slice of test/fixtures/mnist-3000-500.gz (scripts/mnist-fixture.mjs): four
// IDX files, each preceded by its length (big-endian uint32), gzipped. Your own data can come
// the same way: datasetFromIdx over the bytes of an IDX image file and an IDX label file.
import { datasetFromIdx } from 'convkit';

export async function loadMnistFixture(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const unzipped = response.body.pipeThrough(new DecompressionStream('gzip'));
  const bytes = new Uint8Array(await new Response(unzipped).arrayBuffer());
  const view = new DataView(bytes.buffer);
  const parts = [];
  for (let at = 0; parts.length < 4; ) {
    const length = view.getUint32(at);
    parts.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return {
    train: datasetFromIdx('mnist-train', parts[0], 'train-images', parts[1], 'train-labels'),
    test: datasetFromIdx('mnist-test', parts[2], 'test-images', parts[3], 'test-labels'),
  };
}
