/**
 * ONNX Runtime, native CPU build (onnxruntime-node, installed with --ignore-scripts: the binary
 * ships inside the package). Inference only. Networks come from convkit's own ONNX exporter,
 * so the graph is exactly convkit's; SGEMM is a one-node MatMul model.
 */
import { createRequire } from 'node:module';
import { Unsupported, timeSteps } from '../lib/measure.mjs';
import { randomMatrix } from '../lib/data.mjs';

const require = createRequire(import.meta.url);

export async function open(ctx) {
  if (!ctx.wants('ort')) return [];
  const ort = require('onnxruntime-node');
  const version = ort.env.versions?.node ?? require('onnxruntime-node/package.json').version;
  const options = { intraOpNumThreads: ctx.cores, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
  return [
    {
      id: 'ort',
      label: `ONNX Runtime ${version} native (${ctx.cores} threads)`,
      prepare: async (work) => {
        if (work.kind === 'train') throw new Unsupported('no training (onnxruntime-node runs inference only)');
        return work.kind === 'gemm' ? prepareGemm(ort, ctx.ck, options, work.size) : prepareNet(ort, ctx, options, work);
      },
    },
  ];
}

async function prepareNet(ort, ctx, options, work) {
  const { ck } = ctx;
  const model = new ck.Model(work.net.spec, new ck.RefBackend('float32'), 1);
  const session = await ort.InferenceSession.create(ck.toOnnx(model), options);
  const batches = ctx.batches(work);
  const feeds = batches.x.map((x) => ({ [session.inputNames[0]]: new ort.Tensor('float32', x, [work.batch, ...work.net.inputShape]) }));
  const step = (i) => session.run(feeds[i % feeds.length]);
  return { time: (n) => timeSteps(step, n), release: () => session.release() };
}

/** A model computing C = A·B with A and B as inputs (not initialisers, so nothing is folded away). */
function matMulModel(proto, n) {
  const { onnx, FLOAT, IR_VERSION, OPSET } = proto;
  const info = (name) => ({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimValue: n }, { dimValue: n }] } } } });
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'convkit-bench',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: `matmul${n}`,
      node: [{ name: 'matmul', opType: 'MatMul', input: ['A', 'B'], output: ['C'] }],
      input: [info('A'), info('B')],
      output: [info('C')],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

async function prepareGemm(ort, ck, options, n) {
  const session = await ort.InferenceSession.create(matMulModel(ck.onnxProto, n), options);
  const feeds = { A: new ort.Tensor('float32', randomMatrix(ck, n, 1), [n, n]), B: new ort.Tensor('float32', randomMatrix(ck, n, 2), [n, n]) };
  return { time: (steps) => timeSteps(() => session.run(feeds), steps), release: () => session.release() };
}
