import { type Command, Option } from 'commander';
import { createBackend } from '../backend/index.js';
import { limitDataset } from '../data/dataset.js';
import { type FeatureKind, extractFeatures, standardise } from '../image/features.js';
import { linearAccuracy, linearDefaults, trainLinear } from '../image/linear.js';
import { loadDataset } from '../node/datasets.js';
import { backendOption, jsonOption, setting } from './options.js';
import { Output, percent } from './output.js';

export interface BaselineCommandOptions {
  features: FeatureKind;
  dataset: string;
  trainLimit?: number;
  testLimit?: number;
  epochs?: number;
  seed: number;
  backend?: string;
  json?: boolean;
}

/** `convkit baseline`: the pre-CNN pipeline to compare with. */
export function registerBaselineCommand(program: Command): void {
  program
    .command('baseline')
    .description('hand-made features (HOG, dense SIFT or raw pixels) + a linear classifier: test accuracy and time')
    .addOption(new Option('--features <kind>', 'feature extractor').choices(['hog', 'sift', 'pixels']).default('hog'))
    .option('--dataset <name>', 'dataset', 'mnist')
    .option('--train-limit <n>', 'use only the first N training images', setting('trainLimit', '--train-limit'))
    .option('--test-limit <n>', 'use only the first N test images', setting('testLimit', '--test-limit'))
    .option('--epochs <n>', 'passes over the training set', setting('epochs', '--epochs'))
    .option('--seed <n>', 'random seed', setting('seed', '--seed'), 1)
    .addOption(backendOption('compute backend for training: auto (WebGPU on a hardware GPU, else wasm), wasm, webgpu or ref'))
    .addOption(jsonOption('print the result as one JSON object'))
    .action((o) => baselineCommand(o));
}

const names: Record<FeatureKind, string> = { pixels: 'raw pixels', hog: 'HOG', sift: 'dense SIFT' };
const seconds = (since: number) => (performance.now() - since) / 1000;

/**
 * `convkit baseline`: hand-made features + multinomial logistic regression, the pre-CNN
 * pipeline, timed in two parts (feature extraction, training) and scored on the test set.
 */
export async function baselineCommand(o: BaselineCommandOptions): Promise<void> {
  const out = new Output(!!o.json);
  const trainSet = limitDataset(loadDataset(o.dataset, 'train'), o.trainLimit);
  const testSet = limitDataset(loadDataset(o.dataset, 'test'), o.testLimit);
  const epochs = o.epochs ?? linearDefaults.epochs;
  out.text(`${names[o.features]} + linear classifier on ${o.dataset}: ${trainSet.count} training, ${testSet.count} test images`);

  let t = performance.now();
  const train = extractFeatures(trainSet, o.features);
  const test = extractFeatures(testSet, o.features);
  standardise(train, test);
  const featureSeconds = seconds(t);
  out.text(`features: ${train.dim} per image, ${featureSeconds.toFixed(1)} s`);
  out.event({ type: 'features', features: o.features, length: train.dim, seconds: featureSeconds });

  t = performance.now();
  const backend = await createBackend(o.backend ?? 'auto');
  let trainSeconds: number, testAccuracy: number;
  try {
    const model = await trainLinear(train, trainSet.classes.length, {
      epochs,
      seed: o.seed,
      backend,
      onEpoch: (e) => {
        out.event({ type: 'epoch', ...e });
        out.text(`epoch ${e.epoch}/${epochs}: loss ${e.loss.toFixed(4)}, train accuracy ${percent(e.trainAccuracy)}, ${e.seconds.toFixed(1)} s`);
      },
    });
    trainSeconds = seconds(t);
    testAccuracy = await linearAccuracy(model, test);
  } finally {
    // Stop the backend's worker threads (wasm) so the process can exit, after an error too.
    backend.dispose?.();
  }
  out.text(
    `${names[o.features]} + linear: test accuracy ${percent(testAccuracy)}; features ${featureSeconds.toFixed(1)} s, training ${trainSeconds.toFixed(1)} s`,
  );
  out.event({
    type: 'result',
    features: o.features,
    dataset: o.dataset,
    backend: backend.name,
    testAccuracy,
    featureLength: train.dim,
    featureSeconds,
    trainSeconds,
    seconds: featureSeconds + trainSeconds,
    epochs,
    trainExamples: train.count,
    testExamples: test.count,
  });
}
