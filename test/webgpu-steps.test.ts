/**
 * The WebGPU backend's step structure, shown by counts (no GPU needed: SwiftShader runs the same
 * encoding): what stats() counts, the non-blocking read-back ring (values, order, reuse, a lost
 * device), per-kernel timing, and the dispatches a training step takes with the fused kernels.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RefBackend } from '../src/backend/ref.js';
import type { Conv2dGeometry } from '../src/backend/backend.js';
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

const ref = new RefBackend('float32');

function random(n: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
}

/** A device array holding these values. */
function onDevice(be: WebGpuBackend, values: Float32Array): Float32Array {
  const a = be.alloc(values.length) as Float32Array;
  a.set(values);
  be.upload(a);
  return a;
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tol = 1e-5): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i]));
    if (!(err <= tol)) assert.fail(`${what}: element ${i} is ${got[i]}, reference ${want[i]}`);
  }
}

const dispatcher = (be: WebGpuBackend) => (be as unknown as { d: Dispatcher }).d;

function convGeometry(N: number, C: number, H: number, W: number, O: number, K: number, stride: number, pad: number): Conv2dGeometry {
  const OH = Math.floor((H + 2 * pad - K) / stride) + 1,
    OW = Math.floor((W + 2 * pad - K) / stride) + 1;
  return { N, C, H, W, O, KH: K, KW: K, strideH: stride, strideW: stride, padH: pad, padW: pad, OH, OW, groups: 1, dilationH: 1, dilationW: 1 };
}

function filled(be: WebGpuBackend, values: number[]): Float32Array {
  const a = be.alloc(values.length) as Float32Array;
  a.set(values);
  be.upload(a);
  return a;
}

describe('webgpu backend: step structure', { skip: webgpuSkip }, () => {
  let be: WebGpuBackend;
  before(async () => {
    be = await WebGpuBackend.create();
  });
  after(() => be?.dispose());

  it('stats() counts dispatches, submits, copies, uploads and read-backs; resetStats() starts over', async () => {
    const x = filled(be, [-1, 2, -3, 4]),
      y = be.alloc(4),
      z = be.alloc(4);
    await be.download([x]);
    be.resetStats();
    be.relu(x, y);
    be.add(y, x, z);
    assert.deepEqual(
      { ...be.stats(), copies: 0 },
      {
        dispatches: 2,
        submits: 0,
        copies: 0,
        uploads: 0,
        bytesUploaded: 0,
        blockingReadbacks: 0,
        readbacksLater: 0,
        bytesRead: 0,
      },
    );
    await be.download([y, z]);
    let s = be.stats();
    assert.equal(s.submits, 1, 'the download submitted the recorded kernels once');
    assert.equal(s.blockingReadbacks, 1);
    assert.equal(s.bytesRead, 32);
    assert.deepEqual([...z], [-1, 4, -3, 8]);
    x.set([1, 1, 1, 1]);
    be.upload(x);
    await be.downloadLater([z]);
    s = be.stats();
    assert.equal(s.uploads, 1);
    assert.equal(s.bytesUploaded, 16);
    assert.equal(s.readbacksLater, 1);
    assert.equal(s.blockingReadbacks, 1, 'downloadLater is not a blocking read-back');
    assert.equal(s.bytesRead, 48);
    be.resetStats();
    assert.deepEqual(
      Object.values(be.stats()),
      Object.values(be.stats()).map(() => 0),
    );
  });

  it('downloadLater: values as of the call, resolved in order while later steps are recorded', async () => {
    const one = filled(be, [1, 1, 1]),
      acc = filled(be, [0, 0, 0]),
      seen: number[][] = [];
    const order: number[] = [];
    const pending: Promise<void>[] = [];
    const snapshots = Array.from({ length: 5 }, () => be.alloc(3));
    for (let step = 0; step < 5; step++) {
      be.axpy(1, one, acc); // acc = step + 1
      be.axpy(0, acc, snapshots[step]);
      be.add(acc, acc, snapshots[step]); // 2·(step + 1)
      const s = snapshots[step];
      pending.push(
        be.downloadLater([acc, s]).then(() => {
          order.push(step);
          seen.push([acc[0], s[0]]);
        }),
      );
    }
    be.axpy(100, one, acc); // recorded after the last read-back: must not show in it
    await Promise.all(pending);
    assert.deepEqual(order, [0, 1, 2, 3, 4], 'resolved in call order');
    assert.deepEqual(
      seen.map(([, s]) => s),
      [2, 4, 6, 8, 10],
      'each read-back holds the values of its own step',
    );
    assert.equal(seen[4][0], 5);
    await be.download([acc]);
    assert.equal(acc[0], 105);
  });

  it('downloadLater reuses its staging buffers: with one read-back in flight per step the ring stops growing', async () => {
    const be = await WebGpuBackend.create();
    const x = filled(be, [1, 2, 3, 4]),
      y = be.alloc(4);
    let last: Promise<void> = Promise.resolve();
    for (let step = 0; step < 3; step++) {
      be.relu(x, y);
      const prev = last;
      last = be.downloadLater([y]);
      await prev; // the trainer's pattern: read step k while step k + 1 runs
    }
    await last;
    const size = be.readbackRingSize;
    be.resetStats();
    for (let step = 0; step < 20; step++) {
      be.relu(x, y);
      const prev = last;
      last = be.downloadLater([y]);
      await prev;
    }
    await last;
    assert.equal(be.readbackRingSize, size, 'no staging buffer created in steady state');
    assert.ok(size <= 3, `ring of ${size} staging buffers`);
    const s = be.stats();
    assert.equal(s.submits, 20, 'one submit per step');
    assert.equal(s.blockingReadbacks, 0);
    assert.deepEqual([...y], [1, 2, 3, 4]);
    be.dispose();
  });

  it('downloadLater on a lost device rejects with the lost-device ConvkitError', async () => {
    const lostBe = await WebGpuBackend.create();
    const x = filled(lostBe, [1, 2]),
      y = lostBe.alloc(2);
    lostBe.relu(x, y);
    await lostBe.downloadLater([y]);
    lostBe.relu(x, y);
    lostBe.device.destroy();
    const lost = (e: unknown) => e instanceof ConvkitError && /device was lost|reading results back failed/.test((e as Error).message);
    await assert.rejects(lostBe.downloadLater([y]), lost);
    await lostBe.device.lost;
    await assert.rejects(lostBe.downloadLater([y]), (e: unknown) => e instanceof ConvkitError && /device was lost/.test((e as Error).message));
    lostBe.dispose();
  });

  it('profile(): per-kernel times by label (GPU timestamps where the device has them)', async () => {
    const x = filled(be, [1, -2, 3, -4]),
      y = be.alloc(4);
    be.profile(true);
    for (let i = 0; i < 3; i++) be.relu(x, y);
    be.tanh(x, y);
    await be.download([y]);
    const times = await be.kernelTimes();
    be.profile(false);
    assert.equal(times.source, be.info.features.includes('timestamp-query') ? 'timestamp' : 'submit');
    assert.equal(times.kernels.relu.dispatches, 3);
    assert.equal(times.kernels.tanh.dispatches, 1);
    assert.ok(Number.isFinite(times.kernels.relu.ms) && times.kernels.relu.ms >= 0);
    assert.equal((await be.kernelTimes()).source, 'off');
    assert.ok(Math.abs(y[1] - Math.tanh(-2)) < 1e-6, 'profiled kernels still compute');
    // Without timestamp queries: each submission's wall time, shared out among its kernels.
    be.profile(true, { timestamps: false });
    for (let i = 0; i < 2; i++) be.relu(x, y);
    await be.download([y]);
    be.sigmoid(x, y);
    await be.download([y]);
    const host = await be.kernelTimes();
    be.profile(false);
    assert.equal(host.source, 'submit');
    assert.deepEqual(
      Object.entries(host.kernels)
        .map(([k, v]) => [k, v.dispatches])
        .sort(),
      [
        ['relu', 2],
        ['sigmoid', 1],
      ],
    );
    assert.ok(Object.values(host.kernels).every((k) => Number.isFinite(k.ms) && k.ms >= 0));
  });

  describe('fused optimizer steps', () => {
    // Sizes around the workgroup (256) and parameter boundaries; more parameters than one dispatch binds.
    const sizes = [1, 255, 256, 257, 6, 40_003, 3, 1000, 17, 2, 513, 9, 31];
    const lrs = sizes.map((_, i) => 0.05 * (1 + (i % 3)));
    const wds = sizes.map((_, i) => (i % 2 ? 0 : 5e-4));

    for (const kind of ['sgd', 'nesterov', 'adam', 'adamw'] as const) {
      it(`${kind}: every parameter as the reference computes it and bit-identical to one step per parameter, in few dispatches`, async () => {
        const rng = new Rng(21);
        const states = kind.startsWith('adam') ? 2 : 1;
        const params = sizes.map((n) => ({ w: random(n, rng), g: random(n, rng), state: Array.from({ length: states }, () => random(n, rng).map(Math.abs)) }));
        const fused = params.map((p) => ({ w: onDevice(be, p.w), g: onDevice(be, p.g), state: p.state.map((s) => onDevice(be, s)) }));
        const single = params.map((p) => ({ w: onDevice(be, p.w), g: onDevice(be, p.g), state: p.state.map((s) => onDevice(be, s)) }));
        const want = params.map((p) => ({ w: p.w.slice(), g: p.g, state: p.state.map((s) => s.slice()) }));
        const sgd = { momentum: 0.9, nesterov: kind === 'nesterov' };
        await be.download([]);
        let fusedDispatches = 0;
        for (let step = 1; step <= 3; step++) {
          const adam = { beta1: 0.9, beta2: 0.999, eps: 1e-8, decoupled: kind === 'adamw', step };
          be.resetStats();
          const updates = fused.map((p, i) => ({ ...p, lr: lrs[i], weightDecay: wds[i] }));
          if (states === 1) be.sgdSteps(updates, sgd);
          else be.adamSteps(updates, adam);
          fusedDispatches = be.stats().dispatches;
          single.forEach((p, i) => {
            if (states === 1) be.sgdStep(p.w, p.g, p.state[0], { ...sgd, lr: lrs[i], weightDecay: wds[i] });
            else be.adamStep(p.w, p.g, p.state[0], p.state[1], { ...adam, lr: lrs[i], weightDecay: wds[i] });
          });
          want.forEach((p, i) => {
            if (states === 1) ref.sgdStep(p.w, p.g, p.state[0], { ...sgd, lr: lrs[i], weightDecay: wds[i] });
            else ref.adamStep(p.w, p.g, p.state[0], p.state[1], { ...adam, lr: lrs[i], weightDecay: wds[i] });
          });
        }
        await be.download([...fused, ...single].flatMap((p) => [p.w, ...p.state]));
        fused.forEach((p, i) => {
          assert.deepEqual(p.w, single[i].w, `parameter ${i}: fused and single weights differ`);
          p.state.forEach((s, j) => assert.deepEqual(s, single[i].state[j], `parameter ${i}: state ${j} differs`));
          assertClose(p.w, want[i].w, `${kind} parameter ${i} (${sizes[i]} elements) weights`);
          p.state.forEach((s, j) => assertClose(s, want[i].state[j], `${kind} parameter ${i} state ${j}`));
        });
        const per = Math.floor(Math.min(16 * (states + 2), be.info.maxStorageBuffersPerShaderStage) / (states + 2));
        assert.equal(fusedDispatches, Math.ceil(sizes.length / per), `${sizes.length} parameters, ${per} per dispatch`);
      });
    }

    it('a parameter that shares a buffer with another is updated alone, in order', async () => {
      const rng = new Rng(5);
      const w = random(300, rng),
        g = random(300, rng);
      const a = onDevice(be, w),
        shared = onDevice(be, g),
        va = be.alloc(300),
        vb = be.alloc(300),
        b = onDevice(be, w);
      const wr = w.slice(),
        wr2 = w.slice(),
        var_ = new Float32Array(300),
        vbr = new Float32Array(300);
      const o = { momentum: 0.9, nesterov: false };
      // Same gradient array for both, and a third update whose gradient is its own weights.
      be.sgdSteps(
        [
          { w: a, g: shared, state: [va], lr: 0.1, weightDecay: 0 },
          { w: b, g: shared, state: [vb], lr: 0.2, weightDecay: 0 },
          { w: shared, g: shared, state: [be.alloc(300)], lr: 0.5, weightDecay: 0 },
        ],
        o,
      );
      const gr = g.slice();
      ref.sgdStep(wr, gr, var_, { ...o, lr: 0.1, weightDecay: 0 });
      ref.sgdStep(wr2, gr, vbr, { ...o, lr: 0.2, weightDecay: 0 });
      ref.sgdStep(gr, gr, new Float32Array(300), { ...o, lr: 0.5, weightDecay: 0 });
      await be.download([a, b, shared]);
      assertClose(a, wr, 'first parameter');
      assertClose(b, wr2, 'second parameter (same gradient array)');
      assertClose(shared, gr, 'a parameter that is its own gradient');
    });

    it('the Optimizer uses them: groups, weightDecayOn and AdamW as the reference', async () => {
      for (const config of [
        { type: 'sgd' as const, momentum: 0.9, weightDecay: 1e-3, groups: [{ nodes: ['conv1'], lrScale: 0.1 }] },
        { type: 'adamw' as const, weightDecay: 1e-2, weightDecayOn: 'all' as const },
      ]) {
        const spec = zoo.lenet5.build();
        const mRef = new Model(spec, ref, 3),
          mBe = new Model(spec, be, 3);
        const optRef = new Optimizer(config, ref),
          optBe = new Optimizer(config, be);
        const rng = new Rng(8);
        mRef.parameters().forEach((p, i) => {
          const grad = random(p.grad.size, rng);
          p.grad.data.set(grad);
          const q = mBe.parameters()[i];
          q.grad.data.set(grad);
          be.upload(q.grad.data);
        });
        be.resetStats();
        for (let s = 0; s < 2; s++) {
          optRef.step(mRef.parameters(), 0.01);
          optBe.step(mBe.parameters(), 0.01);
        }
        assert.ok(be.stats().dispatches < 2 * mBe.parameters().length, `fused: ${be.stats().dispatches} dispatches for 2 steps`);
        const pBe = mBe.parameters();
        await be.download(pBe.map((p) => p.value.data));
        mRef.parameters().forEach((p, i) => assertClose(pBe[i].value.data, p.value.data, `${config.type} ${p.path}`));
      }
    });
  });

  it('softmax cross-entropy: one dispatch up to 2^18 logits (rows past the workgroup size), two beyond; both as the reference', async () => {
    const rng = new Rng(12);
    for (const [N, K, dispatches] of [
      [300, 10, 1],
      [1, 1, 1],
      [512, 512, 1],
      [513, 512, 2],
      [300, 1000, 2],
    ]) {
      const xr = Float32Array.from({ length: N * K }, () => rng.uniform(-20, 20));
      const labels = Int32Array.from({ length: N }, () => rng.int(K));
      const x = onDevice(be, xr),
        p = be.alloc(N * K),
        d = be.alloc(N * K),
        loss = be.alloc(1);
      const pr = new Float32Array(N * K),
        dr = new Float32Array(N * K),
        lossr = new Float32Array(1);
      await be.download([]);
      be.resetStats();
      be.softmaxCrossEntropy(N, K, x, labels, p, d, loss);
      assert.equal(be.stats().dispatches, dispatches, `${N}×${K}: dispatches`);
      ref.softmaxCrossEntropy(N, K, xr, labels, pr, dr, lossr);
      await be.download([p, d, loss]);
      assertClose(loss, lossr, `loss ${N}×${K}`);
      assertClose(p, pr, `probabilities ${N}×${K}`, 1e-6);
      assertClose(d, dr, `gradient ${N}×${K}`, 1e-6);
    }
  });

  describe('fusion of element-wise kernels into the kernel before', () => {
    /**
     * Runs `record` with fusion on and off on fresh arrays made by `make`; the outputs must be
     * bit-identical, close to the reference, and the fused run must take `saved` fewer dispatches.
     */
    async function compare(
      make: (be: WebGpuBackend) => Float32Array[],
      record: (be: WebGpuBackend, a: Float32Array[]) => void,
      reference: (a: Float32Array[]) => void,
      outputs: number[],
      saved: number,
      what: string,
    ): Promise<void> {
      const runs: { values: Float32Array[]; dispatches: number }[] = [];
      for (const fusion of [true, false]) {
        const a = make(be);
        await be.download([]);
        dispatcher(be).fusion = fusion;
        be.resetStats();
        try {
          record(be, a);
        } finally {
          dispatcher(be).fusion = true;
        }
        const dispatches = be.stats().dispatches;
        await be.download(outputs.map((i) => a[i]));
        runs.push({ values: outputs.map((i) => a[i].slice()), dispatches });
      }
      runs[0].values.forEach((v, i) => assert.deepEqual(v, runs[1].values[i], `${what}: output ${outputs[i]} differs with fusion`));
      assert.equal(runs[1].dispatches - runs[0].dispatches, saved, `${what}: dispatches ${runs[0].dispatches} fused, ${runs[1].dispatches} not`);
      const want = make(be).map((x) => x.slice());
      reference(want);
      outputs.forEach((i, k) => assertClose(runs[0].values[k], want[i], `${what}: output ${i}`, 1e-4));
    }

    it('convolution + bias + ReLU, both outputs written (the ReLU backward reads the convolution output); edge tiles, split K', async () => {
      for (const g of [convGeometry(3, 5, 9, 7, 6, 3, 1, 1), convGeometry(2, 3, 17, 17, 4, 5, 2, 2), convGeometry(1, 64, 6, 6, 2, 3, 1, 0)]) {
        const n = g.N * g.O * g.OH * g.OW;
        const rng = new Rng(g.C);
        const xs = [random(g.N * g.C * g.H * g.W, rng), random(g.O * g.C * g.KH * g.KW, rng), random(g.O, rng)];
        await compare(
          (b) => [...xs.map((x) => onDevice(b, x)), b.alloc(n) as Float32Array, b.alloc(n) as Float32Array],
          (b, [x, w, bias, y, z]) => {
            b.conv2dForward(g, x, w, bias, y);
            b.relu(y, z);
          },
          ([x, w, bias, y, z]) => {
            ref.conv2dForward(g, x, w, bias, y);
            ref.relu(y, z);
          },
          [3, 4],
          1,
          `conv ${g.C}→${g.O} ${g.H}×${g.W}`,
        );
      }
    });

    it('dense layer: GEMM + bias (in place) + ReLU6, and + tanh with beta ≠ 0 (C read in the epilogue)', async () => {
      const [M, N, K] = [13, 10, 37];
      const rng = new Rng(3);
      const xs = [random(M * K, rng), random(N * K, rng), random(N, rng), random(M * N, rng)];
      const make = (b: WebGpuBackend) => [...xs.map((x) => onDevice(b, x)), b.alloc(M * N) as Float32Array];
      await compare(
        make,
        (b, [x, w, bias, y, z]) => {
          b.gemm(false, true, M, N, K, 1, x, w, 0, y);
          b.addBias(M, N, y, bias, y);
          b.leakyRelu(y, z, 0, 6);
        },
        ([x, w, bias, y, z]) => {
          ref.gemm(false, true, M, N, K, 1, x, w, 0, y);
          ref.addBias(M, N, y, bias, y);
          ref.leakyRelu(y, z, 0, 6);
        },
        [3, 4],
        2,
        'gemm + bias + relu6',
      );
      await compare(
        make,
        (b, [x, w, , y, z]) => {
          b.gemm(false, true, M, N, K, 0.5, x, w, 0.25, y);
          b.tanh(y, z);
        },
        ([x, w, , y, z]) => {
          ref.gemm(false, true, M, N, K, 0.5, x, w, 0.25, y);
          ref.tanh(y, z);
        },
        [3, 4],
        1,
        'gemm beta + tanh',
      );
    });

    it('batch norm (inference) + ReLU in place', async () => {
      const [N, C, HW] = [2, 3, 50];
      const rng = new Rng(4);
      const xs = [random(N * C * HW, rng), random(C, rng), random(C, rng).map(Math.abs), random(C, rng), random(C, rng)];
      await compare(
        (b) => [...xs.map((x) => onDevice(b, x)), b.alloc(N * C * HW) as Float32Array],
        (b, [x, mean, inv, gamma, beta, y]) => {
          b.batchNormApply(N, C, HW, x, mean, inv, gamma, beta, y);
          b.relu(y, y);
        },
        ([x, mean, inv, gamma, beta, y]) => {
          ref.batchNormApply(N, C, HW, x, mean, inv, gamma, beta, y);
          ref.relu(y, y);
        },
        [5],
        1,
        'batch norm + relu',
      );
    });

    it('refuses what would change results: another input, a different length, an output the first kernel reads', async () => {
      const g = convGeometry(1, 2, 5, 5, 2, 3, 1, 1);
      const n = g.N * g.O * g.OH * g.OW;
      const rng = new Rng(6);
      const xs = [random(g.N * g.C * g.H * g.W, rng), random(g.O * g.C * 9, rng), random(n, rng)];
      const make = (b: WebGpuBackend) => [...xs.map((x) => onDevice(b, x)), b.alloc(n) as Float32Array, b.alloc(n) as Float32Array];
      // ReLU of an array the convolution does not write.
      await compare(
        make,
        (b, [x, w, other, y, z]) => {
          b.conv2dForward(g, x, w, null, y);
          b.relu(other, z);
        },
        ([x, w, other, y, z]) => {
          ref.conv2dForward(g, x, w, null, y);
          ref.relu(other, z);
        },
        [3, 4],
        0,
        'unrelated input',
      );
      // ReLU written over the convolution's input (other invocations still read it).
      await compare(
        make,
        (b, [x, w, , y]) => {
          b.conv2dForward(g, x, w, null, y);
          b.relu(y, x);
        },
        ([x, w, , y]) => {
          ref.conv2dForward(g, x, w, null, y);
          ref.relu(y, x);
        },
        [0, 3],
        0,
        'output over the input',
      );
      // ReLU over a longer array than the GEMM writes.
      const [M, N] = [4, 4];
      const ab = [random(16, rng), random(16, rng), random(19, rng)];
      await compare(
        (b) => [onDevice(b, ab[0]), onDevice(b, ab[1]), onDevice(b, ab[2]), b.alloc(19) as Float32Array],
        (b, [a, bb, c, z]) => {
          b.gemm(false, false, M, N, 4, 1, a, bb, 0, c);
          b.relu(c, z);
        },
        ([a, bb, c, z]) => {
          ref.gemm(false, false, M, N, 4, 1, a, bb, 0, c);
          ref.relu(c, z);
        },
        [2, 3],
        0,
        'longer array',
      );
      // A bias that the GEMM writes (its own output) is not a plain input.
      await compare(
        (b) => [onDevice(b, ab[0]), onDevice(b, ab[1]), b.alloc(16) as Float32Array],
        (b, [a, bb, c]) => {
          b.gemm(false, false, M, N, 4, 1, a, bb, 0, c);
          b.addBias(M, N, c, c, bb);
        },
        ([a, bb, c]) => {
          ref.gemm(false, false, M, N, 4, 1, a, bb, 0, c);
          ref.addBias(M, N, c, c, bb);
        },
        [1, 2],
        0,
        'bias from the output',
      );
    });
  });

  it('sumsOfSquares: every array in two dispatches per group, bit-identical to sumOfSquares each', async () => {
    const rng = new Rng(31);
    // Past one chunk (8 192), exactly one, empty, and more arrays than one dispatch binds.
    const sizes = [150, 6, 2400, 16, 48_000, 120, 10_080, 84, 840, 10, 8192, 8193, 0, 1, 300, 7];
    const xs = sizes.map((n) => onDevice(be, random(n, rng)));
    const fused = be.alloc(sizes.length),
      single = be.alloc(sizes.length);
    await be.download([]);
    be.resetStats();
    be.sumsOfSquares(xs, fused);
    const dispatches = be.stats().dispatches;
    xs.forEach((x, i) => be.sumOfSquares(x, single, i));
    await be.download([fused, single]);
    assert.deepEqual(fused, single);
    const per = Math.min(16, be.info.maxStorageBuffersPerShaderStage - 1);
    assert.equal(dispatches, 2 * Math.ceil(sizes.length / per));
    xs.forEach((x, i) => assert.ok(Math.abs(fused[i] - x.reduce((s, v) => s + v * v, 0)) <= 1e-4 * (1 + fused[i]), `array ${i}`));
    // The output among the arrays: one call each, in order, as sumOfSquares would.
    const out = onDevice(be, Float32Array.from([1, 2, 3])),
      outRef = onDevice(be, Float32Array.from([1, 2, 3]));
    be.sumsOfSquares([xs[0], out, xs[1]], out);
    [xs[0], outRef, xs[1]].forEach((x, i) => be.sumOfSquares(x, outRef, i));
    await be.download([out, outRef]);
    assert.deepEqual(out, outRef);
  });

  it('a LeNet-5 training step in steady state: 1 submit, no blocking read-back, fewer dispatches than unfused; same losses', async () => {
    const B = 8,
      rng = new Rng(9);
    const input = Float32Array.from({ length: B * 784 }, () => rng.uniform(0, 1));
    const labels = Uint8Array.from({ length: B }, () => rng.int(10));
    const run = async (fused: boolean) => {
      dispatcher(be).fusion = fused;
      const model = new Model(zoo.lenet5.build(), be, 5);
      // Without the batched methods: the same backend seen without sgdSteps, as the Optimizer would see ref or wasm.
      const optBackend = fused ? be : (Object.create(be, { sgdSteps: { value: undefined } }) as WebGpuBackend);
      const loss = new SoftmaxCrossEntropy(be),
        opt = new Optimizer({ type: 'sgd', momentum: 0.9, weightDecay: 5e-4 }, optBackend);
      const params = model.parameters(),
        squares = be.alloc(params.length);
      const x = new Tensor([B, 1, 28, 28], onDevice(be, input));
      // The trainer's step as docs/ARCHITECTURE.md describes it, with the batched forms where there are.
      const step = () => {
        const out = loss.compute(model.forward(x, true), labels);
        model.backward(out.grad);
        if (fused)
          be.sumsOfSquares(
            params.map((p) => p.grad.data),
            squares,
          );
        else params.forEach((p, i) => be.sumOfSquares(p.grad.data, squares, i));
        opt.step(params, 0.05);
        return be.downloadLater([out.lossValue, squares]).then(() => [out.lossValue[0], ...squares]);
      };
      try {
        const losses: number[][] = [];
        let previous = step();
        for (let k = 0; k < 3; k++) {
          if (k === 2) be.resetStats();
          const current = step();
          losses.push(await previous);
          previous = current;
          if (k === 2) {
            const s = be.stats();
            losses.push([s.dispatches, s.submits, s.blockingReadbacks]);
          }
        }
        losses.push(await previous);
        return losses;
      } finally {
        dispatcher(be).fusion = true;
      }
    };
    const fused = await run(true),
      plain = await run(false);
    const [dispatches, submits, blocking] = fused.splice(3, 1)[0];
    const [plainDispatches] = plain.splice(3, 1)[0];
    assert.equal(submits, 1, 'one submit per step');
    assert.equal(blocking, 0, 'no blocking read-back');
    if (be.info.maxStorageBuffersPerShaderStage >= 12) assert.ok(dispatches <= 37, `${dispatches} dispatches per step`);
    assert.ok(dispatches < plainDispatches - 15, `${dispatches} dispatches fused, ${plainDispatches} without`);
    fused.forEach((row, k) => assertClose(row, plain[k], `step ${k}: loss and gradient norms`, 1e-5));
  });
});
