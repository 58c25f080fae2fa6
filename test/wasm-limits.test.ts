// Workspace sizes of the wasm backend against its heap's limits: a request that cannot fit is a
// ResourceError before anything is allocated, never an out-of-bounds access or a wrapped size.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ResourceError } from '../src/errors.js';
import { RefBackend } from '../src/backend/ref.js';
import { WasmBackend } from '../src/backend/wasm.js';
import { WASM32_MAX_BYTES, WasmHeap } from '../src/backend/wasm-heap.js';
import { Scratch } from '../src/backend/wasm-scratch.js';

const GiB = 2 ** 30;

describe('wasm heap and scratch limits', () => {
  // A growable shared heap is only reserved, not committed: 16 pages to start.
  const sharedHeap = () => new WasmHeap(new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true }), true, 256, WASM32_MAX_BYTES);

  it('refuses sizes at and past the 2 GiB and 4 GiB boundaries of a 1 GiB heap before allocating', () => {
    const heap = new WasmHeap(new WebAssembly.Memory({ initial: 16, maximum: 16384, shared: true }), true, 256, GiB);
    const scratch = new Scratch(heap);
    for (const bytes of [GiB, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 32 + 64]) {
      assert.throws(
        () => scratch.block('big', bytes, 'the test block'),
        (e: Error) =>
          e instanceof ResourceError &&
          /wasm backend: out of memory: the test block needs [\d.]+ GiB, more than the 1024\.0 MiB the wasm heap can ever hold/.test(e.message),
        `${bytes}`,
      );
      assert.throws(() => scratch.workspace(0, bytes), ResourceError);
    }
    assert.throws(() => scratch.workspaces(2, GiB / 2 + 64), /the workspaces of 2 threads needs/);
    assert.equal(heap.bytesInUse, 0, 'nothing was allocated');
    assert.equal(heap.memory.buffer.byteLength, 16 * 65536, 'the memory did not grow');
  });

  it('a 4 GiB heap can hold a block past 2^31 bytes but nothing past 2^32', () => {
    const heap = sharedHeap();
    assert.ok(heap.capacity > 2 ** 31 && heap.capacity < 2 ** 32);
    heap.checkFits(2 ** 31 + 4096, 'a block past 2 GiB');
    assert.throws(() => heap.checkFits(2 ** 32, 'a 4 GiB block'), ResourceError);
    assert.throws(() => heap.allocBytes(2 ** 32 + 1), ResourceError);
  });

  it('a size that is negative, fractional or NaN (a wrapped computation) is an internal error, not a 1-byte block', () => {
    const heap = sharedHeap();
    for (const bytes of [-1, -(2 ** 31), 1.5, Number.NaN]) assert.throws(() => heap.allocBytes(bytes), /internal error: wasm backend: .*invalid size/);
    assert.equal(heap.bytesInUse, 0);
  });
});

describe('wasm convolution weight gradient past the i32 range', () => {
  // A 1×1 convolution padded by 4000: the direct weight-gradient kernel's workspace (padded
  // input and dy transposed over 8 filters) is 2.3 GB, past 2^31: its size used to wrap in i32.
  const pad = 4000,
    H = 28,
    OH = H + 2 * pad;
  const g = { N: 1, C: 1, H, W: H, O: 1, KH: 1, KW: 1, strideH: 1, strideW: 1, padH: pad, padW: pad, OH, OW: OH, groups: 1, dilationH: 1, dilationW: 1 };

  for (const threads of [1, 2]) {
    it(`on a 1 GiB heap, ${threads} thread(s): a ResourceError naming the call, no RuntimeError`, async () => {
      const b = await WasmBackend.create({ threads, maximumMemoryMiB: 1024 });
      try {
        const x = b.alloc(H * H),
          dy = b.alloc(OH * OH),
          dw = b.alloc(1),
          db = b.alloc(1);
        x.fill(1);
        dy[0] = 1;
        assert.throws(
          () => b.conv2dBackwardWeights(g, x, dy, dw, db),
          (e: Error) =>
            e instanceof ResourceError &&
            /wasm backend: out of memory: the convolution weight gradient \(1×1 kernel, 1→1 channels, 28×28 input padded by 4000, batch 1, kernel route\) workspace needs 2\.\d+ GiB/.test(
              e.message,
            ),
          'ResourceError',
        );
      } finally {
        b.dispose();
      }
    });
  }

  it('matches the ref backend where the workspace fits (padding 1000)', async () => {
    const p = 1000,
      O1 = H + 2 * p;
    const g1 = { ...g, padH: p, padW: p, OH: O1, OW: O1 };
    const b = await WasmBackend.create({ threads: 1 });
    try {
      const x = b.alloc(H * H),
        dy = b.alloc(O1 * O1),
        dw = b.alloc(1),
        db = b.alloc(1);
      for (let i = 0; i < x.length; i++) x[i] = Math.sin(i);
      for (let i = 0; i < dy.length; i += 97) dy[i] = 1;
      b.conv2dBackwardWeights(g1, x, dy, dw, db);
      const rdw = new Float64Array(1),
        rdb = new Float64Array(1);
      new RefBackend().conv2dBackwardWeights(g1, Float64Array.from(x), Float64Array.from(dy), rdw, rdb);
      assert.ok(Math.abs(dw[0] - rdw[0]) < 1e-4 * Math.max(1, Math.abs(rdw[0])), `${dw[0]} vs ${rdw[0]}`);
      assert.equal(db[0], rdb[0]);
    } finally {
      b.dispose();
    }
  });
});
