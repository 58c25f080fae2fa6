/**
 * Fetches the MNIST files made by web/scripts/build-mnist.mjs and turns them into the
 * library's ImageDataset with its own IDX parser.
 */
import { type ImageDataset, datasetFromIdx } from '../../../src/index.js';

export type MnistPart = 'train' | 'test';

export async function fetchMnist(baseUrl: string, part: MnistPart): Promise<ImageDataset> {
  const url = new URL(`data/mnist-${part}.bin`, baseUrl);
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`could not fetch ${url.pathname} (${response.status}); run the web build, which generates it`);
  const inflated = response.body.pipeThrough(new DecompressionStream('gzip'));
  const bytes = new Uint8Array(await new Response(inflated).arrayBuffer());
  const imagesLength = new DataView(bytes.buffer).getUint32(0, true);
  const images = bytes.subarray(4, 4 + imagesLength);
  const labels = bytes.subarray(4 + imagesLength);
  return datasetFromIdx(`mnist-${part}`, images, `mnist-${part} images`, labels, `mnist-${part} labels`);
}
