/**
 * What is particular to the WebGPU backend (the kernels themselves are checked against the
 * reference in backend.test.ts): residency (host mirrors, upload/download ordering), outputs
 * aliasing inputs, dispatches past 65 535 workgroups, the tiled GEMM kernel that GPUs run
 * (a software adapter runs the register kernel by default), a whole LeNet-5 step at batch
 * 64, and the errors: no adapter, a lost device, a kernel that fails to compile.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Backend, Conv2dGeometry, Pool2dGeometry } from '../src/backend/backend.js';
import { RefBackend } from '../src/backend/ref.js';
import type { Dispatcher } from '../src/backend/webgpu/dispatch.js';
import { WebGpuBackend } from '../src/backend/webgpu/webgpu.js';
import { ConvkitError } from '../src/errors.js';
import { Model } from '../src/model/model.js';
import { zoo } from '../src/model/zoo.js';
import { Rng } from '../src/rng.js';
import { Tensor } from '../src/tensor.js';
import { SoftmaxCrossEntropy } from '../src/train/loss.js';
import { Optimizer } from '../src/train/optimizer.js';
import { webgpuSkip } from './webgpu-env.js';

const TOL = 1e-4;
const ref = new RefBackend('float32');

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tol = TOL): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i],
      w = want[i];
    if (g === w || (Number.isNaN(g) && Number.isNaN(w))) continue;
    const err = Math.abs(g - w) / (1 + Math.abs(w));
    if (!(err <= tol)) assert.fail(`${what}: element ${i} is ${g}, reference ${w} (scaled error ${err} > ${tol})`);
  }
}

function random(n: number, rng: Rng, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(lo, hi);
  return a;
}

/** Backend array with these values (uploaded) and a reference copy. */
function pair(be: WebGpuBackend, n: number, rng: Rng, lo = -1, hi = 1): [Float32Array, Float32Array] {
  const r = random(n, rng, lo, hi);
  const b = be.alloc(n) as Float32Array;
  b.set(r);
  be.upload(b);
  return [b, r];
}

function convGeometry(
  N: number,
  C: number,
  H: number,
  W: number,
  O: number,
  KH: number,
  KW: number,
  strideH: number,
  strideW: number,
  padH: number,
  padW: number,
  groups: number,
  dilationH = 1,
  dilationW = dilationH,
): Conv2dGeometry {
  const OH = Math.floor((H + 2 * padH - dilationH * (KH - 1) - 1) / strideH) + 1;
  const OW = Math.floor((W + 2 * padW - dilationW * (KW - 1) - 1) / strideW) + 1;
  return { N, C, H, W, O, KH, KW, strideH, strideW, padH, padW, OH, OW, groups, dilationH, dilationW };
}

const dispatcher = (be: WebGpuBackend) => (be as unknown as { d: Dispatcher }).d;

describe('webgpu backend', { skip: webgpuSkip }, () => {
  let be: WebGpuBackend;
  before(async () => {
    be = await WebGpuBackend.create();
  });
  after(() => be?.dispose());

  it('describes its adapter', (t) => {
    t.diagnostic(JSON.stringify({ ...be.info, gemmKernel: be.gemmKernel }));
    assert.equal(be.name, 'webgpu');
    assert.equal(be.dtype, 'float32');
    assert.equal(typeof be.info.software, 'boolean');
    if (/swiftshader/i.test(`${be.info.architecture} ${be.info.description}`)) {
      assert.equal(be.info.software, true);
      assert.equal(be.gemmKernel, 'registers');
    }
  });

  describe('residency', () => {
    it('kernels see the device copy: a host write counts only after upload, in order with queued kernels', async () => {
      const x = be.alloc(4) as Float32Array,
        y1 = be.alloc(4),
        y2 = be.alloc(4),
        y3 = be.alloc(4);
      x.set([1, -2, 3, -4]);
      be.upload(x);
      be.relu(x, y1); // queued, not yet submitted
      x.set([-1, 2, -3, 4]);
      be.upload(x); // must not overtake the relu above
      be.relu(x, y2);
      x.set([5, 5, 5, 5]); // never uploaded: kernels keep seeing [-1, 2, -3, 4]
      be.relu(x, y3);
      await be.download([y1, y2, y3]);
      assert.deepEqual(Array.from(y1), [1, 0, 3, 0]);
      assert.deepEqual(Array.from(y2), [0, 2, 0, 4]);
      assert.deepEqual(Array.from(y3), [0, 2, 0, 4]);
      // The host mirror of an output is stale until downloaded.
      const y4 = be.alloc(4);
      be.relu(x, y4);
      assert.deepEqual(Array.from(y4), [0, 0, 0, 0], 'not downloaded yet');
      await be.download([y4, y4, x]);
      assert.deepEqual(Array.from(y4), [0, 2, 0, 4]);
      assert.deepEqual(Array.from(x), [-1, 2, -3, 4], 'download replaces the host mirror with the device copy');
    });

    it('refuses arrays it cannot place on the device', () => {
      const a = be.alloc(8),
        y = be.alloc(8);
      assert.throws(
        () => be.relu(new Float32Array(8), y),
        (e: unknown) => e instanceof ConvkitError && /not allocated by this backend/.test((e as Error).message),
      );
      assert.throws(
        () => be.relu(a.subarray(2, 6), y.subarray(0, 4)),
        (e: unknown) => e instanceof ConvkitError && /subarray/.test((e as Error).message),
      );
      assert.throws(() => be.relu(new Float64Array(8), y), ConvkitError);
      assert.throws(() => be.upload(new Float32Array(3)), ConvkitError);
      assert.throws(() => be.gemm(false, false, 4, 4, 4, 1, be.alloc(15), be.alloc(16), 0, be.alloc(16)), RangeError);
    });

    it('index arrays made by the caller are placed on first use; labels are read at each call', async () => {
      const rng = new Rng(1);
      const g: Pool2dGeometry = { N: 1, C: 2, H: 4, W: 4, KH: 2, KW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, OH: 2, OW: 2 };
      const [dy, dyr] = pair(be, 8, rng);
      // An argmax the host wrote (not from a forward pass): uploaded when the kernel first takes it.
      const argmax = Int32Array.from([0, 3, 9, -1, 21, 18, 29, 31]); // each inside its output's window
      const dx = be.alloc(32),
        dxr = new Float32Array(32);
      be.maxPool2dBackward(g, dy, argmax, dx);
      ref.maxPool2dBackward(g, dyr, argmax, dxr);
      await be.download([dx]);
      assertClose(dx, dxr, 'maxPool2dBackward with a host argmax', 0);
      // Written by the host again: upload publishes it.
      argmax.set([1, 2, 8, 10, 17, 19, 25, 27]);
      be.upload(argmax);
      be.maxPool2dBackward(g, dy, argmax, dx);
      ref.maxPool2dBackward(g, dyr, argmax, dxr);
      await be.download([dx]);
      assertClose(dx, dxr, 'after upload(argmax)', 0);
      // Labels: each call takes the values they have at that moment, even while queued.
      const N = 3,
        K = 4;
      const [x, xr] = pair(be, N * K, rng);
      const labels = Uint8Array.from([0, 1, 2]);
      const p = be.alloc(N * K),
        d = be.alloc(N * K),
        loss1 = be.alloc(1),
        loss2 = be.alloc(1);
      be.softmaxCrossEntropy(N, K, x, labels, p, d, loss1);
      labels.set([3, 3, 3]);
      be.softmaxCrossEntropy(N, K, x, labels, p, d, loss2);
      const r1 = new Float32Array(1),
        r2 = new Float32Array(1),
        pr = new Float32Array(N * K),
        dr = new Float32Array(N * K);
      ref.softmaxCrossEntropy(N, K, xr, Uint8Array.from([0, 1, 2]), pr, dr, r1);
      ref.softmaxCrossEntropy(N, K, xr, labels, pr, dr, r2);
      await be.download([loss1, loss2, d]);
      assertClose(loss1, r1, 'loss with the first labels', 1e-5);
      assertClose(loss2, r2, 'loss with the second labels', 1e-5);
      assertClose(d, dr, 'dlogits with the second labels', 1e-6);
      assert.throws(() => be.softmaxCrossEntropy(N, K, x, Uint8Array.from([0, 4, 1]), p, d, loss1), RangeError);
    });

    it('keeps order over many queued kernels (more than one uniform arena per submission)', async () => {
      const n = 1000,
        steps = 1100;
      const x = be.alloc(n) as Float32Array,
        y = be.alloc(n) as Float32Array;
      x.fill(1);
      be.upload(x);
      for (let i = 0; i < steps; i++) be.axpy(0.5, x, y);
      await be.download([y]);
      assert.ok(
        y.every((v) => v === steps * 0.5),
        `y[0] = ${y[0]}`,
      );
    });

    it('frees device buffers of arrays that are garbage collected', { skip: typeof globalThis.gc !== 'function' && 'run node with --expose-gc' }, async () => {
      for (let i = 0; i < 50; i++) be.relu(be.alloc(1 << 20), be.alloc(1 << 20));
      await be.download([]);
      globalThis.gc!();
      await new Promise((r) => setTimeout(r, 50));
      const x = be.alloc(4) as Float32Array;
      x.set([1, -1, 2, -2]);
      be.upload(x);
      be.relu(x, x);
      await be.download([x]);
      assert.deepEqual(Array.from(x), [1, 0, 2, 0]);
    });
  });

  it('outputs may alias inputs (in-place variants and scratch copies)', async () => {
    const rng = new Rng(2);
    const n = 777;
    type Run = (b: WebGpuBackend | RefBackend, a: Float32Array[]) => void;
    // [name, kernel on arrays, sizes, and for kernels that are not element-wise the reference
    // computed into a separate output (its loops, run in place, would read what they wrote)]
    const cases: [string, Run, number[], Run?][] = [
      ['relu(x, x)', (b, [x]) => b.relu(x, x), [n]],
      ['reluBackward(x, dy, dy)', (b, [x, dy]) => b.reluBackward(x, dy, dy), [n, n]],
      ['leakyRelu(x, x)', (b, [x]) => b.leakyRelu(x, x, 0.1, 6), [n]],
      ['leakyReluBackward(x, dy, x)', (b, [x, dy]) => b.leakyReluBackward(x, dy, x, 0.1, 0.5), [n, n]],
      [
        'tanh(x, x), tanhBackward(y, dy, dy)',
        (b, [x, dy]) => {
          b.tanh(x, x);
          b.tanhBackward(x, dy, dy);
        },
        [n, n],
      ],
      [
        'sigmoid(x, x), sigmoidBackward(y, dy, y)',
        (b, [x, dy]) => {
          b.sigmoid(x, x);
          b.sigmoidBackward(x, dy, x);
        },
        [n, n],
      ],
      ['add(a, a, a)', (b, [a]) => b.add(a, a, a), [n]],
      ['add(a, b, b)', (b, [a, c]) => b.add(a, c, c), [n, n]],
      ['mul(a, b, a)', (b, [a, c]) => b.mul(a, c, a), [n, n]],
      ['axpy(alpha, y, y)', (b, [y]) => b.axpy(0.25, y, y), [n]],
      ['addBias(x, b, x)', (b, [x, bias]) => b.addBias(37, 21, x, bias, x), [777, 21]],
      ['batchNormApply(x, …, x)', (b, [x, m, s, g, be2]) => b.batchNormApply(3, 7, 37, x, m, s, g, be2, x), [777, 7, 7, 7, 7]],
      ['sgdStep with nesterov', (b, [w, g, v]) => b.sgdStep(w, g, v, { lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true }), [n, n, n]],
      [
        'adamStep(w, w as gradient)',
        (b, [w, m, v]) => b.adamStep(w, w, m, v, { lr: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, decoupled: true, step: 3 }),
        [n, n, n],
      ],
      ['softmax(x, x)', (b, [x]) => b.softmax(21, 37, x, x), [777]],
      ['softmaxBackward(y, dy, dy)', (b, [y, dy]) => b.softmaxBackward(21, 37, y, dy, dy), [777, 777]],
      [
        'gemm with C = A',
        (b, [a, c]) => b.gemm(false, true, 27, 27, 27, 0.5, a, c, 1, a),
        [729, 729],
        (b, [a, c]) => {
          const out = Float32Array.from(a);
          b.gemm(false, true, 27, 27, 27, 0.5, a, c, 1, out);
          a.set(out);
        },
      ],
      ['copyBlocks within one array', (b, [a]) => b.copyBlocks(5, a, 100, 3, a, 100, 50, 40), [500]],
      ['sumOfSquares(x, x, 3)', (b, [x]) => b.sumOfSquares(x, x, 3), [n]],
      [
        'lrnForward(x, scale, x)',
        (b, [x, s]) => b.lrnForward(2, 7, 9, 5, 0.1, 0.75, 2, x, s, x),
        [126, 126],
        (b, [x, s]) => {
          const out = new Float32Array(x.length);
          b.lrnForward(2, 7, 9, 5, 0.1, 0.75, 2, x, s, out);
          x.set(out);
        },
      ],
      [
        'avgPool2dForward in place (1×1 window)',
        (b, [x]) => b.avgPool2dForward({ N: 2, C: 3, H: 5, W: 5, KH: 1, KW: 1, strideH: 1, strideW: 1, padH: 0, padW: 0, OH: 5, OW: 5 }, x, x, false),
        [150],
      ],
      ['batchNormRunning with running stats as the batch stats', (b, [m, v, s]) => b.batchNormRunning(7, m, v, 1e-5, 0.1, 1.5, m, v, s), [7, 7, 7]],
    ];
    for (const [name, run, sizes, refRun] of cases) {
      const arrays = sizes.map((s) => pair(be, s, rng, 0.1, 2));
      run(
        be,
        arrays.map(([b]) => b),
      );
      (refRun ?? run)(
        ref,
        arrays.map(([, r]) => r),
      );
      await be.download(arrays.map(([b]) => b));
      arrays.forEach(([b, r], i) => assertClose(b, r, `${name}: argument ${i}`, 1e-5));
    }
  });

  it('splits dispatches past 65 535 workgroups into a 2-D grid', async () => {
    const n = 65_535 * 256 + 4099; // element kernels: 256 per workgroup
    const x = be.alloc(n) as Float32Array,
      y = be.alloc(n) as Float32Array;
    for (let i = 0; i < n; i++) x[i] = (i % 7) - 3;
    be.upload(x);
    be.relu(x, y);
    await be.download([y]);
    for (let i = 0; i < n; i++) if (y[i] !== Math.max((i % 7) - 3, 0)) assert.fail(`y[${i}] = ${y[i]}`);
  });

  it('gives identical results when run again (no atomics, fixed reduction order)', async () => {
    const rng = new Rng(3);
    const g = convGeometry(16, 3, 12, 12, 5, 3, 3, 1, 1, 1, 1, 1); // K = 16·144: split into ranges
    const [x] = pair(be, g.N * g.C * g.H * g.W, rng),
      [dy] = pair(be, g.N * g.O * g.OH * g.OW, rng);
    const dw = be.alloc(g.O * g.C * 9),
      db = be.alloc(g.O),
      sq = be.alloc(1);
    const runs: number[][] = [];
    for (let run = 0; run < 3; run++) {
      be.conv2dBackwardWeights(g, x, dy, dw, db);
      be.sumOfSquares(dy, sq, 0);
      await be.download([dw, db, sq]);
      runs.push([...dw, ...db, sq[0]]);
    }
    assert.deepEqual(runs[1], runs[0]);
    assert.deepEqual(runs[2], runs[0]);
  });

  it('LeNet-5 at batch 64: a training step matches the reference; time per step', async (t) => {
    const N = 64,
      spec = zoo.lenet5.build();
    const mRef = new Model(spec, ref, 7),
      mBe = new Model(spec, be, 7);
    const rng = new Rng(4);
    const [x, xr] = pair(be, N * 784, rng, 0, 1);
    const labels = Uint8Array.from({ length: N }, () => rng.int(10));
    const lossRef = new SoftmaxCrossEntropy(ref),
      lossBe = new SoftmaxCrossEntropy(be);
    const optRef = new Optimizer({ type: 'sgd', momentum: 0.9, weightDecay: 5e-4 }, ref);
    const optBe = new Optimizer({ type: 'sgd', momentum: 0.9, weightDecay: 5e-4 }, be);
    const step = (m: Model, loss: SoftmaxCrossEntropy, opt: Optimizer, input: Float32Array) => {
      const out = loss.compute(m.forward(new Tensor([N, 1, 28, 28], input), true), labels);
      m.backward(out.grad);
      opt.step(m.parameters(), 0.05);
      return out;
    };
    const outRef = step(mRef, lossRef, optRef, xr);
    const outBe = step(mBe, lossBe, optBe, x);
    const pBe = mBe.parameters(),
      pRef = mRef.parameters();
    await be.download([outBe.lossValue, outBe.probs.data, ...pBe.flatMap((p) => [p.value.data, p.grad.data])]);
    assertClose(outBe.lossValue, outRef.lossValue, 'loss', 1e-5);
    assertClose(outBe.probs.data, outRef.probs.data, 'probabilities');
    pRef.forEach((p, i) => {
      assertClose(pBe[i].grad.data, p.grad.data, `${p.path} gradient`);
      assertClose(pBe[i].value.data, p.value.data, `${p.path} after the step`);
    });
    // Timed: upload the batch, forward, loss, backward, SGD, read the loss back.
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      be.upload(x);
      const out = step(mBe, lossBe, optBe, x);
      await be.download([out.lossValue]);
      times.push(performance.now() - t0);
    }
    t.diagnostic(`LeNet-5 training step, batch 64, on ${be.info.description || be.info.architecture}: ${times.map((v) => v.toFixed(0)).join(', ')} ms`);
  });
});

const allTransposes: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

/**
 * The GEMM kernels with operands in workgroup memory, what hardware adapters run: 'tiled'
 * (16–64-wide tiles) and 'wide' (128 × 128 tiles, 8-element K steps double-buffered, vec4 loads
 * where K or M/N is a multiple of 4, scalar loads through the implicit-GEMM functions otherwise).
 */
for (const kernel of ['tiled', 'wide'] as const)
  describe(`webgpu backend, ${kernel} GEMM kernel`, { skip: webgpuSkip }, () => {
    let be: WebGpuBackend;
    before(async () => {
      be = await WebGpuBackend.create({ gemmKernel: kernel });
    });
    after(() => be?.dispose());

    it('gemm: transposes, tile edges, alpha/beta, split K', async () => {
      const rng = new Rng(5);
      // [M, N, K, transposes]: tiles of 16, 32 or 64 rows and columns with 16-element K steps,
      // edges in every dimension; [3, 5, 700] and [40, 20, 2000] split K into ranges.
      const shapes: [number, number, number, [boolean, boolean][]][] =
        kernel === 'tiled'
          ? [
              [17, 33, 15, allTransposes],
              [65, 70, 33, [[false, false]]],
              [3, 5, 700, [[true, false]]],
              [40, 20, 2000, [[false, true]]],
              [1, 1, 1, [[true, true]]],
              [16, 16, 16, [[false, false]]],
            ]
          : [
              // Wide (each variant compiles for seconds on SwiftShader, so one case per path): vec4 loads
              // along K (NT) and along M/N (TN) with K = 12 (half a K step) and edge tiles; M past one
              // 128-row tile with several K steps; scalar loads (N, K not multiples of 4); split K.
              [
                20,
                36,
                12,
                [
                  [false, true],
                  [true, false],
                ],
              ],
              [130, 36, 44, [[false, true]]],
              [17, 33, 13, [[false, false]]],
              [8, 12, 600, [[false, true]]],
            ];
      for (const [M, N, K, transposes] of shapes) {
        for (const [transA, transB] of transposes) {
          const [alpha, beta] = transA === transB ? [1, 0] : [-0.7, 0.4];
          const [a, ar] = pair(be, M * K, rng),
            [b, br] = pair(be, K * N, rng),
            [c, cr] = pair(be, M * N, rng, -5, 5);
          be.gemm(transA, transB, M, N, K, alpha, a, b, beta, c);
          ref.gemm(transA, transB, M, N, K, alpha, ar, br, beta, cr);
          await be.download([c]);
          assertClose(c, cr, `${kernel} gemm ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} ${M}×${N}×${K}`);
        }
      }
    });

    it('convolutions: groups, stride, padding, non-square kernels', async () => {
      const rng = new Rng(6);
      // Wide: one geometry reaching each implicit-GEMM load (groups, split K in the input gradient).
      const geometries =
        kernel === 'wide'
          ? [convGeometry(1, 4, 7, 6, 130, 3, 3, 1, 1, 1, 1, 2)]
          : [
              convGeometry(2, 4, 7, 6, 6, 3, 2, 2, 1, 1, 0, 2),
              convGeometry(3, 1, 12, 12, 5, 5, 5, 1, 1, 2, 2, 1),
              convGeometry(1, 6, 5, 9, 6, 3, 3, 1, 2, 1, 1, 6),
            ];
      for (const g of geometries) {
        const Cg = g.C / g.groups;
        const xn = g.N * g.C * g.H * g.W,
          wn = g.O * Cg * g.KH * g.KW,
          yn = g.N * g.O * g.OH * g.OW;
        const [x, xr] = pair(be, xn, rng),
          [w, wr] = pair(be, wn, rng),
          [bias, biasr] = pair(be, g.O, rng),
          [dy, dyr] = pair(be, yn, rng);
        const y = be.alloc(yn),
          dx = be.alloc(xn),
          dw = be.alloc(wn),
          db = be.alloc(g.O);
        const yr = new Float32Array(yn),
          dxr = new Float32Array(xn),
          dwr = new Float32Array(wn),
          dbr = new Float32Array(g.O);
        be.conv2dForward(g, x, w, bias, y);
        ref.conv2dForward(g, xr, wr, biasr, yr);
        be.conv2dBackwardInput(g, dy, w, dx);
        ref.conv2dBackwardInput(g, dyr, wr, dxr);
        be.conv2dBackwardWeights(g, x, dy, dw, db);
        ref.conv2dBackwardWeights(g, xr, dyr, dwr, dbr);
        await be.download([y, dx, dw, db]);
        const what = JSON.stringify(g);
        assertClose(y, yr, `${kernel} conv forward ${what}`);
        assertClose(dx, dxr, `${kernel} conv backward input ${what}`);
        assertClose(dw, dwr, `${kernel} conv backward weights ${what}`);
        assertClose(db, dbr, `${kernel} conv bias gradient ${what}`);
      }
    });
  });

describe('webgpu backend errors', () => {
  it('without an adapter: a ConvkitError that says what to do', async () => {
    const noAdapter = { requestAdapter: async () => null } as unknown as GPU;
    await assert.rejects(
      WebGpuBackend.create({ gpu: noAdapter }),
      (e: unknown) =>
        e instanceof ConvkitError &&
        /no WebGPU adapter/.test((e as Error).message) &&
        /VK_ICD_FILENAMES=\/usr\/lib\/chromium\/vk_swiftshader_icd\.json/.test((e as Error).message) &&
        /--backend wasm/.test((e as Error).message),
    );
  });

  it('without an adapter in Node: Dawn with no Vulkan driver', {
    skip: process.platform !== 'linux' && 'VK_ICD_FILENAMES hides adapters on Linux only',
  }, () => {
    const module = pathToFileURL(new URL('../src/backend/webgpu/webgpu.ts', import.meta.url).pathname).href;
    const errors = pathToFileURL(new URL('../src/errors.ts', import.meta.url).pathname).href;
    const code = `const { WebGpuBackend } = await import(${JSON.stringify(module)});
const { ConvkitError } = await import(${JSON.stringify(errors)});
try { await WebGpuBackend.create(); console.log('created'); }
catch (e) { console.log(JSON.stringify({ convkit: e instanceof ConvkitError, message: e.message })); }`;
    const r = spawnSync(process.execPath, ['--conditions=convkit-source', '--import', 'tsx', '--input-type=module', '-e', code], {
      encoding: 'utf8',
      env: { ...process.env, VK_ICD_FILENAMES: '/nonexistent/convkit-test-icd.json' },
      timeout: 60_000,
    });
    const line = r.stdout.trim().split('\n').at(-1) ?? '';
    assert.notEqual(line, 'created', 'an adapter appeared without any Vulkan driver');
    const result = JSON.parse(line) as { convkit: boolean; message: string };
    assert.ok(result.convkit, 'a ConvkitError');
    assert.match(result.message, /no WebGPU adapter.*VK_ICD_FILENAMES.*--backend wasm/s);
  });

  it('a lost device: every later call throws a ConvkitError suggesting --backend wasm', { skip: webgpuSkip }, async () => {
    const be = await WebGpuBackend.create();
    const x = be.alloc(16),
      y = be.alloc(16);
    be.relu(x, y);
    await be.download([y]);
    be.relu(x, y); // queued before the loss is known: reading it back must fail
    be.device.destroy();
    const lost = (e: unknown) => e instanceof ConvkitError && /device was lost/.test((e as Error).message) && /--backend wasm/.test((e as Error).message);
    await assert.rejects(be.download([y]), lost);
    await be.device.lost;
    assert.throws(() => be.relu(x, y), lost);
    assert.throws(() => be.alloc(4), lost);
    assert.throws(() => be.upload(x), lost);
    await assert.rejects(be.download([y]), lost);
    be.dispose();
  });

  it('device loss through the Backend interface: lost resolves with the reason, failure() reports it; dispose() does not count as a loss', {
    skip: webgpuSkip,
  }, async () => {
    const be: Backend = await WebGpuBackend.create();
    assert.equal(be.failure?.(), undefined);
    assert.match(be.description ?? '', /\S/);
    assert.equal(typeof be.emulated, 'boolean');
    (be as WebGpuBackend).loseDevice();
    assert.match(await be.lost!, /device was lost/);
    assert.match(be.failure?.()?.message ?? '', /device was lost/);
    be.dispose?.();
    const disposed: Backend = await WebGpuBackend.create();
    disposed.dispose?.();
    const settled = await Promise.race([disposed.lost, new Promise((resolve) => setTimeout(resolve, 200, 'not lost'))]);
    assert.equal(settled, 'not lost');
    assert.equal((new RefBackend() as { lost?: unknown }).lost, undefined, 'CPU backends cannot lose a device');
  });

  it('a kernel that fails to compile is named with the compiler message', { skip: webgpuSkip }, async () => {
    const be = await WebGpuBackend.create();
    const d = dispatcher(be);
    d.run(
      {
        key: 'broken-test-kernel',
        label: 'brokenTestKernel',
        uniforms: [],
        bindings: [],
        code: '@compute @workgroup_size(1) fn main() { let x: f32 = undefinedThing; }',
      },
      [],
      [],
      1,
    );
    await assert.rejects(
      be.download([]),
      (e: unknown) =>
        e instanceof ConvkitError && /kernel "brokenTestKernel" failed to compile/.test((e as Error).message) && /undefinedThing/.test((e as Error).message),
    );
    assert.throws(() => be.relu(be.alloc(1), be.alloc(1)), ConvkitError);
    be.dispose();
  });
});
