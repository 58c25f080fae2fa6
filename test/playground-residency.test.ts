/**
 * The playground worker's pieces follow the backend residency contract (src/backend/backend.ts,
 * "Residency") without a GPU: a strict split backend keeps every array twice, a host copy that
 * the caller sees and a device copy that the kernels use, joined only by upload and download,
 * as on WebGPU. A host write without upload, or a host read without download, then gives
 * numbers different from the same work on the reference backend, where both copies are one.
 * Then the same pieces on the webgpu backend itself (Dawn for Node; SwiftShader's Vulkan
 * driver from Debian's chromium where there is no GPU), including a lost device.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { type Backend, type FloatArray, Model, RefBackend, decodeModel, limitDataset, sequential } from '../src/index.js';
import { loadMnist } from '../src/node/index.js';
import { CLASSES } from '../web/src/network-def.js';
import { defaultSettings } from '../web/src/protocol.js';
import { NetworkRun } from '../web/src/worker/network-run.js';
import { testReport } from '../web/src/worker/test-report.js';

type HostArray = FloatArray | Int32Array;

// Without a GPU, Dawn finds an adapter only through a software Vulkan driver (set before Dawn loads).
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
const webgpu = await import('../src/backend/webgpu/webgpu.js')
  .then((m) => m.WebGpuBackend.create())
  .then(
    (backend) => ({ backend, skip: false as const }),
    (e: Error) => ({ backend: undefined, skip: `no WebGPU device: ${e.message}` }),
  );

/** The reference kernels on device copies that only upload and download connect to the host's. */
function splitBackend(): Backend & { transfers: { uploads: number; downloads: number } } {
  const ref = new RefBackend('float32');
  const device = new WeakMap<ArrayBufferLike, Float32Array | Int32Array>();
  const transfers = { uploads: 0, downloads: 0 };
  const deviceCopy = (a: HostArray, what: string): Float32Array | Int32Array => {
    let d = device.get(a.buffer);
    // Index arrays a kernel takes (max pooling's argmax) get their device copy on first use, as on WebGPU.
    if (!d && a instanceof Int32Array) device.set(a.buffer, (d = Int32Array.from(a)));
    if (!d) throw new Error(`${what}: an array that alloc() did not make`);
    if (a.byteOffset !== 0 || a.length !== d.length) throw new Error(`${what}: a view into part of an array`);
    return d;
  };
  const backend = {
    name: 'split',
    dtype: 'float32' as const,
    transfers,
    alloc(n: number): FloatArray {
      const host = new Float32Array(n);
      device.set(host.buffer, new Float32Array(n));
      return host;
    },
    upload(a: HostArray): void {
      transfers.uploads++;
      deviceCopy(a, 'upload').set(a);
    },
    async download(arrays: readonly HostArray[]): Promise<void> {
      transfers.downloads++;
      await new Promise((resolve) => setTimeout(resolve, 0));
      for (const a of arrays) a.set(deviceCopy(a, 'download'));
    },
  };
  return new Proxy(backend, {
    get(target, key, receiver) {
      if (key in target) return Reflect.get(target, key, receiver);
      const kernel = (ref as unknown as Record<string | symbol, unknown>)[key];
      if (typeof kernel !== 'function') return kernel;
      return (...args: unknown[]) =>
        (kernel as (...a: unknown[]) => void).apply(
          ref,
          args.map((arg, i) =>
            // Label arrays are plain host arrays that kernels read at call time.
            (arg instanceof Float32Array || arg instanceof Float64Array || arg instanceof Int32Array) && !(key === 'softmaxCrossEntropy' && i === 3)
              ? deviceCopy(arg, `${String(key)} argument ${i}`)
              : arg,
          ),
        );
    },
  }) as unknown as Backend & { transfers: typeof transfers };
}

describe('the playground worker follows the residency contract (strict split backend vs the reference)', () => {
  const train = limitDataset(loadMnist('train'), 1024);
  const test_ = limitDataset(loadMnist('test'), 150);
  const spec = sequential(
    'tiny',
    [1, 24, 24],
    [
      { type: 'conv2d', filters: 4, kernel: 5, stride: 2, padding: 2 },
      { type: 'relu' },
      { type: 'maxpool2d', kernel: 2, stride: 2 },
      { type: 'flatten' },
      { type: 'dense', units: 10 },
    ],
    CLASSES,
  );
  const settings = { ...defaultSettings, batchSize: 16, lr: 0.05 };
  const runOn = (backend: Backend) => new NetworkRun(new Model(spec, backend, 3), 'test', train, test_, settings, 5);

  test('training, rolling test, snapshots, layer views, test report, kernels and saving give the reference numbers', async () => {
    const split = splitBackend();
    const [a, b] = [runOn(split), runOn(new RefBackend('float32'))];
    for (let i = 0; i < 30; i++) {
      await a.step({ snapshot: i % 7 === 0 });
      await b.step({ snapshot: i % 7 === 0 });
    }
    const statsOf = (r: NetworkRun) => ({ ...r.stats(), imagesPerSecond: 0, forwardMs: 0, backwardMs: 0, updateMs: 0, waitMs: 0 });
    assert.deepEqual(statsOf(a), statsOf(b));
    assert.ok(a.stats().testWindow > 0, 'rolling test batches ran');
    assert.deepEqual(a.snapshot, b.snapshot, 'the snapshot is the downloaded weights');
    assert.equal(split.transfers.downloads, 30, 'one readback per training step (test batches and snapshots ride along)');

    assert.deepEqual(await a.inspector.inspect({ kind: 'test', index: 4 }), await b.inspector.inspect({ kind: 'test', index: 4 }));
    const drawn = train.images.slice(0, 784);
    assert.deepEqual(await a.inspector.inspect({ kind: 'drawn', pixels: drawn }), await b.inspector.inspect({ kind: 'drawn', pixels: drawn }));
    const none = async () => {};
    assert.deepEqual(await testReport(a.reportReplica, test_, 0, none), await testReport(b.reportReplica, test_, 0, none));
    assert.deepEqual(await a.firstConvKernels(), await b.firstConvKernels());
    const weightsIn = async (r: NetworkRun) =>
      decodeModel((await r.save()).bytes, 'saved', new RefBackend('float32'))
        .model.parameters()
        .map((p) => Array.from(p.value.data));
    assert.deepEqual(await weightsIn(a), await weightsIn(b));
  });

  test('moving a run to another backend carries weights, optimizer state and progress; a lost device leaves the snapshot', async () => {
    const from = runOn(splitBackend());
    for (let i = 0; i < 12; i++) await from.step({ snapshot: i === 5 });
    const state = await from.exportState();
    const moved = new NetworkRun(new Model(spec, new RefBackend('float32'), 99), 'moved', train, test_, settings, 5, state);
    assert.deepEqual(moved.snapshot.tensors, state.weights.tensors);
    assert.equal(moved.session.examples, 12 * 16);
    assert.equal(moved.stats().loss, from.stats().loss, 'smoothed statistics go along');
    const velocity = (r: NetworkRun) => r.session.exportState().then((s) => [...s.train.optimizer.buffers.values()].flat().map((v) => Array.from(v)));
    assert.deepEqual(await velocity(moved), await velocity(from));

    // Without the device, what is left is the snapshot that rode on step 6's readback: the weights after 5 steps.
    const salvaged = runOn(splitBackend());
    for (let i = 0; i < 12; i++) await salvaged.step({ snapshot: i === 5 });
    const left = salvaged.salvage();
    assert.equal(left.weights.examples, 5 * 16);
    assert.equal(left.session!.examples, 5 * 16);
    assert.equal(left.session!.train.optimizer.buffers.size, 0, 'no optimizer state without the device');
    const resumed = new NetworkRun(new Model(spec, new RefBackend('float32'), 99), 'salvaged', train, test_, settings, 5, left);
    assert.deepEqual(resumed.snapshot.tensors, left.weights.tensors);
    await resumed.step();
    assert.ok(Number.isFinite(resumed.stats().loss));
  });
});

describe('the playground worker on the webgpu backend', { skip: webgpu.skip }, () => {
  const train = limitDataset(loadMnist('train'), 512);
  const test_ = limitDataset(loadMnist('test'), 100);
  const spec = sequential(
    'tiny',
    [1, 24, 24],
    [
      { type: 'conv2d', filters: 4, kernel: 5, stride: 2, padding: 2 },
      { type: 'relu' },
      { type: 'maxpool2d', kernel: 2, stride: 2 },
      { type: 'flatten' },
      { type: 'dense', units: 10 },
    ],
    CLASSES,
  );
  const settings = { ...defaultSettings, batchSize: 16, lr: 0.05 };
  const close = (got: ArrayLike<number>, want: ArrayLike<number>, what: string, tol = 1e-3) => {
    assert.equal(got.length, want.length, what);
    for (let i = 0; i < want.length; i++) {
      if (!(Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])))) assert.fail(`${what}[${i}]: ${got[i]}, reference ${want[i]}`);
    }
  };

  test('trains, tests, inspects and saves like the reference, then survives losing its device through the snapshot', async () => {
    const gpu = webgpu.backend!;
    const [a, b] = [
      new NetworkRun(new Model(spec, gpu, 3), 'gpu', train, test_, settings, 5),
      new NetworkRun(new Model(spec, new RefBackend('float32'), 3), 'ref', train, test_, settings, 5),
    ];
    for (let i = 0; i < 16; i++) {
      await a.step({ snapshot: i === 12 });
      await b.step({ snapshot: i === 12 });
    }
    close([a.stats().loss, a.stats().accuracy], [b.stats().loss, b.stats().accuracy], 'smoothed loss and accuracy');
    assert.ok(a.stats().testWindow > 0);
    a.snapshot.tensors.forEach((t, i) => close(t, b.snapshot.tensors[i], `snapshot tensor ${i}`));
    const [ia, ib] = [await a.inspector.inspect({ kind: 'test', index: 2 }), await b.inspector.inspect({ kind: 'test', index: 2 })];
    close(ia.probs, ib.probs, 'inspected probabilities');
    ia.layers.forEach((l, i) => {
      close(l.activation, ib.layers[i].activation, `${l.name} activation`);
      close(l.gradient!, ib.layers[i].gradient!, `${l.name} gradient`);
    });
    const none = async () => {};
    const [ra, rb] = [await testReport(a.reportReplica, test_, 0, none), await testReport(b.reportReplica, test_, 0, none)];
    assert.ok(Math.abs(ra.accuracy - rb.accuracy) <= 0.02, `test accuracy ${ra.accuracy} vs ${rb.accuracy}`);
    const kernels = (await a.firstConvKernels())!.kernels.flatMap((k) => k.values);
    close(
      kernels,
      (await b.firstConvKernels())!.kernels.flatMap((k) => k.values),
      'first conv kernels',
    );
    const saved = decodeModel((await a.save()).bytes, 'saved', new RefBackend('float32')).model;
    saved.parameters().forEach((p, i) => close(p.value.data, b.model.parameters()[i].value.data, `saved ${p.path}`));

    // A move while the device works carries the optimizer state.
    const state = await a.exportState();
    assert.ok(state.session!.train.optimizer.buffers.size > 0);

    // Two more steps, then the device is lost: steps fail, and what is left is the snapshot that exportState took.
    await a.step();
    await a.step();
    gpu.device.destroy();
    await assert.rejects(a.step(), /device was lost|webgpu backend/);
    const left = a.salvage();
    assert.equal(left.weights.examples, 16 * 16);
    assert.deepEqual(left.weights.tensors, state.weights.tensors);
    const moved = new NetworkRun(new Model(spec, new RefBackend('float32'), 9), 'moved', train, test_, settings, 5, left);
    await moved.step();
    assert.ok(Number.isFinite(moved.stats().loss));
    assert.equal(moved.session.examples, 17 * 16);
  });
});
