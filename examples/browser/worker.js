// Trains LeNet-5 on the backend `auto` picks, in a Worker (the wasm backend's threads block the
// calling thread, which only a Worker may do), and posts what happened to the page.
import { Model, evaluate, selectBackend, train, zoo } from 'convkit';
import { loadMnistFixture } from './fixture.js';

async function run() {
  const { backend, reason } = await selectBackend('auto');
  const { train: trainSet, test: testSet } = await loadMnistFixture('/mnist.gz');
  const model = new Model(zoo.lenet5.build(), backend, 1);
  const t0 = performance.now();
  const result = await train(model, trainSet, {
    epochs: 5,
    batchSize: 32,
    lr: 0.03,
    seed: 1,
    optimizer: { type: 'sgd', momentum: 0.9, weightDecay: 5e-4 },
    schedule: { type: 'cosine' },
  });
  const { accuracy } = await evaluate(model, testSet);
  return {
    backend: backend.name,
    reason,
    threads: backend.threads ?? 1,
    variant: backend.variant,
    crossOriginIsolated: self.crossOriginIsolated,
    trainCount: trainSet.count,
    testCount: testSet.count,
    trainLoss: result.trainLoss,
    accuracy,
    seconds: (performance.now() - t0) / 1000,
  };
}

run().then(
  (report) => postMessage(report),
  (e) => postMessage({ error: String(e?.stack ?? e) }),
);
