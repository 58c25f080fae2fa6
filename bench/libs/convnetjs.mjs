/**
 * ConvNetJS 0.3.0 (Karpathy): plain-JavaScript CNNs, one example at a time; its Trainer
 * accumulates gradients and steps every batch_size examples.
 */
import { createRequire } from 'node:module';
import { Unsupported, timeSteps } from '../lib/measure.mjs';

const require = createRequire(import.meta.url);
const LR = 0.01;

export async function open(ctx) {
  if (!ctx.wants('convnetjs')) return [];
  const convnetjs = require('convnetjs');
  const version = require('convnetjs/package.json').version;
  return [
    {
      id: 'convnetjs',
      label: `ConvNetJS ${version}`,
      // One example at a time in plain JS: an AlexNet training step at batch 16 took ~3 minutes here.
      skip: (work, o) => (work.id.startsWith('alexnet-train') && !o.slow ? 'ConvNetJS takes minutes per AlexNet step; --slow runs it' : null),
      prepare: (work) => (work.kind === 'gemm' ? null : prepare(convnetjs, ctx, work)),
    },
  ];
}

/** ConvNetJS layer definitions for a convkit net; throws Unsupported for what ConvNetJS lacks. */
export function layerDefs(net) {
  const [C, H, W] = net.inputShape;
  const defs = [{ type: 'input', out_sx: W, out_sy: H, out_depth: C }];
  const expected = []; // output shapes of conv and pool layers, checked after building
  const square = (l, what) => {
    if (l[what][0] !== l[what][1]) throw new Unsupported(`not comparable: ConvNetJS has square ${what}s only (layer ${l.name})`);
    return l[what][0];
  };
  net.layers.forEach((l, i) => {
    const last = i === net.layers.length - 1;
    switch (l.type) {
      case 'conv2d':
        if (l.groups !== 1) throw new Unsupported(`not comparable: ConvNetJS has no grouped convolution (layer ${l.name})`);
        defs.push({ type: 'conv', sx: square(l, 'kernel'), filters: l.filters, stride: square(l, 'stride'), pad: square(l, 'padding') });
        expected.push(l.outShape);
        break;
      case 'maxpool2d':
        if (l.ceil) throw new Unsupported(`not comparable: ConvNetJS pooling has no ceil mode (layer ${l.name})`);
        defs.push({ type: 'pool', sx: square(l, 'kernel'), stride: square(l, 'stride'), pad: square(l, 'padding') });
        expected.push(l.outShape);
        break;
      case 'dense':
        // The logits layer becomes ConvNetJS's softmax, which brings its own fully connected layer.
        defs.push(last ? { type: 'softmax', num_classes: l.units } : { type: 'fc', num_neurons: l.units });
        break;
      case 'relu':
      case 'tanh':
      case 'sigmoid':
        defs.push({ type: l.type });
        break;
      case 'dropout':
        defs.push({ type: 'dropout', drop_prob: l.rate });
        break;
      case 'lrn':
        defs.push({ type: 'lrn', k: l.k, n: l.size, alpha: l.alpha, beta: l.beta });
        break;
      case 'flatten':
        break; // ConvNetJS's fc layers read any volume
      case 'softmax':
        if (!last) throw new Unsupported('softmax inside the net');
        break;
      default:
        throw new Unsupported(`not comparable: ConvNetJS has no ${l.type} layer`);
    }
  });
  if (net.layers.at(-1).type !== 'dense' && net.layers.at(-1).type !== 'softmax') throw new Unsupported('net does not end in a dense layer');
  return { defs, expected };
}

function prepare(convnetjs, ctx, work) {
  if (!work.net.sequential) throw new Unsupported('not comparable: ConvNetJS nets are chains');
  const { defs, expected } = layerDefs(work.net);
  const net = new convnetjs.Net();
  net.makeLayers(defs);
  const got = net.layers.filter((l) => l.layer_type === 'conv' || l.layer_type === 'pool').map((l) => [l.out_depth, l.out_sy, l.out_sx]);
  if (JSON.stringify(got) !== JSON.stringify(expected))
    throw new Error(`ConvNetJS shapes ${JSON.stringify(got)} differ from convkit's ${JSON.stringify(expected)}`);

  const [C, H, W] = work.net.inputShape;
  const batches = ctx.batches(work);
  // ConvNetJS volumes are HWC; one Vol per example, made before timing.
  const vols = batches.x.map((x) =>
    Array.from({ length: work.batch }, (_, n) => {
      const v = new convnetjs.Vol(W, H, C, 0);
      for (let c = 0; c < C; c++)
        for (let y = 0; y < H; y++)
          for (let xx = 0; xx < W; xx++) {
            v.w[(y * W + xx) * C + c] = x[((n * C + c) * H + y) * W + xx];
          }
      return v;
    }),
  );
  if (work.kind === 'infer') {
    return {
      time: (steps) =>
        timeSteps((i) => {
          for (const v of vols[i % vols.length]) net.forward(v, false);
        }, steps),
    };
  }
  const trainer = new convnetjs.Trainer(net, { method: 'sgd', learning_rate: LR, momentum: 0.9, batch_size: work.batch, l2_decay: 0 });
  const step = (i) => {
    const b = i % vols.length,
      labels = batches.labels[b];
    vols[b].forEach((v, n) => trainer.train(v, labels[n]));
  };
  return { time: (steps) => timeSteps(step, steps) };
}
