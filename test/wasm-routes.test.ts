/**
 * The wasm backend's convolution routes (src/backend/wasm-routes.ts; docs/ARCHITECTURE.md,
 * "Where the data lives with the wasm backend"): for representative layers, the route each pass
 * takes, and on the kernel route whether assembly/conv.ts runs its direct kernel or im2col.
 * Dilated convolutions never take the direct, convgemm or Winograd routes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Conv2dGeometry } from '../src/backend/backend.js';
import { kernelBytes } from '../src/backend/wasm-files.js';
import { WasmHeap } from '../src/backend/wasm-heap.js';
import { instantiateKernels, loadKernels } from '../src/backend/wasm-kernels.js';
import { HEAP_BASE, RecordWriter } from '../src/backend/wasm-records.js';
import { type ConvDirection, convRoute } from '../src/backend/wasm-routes.js';

function conv(N: number, C: number, H: number, O: number, K: number, stride = 1, pad = 0, groups = 1, dilation = 1): Conv2dGeometry {
  const OH = Math.floor((H + 2 * pad - dilation * (K - 1) - 1) / stride) + 1;
  return {
    N,
    C,
    H,
    W: H,
    O,
    KH: K,
    KW: K,
    strideH: stride,
    strideW: stride,
    padH: pad,
    padW: pad,
    OH,
    OW: OH,
    groups,
    dilationH: dilation,
    dilationW: dilation,
  };
}

// [layer, geometry, routes of forward / input gradient / weight gradient]. On the kernel route
// assembly/conv.ts picks the direct kernel or im2col for the forward and input gradient (shown
// as such), and for the weight gradient inside the kernel call (shown as 'kernel').
const cases: [string, Conv2dGeometry, [string, string, string]][] = [
  ['LeNet-5 conv1: 6 filters, 5×5 on 28×28, batch 64', conv(64, 1, 28, 6, 5), ['direct', 'direct', 'kernel']],
  ['LeNet-5 conv2: 16 filters over 6 channels', conv(64, 6, 12, 16, 5), ['direct', 'direct', 'kernel']],
  ['few filters, stride 2', conv(8, 3, 32, 16, 3, 2, 1), ['im2col', 'im2col', 'kernel']],
  ['VGG-style 3×3, 64 → 64, batch 4', conv(4, 64, 16, 64, 3, 1, 1), ['winograd', 'winograd', 'winograd']],
  ['3×3, 64 → 64 on 4×4, batch 1: too few tiles for the Winograd weight gradient', conv(1, 64, 4, 64, 3, 1, 1), ['winograd', 'winograd', 'convgemm']],
  ['3×3, 16 channels → 64: too few channels for Winograd', conv(4, 16, 16, 64, 3, 1, 1), ['convgemm', 'direct', 'convgemm']],
  ['AlexNet conv2 5×5, 64 → 192 on 27×27, batch 1', conv(1, 64, 27, 192, 5, 1, 2), ['winograd', 'winograd', 'convgemm']],
  ['5×5, 48 → 64 on 13×13, batch 1: too few outputs for 5×5 Winograd', conv(1, 48, 13, 64, 5, 1, 2), ['convgemm', 'convgemm', 'convgemm']],
  ['AlexNet conv1 11×11 stride 4, 3 → 64', conv(2, 3, 227, 64, 11, 4, 2), ['convgemm', 'im2col', 'convgemm']],
  ['pointwise 1×1, 64 → 64', conv(2, 64, 14, 64, 1), ['convgemm', 'convgemm', 'convgemm']],
  ['grouped 3×3 stride 2, 2 groups of 37 filters', conv(3, 8, 15, 74, 3, 2, 1, 2), ['convgemm', 'im2col', 'convgemm']],
  ['dilated 3×3 (dilation 2), 64 → 64', conv(4, 64, 16, 64, 3, 1, 2, 1, 2), ['im2col', 'im2col', 'kernel']],
  ['dilated 5×5 (dilation 2), 6 → 16', conv(8, 6, 20, 16, 5, 1, 4, 1, 2), ['im2col', 'im2col', 'kernel']],
];

test('convolutions take the documented route in each pass; dilated ones always take im2col', async () => {
  const memory = new WebAssembly.Memory({ initial: 2 });
  const { module } = await loadKernels((file) => kernelBytes(file), false, false);
  const k = instantiateKernels(module, memory);
  const records = new RecordWriter(new WasmHeap(memory, false, HEAP_BASE));
  const directions: ConvDirection[] = ['forward', 'input', 'weights'];
  for (const [label, g, expected] of cases) {
    const routes = directions.map((d) => {
      const route = convRoute(g, d);
      if (route !== 'kernel' || d === 'weights') return route;
      return k.usesDirect(records.write('conv', g), +(d === 'input')) ? 'direct' : 'im2col';
    });
    assert.deepEqual(routes, expected, label);
  }
});
