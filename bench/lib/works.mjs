/**
 * The catalogue of measured works. A work says what one "step" is (one training step on a
 * batch, one forward pass of a batch, one matrix product) and how a timed run of n steps
 * turns into the reported figure.
 */
import { describeNet } from './nets.mjs';

export const UNITS = {
  'img/s': { higherIsBetter: true },
  'GFLOP/s': { higherIsBetter: true },
  ms: { higherIsBetter: false },
};

/** The reported figure of a run of n steps that took `seconds`. */
export function figure(work, n, seconds) {
  switch (work.unit) {
    case 'img/s':
      return (n * work.batch) / seconds;
    case 'ms':
      return (seconds / n) * 1000;
    case 'GFLOP/s':
      return (n * 2 * work.size ** 3) / seconds / 1e9;
    default:
      throw new Error(`unknown unit ${work.unit}`);
  }
}

const NETS = [
  { zoo: 'convnetjs-mnist', short: 'convnetjs', title: 'ConvNetJS demo net' },
  { zoo: 'lenet5', short: 'lenet5', title: 'LeNet-5' },
];

/** Every work this convkit build supports, in report order. AlexNet appears once the zoo has it. */
export function allWorks(ck) {
  const works = [];
  const nets = NETS.filter((n) => ck.zoo[n.zoo]).map((n) => ({ ...n, net: describeNet(ck, n.zoo) }));
  for (const n of nets) {
    works.push({ id: `train-${n.short}-b64`, title: `${n.title}, training, batch 64`, kind: 'train', net: n.net, batch: 64, unit: 'img/s', mnist: true });
  }
  for (const batch of [64, 1]) {
    for (const n of nets) {
      works.push({
        id: `infer-${n.short}-b${batch}`,
        title: `${n.title}, inference, batch ${batch}`,
        kind: 'infer',
        net: n.net,
        batch,
        unit: 'img/s',
        mnist: true,
      });
    }
  }
  for (const size of [256, 1024]) {
    works.push({ id: `sgemm-${size}`, title: `SGEMM ${size}³`, kind: 'gemm', size, unit: 'GFLOP/s' });
  }
  if (ck.zoo.alexnet) {
    const net = describeNet(ck, 'alexnet');
    works.push({ id: 'alexnet-forward-b1', title: 'AlexNet forward, batch 1', kind: 'infer', net, batch: 1, unit: 'ms', mnist: false });
    works.push({ id: 'alexnet-train-b16', title: 'AlexNet training step, batch 16', kind: 'train', net, batch: 16, unit: 'ms', mnist: false });
  }
  return works;
}
