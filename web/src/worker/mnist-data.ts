/**
 * Fetches the MNIST files made by web/scripts/build-mnist.mjs and turns them into the
 * library's ImageDataset with its own IDX parser, reporting progress as the bytes arrive.
 */
import { type ImageDataset, datasetFromIdx } from 'convkit';

export type MnistPart = 'train' | 'test';

/** `loaded` of `total` compressed bytes (total 0 when the server does not say). */
export type DataProgress = (loaded: number, total: number) => void;

export async function fetchMnist(baseUrl: string, part: MnistPart, onProgress: DataProgress = () => {}): Promise<ImageDataset> {
  const url = new URL(`data/mnist-${part}.bin`, baseUrl);
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`could not fetch ${url.pathname} (${response.status}); run the web build, which generates it`);
  const total = Number(response.headers.get('content-length') ?? 0) || 0;
  let loaded = 0;
  const counted = response.body.pipeThrough(
    new TransformStream<Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>>({
      transform(chunk, controller) {
        loaded += chunk.byteLength;
        onProgress(loaded, total);
        controller.enqueue(chunk);
      },
    }),
  );
  const inflated = counted.pipeThrough(new DecompressionStream('gzip'));
  const bytes = new Uint8Array(await new Response(inflated).arrayBuffer());
  const imagesLength = new DataView(bytes.buffer).getUint32(0, true);
  const images = bytes.subarray(4, 4 + imagesLength);
  const labels = bytes.subarray(4 + imagesLength);
  return datasetFromIdx(`mnist-${part}`, images, `mnist-${part} images`, labels, `mnist-${part} labels`);
}
