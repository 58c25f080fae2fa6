// A Node ESM program that uses convkit as an installed dependency: trains LeNet-5 for a few
// hundred steps on real MNIST digits (convkit/node's loadMnist), saves the model, loads it back
// and checks that the loaded copy predicts the same. Prints one JSON line; exits 1 on failure.
// Usage: node train.mjs OUT_DIR
import { join } from 'node:path';
import { Model, createBackend, evaluate, limitDataset, train, zoo } from 'convkit';
import { loadMnist, loadModel, saveModel } from 'convkit/node';

const outDir = process.argv[2] ?? '.';
const backend = await createBackend('auto');
const model = new Model(zoo.lenet5.build(), backend, 1);
const BATCH = 32,
  EPOCHS = 2;
const trainSet = limitDataset(loadMnist('train'), 9600);
const testSet = limitDataset(loadMnist('test'), 1000);
const result = await train(model, trainSet, {
  epochs: EPOCHS,
  batchSize: BATCH,
  lr: 0.03,
  seed: 1,
  optimizer: { type: 'sgd', momentum: 0.9, weightDecay: 5e-4 },
  schedule: { type: 'cosine' },
});
const trained = await evaluate(model, testSet);

const file = join(outDir, 'lenet5.convkit');
saveModel(file, model, { note: 'consumer test' });
const { model: loaded, metadata } = loadModel(file, backend);
const reloaded = await evaluate(loaded, testSet);

const report = {
  backend: backend.name,
  threads: backend.threads ?? 1,
  steps: EPOCHS * Math.ceil(trainSet.count / BATCH),
  trainLoss: result.trainLoss,
  accuracy: trained.accuracy,
  reloadedAccuracy: reloaded.accuracy,
  metadata,
};
console.log(JSON.stringify(report));
if (!(trained.accuracy > 0.9) || reloaded.accuracy !== trained.accuracy) process.exit(1);
