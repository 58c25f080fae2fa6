// ONNX round trip: a LeNet-5 (trained briefly) exported to ONNX, imported back, and the two
// compared on test digits: the same predictions, the same probabilities up to float rounding.
//   node examples/onnx-roundtrip.mjs [--out lenet5.onnx]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Model, Tensor, createBackend, fillBatch, limitDataset, loadOnnx, toOnnx, train, zoo } from 'convkit';
import { loadMnist } from 'convkit/node';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'lenet5.onnx' } } });
const backend = await createBackend('wasm');
const model = new Model(zoo.lenet5.build(), backend, 1);
await train(model, limitDataset(loadMnist('train'), 3000), {
  epochs: 1,
  batchSize: 32,
  lr: 0.03,
  seed: 1,
  optimizer: { type: 'sgd', momentum: 0.9 },
  schedule: { type: 'constant' },
});

const bytes = toOnnx(model);
writeFileSync(values.out, bytes);
const imported = loadOnnx(bytes, backend, values.out);
console.log(`${values.out}: ${bytes.length} bytes, ${imported.parameterCount()} parameters (original ${model.parameterCount()})`);

const N = 100;
const x = new Tensor([N, 1, 28, 28], backend.alloc(N * 28 * 28));
fillBatch(
  limitDataset(loadMnist('test'), N),
  Array.from({ length: N }, (_, i) => i),
  0,
  x,
  new Uint8Array(N),
  { crop: 'center' },
);
const a = Float32Array.from((await model.predictAsync(x)).data);
const b = Float32Array.from((await imported.predictAsync(x)).data);
let maxDifference = 0,
  sameClass = 0;
for (let n = 0; n < N; n++) {
  const row = (p) => Array.from(p.subarray(n * 10, n * 10 + 10));
  const top = (r) => r.indexOf(Math.max(...r));
  if (top(row(a)) === top(row(b))) sameClass++;
  for (let k = 0; k < 10; k++) maxDifference = Math.max(maxDifference, Math.abs(a[n * 10 + k] - b[n * 10 + k]));
}
console.log(`same top class for ${sameClass}/${N} digits; largest probability difference ${maxDifference.toExponential(2)}`);
if (sameClass !== N || maxDifference > 1e-5) process.exit(1);
