// Trains LeNet-5 on MNIST with convkit in Node, evaluates it and saves it.
//   node examples/node-train.mjs [--train-limit N] [--epochs N] [--out FILE]
// (in a project that depends on convkit; in this repository after `npm run build`).
// On Node 20 add --experimental-wasm-relaxed-simd for the faster kernel build.
import { parseArgs } from 'node:util';
import { Model, evaluate, limitDataset, selectBackend, train, zoo } from 'convkit';
import { loadMnist, saveModel } from 'convkit/node';

const { values } = parseArgs({
  options: {
    'train-limit': { type: 'string', default: '60000' },
    epochs: { type: 'string', default: '3' },
    out: { type: 'string', default: 'lenet5.convkit' },
  },
});

const { backend, reason } = await selectBackend('auto');
console.log(`backend: ${reason}`);
const model = new Model(zoo.lenet5.build(), backend, 1);
const trainSet = limitDataset(loadMnist('train'), Number(values['train-limit']));
const testSet = loadMnist('test');
await train(model, trainSet, {
  epochs: Number(values.epochs),
  batchSize: 32,
  lr: 0.03,
  seed: 1,
  optimizer: { type: 'sgd', momentum: 0.9, weightDecay: 5e-4 },
  schedule: { type: 'cosine' },
  testSet,
  onEvent: (e) => {
    if (e.type === 'epoch')
      console.log(
        `epoch ${e.epoch}: loss ${e.trainLoss.toFixed(4)}, test accuracy ${(100 * e.testAccuracy).toFixed(2)} %, ${Math.round(e.imagesPerSecond)} images/s`,
      );
  },
});
const { accuracy, confusion } = await evaluate(model, testSet);
const perDigit = confusion.map((row, digit) => `${digit}: ${((100 * row[digit]) / row.reduce((s, v) => s + v, 0)).toFixed(1)} %`);
console.log(`test accuracy ${(100 * accuracy).toFixed(2)} % (${perDigit.join(', ')})`);
saveModel(values.out, model, { trainImages: trainSet.count });
console.log(`saved ${values.out}`);
