/**
 * TensorFlow.js 4.22: the pure-JavaScript 'cpu' backend and the 'wasm' backend (XNNPACK,
 * SIMD, threads forced on). Networks are built from core ops in NHWC (TF.js's layout), trained
 * with tf.train.momentum through optimizer.minimize (variableGrads underneath).
 */
import { createRequire } from 'node:module';
import { Unsupported, timeSteps } from '../lib/measure.mjs';
import { withWasmThreads } from './tfjs-wasm-threads.mjs';

const require = createRequire(import.meta.url);
const LR = 0.01;

export async function open(ctx) {
  const wantCpu = ctx.wants('tfjs-cpu'),
    wantWasm = ctx.wants('tfjs-wasm');
  if (!wantCpu && !wantWasm) return [];
  const tf = require('@tensorflow/tfjs');
  // Production mode: no debug checks, and no "install tfjs-node" banner on stdout.
  tf.enableProdMode();
  const libs = [];
  if (wantCpu) {
    await tf.setBackend('cpu');
    libs.push(library(tf, ctx, 'cpu', `TF.js ${tf.version.tfjs} cpu`));
  }
  if (wantWasm) {
    const wasm = require('@tensorflow/tfjs-backend-wasm');
    let cleanup = () => {};
    try {
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
      wasm.setThreadsCount(ctx.cores);
      cleanup = await withWasmThreads(require, async () => {
        if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
      });
      const threads = wasm.getThreadsCount();
      const lib = library(
        tf,
        ctx,
        'wasm',
        `TF.js ${tf.version.tfjs} wasm (SIMD ${tf.env().get('WASM_HAS_SIMD_SUPPORT') ? 'on' : 'off'}, ${threads} thread${threads > 1 ? 's' : ''})`,
      );
      lib.close = cleanup;
      libs.push(lib);
    } catch (e) {
      cleanup();
      ctx.unavailable('tfjs-wasm', 'TF.js wasm', e.message ?? String(e));
    }
  }
  return libs;
}

function library(tf, ctx, backend, label) {
  return {
    id: `tfjs-${backend}`,
    label,
    // TF.js cpu takes well over a minute per AlexNet training step (measured > 100 s).
    skip: (work, o) => (backend === 'cpu' && work.id.startsWith('alexnet-train') && !o.slow ? 'TF.js cpu takes > 100 s per step; --slow runs it' : null),
    prepare: async (work) => {
      await tf.setBackend(backend);
      return work.kind === 'gemm' ? prepareGemm(tf, backend, work.size) : prepareNet(tf, ctx, backend, work);
    },
  };
}

/** Builds the forward function and its variables; throws Unsupported for layers TF.js lacks. */
function buildNet(tf, net) {
  const vars = [];
  const weight = (shape, fanIn) => {
    const v = tf.variable(tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn)));
    vars.push(v);
    return v;
  };
  const zeros = (n) => {
    const v = tf.variable(tf.zeros([n]));
    vars.push(v);
    return v;
  };
  const ops = net.layers.map((l) => {
    switch (l.type) {
      case 'conv2d': {
        const cin = l.inShape[0] / l.groups,
          fanIn = cin * l.kernel[0] * l.kernel[1];
        const pad = [
          [0, 0],
          [l.padding[0], l.padding[0]],
          [l.padding[1], l.padding[1]],
          [0, 0],
        ];
        const ws = Array.from({ length: l.groups }, () => weight([l.kernel[0], l.kernel[1], cin, l.filters / l.groups], fanIn));
        const b = l.bias ? zeros(l.filters) : null;
        return (x) => {
          // TF.js has no grouped convolution: one convolution per group, concatenated.
          const xs = l.groups === 1 ? [x] : tf.split(x, l.groups, 3);
          const ys = xs.map((xi, g) => tf.conv2d(xi, ws[g], l.stride, pad));
          const y = ys.length === 1 ? ys[0] : tf.concat(ys, 3);
          return b ? tf.add(y, b) : y;
        };
      }
      case 'maxpool2d':
      case 'avgpool2d': {
        if (l.ceil) throw new Unsupported('not comparable: TF.js pooling has no ceil mode');
        const pad = l.padding[0] === 0 && l.padding[1] === 0 ? 'valid' : l.padding[0] === l.padding[1] ? l.padding[0] : null;
        if (pad === null) throw new Unsupported('not comparable: TF.js pooling takes one padding for both sides');
        const pool = l.type === 'maxpool2d' ? tf.maxPool : tf.avgPool;
        return (x) => pool(x, l.kernel, l.stride, pad);
      }
      case 'dense': {
        const fanIn = l.inShape.reduce((a, b) => a * b, 1);
        const w = weight([fanIn, l.units], fanIn),
          b = l.bias ? zeros(l.units) : null;
        return (x) => (b ? tf.add(tf.matMul(x, w), b) : tf.matMul(x, w));
      }
      case 'relu':
        return (x) => tf.relu(x);
      case 'tanh':
        return (x) => tf.tanh(x);
      case 'sigmoid':
        return (x) => tf.sigmoid(x);
      case 'softmax':
        return (x) => tf.softmax(x);
      case 'flatten':
        return (x) => tf.reshape(x, [x.shape[0], -1]);
      case 'dropout':
        return (x, training) => (training ? tf.dropout(x, l.rate) : x);
      case 'lrn': {
        // TF.js sums over a radius and does not divide alpha by the window size.
        if (l.size % 2 !== 1) throw new Unsupported('not comparable: TF.js LRN windows are odd');
        return (x) => tf.localResponseNormalization(x, (l.size - 1) / 2, l.k, l.alpha / l.size, l.beta);
      }
      default:
        throw new Unsupported(`not comparable: no ${l.type} layer in this translation`);
    }
  });
  return { vars, forward: (x, training) => ops.reduce((h, op) => op(h, training), x) };
}

async function prepareNet(tf, ctx, backend, work) {
  if (!work.net.sequential) throw new Unsupported('not comparable: only chains are translated');
  const { vars, forward } = buildNet(tf, work.net);
  const [C, H, W] = work.net.inputShape;
  const batches = ctx.batches(work);
  const xs = batches.x.map((x) => tf.tidy(() => tf.transpose(tf.tensor4d(x, [work.batch, C, H, W]), [0, 2, 3, 1])));
  const tensors = [...xs];
  const release = () => {
    tf.dispose(tensors);
    tf.dispose(vars);
  };
  const expected = [work.batch, ...work.net.layers.at(-1).outShape];
  let shape;
  try {
    shape = tf.tidy(() => forward(xs[0], false).shape);
  } catch (e) {
    release();
    throw missingKernel(e, 'cannot run') ?? e;
  }
  if (JSON.stringify(shape) !== JSON.stringify(expected)) {
    release();
    throw new Error(`TF.js output ${JSON.stringify(shape)} differs from convkit's ${JSON.stringify(expected)}`);
  }
  const use = async () => {
    await tf.setBackend(backend);
  };
  if (work.kind === 'infer') {
    const step = (i) =>
      tf.tidy(() => {
        forward(xs[i % xs.length], false).dataSync();
      });
    return {
      time: async (n) => {
        await use();
        return timeSteps(step, n);
      },
      release,
    };
  }
  const onehots = batches.labels.map((l) => tf.tidy(() => tf.oneHot(tf.tensor1d(l, 'int32'), work.net.classes).toFloat()));
  tensors.push(...onehots);
  const optimizer = tf.train.momentum(LR, 0.9);
  const step = (i) =>
    tf.tidy(() => {
      optimizer.minimize(() => tf.losses.softmaxCrossEntropy(onehots[i % xs.length], forward(xs[i % xs.length], true)), false, vars);
    });
  try {
    step(0);
  } catch (e) {
    release();
    optimizer.dispose();
    // The wasm backend lacks the conv filter-gradient kernel: a limitation to report, not a failure.
    throw missingKernel(e, 'cannot train') ?? e;
  }
  return {
    time: async (n) => {
      await use();
      return timeSteps(step, n);
    },
    release: () => {
      release();
      optimizer.dispose();
    },
  };
}

/** An Unsupported for a kernel the backend does not have, else null. */
function missingKernel(e, what) {
  const msg = (e?.message ?? String(e)).split('\n')[0];
  return /not registered|not implemented/i.test(msg) ? new Unsupported(`${what}: ${msg}`) : null;
}

function prepareGemm(tf, backend, n) {
  const a = tf.randomUniform([n, n], -1, 1),
    b = tf.randomUniform([n, n], -1, 1);
  // cpu and wasm run kernels eagerly inside the op call: the product is computed when matMul returns.
  const step = () => tf.matMul(a, b).dispose();
  return {
    time: async (steps) => {
      await tf.setBackend(backend);
      return timeSteps(step, steps);
    },
    release: () => tf.dispose([a, b]),
  };
}
