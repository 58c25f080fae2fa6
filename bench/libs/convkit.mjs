/**
 * convkit with every backend its createBackend accepts. A backend that takes a thread count
 * (it exposes `threads`) is measured on one thread and on all cores.
 */
import { availableParallelism } from 'node:os';
import { timeSteps } from '../lib/measure.mjs';
import { randomMatrix } from '../lib/data.mjs';

const LR = 0.01;

/** The backend variants to measure: [{ id, label, name, options }]. */
async function variants(ck, cores, wants) {
  const out = [];
  for (const name of ck.backendNames) {
    const probe = wants(`convkit-${name}`) || wants(`convkit-${name}-1t`) || wants(`convkit-${name}-${cores}t`);
    if (!probe) continue;
    let backend;
    try {
      backend = await ck.createBackend(name);
    } catch (e) {
      out.push({ id: `convkit-${name}`, label: `convkit ${name}`, unavailable: e.message.split('\n')[0] });
      continue;
    }
    const threaded = typeof backend.threads === 'number';
    const detail = backend.variant ? ` ${backend.variant}` : '';
    backend.dispose?.();
    if (!threaded) {
      out.push({ id: `convkit-${name}`, label: `convkit ${name}${detail}`, name, options: {} });
      continue;
    }
    for (const threads of [...new Set([1, cores])]) {
      out.push({
        id: `convkit-${name}-${threads}t`,
        label: `convkit ${name}${detail}, ${threads} thread${threads > 1 ? 's' : ''}`,
        name,
        options: { threads },
      });
    }
  }
  return out;
}

export async function open(ctx) {
  const { ck } = ctx;
  const cores = availableParallelism();
  const libs = [];
  for (const v of await variants(ck, cores, ctx.wants)) {
    if (!ctx.wants(v.id)) continue;
    if (v.unavailable) {
      ctx.unavailable(v.id, v.label, v.unavailable);
      continue;
    }
    const backend = await ck.createBackend(v.name, v.options);
    libs.push({
      id: v.id,
      label: v.label,
      // The reference backend is the plain-TypeScript oracle: minutes per AlexNet step.
      skip: (work, o) =>
        v.name === 'ref' && work.id.startsWith('alexnet') && !o.slow
          ? 'reference backend (plain TypeScript oracle) takes minutes per step; --slow runs it'
          : null,
      prepare: (work) => prepare(ctx, ck, backend, work),
      close: () => backend.dispose?.(),
    });
  }
  return libs;
}

function prepare(ctx, ck, backend, work) {
  if (work.kind === 'gemm') return prepareGemm(ck, backend, work.size);
  const model = new ck.Model(work.net.spec, backend, 1);
  const batches = ctx.batches(work);
  const [C, H, W] = work.net.inputShape;
  const xs = batches.x.map((data) => {
    const t = new ck.Tensor([work.batch, C, H, W], backend.alloc(data.length));
    t.data.set(data);
    return t;
  });
  if (work.kind === 'infer') {
    return { time: (n) => timeSteps((i) => model.forward(xs[i % xs.length], false), n) };
  }
  const loss = new ck.SoftmaxCrossEntropy(backend);
  const optimizer = new ck.Optimizer({ type: 'sgd', momentum: 0.9, weightDecay: 0 }, backend);
  const params = model.parameters();
  const step = (i) => {
    const logits = model.forward(xs[i % xs.length], true);
    const out = loss.compute(logits, batches.labels[i % xs.length]);
    model.backward(out.grad);
    optimizer.step(params, LR);
  };
  return { time: (n) => timeSteps(step, n) };
}

function prepareGemm(ck, backend, n) {
  const A = backend.alloc(n * n),
    B = backend.alloc(n * n),
    C = backend.alloc(n * n);
  A.set(randomMatrix(ck, n, 1));
  B.set(randomMatrix(ck, n, 2));
  return { time: (steps) => timeSteps(() => backend.gemm(false, false, n, n, n, 1, A, B, 0, C), steps) };
}
