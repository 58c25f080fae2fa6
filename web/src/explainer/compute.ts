/**
 * The explainer's numbers come from the library itself: a one-layer Model (conv2d without
 * bias, or a pooling layer) on the reference backend, the same code that trains the networks.
 * It follows the backend residency contract like any caller (upload after host writes,
 * download before host reads), so another backend could be dropped in; on the reference
 * backend both are free.
 */
import { type Backend, Model, RefBackend, Tensor, sequential } from 'convkit';

export type Grid = number[][];

export interface ConvSettings {
  stride: number;
  padding: number;
}

export type PoolKind = 'max' | 'avg';

// Double precision so a blur's 1/9 shows as 0.333…, not float32 noise.
const backend: Backend = new RefBackend('float64');

export async function convolve(image: Grid, kernel: Grid, { stride, padding }: ConvSettings): Promise<Grid> {
  const spec = sequential(
    'explainer-conv',
    [1, image.length, image[0].length],
    [{ type: 'conv2d', filters: 1, kernel: [kernel.length, kernel[0].length], stride, padding, bias: false }],
  );
  const model = new Model(spec, backend);
  model.parameters()[0].value.data.set(kernel.flat());
  model.uploadWeights();
  return run(model, image);
}

export async function pool(image: Grid, kind: PoolKind, size: number, { stride, padding }: ConvSettings): Promise<Grid> {
  const spec = sequential(
    'explainer-pool',
    [1, image.length, image[0].length],
    [{ type: kind === 'max' ? 'maxpool2d' : 'avgpool2d', kernel: size, stride, padding }],
  );
  return run(new Model(spec, backend), image);
}

async function run(model: Model, image: Grid): Promise<Grid> {
  const [H, W] = [image.length, image[0].length];
  const x = new Tensor([1, 1, H, W], backend.alloc(H * W));
  x.data.set(image.flat());
  backend.upload(x.data);
  const y = model.forward(x);
  await backend.download([y.data]);
  const [, , OH, OW] = y.shape;
  return Array.from({ length: OH }, (_, i) => Array.from(y.data.subarray(i * OW, (i + 1) * OW)));
}

/** The lecture's 7×7 binary image and 3×3 kernel (whose output is 32231/20210/22100/31000/10000). */
export const lectureImage: Grid = ['0000000', '0111110', '0100100', '0101000', '0110000', '0100000', '0000000'].map((row) => [...row].map(Number));
export const lectureKernel: Grid = [
  [0, 0, 0],
  [0, 1, 1],
  [0, 1, 0],
];
