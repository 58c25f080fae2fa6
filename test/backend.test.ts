/**
 * Every fast backend against the reference backend (the oracle): each kernel on random shapes
 * and values, then whole networks forward, backward and a few optimizer steps.
 * Tolerance for float32 accumulations: |got - ref| ≤ TOL · (1 + |ref|) element-wise.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Backend, Conv2dGeometry, Pool2dGeometry } from '../src/backend/backend.js';
import { type BackendOptions, createBackend } from '../src/backend/index.js';
import { RefBackend } from '../src/backend/ref.js';
import { outputSize } from '../src/layers/pool2d.js';
import { Model, type ModelSpec } from '../src/model/model.js';
import { zoo } from '../src/model/zoo.js';
import { ResourceError } from '../src/errors.js';
import { Rng } from '../src/rng.js';
import { type FloatArray, Tensor } from '../src/tensor.js';
import { SoftmaxCrossEntropy } from '../src/train/loss.js';
import { Optimizer } from '../src/train/optimizer.js';
import { webgpuSkip } from './webgpu-env.js';

const TOL = 1e-4;

/** Backends under test: a name for createBackend and its options. */
const cases: { name: string; label: string; options: BackendOptions; skip?: string | false }[] = [
  { name: 'wasm', label: 'wasm, 1 thread', options: { threads: 1 } },
  { name: 'wasm', label: 'wasm, 2 threads', options: { threads: 2 } },
  { name: 'wasm', label: 'wasm, without shared memory', options: { sharedMemory: false, initialMemoryMiB: 128 } },
  // Where the engine runs relaxed SIMD (Chromium, newer Node) the cases above use the FMA build.
  { name: 'wasm', label: 'wasm, plain SIMD build', options: { threads: 1, relaxedSimd: false } },
  { name: 'webgpu', label: 'webgpu', options: {}, skip: webgpuSkip },
];

const ref = new RefBackend('float32');

// The wasm kernels are a build product; build them if this checkout has not yet.
if (!existsSync(new URL('../dist-wasm/kernels-simd.wasm', import.meta.url))) {
  execFileSync(process.execPath, [new URL('../assembly/build.mjs', import.meta.url).pathname], { stdio: 'inherit' });
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tol = TOL): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i],
      w = want[i];
    if (g === w || (Number.isNaN(g) && Number.isNaN(w))) continue; // also equal infinities
    const err = Math.abs(g - w) / (1 + Math.abs(w));
    if (!(err <= tol)) assert.fail(`${what}: element ${i} is ${g}, reference ${w} (scaled error ${err} > ${tol})`);
  }
}

/**
 * ‖got − want‖ / ‖want‖ ≤ tol, for whole tensors of deep networks in training mode: batch norm
 * over the few values per channel a small batch has late in a net divides by a standard
 * deviation near √eps and amplifies float32 rounding in single elements far beyond what the
 * kernel tests allow (at batch 2 even float32 reference vs float64 differ by 0.5 %).
 */
function assertNormClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tol: number): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let diff = 0,
    norm = 0;
  for (let i = 0; i < want.length; i++) {
    diff += (got[i] - want[i]) ** 2;
    norm += want[i] ** 2;
  }
  const err = Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-12);
  assert.ok(err <= tol, `${what}: relative error ${err} > ${tol}`);
}

function randomFill(a: FloatArray, rng: Rng, lo = -1, hi = 1): FloatArray {
  for (let i = 0; i < a.length; i++) a[i] = rng.uniform(lo, hi);
  return a;
}

/**
 * Canaries. Every array a test hands a kernel lies between GUARD sentinel values on each side
 * (a subarray of a larger alloc()), and a kernel that writes outside its array changes them:
 * close() checks an output's guards, and after each test every guard of the test is checked.
 * The webgpu backend takes only whole arrays from alloc(): there the guard trails an output,
 * for kernels whose extent comes from their arguments (an element-wise kernel's extent is its
 * output's length), and inputs have none. Inputs are also compared with their reference twins
 * after each test (the test changes both alike): a kernel must not write what it only reads.
 */
const GUARD = 16;
const SENTINEL = 1234.5,
  INDEX_SENTINEL = -123_456_789;
interface Guard {
  outer: Float32Array | Int32Array;
  lead: number;
  n: number;
  sentinel: number;
  what: string;
}
const guards = new WeakMap<ArrayBufferView, Guard>();
/** This test's guarded arrays and its inputs with their reference twins, checked after it. */
let testGuards: Guard[] = [];
let testInputs: { got: FloatArray; want: FloatArray; what: string }[] = [];
const wholeArraysOnly = (be: Backend) => be.name === 'webgpu';

function guard(outer: Float32Array | Int32Array, lead: number, n: number, what: string): Guard {
  const sentinel = outer instanceof Int32Array ? INDEX_SENTINEL : SENTINEL;
  outer.fill(sentinel, 0, lead);
  outer.fill(sentinel, lead + n);
  const g = { outer, lead, n, sentinel, what: `${what} #${testGuards.length} (${n} elements)` };
  testGuards.push(g);
  return g;
}

/** A float array of n elements between guards, where the backend allows (see GUARD). */
function guardedFloats(be: Backend, n: number, what: string, lengthIsExtent = false): FloatArray {
  if (wholeArraysOnly(be)) {
    if (lengthIsExtent || what === 'input') return be.alloc(n);
    const outer = be.alloc(n + GUARD) as Float32Array;
    guards.set(outer, guard(outer, 0, n, what));
    return outer;
  }
  const outer = be.alloc(n + 2 * GUARD) as Float32Array,
    inner = outer.subarray(GUARD, GUARD + n);
  guards.set(inner, guard(outer, GUARD, n, what));
  return inner;
}

/** An argmax array of n elements between guards: in the wasm heap (else it would be copied through scratch memory). */
function guardedIndices(be: Backend, n: number): Int32Array {
  if (wholeArraysOnly(be)) {
    const outer = new Int32Array(n + GUARD);
    guards.set(outer, guard(outer, 0, n, 'argmax'));
    return outer;
  }
  const floats = be.alloc(n + 2 * GUARD);
  const outer = new Int32Array(floats.buffer, floats.byteOffset, n + 2 * GUARD),
    inner = outer.subarray(GUARD, GUARD + n);
  guards.set(inner, guard(outer, GUARD, n, 'argmax'));
  keepAlive.set(inner, floats); // the block is freed when its float view is collected
  return inner;
}
const keepAlive = new WeakMap<object, object>();

/** The n elements an array stands for (a trailing-guarded webgpu array is longer). */
function payload<T extends FloatArray | Int32Array>(a: T): T {
  const g = guards.get(a);
  return (g ? g.outer.subarray(g.lead, g.lead + g.n) : a) as T;
}

/** Where a guard was overwritten, or null. */
function guardDamage(g: Guard): string | null {
  const { outer, lead, n, sentinel } = g;
  for (let i = 0; i < outer.length; i++) {
    if (i === lead) i = lead + n;
    if (i < outer.length && !Object.is(outer[i], sentinel)) {
      return `element ${i - lead} (${i < lead ? 'before its start' : `past its end at ${n}`}) is ${outer[i]}`;
    }
  }
  return null;
}

function assertGuards(g: Guard | undefined, what: string): void {
  const damage = g && guardDamage(g);
  if (damage) assert.fail(`${what}: a kernel wrote outside the array: ${damage}`);
}

/** The same random values in the backend's memory and in a plain reference array. */
function pair(be: Backend, n: number, rng: Rng, lo = -1, hi = 1): [FloatArray, FloatArray] {
  const r = randomFill(new Float32Array(n), rng, lo, hi);
  const b = guardedFloats(be, n, 'input');
  b.set(r);
  be.upload(b);
  testInputs.push({ got: b, want: r, what: `input #${testInputs.length} (${n} elements)` });
  return [b, r];
}

/**
 * Output buffers: backend and reference, both pre-filled with the same garbage (kernels must
 * overwrite). `lengthIsExtent`: the kernel takes its size from the array's length (element-wise).
 */
function outputs(be: Backend, n: number, rng: Rng, lengthIsExtent = false): [FloatArray, FloatArray] {
  const r = randomFill(new Float32Array(n), rng, -5, 5);
  const b = guardedFloats(be, n, 'output', lengthIsExtent);
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

function poolGeometry(
  N: number,
  C: number,
  H: number,
  W: number,
  KH: number,
  KW: number,
  strideH: number,
  strideW: number,
  padH: number,
  padW: number,
  ceil: boolean,
): Pool2dGeometry {
  return {
    N,
    C,
    H,
    W,
    KH,
    KW,
    strideH,
    strideW,
    padH,
    padW,
    OH: outputSize(H, KH, strideH, padH, ceil),
    OW: outputSize(W, KW, strideW, padW, ceil),
  };
}

const convCases: [string, Conv2dGeometry][] = [
  ['3×3, batch 1', convGeometry(1, 2, 7, 6, 4, 3, 3, 1, 1, 0, 0, 1)],
  ['5×5 pad 2 (LeNet conv1), batch 3', convGeometry(3, 1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 1)],
  ['stride 2, pad 1, odd sizes', convGeometry(2, 3, 9, 11, 5, 3, 3, 2, 2, 1, 1, 1)],
  ['non-square kernel, stride and padding', convGeometry(3, 2, 8, 5, 2, 3, 2, 2, 1, 1, 0, 1)],
  ['groups 2', convGeometry(2, 4, 6, 5, 6, 3, 3, 1, 1, 1, 1, 2)],
  ['groups 3, stride 2', convGeometry(2, 6, 9, 9, 9, 3, 3, 2, 2, 1, 1, 3)],
  ['depthwise (groups = channels)', convGeometry(2, 4, 7, 7, 4, 3, 3, 1, 1, 1, 1, 4)],
  ['1×1 pointwise', convGeometry(3, 5, 4, 3, 7, 1, 1, 1, 1, 0, 0, 1)],
  ['1×1 stride 2', convGeometry(2, 3, 7, 7, 4, 1, 1, 2, 2, 0, 0, 1)],
  ['kernel as large as the padded input', convGeometry(2, 2, 3, 4, 3, 5, 6, 1, 1, 1, 1, 1)],
  ['same padding, 5 filters (a lone last filter), odd sizes', convGeometry(3, 4, 9, 7, 5, 3, 3, 1, 1, 1, 1, 1)],
  ['unpadded, even output height, 7 filters', convGeometry(2, 3, 9, 12, 7, 2, 3, 1, 1, 0, 0, 1)],
  ['padding K-1 (output larger than input)', convGeometry(2, 3, 6, 5, 4, 3, 3, 1, 1, 2, 2, 1)],
  ['single input channel, same padding, wide', convGeometry(2, 1, 6, 37, 3, 3, 3, 1, 1, 1, 1, 1)],
  ['large enough to split across threads', convGeometry(8, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1)],
  ['threads, groups 2, stride 3', convGeometry(7, 8, 17, 13, 12, 3, 4, 3, 2, 1, 2, 2)],
  // Enough filters (or input channels, for the input gradient) for the GEMM path (convgemm.ts).
  ['GEMM path: 40 filters, batch 1 (positions split across threads)', convGeometry(1, 8, 17, 15, 40, 3, 3, 1, 1, 1, 1, 1)],
  ['GEMM path both ways: 34 channels, 36 filters, 7 wide (strips over several rows)', convGeometry(3, 34, 9, 7, 36, 3, 3, 1, 1, 1, 1, 1)],
  ['GEMM path: groups 2, 37 filters per group, stride 2', convGeometry(2, 6, 15, 13, 74, 3, 3, 2, 2, 1, 1, 2)],
  ['GEMM path: 11×11 stride 4 (AlexNet conv1), batch 1', convGeometry(1, 3, 47, 47, 36, 11, 11, 4, 4, 0, 0, 1)],
  ['GEMM path all three: groups 2, 13×13 same padding, batch 1', convGeometry(1, 64, 13, 13, 64, 3, 3, 1, 1, 1, 1, 2)],
  ['GEMM path: non-square kernel, stride (2, 1), padding K-1', convGeometry(2, 4, 6, 9, 33, 3, 2, 2, 1, 2, 1, 1)],
  ['GEMM path: 1×1, more than one block of positions', convGeometry(1, 16, 36, 36, 32, 1, 1, 1, 1, 0, 0, 1)],
  ['GEMM path input gradient, padding K-1', convGeometry(2, 32, 5, 6, 8, 3, 3, 1, 1, 2, 2, 1)],
  // 3×3 stride 1 with ≥ 32 rows and channels: Winograd F(2×2, 3×3) (winograd.ts), forward and input gradient.
  ['Winograd: odd output (13×11), 2 images', convGeometry(2, 32, 13, 11, 40, 3, 3, 1, 1, 1, 1, 1)],
  ['Winograd: unpadded (input gradient padded by 2)', convGeometry(1, 33, 10, 9, 34, 3, 3, 1, 1, 0, 0, 1)],
  ['Winograd: padding 2 (input gradient unpadded)', convGeometry(2, 36, 6, 7, 32, 3, 3, 1, 1, 2, 2, 1)],
  ['Winograd: groups 2, 260 channels per group (two K blocks), batch 1', convGeometry(1, 520, 5, 5, 80, 3, 3, 1, 1, 1, 1, 2)],
  ['Winograd: more rows and tiles than one block of products', convGeometry(2, 32, 20, 20, 136, 3, 3, 1, 1, 1, 1, 1)],
  // Winograd weight gradient (winogradgrad.ts, ≥ 64 tiles over the batch): groups, and channel
  // counts that leave a partial quad for the last transform.
  ['Winograd weight gradient: groups 2, 13×13, 2 images', convGeometry(2, 64, 13, 13, 64, 3, 3, 1, 1, 1, 1, 2)],
  ['Winograd weight gradient: 33 channels, 34 filters, unpadded 11×13, 3 images', convGeometry(3, 33, 11, 13, 34, 3, 3, 1, 1, 0, 0, 1)],
  // 5×5 stride 1 by F(3×3, 3×3) on four sub-kernels (winograd5.ts), forward and input gradient.
  ['Winograd 5×5: odd output (29×27), 34 filters, batch 1', convGeometry(1, 32, 29, 27, 34, 5, 5, 1, 1, 2, 2, 1)],
  ['Winograd 5×5: unpadded (input gradient padded by 4), 2 images', convGeometry(2, 33, 25, 23, 34, 5, 5, 1, 1, 0, 0, 1)],
  ['Winograd 5×5: padding 1, groups 2, 2 images', convGeometry(2, 66, 21, 22, 72, 5, 5, 1, 1, 1, 1, 2)],
  ['Winograd 5×5: groups 2, K = 4 × 70 and 4 × 66 (two K blocks), 27×27 batch 1', convGeometry(1, 140, 27, 27, 132, 5, 5, 1, 1, 2, 2, 2)],
];

// Edge configurations of convolutions: a 1×1 input, padding ≥ kernel, stride > kernel,
// single-tile Winograd, odd batches.
convCases.push(
  ['edge 1×1 input, 1×1 kernel, batch 1', convGeometry(1, 3, 1, 1, 5, 1, 1, 1, 1, 0, 0, 1)],
  ['edge 1×1 input, 3×3 pad 1 (kernel larger than the input), batch 3', convGeometry(3, 2, 1, 1, 5, 3, 3, 1, 1, 1, 1, 1)],
  ['edge padding = kernel (2×2 pad 2), 3 images', convGeometry(3, 2, 4, 5, 3, 2, 2, 1, 1, 2, 2, 1)],
  ['edge 1×1 kernel, padding 1', convGeometry(3, 3, 3, 4, 4, 1, 1, 1, 1, 1, 1, 1)],
  ['edge stride > kernel (2×2 stride 3), 3 images', convGeometry(3, 2, 10, 11, 3, 2, 2, 3, 3, 0, 0, 1)],
  ['edge GEMM path, 1×1 stride 2 on odd sizes, batch 1', convGeometry(1, 4, 11, 9, 33, 1, 1, 2, 2, 0, 0, 1)],
  ['edge Winograd, 1×1 input (one partial tile), 3 images', convGeometry(3, 32, 1, 1, 33, 3, 3, 1, 1, 1, 1, 1)],
  ['edge Winograd weight gradient, odd sizes, 3 images (72 tiles)', convGeometry(3, 32, 5, 9, 33, 3, 3, 1, 1, 1, 1, 1)],
);

/** gemm shapes [M, N, K]: tile edges, the dot-product path, both thread splits. */
const gemmShapes = [
  [1, 1, 1],
  [5, 7, 3],
  [4, 8, 16],
  [13, 17, 300],
  [6, 784, 25],
  [130, 9, 257],
  [3, 200, 5],
  [70, 90, 60],
  [65, 129, 260],
  [300, 70, 270],
]; // threads share one packed B: row blocks past MC, K past KC, N not a multiple of 8

const poolCases: [string, Pool2dGeometry][] = [
  ['2/2', poolGeometry(2, 3, 8, 6, 2, 2, 2, 2, 0, 0, false)],
  ['overlapping 3/2, odd sizes', poolGeometry(3, 2, 9, 7, 3, 3, 2, 2, 0, 0, false)],
  ['padding 1, ceil mode', poolGeometry(2, 2, 8, 8, 3, 3, 2, 2, 1, 1, true)],
  ['non-square, ceil mode', poolGeometry(1, 3, 7, 10, 2, 3, 2, 3, 1, 1, true)],
  ['3/3 (convnetjs pool2)', poolGeometry(4, 16, 12, 12, 3, 3, 3, 3, 0, 0, false)],
  ['2/2, large enough to split across threads', poolGeometry(8, 16, 24, 22, 2, 2, 2, 2, 0, 0, false)],
  ['3/2 padding 1 ceil mode, split across threads', poolGeometry(6, 8, 31, 29, 3, 3, 2, 2, 1, 1, true)],
  ['3/1 padding 1 (stride-1 windows, four at a time)', poolGeometry(2, 3, 9, 13, 3, 3, 1, 1, 1, 1, false)],
  ['3/2 unpadded, odd width (AlexNet)', poolGeometry(1, 4, 13, 27, 3, 3, 2, 2, 0, 0, false)],
  ['2/2, 7 outputs a row (a last quad overlapping the one before)', poolGeometry(2, 3, 10, 14, 2, 2, 2, 2, 0, 0, false)],
  ['3/3 padding 1, ceil mode, wide (windows of stride 3 four at a time)', poolGeometry(2, 3, 17, 26, 3, 3, 3, 3, 1, 1, true)],
  ...poolEdgeCases(),
];

/**
 * Pooling's edge configurations, by construction: for each window shape the wasm kernels
 * specialise (2/2 unpadded, 3/3, overlapping 3/2, stride 1, and the general clipped loop), every
 * output width around the four-at-a-time steps (1 to 9 outputs, so no quad, whole quads, a
 * partial last quad), in floor and ceil mode (ceil: a partial last window in both directions);
 * then windows larger than the input, stride > kernel, padding ≥ kernel, 1×1 inputs; batches 1
 * and odd, and plane counts that split across threads unevenly.
 */
function poolEdgeCases(): [string, Pool2dGeometry][] {
  const out: [string, Pool2dGeometry][] = [];
  const shapes: [string, number, number, number][] = [
    ['2/2', 2, 2, 0],
    ['3/3', 3, 3, 0],
    ['3/3 pad 1', 3, 3, 1],
    ['3/2', 3, 2, 0],
    ['3/1 pad 1', 3, 1, 1],
  ];
  for (const [name, k, s, p] of shapes) {
    for (const ceil of [false, true]) {
      for (const OW of [1, 3, 4, 5, 8, 9]) {
        // The input width giving OW outputs; in ceil mode one more column, so the last window hangs past the input.
        const W = (OW - 1) * s + k - 2 * p + (ceil && s > 1 ? 1 : 0);
        const H = k - 2 * p + s + (ceil && s > 1 ? 1 : 0);
        const N = OW % 2 === 0 ? 1 : 3;
        const g = poolGeometry(N, 2, H, W, k, k, s, s, p, p, ceil);
        out.push([`edge ${name}${ceil ? ' ceil' : ''}: ${H}×${W} → ${g.OH}×${g.OW}, batch ${N}`, g]);
      }
    }
  }
  out.push(
    ['edge window larger than the input (padding 1): 2×2, 3/1', poolGeometry(3, 2, 2, 2, 3, 3, 1, 1, 1, 1, false)],
    ['edge window larger than the input (padding 1): 1×2, 3/2 ceil', poolGeometry(1, 3, 1, 2, 3, 3, 2, 2, 1, 1, true)],
    ['edge stride > kernel: 2/3 on 9×11', poolGeometry(3, 2, 9, 11, 2, 2, 3, 3, 0, 0, false)],
    ['edge stride > kernel, ceil: 2/3 on 10×13', poolGeometry(1, 2, 10, 13, 2, 2, 3, 3, 0, 0, true)],
    ['edge padding ≥ kernel (windows all padding): 2/2 pad 2 on 3×4', poolGeometry(1, 2, 3, 4, 2, 2, 2, 2, 2, 2, false)],
    ['edge padding = kernel, stride 1: 1/1 pad 1 on 3×3', poolGeometry(3, 1, 3, 3, 1, 1, 1, 1, 1, 1, false)],
    ['edge 1×1 input, 1/1', poolGeometry(1, 3, 1, 1, 1, 1, 1, 1, 0, 0, false)],
    ['edge 1×1 input, 3/1 pad 1', poolGeometry(3, 2, 1, 1, 3, 3, 1, 1, 1, 1, false)],
    ['edge 1×1 input, 2/2 pad 1 ceil', poolGeometry(1, 2, 1, 1, 2, 2, 2, 2, 1, 1, true)],
    // 35 planes of 33×33: past the split threshold, planes not a multiple of the pieces.
    ['edge threads: 2/2 ceil, 5×7 planes of 33×33 (partial windows)', poolGeometry(5, 7, 33, 33, 2, 2, 2, 2, 0, 0, true)],
    ['edge threads: 3/3 ceil, 5×7 planes of 34×34', poolGeometry(5, 7, 34, 34, 3, 3, 3, 3, 0, 0, true)],
  );
  return out;
}

/**
 * Every specialised path of the wasm backend (src/backend/wasm.ts routing, assembly/) and the
 * cases that reach its tail: partial quads, tiles, strips and windows, odd sizes, uneven thread
 * splits. References: 'conv: LABEL', 'pool: LABEL', 'gemm: M×N×K' (checked to exist by the test
 * below), 'test: TITLE' for kernels whose configurations are inline in one test. Tails marked
 * (mutation-checked) fail their cases when broken on purpose.
 */
const wasmPathCoverage: [path: string, cases: string[]][] = [
  ['gemm: packed 4×8 micro-kernel, edge tiles (M % 4, N % 8)', ['gemm: 5×7×3', 'gemm: 70×90×60', 'gemm: 1×1×1']],
  ['gemm: blocks past KC (256) and MC (128)', ['gemm: 300×70×270', 'gemm: 13×17×300']],
  [
    'gemm: A·Bᵀ as dot products (NT, K ≥ 16, M·N ≤ 4096 or M ≤ 16), odd rows, partial column quad (mutation-checked)',
    ['gemm: 13×17×300', 'gemm: 6×784×25', 'gemm: 4×8×16'],
  ],
  ['gemm: split by rows across threads, B packed once and shared, partial last block', ['gemm: 130×9×257', 'gemm: 300×70×270']],
  ['gemm: split by columns across threads, partial last block', ['gemm: 65×129×260']],
  [
    'conv: direct forward and input gradient (stride 1), filters not a multiple of 4, partial output quads (mutation-checked)',
    [
      'conv: same padding, 5 filters (a lone last filter), odd sizes',
      'conv: unpadded, even output height, 7 filters',
      'conv: single input channel, same padding, wide',
    ],
  ],
  [
    'conv: im2col + GEMM (stride > 1), all three kernels',
    ['conv: stride 2, pad 1, odd sizes', 'conv: edge stride > kernel (2×2 stride 3), 3 images', 'conv: non-square kernel, stride and padding'],
  ],
  ['conv: pointwise 1×1 (no im2col)', ['conv: 1×1 pointwise', 'conv: edge 1×1 input, 1×1 kernel, batch 1']],
  [
    'conv: input gradient with padding ≥ kernel (not direct), padded 1×1',
    ['conv: edge padding = kernel (2×2 pad 2), 3 images', 'conv: edge 1×1 kernel, padding 1'],
  ],
  [
    'conv: kernel larger than the input (with padding)',
    ['conv: kernel as large as the padded input', 'conv: edge 1×1 input, 3×3 pad 1 (kernel larger than the input), batch 3'],
  ],
  [
    'conv: direct weight gradient (stride 1)',
    ['conv: same padding, 5 filters (a lone last filter), odd sizes', 'conv: padding K-1 (output larger than input)'],
  ],
  [
    'conv: convgemm forward, input and weight gradients (≥ 32 rows), partial strips',
    [
      'conv: GEMM path: groups 2, 37 filters per group, stride 2',
      'conv: GEMM path both ways: 34 channels, 36 filters, 7 wide (strips over several rows)',
      'conv: edge GEMM path, 1×1 stride 2 on odd sizes, batch 1',
    ],
  ],
  [
    'conv: convgemm batch 1, positions split across threads',
    ['conv: GEMM path: 40 filters, batch 1 (positions split across threads)', 'conv: GEMM path all three: groups 2, 13×13 same padding, batch 1'],
  ],
  [
    'conv: Winograd F(2×2, 3×3) forward and input gradient, partial tiles and tile quads',
    [
      'conv: Winograd: odd output (13×11), 2 images',
      'conv: Winograd: unpadded (input gradient padded by 2)',
      'conv: edge Winograd, 1×1 input (one partial tile), 3 images',
    ],
  ],
  [
    'conv: Winograd 5×5 (F(3×3, 3×3) on four sub-kernels)',
    ['conv: Winograd 5×5: odd output (29×27), 34 filters, batch 1', 'conv: Winograd 5×5: unpadded (input gradient padded by 4), 2 images'],
  ],
  [
    'conv: Winograd weight gradient, partial channel quads',
    [
      'conv: Winograd weight gradient: 33 channels, 34 filters, unpadded 11×13, 3 images',
      'conv: edge Winograd weight gradient, odd sizes, 3 images (72 tiles)',
    ],
  ],
  ['conv: image ranges across threads, per-range weight gradients summed', ['conv: large enough to split across threads', 'conv: threads, groups 2, stride 3']],
  [
    'pool: 2/2 shortcut, whole quads, overlapping last quad, scalar under 4 outputs (mutation-checked)',
    [
      'pool: edge 2/2: 4×2 → 2×1, batch 3',
      'pool: edge 2/2: 4×10 → 2×5, batch 3',
      'pool: edge 2/2: 4×18 → 2×9, batch 3',
      'pool: 2/2, 7 outputs a row (a last quad overlapping the one before)',
    ],
  ],
  [
    'pool: 2/2 in ceil mode, partial last windows (general path) (mutation-checked)',
    [
      'pool: edge 2/2 ceil: 5×9 → 3×5, batch 1',
      'pool: edge threads: 2/2 ceil, 5×7 planes of 33×33 (partial windows)',
      'test: max pooling 2/2 in ceil mode: the partial last windows are clipped to the input',
    ],
  ],
  [
    'pool: windows four at a time, stride 2 (overlapping 3/2), inside-window bounds (mutation-checked)',
    ['pool: edge 3/2: 5×11 → 2×5, batch 3', 'pool: edge 3/2 ceil: 6×10 → 3×5, batch 1', 'pool: 3/2 unpadded, odd width (AlexNet)'],
  ],
  ['pool: windows four at a time, stride 1', ['pool: edge 3/1 pad 1: 2×5 → 2×5, batch 3', 'pool: edge 3/1 pad 1: 2×9 → 2×9, batch 3']],
  [
    'pool: 3/3 stride 3 (thirds), partial last quad, ceil partial window (mutation-checked)',
    ['pool: edge 3/3: 6×15 → 2×5, batch 3', 'pool: edge 3/3 ceil: 7×28 → 3×10, batch 3', 'pool: edge 3/3 pad 1 ceil: 5×14 → 2×5, batch 3'],
  ],
  [
    'pool: clipped scalar windows: padding ≥ kernel, windows larger than the input, 1×1 inputs, stride > kernel',
    [
      'pool: edge padding ≥ kernel (windows all padding): 2/2 pad 2 on 3×4',
      'pool: edge window larger than the input (padding 1): 1×2, 3/2 ceil',
      'pool: edge 1×1 input, 3/1 pad 1',
      'pool: edge stride > kernel, ceil: 2/3 on 10×13',
    ],
  ],
  [
    'pool: planes across threads, uneven split',
    ['pool: edge threads: 2/2 ceil, 5×7 planes of 33×33 (partial windows)', 'pool: edge threads: 3/3 ceil, 5×7 planes of 34×34'],
  ],
  [
    'pool: average pooling (every pool case, countPad both ways), adaptive',
    ['test: adaptive average pooling forward and backward (global, shrinking, growing)'],
  ],
  ['LRN: β = 0.75, 0.5, 1 and pow paths, channels across threads', ['test: local response normalisation forward and backward']],
  ['batch norm: channels and planes across threads, HW = 1', ['test: batch norm statistics, apply and backward']],
  [
    'element-wise: SIMD bodies with 1–3 element tails, 16-aligned thread ranges with a partial last one',
    [
      'test: add (also aliased), mul, axpy and copyBlocks',
      'test: activations and their gradients',
      'test: leaky ReLU and ReLU6 with their gradients',
      'test: sgdStep and adamStep',
    ],
  ],
];

describe('the kernel suite covers every specialised wasm path (table above)', () => {
  it('every case the table names exists', () => {
    const known = new Set([
      ...convCases.map(([label]) => `conv: ${label}`),
      ...poolCases.map(([label]) => `pool: ${label}`),
      ...gemmShapes.map(([M, N, K]) => `gemm: ${M}×${N}×${K}`),
    ]);
    const missing = wasmPathCoverage.flatMap(([, names]) => names.filter((n) => !n.startsWith('test: ') && !known.has(n)));
    assert.deepEqual(missing, []);
  });
});

// A browser run (test/browser/) chooses which cases run through this global; Node runs them all.
/**
 * For a describe block whose backend is `be()`: a close() that compares an output with the
 * reference once the backend's queued work is done (checking its guards), and, after each test,
 * that no guard of the test was overwritten and no input changed (see GUARD).
 */
function guardedChecks(be: () => Backend): (got: FloatArray, want: ArrayLike<number>, what: string, tol?: number) => Promise<void> {
  afterEach(async () => {
    const arrays = testGuards,
      inputs = testInputs;
    testGuards = [];
    testInputs = [];
    await be().download([...arrays.map((g) => g.outer), ...inputs.map((i) => i.got)]);
    for (const g of arrays) assertGuards(g, g.what);
    for (const { got, want, what } of inputs) assertClose(payload(got), want, `${what}, an input, changed`, 1e-3);
  });
  return async (got, want, what, tol = TOL) => {
    const g = guards.get(got);
    await be().download([g ? (g.outer as FloatArray) : got]);
    assertGuards(g, what);
    assertClose(payload(got), want, what, tol);
  };
}

const selected = (globalThis as { __convkitCases?: (all: typeof cases) => typeof cases }).__convkitCases?.(cases) ?? cases;
for (const c of selected) {
  describe(`backend ${c.label}`, { skip: c.skip }, () => {
    let be: Backend;
    before(async () => {
      be = await createBackend(c.name, c.options);
    });
    after(() => {
      (be as { dispose?: () => void }).dispose?.();
    });
    const close = guardedChecks(() => be);

    it('implements every method of RefBackend', (t) => {
      t.diagnostic(`${be.name}: ${JSON.stringify({ variant: (be as { variant?: string }).variant, threads: (be as { threads?: number }).threads })}`);
      const methods = (proto: object) =>
        Object.getOwnPropertyNames(proto).filter((k) => k !== 'constructor' && typeof Object.getOwnPropertyDescriptor(proto, k)?.value === 'function');
      const own = new Set(methods(Object.getPrototypeOf(be)));
      const missing = methods(RefBackend.prototype).filter((m) => !own.has(m));
      assert.deepEqual(missing, [], `${be.name} lacks ${missing.join(', ')}`);
      assert.equal(be.name, c.name);
      assert.equal(be.dtype, 'float32');
    });

    it('alloc returns zero-filled float32 arrays', async () => {
      for (const n of [1, 7, 1000, 100_000]) {
        const a = be.alloc(n);
        assert.ok(a instanceof Float32Array);
        assert.equal(a.length, n);
        assert.ok(a.every((v) => v === 0));
        a.fill(3);
      }
    });

    it('keeps working when the heap grows (earlier arrays stay valid, workers see new memory)', async () => {
      const rng = new Rng(11);
      const [a, ar] = pair(be, 96 * 80, rng);
      const big = be.alloc(8_000_000); // 32 MB: more than the initial heap
      big[big.length - 1] = 1;
      be.upload(big);
      const [b, br] = pair(be, 80 * 72, rng);
      const [cc, cr] = outputs(be, 96 * 72, rng);
      be.gemm(false, false, 96, 72, 80, 1, a, b, 0, cc);
      ref.gemm(false, false, 96, 72, 80, 1, ar, br, 0, cr);
      await close(cc, cr, 'gemm across a heap growth');
      assert.equal(a.length, 96 * 80, 'an array allocated before the growth is still attached');
      // A plain (non-shared) heap cannot grow without detaching every view: it must refuse instead.
      if (c.options.sharedMemory === false) assert.throws(() => be.alloc(64_000_000), ResourceError);
    });

    it('gemm: every transpose combination, edge tiles, alpha and beta', async () => {
      const rng = new Rng(1);
      const shapes = gemmShapes;
      const scalars = [
        [1, 0],
        [0.7, 0.3],
        [-1.5, 1],
      ];
      for (const [M, N, K] of shapes) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            for (const [alpha, beta] of scalars) {
              const [a, ar] = pair(be, M * K, rng),
                [b, br] = pair(be, K * N, rng),
                [cc, cr] = outputs(be, M * N, rng);
              be.gemm(transA, transB, M, N, K, alpha, a, b, beta, cc);
              ref.gemm(transA, transB, M, N, K, alpha, ar, br, beta, cr);
              await close(cc, cr, `gemm ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} ${M}×${N}×${K} alpha ${alpha} beta ${beta}`);
            }
          }
        }
      }
    });

    it('gemm with beta 0 ignores NaN already in C, and K = 0 scales C', async () => {
      const rng = new Rng(2);
      const [a, ar] = pair(be, 6 * 5, rng),
        [b, br] = pair(be, 5 * 9, rng);
      const cc = guardedFloats(be, 6 * 9, 'output'),
        cr = new Float32Array(6 * 9).fill(NaN);
      payload(cc).fill(NaN);
      be.upload(cc);
      be.gemm(false, false, 6, 9, 5, 1, a, b, 0, cc);
      ref.gemm(false, false, 6, 9, 5, 1, ar, br, 0, cr);
      await close(cc, cr, 'gemm beta 0 over NaN');
      const [c2, c2r] = outputs(be, 12, rng);
      be.gemm(false, false, 3, 4, 0, 1, a, b, 0.5, c2);
      ref.gemm(false, false, 3, 4, 0, 1, ar, br, 0.5, c2r);
      await close(c2, c2r, 'gemm K = 0');
    });

    // Arrays from outside the backend: CPU backends copy them through scratch memory; a GPU
    // backend cannot hand results back synchronously, so it requires its own arrays.
    it('gemm on arrays from outside the backend (copied through scratch memory)', {
      skip: c.name === 'webgpu' && 'a GPU backend needs arrays it allocated',
    }, async () => {
      const rng = new Rng(3);
      for (const [M, N, K] of [
        [9, 11, 13],
        [64, 70, 80],
      ]) {
        const a = randomFill(new Float32Array(M * K), rng),
          b = randomFill(new Float32Array(K * N), rng);
        const cc = randomFill(new Float32Array(M * N), rng),
          cr = Float32Array.from(cc);
        be.gemm(true, false, M, N, K, 1, a, b, 0.5, cc);
        ref.gemm(true, false, M, N, K, 1, a, b, 0.5, cr);
        await close(cc, cr, `foreign gemm ${M}×${N}×${K}`);
      }
      assert.throws(() => be.gemm(false, false, 4, 4, 4, 1, be.alloc(15), be.alloc(16), 0, be.alloc(16)), RangeError);
      // A call that fails after staging an output must not leak it into the next call.
      const g = poolGeometry(1, 1, 4, 4, 2, 2, 2, 2, 0, 0, false);
      const stale = new Float32Array(4).fill(-1);
      assert.throws(() => be.maxPool2dForward(g, new Float32Array(16), stale, new Int32Array(3)), RangeError);
      const x = randomFill(new Float32Array(6), rng),
        y = new Float32Array(6),
        yr = new Float32Array(6);
      be.softmax(2, 3, x, y);
      ref.softmax(2, 3, x, yr);
      await close(y, yr, 'softmax after a failed call');
      assert.deepEqual(Array.from(stale), [-1, -1, -1, -1], 'the failed call wrote nothing back');
    });

    for (const [label, g] of convCases) {
      it(`conv2d forward, backward input and weights: ${label}`, async () => {
        const rng = new Rng(label.length * 7919);
        const Cg = g.C / g.groups;
        const xn = g.N * g.C * g.H * g.W,
          wn = g.O * Cg * g.KH * g.KW,
          yn = g.N * g.O * g.OH * g.OW;
        const [x, xr] = pair(be, xn, rng),
          [w, wr] = pair(be, wn, rng),
          [bias, biasr] = pair(be, g.O, rng);
        for (const withBias of [true, false]) {
          const [y, yr] = outputs(be, yn, rng);
          be.conv2dForward(g, x, w, withBias ? bias : null, y);
          ref.conv2dForward(g, xr, wr, withBias ? biasr : null, yr);
          await close(y, yr, `forward${withBias ? '' : ' without bias'}`);
        }
        const [dy, dyr] = pair(be, yn, rng);
        const [dx, dxr] = outputs(be, xn, rng);
        be.conv2dBackwardInput(g, dy, w, dx);
        ref.conv2dBackwardInput(g, dyr, wr, dxr);
        await close(dx, dxr, 'backward input');
        const [dw, dwr] = outputs(be, wn, rng),
          [db, dbr] = outputs(be, g.O, rng);
        be.conv2dBackwardWeights(g, x, dy, dw, db);
        ref.conv2dBackwardWeights(g, xr, dyr, dwr, dbr);
        await close(dw, dwr, 'backward weights');
        await close(db, dbr, 'backward bias');
        be.conv2dBackwardWeights(g, x, dy, dw, null);
        await close(dw, dwr, 'backward weights without bias');
      });
    }

    // The wasm backend keeps Winograd-transformed weights between calls: a weight changed in
    // place must be seen, in both directions, and another weights array of the same shape must
    // not be mixed up with the first.
    it('conv2d sees weights changed in place between calls (Winograd 3×3 and 5×5, both directions)', async () => {
      const rng = new Rng(23);
      for (const g of [convGeometry(1, 32, 9, 9, 32, 3, 3, 1, 1, 1, 1, 1), convGeometry(1, 32, 27, 27, 32, 5, 5, 1, 1, 2, 2, 1)]) {
        const xn = g.N * g.C * g.H * g.W,
          wn = g.O * g.C * g.KH * g.KW,
          yn = g.N * g.O * g.OH * g.OW;
        const [x, xr] = pair(be, xn, rng),
          [w, wr] = pair(be, wn, rng),
          [dy, dyr] = pair(be, yn, rng);
        const check = async (step: string, weights = w, weightsRef = wr) => {
          const [y, yr] = outputs(be, yn, rng),
            [dx, dxr] = outputs(be, xn, rng);
          be.conv2dForward(g, x, weights, null, y);
          ref.conv2dForward(g, xr, weightsRef, null, yr);
          be.conv2dBackwardInput(g, dy, weights, dx);
          ref.conv2dBackwardInput(g, dyr, weightsRef, dxr);
          await close(y, yr, `${g.KH}×${g.KH} forward, ${step}`);
          await close(dx, dxr, `${g.KH}×${g.KH} input gradient, ${step}`);
        };
        await check('first call');
        await check('same weights again');
        for (const [step, i] of [
          ['last weight changed', wn - 1],
          ['first weight changed', 0],
          ['a middle weight changed', wn >> 1],
        ] as const) {
          await be.download([w]);
          w[i] += 2;
          wr[i] = w[i];
          be.upload(w);
          await check(step);
        }
        const [w2, w2r] = pair(be, wn, rng);
        await check('another weights array', w2, w2r);
        await check('the first weights again');
      }
    });

    it('conv2d on arrays from outside the backend', { skip: c.name === 'webgpu' && 'a GPU backend needs arrays it allocated' }, async () => {
      const rng = new Rng(4);
      const g = convGeometry(2, 3, 6, 7, 4, 3, 3, 1, 2, 1, 1, 1);
      const x = randomFill(new Float32Array(g.N * g.C * g.H * g.W), rng),
        w = randomFill(new Float32Array(4 * 3 * 9), rng);
      const y = new Float32Array(g.N * g.O * g.OH * g.OW),
        yr = new Float32Array(y.length);
      be.conv2dForward(g, x, w, null, y);
      ref.conv2dForward(g, x, w, null, yr);
      await close(y, yr, 'foreign conv forward');
    });

    for (const [label, g] of poolCases) {
      it(`max and average pooling forward and backward: ${label}`, async () => {
        const rng = new Rng(label.length * 104729);
        const xn = g.N * g.C * g.H * g.W,
          yn = g.N * g.C * g.OH * g.OW;
        const [x, xr] = pair(be, xn, rng);
        const [y, yr] = outputs(be, yn, rng);
        const argmax = guardedIndices(be, yn),
          argmaxr = new Int32Array(yn);
        payload(argmax).fill(-7);
        be.maxPool2dForward(g, x, y, argmax);
        ref.maxPool2dForward(g, xr, yr, argmaxr);
        await close(y, yr, 'max forward', 0);
        await be.download([guards.get(argmax)!.outer]);
        assertGuards(guards.get(argmax), 'argmax');
        assert.deepEqual(payload(argmax), argmaxr, 'argmax');
        const [dy, dyr] = pair(be, yn, rng);
        const [dx, dxr] = outputs(be, xn, rng);
        be.maxPool2dBackward(g, dy, argmax, dx);
        ref.maxPool2dBackward(g, dyr, argmaxr, dxr);
        await close(dx, dxr, 'max backward');
        for (const countPad of [true, false]) {
          const [ya, yar] = outputs(be, yn, rng);
          be.avgPool2dForward(g, x, ya, countPad);
          ref.avgPool2dForward(g, xr, yar, countPad);
          await close(ya, yar, `avg forward countPad ${countPad}`);
          const [dxa, dxar] = outputs(be, xn, rng);
          be.avgPool2dBackward(g, dy, dxa, countPad);
          ref.avgPool2dBackward(g, dyr, dxar, countPad);
          await close(dxa, dxar, `avg backward countPad ${countPad}`);
        }
      });
    }

    it('gives bit-identical results on repeated runs (reproducible training with threads)', async () => {
      const rng = new Rng(16);
      // The direct/im2col kernels and the GEMM path (convgemm.ts).
      for (const g of [convGeometry(16, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1), convGeometry(4, 8, 13, 13, 48, 5, 5, 1, 1, 2, 2, 1)]) {
        const [x] = pair(be, g.N * g.C * g.H * g.W, rng),
          [dy] = pair(be, g.N * g.O * g.OH * g.OW, rng);
        const [dw] = outputs(be, g.O * g.C * 25, rng),
          [db] = outputs(be, g.O, rng);
        be.conv2dBackwardWeights(g, x, dy, dw, db);
        await be.download([guards.get(dw)!.outer as FloatArray, guards.get(db)!.outer as FloatArray]);
        const first = Float32Array.from(payload(dw)),
          firstBias = Float32Array.from(payload(db));
        for (let run = 0; run < 20; run++) {
          be.conv2dBackwardWeights(g, x, dy, dw, db);
          await close(dw, first, `weight gradient of run ${run}`, 0);
          await close(db, firstBias, `bias gradient of run ${run}`, 0);
        }
      }
    });

    it('max pooling: ties keep the first maximum, NaN propagates (vector paths)', async () => {
      const rng = new Rng(17);
      for (const g of [
        poolGeometry(2, 2, 11, 21, 3, 3, 2, 2, 0, 0, false),
        poolGeometry(1, 2, 7, 19, 3, 3, 1, 1, 1, 1, false),
        poolGeometry(2, 2, 14, 26, 3, 3, 3, 3, 1, 1, false),
        poolGeometry(2, 2, 6, 14, 2, 2, 2, 2, 0, 0, false),
      ]) {
        const n = g.N * g.C * g.H * g.W;
        const values = Array.from({ length: n }, () => (rng.uniform(0, 1) < 0.05 ? NaN : Math.floor(rng.uniform(0, 3))));
        const x = guardedFloats(be, n, 'input');
        x.set(values);
        be.upload(x);
        const m = g.N * g.C * g.OH * g.OW;
        const [y] = outputs(be, m, rng),
          argmax = guardedIndices(be, m),
          yr = new Float32Array(m),
          argmaxr = new Int32Array(m);
        be.maxPool2dForward(g, x, y, argmax);
        ref.maxPool2dForward(g, Float32Array.from(values), yr, argmaxr);
        await be.download([guards.get(argmax)!.outer]);
        assertGuards(guards.get(argmax), 'argmax');
        assert.deepEqual(payload(argmax), argmaxr, 'argmax');
        await close(y, yr, 'max forward', 0);
      }
    });

    it('max pooling 2/2 in ceil mode: the partial last windows are clipped to the input', async () => {
      const g = poolGeometry(1, 1, 3, 3, 2, 2, 2, 2, 0, 0, true);
      const x = guardedFloats(be, 9, 'input');
      x.set([-1, -2, -3, -9, -4, -5, -8, -7, -6]);
      be.upload(x);
      const [y] = outputs(be, 4, new Rng(1)),
        argmax = guardedIndices(be, 4);
      be.maxPool2dForward(g, x, y, argmax);
      await close(y, [-1, -3, -7, -6], 'max forward');
      await be.download([guards.get(argmax)!.outer]);
      assertGuards(guards.get(argmax), 'argmax');
      assert.deepEqual(Array.from(payload(argmax)), [0, 2, 7, 8], 'argmax');
      const dy = guardedFloats(be, 4, 'input');
      dy.set([1, 2, 3, 4]);
      be.upload(dy);
      const [dx] = outputs(be, 9, new Rng(2));
      be.maxPool2dBackward(g, dy, argmax, dx);
      await close(dx, [1, 0, 2, 0, 0, 0, 0, 3, 4], 'max backward');
    });

    it('max pooling keeps the first of equal maxima and propagates NaN', async () => {
      const g = poolGeometry(1, 1, 4, 4, 2, 2, 2, 2, 0, 0, false);
      const values = [1, 1, 2, 0, 1, 1, NaN, 5, 3, 3, 2, 2, 3, 3, 2, NaN];
      const x = guardedFloats(be, 16, 'input');
      x.set(values);
      be.upload(x);
      const [y] = outputs(be, 4, new Rng(3)),
        argmax = guardedIndices(be, 4),
        yr = new Float32Array(4),
        argmaxr = new Int32Array(4);
      be.maxPool2dForward(g, x, y, argmax);
      await be.download([guards.get(argmax)!.outer]);
      ref.maxPool2dForward(g, Float32Array.from(values), yr, argmaxr);
      assertGuards(guards.get(argmax), 'argmax');
      assert.deepEqual(Array.from(payload(argmax)), Array.from(argmaxr));
      await close(y, yr, 'max forward', 0);
    });

    it('adaptive average pooling forward and backward (global, shrinking, growing)', async () => {
      const rng = new Rng(12);
      const shapes: [number, number, number, number, number, number][] = [
        [2, 3, 7, 9, 3, 4],
        [1, 2, 5, 5, 1, 1],
        [3, 4, 6, 6, 6, 6],
        [2, 2, 4, 5, 6, 7],
        [16, 32, 9, 9, 2, 3],
      ];
      for (const [N, C, H, W, OH, OW] of shapes) {
        const g: Pool2dGeometry = { N, C, H, W, OH, OW, KH: 0, KW: 0, strideH: 0, strideW: 0, padH: 0, padW: 0 };
        const [x, xr] = pair(be, N * C * H * W, rng),
          [y, yr] = outputs(be, N * C * OH * OW, rng);
        be.adaptiveAvgPool2dForward(g, x, y);
        ref.adaptiveAvgPool2dForward(g, xr, yr);
        await close(y, yr, `adaptive forward ${H}×${W} → ${OH}×${OW}`);
        const [dy, dyr] = pair(be, N * C * OH * OW, rng),
          [dx, dxr] = outputs(be, N * C * H * W, rng);
        be.adaptiveAvgPool2dBackward(g, dy, dx);
        ref.adaptiveAvgPool2dBackward(g, dyr, dxr);
        await close(dx, dxr, `adaptive backward ${H}×${W} → ${OH}×${OW}`);
      }
    });

    it('batch norm statistics, apply and backward', async () => {
      const rng = new Rng(13);
      for (const [N, C, HW] of [
        [1, 3, 1],
        [4, 5, 49],
        [16, 8, 300],
        [2, 3, 7],
      ]) {
        const n = N * C * HW;
        const [x, xr] = pair(be, n, rng, 2, 5); // an offset mean tests the variance's accuracy
        const [mean, meanr] = outputs(be, C, rng),
          [variance, variancer] = outputs(be, C, rng);
        be.batchNormStats(N, C, HW, x, mean, variance);
        ref.batchNormStats(N, C, HW, xr, meanr, variancer);
        await close(mean, meanr, `mean ${N}×${C}×${HW}`, 1e-6);
        await close(variance, variancer, `variance ${N}×${C}×${HW}`, 1e-5);
        const [invStd] = outputs(be, C, rng),
          invStdr = new Float32Array(C);
        be.batchNormRunning(C, mean, variance, 1e-5, 0, 1, be.alloc(C), be.alloc(C), invStd);
        ref.batchNormRunning(C, meanr, variancer, 1e-5, 0, 1, new Float32Array(C), new Float32Array(C), invStdr);
        await close(invStd, invStdr, `invStd ${N}×${C}×${HW}`, 1e-6);
        // The reference's statistics on both sides, so that apply and backward are checked on their own.
        mean.set(meanr);
        be.upload(mean);
        invStd.set(invStdr);
        be.upload(invStd);
        const [gamma, gammar] = pair(be, C, rng),
          [beta, betar] = pair(be, C, rng);
        const [y, yr] = outputs(be, n, rng);
        be.batchNormApply(N, C, HW, x, mean, invStd, gamma, beta, y);
        ref.batchNormApply(N, C, HW, xr, meanr, invStdr, gammar, betar, yr);
        await close(y, yr, `apply ${N}×${C}×${HW}`);
        const [dy, dyr] = pair(be, n, rng);
        // Batch statistics (training) and constant running statistics (evaluation).
        for (const batchStats of [true, false]) {
          const [dx, dxr] = outputs(be, n, rng),
            [dgamma, dgammar] = outputs(be, C, rng),
            [dbeta, dbetar] = outputs(be, C, rng);
          be.batchNormBackward(N, C, HW, x, dy, mean, invStd, gamma, dx, dgamma, dbeta, batchStats);
          ref.batchNormBackward(N, C, HW, xr, dyr, meanr, invStdr, gammar, dxr, dgammar, dbetar, batchStats);
          const what = `${N}×${C}×${HW}${batchStats ? '' : ', running statistics'}`;
          await close(dx, dxr, `backward dx ${what}`);
          await close(dgamma, dgammar, `backward dgamma ${what}`);
          await close(dbeta, dbetar, `backward dbeta ${what}`);
        }
      }
    });

    it('local response normalisation forward and backward', async () => {
      const rng = new Rng(14);
      for (const [N, C, HW, size, alpha, beta, k] of [
        [2, 7, 13, 5, 1e-4, 0.75, 2],
        [1, 3, 4, 4, 0.5, 0.75, 1],
        [3, 16, 50, 5, 1e-3, 0.75, 1],
        // other exponents (square-root and pow paths), and one image split across threads by channels
        [2, 5, 11, 3, 0.1, 0.5, 1],
        [1, 6, 9, 5, 0.2, 1, 1.5],
        [2, 4, 7, 2, 0.3, 0.6, 1],
        [1, 37, 255, 5, 1e-2, 0.75, 2],
      ]) {
        const n = N * C * HW;
        const [x, xr] = pair(be, n, rng, -3, 3);
        const [scale, scaler] = outputs(be, n, rng),
          [y, yr] = outputs(be, n, rng);
        be.lrnForward(N, C, HW, size, alpha, beta, k, x, scale, y);
        ref.lrnForward(N, C, HW, size, alpha, beta, k, xr, scaler, yr);
        await close(scale, scaler, `lrn scale size ${size}`);
        await close(y, yr, `lrn forward size ${size}`);
        const [dy, dyr] = pair(be, n, rng),
          [dx, dxr] = outputs(be, n, rng);
        be.lrnBackward(N, C, HW, size, alpha, beta, k, x, y, scale, dy, dx);
        ref.lrnBackward(N, C, HW, size, alpha, beta, k, xr, yr, scaler, dyr, dxr);
        await close(dx, dxr, `lrn backward size ${size}`);
      }
    });

    it('leaky ReLU and ReLU6 with their gradients', async () => {
      const rng = new Rng(15);
      for (const [slope, cap] of [
        [0.01, Infinity],
        [0, 6],
        [0.2, 1.5],
      ]) {
        for (const n of [1, 5, 999, 50_001]) {
          const [x, xr] = pair(be, n, rng, -8, 8);
          if (n > 5) {
            x[1] = xr[1] = 0;
            x[2] = xr[2] = -0;
            x[3] = xr[3] = NaN;
            x[4] = xr[4] = cap;
            be.upload(x);
          }
          const [dy, dyr] = pair(be, n, rng);
          const [y, yr] = outputs(be, n, rng, true),
            [dx, dxr] = outputs(be, n, rng, true);
          be.leakyRelu(x, y, slope, cap);
          ref.leakyRelu(xr, yr, slope, cap);
          await close(y, yr, `leakyRelu slope ${slope} cap ${cap} n ${n}`, 1e-7);
          be.leakyReluBackward(x, dy, dx, slope, cap);
          ref.leakyReluBackward(xr, dyr, dxr, slope, cap);
          await close(dx, dxr, `leakyReluBackward slope ${slope} cap ${cap} n ${n}`, 1e-7);
        }
      }
    });

    it('addBias (also in place) and sumRows', async () => {
      const rng = new Rng(5);
      for (const [rows, cols] of [
        [1, 1],
        [3, 7],
        [64, 120],
        [5, 13],
      ]) {
        const [x, xr] = pair(be, rows * cols, rng),
          [b, br] = pair(be, cols, rng);
        const [y, yr] = outputs(be, rows * cols, rng);
        be.addBias(rows, cols, x, b, y);
        ref.addBias(rows, cols, xr, br, yr);
        await close(y, yr, `addBias ${rows}×${cols}`);
        be.addBias(rows, cols, x, b, x);
        ref.addBias(rows, cols, xr, br, xr);
        await close(x, xr, `addBias in place ${rows}×${cols}`);
        const [db, dbr] = outputs(be, cols, rng);
        be.sumRows(rows, cols, x, db);
        ref.sumRows(rows, cols, xr, dbr);
        await close(db, dbr, `sumRows ${rows}×${cols}`);
      }
    });

    it('add (also aliased), mul, axpy and copyBlocks', async () => {
      const rng = new Rng(6);
      for (const n of [1, 3, 37, 1001, 40_013]) {
        const [a, ar] = pair(be, n, rng),
          [b, br] = pair(be, n, rng);
        const [o, or] = outputs(be, n, rng, true);
        be.add(a, b, o);
        ref.add(ar, br, or);
        await close(o, or, `add ${n}`);
        be.mul(a, b, o);
        ref.mul(ar, br, or);
        await close(o, or, `mul ${n}`);
        be.add(a, b, a);
        ref.add(ar, br, ar);
        await close(a, ar, `add into a ${n}`);
        be.axpy(-0.37, b, a);
        ref.axpy(-0.37, br, ar);
        await close(a, ar, `axpy ${n}`);
      }
      const [src, srcr] = pair(be, 3 * 10, rng);
      const [dst, dstr] = outputs(be, 3 * 17, rng);
      be.copyBlocks(3, src, 10, 2, dst, 17, 5, 7);
      ref.copyBlocks(3, srcr, 10, 2, dstr, 17, 5, 7);
      await close(dst, dstr, 'copyBlocks', 0);
    });

    it('activations and their gradients', async () => {
      const rng = new Rng(7);
      for (const n of [1, 5, 64, 999, 50_001]) {
        const [x, xr] = pair(be, n, rng, -6, 6);
        if (n > 4) {
          x[1] = xr[1] = 0;
          x[2] = xr[2] = -0;
          x[3] = xr[3] = NaN;
          be.upload(x);
        } // relu's edge cases
        const [dy, dyr] = pair(be, n, rng);
        const [y, yr] = outputs(be, n, rng, true),
          [dx, dxr] = outputs(be, n, rng, true);
        be.relu(x, y);
        ref.relu(xr, yr);
        await close(y, yr, `relu ${n}`, 0);
        be.reluBackward(x, dy, dx);
        ref.reluBackward(xr, dyr, dxr);
        await close(dx, dxr, `reluBackward ${n}`, 0);
        if (n > 4) {
          x[3] = xr[3] = 0.5;
          be.upload(x);
        }
        be.tanh(x, y);
        ref.tanh(xr, yr);
        await close(y, yr, `tanh ${n}`, 1e-6);
        be.tanhBackward(y, dy, dx);
        ref.tanhBackward(yr, dyr, dxr);
        await close(dx, dxr, `tanhBackward ${n}`, 1e-6);
        be.sigmoid(x, y);
        ref.sigmoid(xr, yr);
        await close(y, yr, `sigmoid ${n}`, 1e-6);
        be.sigmoidBackward(y, dy, dx);
        ref.sigmoidBackward(yr, dyr, dxr);
        await close(dx, dxr, `sigmoidBackward ${n}`, 1e-6);
      }
      const big = be.alloc(4);
      big.set([100, -100, 30, -30]);
      be.upload(big);
      const out = be.alloc(4);
      be.sigmoid(big, out);
      await be.download([out]);
      assert.deepEqual(Array.from(out.subarray(0, 3)), [1, 0, 1], 'sigmoid saturates without NaN');
      assert.ok(Math.abs(out[3] / (1 / (1 + Math.exp(30))) - 1) < 1e-5, `sigmoid(-30) = ${out[3]}`);
      be.tanh(big, out);
      await be.download([out]);
      assert.deepEqual(Array.from(out), [1, -1, 1, -1]);
    });

    it('softmax and softmax cross-entropy (Uint8Array and Int32Array labels, extreme logits)', async () => {
      const rng = new Rng(8);
      for (const [N, K, scale] of [
        [1, 1, 1],
        [5, 10, 3],
        [64, 10, 10],
        [3, 1000, 1],
        [4, 7, 1000],
      ]) {
        const [x, xr] = pair(be, N * K, rng, -scale, scale);
        const [y, yr] = outputs(be, N * K, rng);
        be.softmax(N, K, x, y);
        ref.softmax(N, K, xr, yr);
        await close(y, yr, `softmax ${N}×${K}`, 1e-6);
        for (const labels of [Uint8Array.from({ length: N }, () => rng.int(Math.min(K, 256))), Int32Array.from({ length: N }, () => rng.int(K))]) {
          const [p, pr] = outputs(be, N * K, rng),
            [d, dr] = outputs(be, N * K, rng);
          const [lossOut] = outputs(be, 1, rng),
            lossOutr = new Float32Array(1);
          be.softmaxCrossEntropy(N, K, x, labels, p, d, lossOut);
          ref.softmaxCrossEntropy(N, K, xr, labels, pr, dr, lossOutr);
          await be.download([lossOut]);
          const loss = lossOut[0],
            lossr = lossOutr[0];
          assert.ok(Number.isFinite(loss), `loss ${loss} is finite`);
          assert.ok(Math.abs(loss - lossr) <= 1e-5 * (1 + Math.abs(lossr)), `loss ${loss} vs reference ${lossr}`);
          await close(p, pr, `probs ${N}×${K}`, 1e-6);
          await close(d, dr, `dlogits ${N}×${K}`, 1e-6);
        }
        const [dy, dyr] = pair(be, N * K, rng),
          [dx, dxr] = outputs(be, N * K, rng);
        be.softmaxBackward(N, K, y, dy, dx);
        ref.softmaxBackward(N, K, yr, dyr, dxr);
        await close(dx, dxr, `softmaxBackward ${N}×${K}`, 1e-5);
      }
    });

    it('sumOfSquares (gradient norms), into any slot of its output', async () => {
      const rng = new Rng(17);
      const out = be.alloc(4),
        outr = new Float64Array(4);
      for (const n of [1, 3, 7, 1000, 65_539]) {
        const [x, xr] = pair(be, n, rng, -3, 3);
        const slot = n % 4;
        be.sumOfSquares(x, out, slot);
        new RefBackend('float64').sumOfSquares(Float64Array.from(xr), outr, slot);
        await be.download([out]);
        assert.ok(Math.abs(out[slot] - outr[slot]) <= 1e-5 * outr[slot], `n ${n}: ${out[slot]} vs ${outr[slot]}`);
      }
    });

    it('batchNormRunning updates running statistics and invStd', async () => {
      const rng = new Rng(18);
      for (const C of [1, 6, 67]) {
        const [mean, meanr] = pair(be, C, rng),
          [variance, variancer] = pair(be, C, rng, 0, 3);
        const [rm, rmr] = pair(be, C, rng),
          [rv, rvr] = pair(be, C, rng, 0.5, 2),
          [inv, invr] = outputs(be, C, rng);
        be.batchNormRunning(C, mean, variance, 1e-5, 0.1, 1.01, rm, rv, inv);
        ref.batchNormRunning(C, meanr, variancer, 1e-5, 0.1, 1.01, rmr, rvr, invr);
        await close(inv, invr, `invStd C ${C}`, 1e-6);
        await close(rm, rmr, `running mean C ${C}`, 1e-6);
        await close(rv, rvr, `running variance C ${C}`, 1e-6);
      }
    });

    it('sgdStep and adamStep', async () => {
      const rng = new Rng(9);
      for (const n of [1, 6, 1001, 40_003]) {
        // the last split across threads
        for (const o of [
          { lr: 0.1, momentum: 0.9, weightDecay: 5e-4, nesterov: false },
          { lr: 0.05, momentum: 0.8, weightDecay: 0, nesterov: true },
          { lr: 0.2, momentum: 0, weightDecay: 1e-2, nesterov: false },
        ]) {
          const [w, wr] = pair(be, n, rng),
            [g, gr] = pair(be, n, rng),
            [v, vr] = pair(be, n, rng);
          for (let step = 0; step < 3; step++) {
            be.sgdStep(w, g, v, o);
            ref.sgdStep(wr, gr, vr, o);
          }
          await close(w, wr, `sgd w ${JSON.stringify(o)}`, 1e-5);
          await close(v, vr, `sgd v ${JSON.stringify(o)}`, 1e-5);
        }
        for (const decoupled of [false, true]) {
          const [w, wr] = pair(be, n, rng),
            [g, gr] = pair(be, n, rng);
          const [m, mr] = pair(be, n, rng, 0, 0),
            [v, vr] = pair(be, n, rng, 0, 0);
          for (let step = 1; step <= 4; step++) {
            const o = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled, step };
            be.adamStep(w, g, m, v, o);
            ref.adamStep(wr, gr, mr, vr, o);
          }
          await close(w, wr, `adam w decoupled ${decoupled}`, 1e-5);
          await close(m, mr, `adam m decoupled ${decoupled}`, 1e-5);
          await close(v, vr, `adam v decoupled ${decoupled}`, 1e-5);
        }
      }
    });

    // [label, spec, batch, deep]: deep nets are compared as whole tensors (assertNormClose).
    const networks: [string, () => ModelSpec, number, boolean][] = [
      ['lenet5', () => zoo.lenet5.build(), 16, false],
      ['convnetjs-mnist', () => zoo['convnetjs-mnist'].build(), 16, false],
      ['AlexNet (small: groups, LRN, stride 4)', () => zoo.alexnet.build({ inputShape: [3, 67, 67], width: 1 / 8, classes: 10 }), 4, true],
      [
        'ResNet-18 (small: batch norm, residual adds, global pooling)',
        () => zoo.resnet18.build({ inputShape: [3, 32, 32], width: 1 / 8, classes: 10 }),
        8,
        true,
      ],
      ['GoogLeNet (small: concats, ceil-mode pools)', () => zoo.googlenet.build({ inputShape: [3, 32, 32], width: 1 / 8, classes: 10 }), 8, true],
    ];
    for (const [label, build, N, deep] of networks) {
      it(`${label}: same logits, parameter gradients and updated weights as the reference`, async () => {
        const spec = build();
        const mRef = new Model(spec, ref, 42),
          mBe = new Model(spec, be, 42);
        const [C, H, W] = spec.inputShape;
        const K = mRef.outputShape[0];
        const rng = new Rng(10);
        const [x, xr] = pair(be, N * C * H * W, rng);
        const labels = Uint8Array.from({ length: N }, () => rng.int(K));
        const lossRef = new SoftmaxCrossEntropy(ref),
          lossBe = new SoftmaxCrossEntropy(be);
        const optRef = new Optimizer({ type: 'sgd', momentum: 0.9, weightDecay: 5e-4 }, ref);
        const optBe = new Optimizer({ type: 'sgd', momentum: 0.9, weightDecay: 5e-4 }, be);
        // Rounding differences grow with each training step: a looser bound after step 0, and
        // deep nets (where batch norm amplifies them) are compared over one step.
        const steps = deep ? 1 : 3;
        const closeNet = async (got: FloatArray, want: ArrayLike<number>, what: string, step: number) => {
          await be.download([got]);
          if (deep) assertNormClose(got, want, what, 1e-3);
          else assertClose(got, want, what, step === 0 ? 1e-4 : 1e-3);
        };
        for (let step = 0; step < steps; step++) {
          const logitsRef = mRef.forward(new Tensor([N, C, H, W], xr), true);
          const logitsBe = mBe.forward(new Tensor([N, C, H, W], x), true);
          await closeNet(logitsBe.data, logitsRef.data, `step ${step} logits`, step);
          const outRef = lossRef.compute(logitsRef, labels),
            outBe = lossBe.compute(logitsBe, labels);
          await be.download([outBe.lossValue]);
          const lossR = outRef.lossValue[0],
            lossB = outBe.lossValue[0];
          assert.ok(Math.abs(lossR - lossB) < 1e-3 * (1 + lossR), `step ${step} loss ${lossB} vs ${lossR}`);
          mRef.backward(outRef.grad);
          mBe.backward(outBe.grad);
          const pRef = mRef.parameters(),
            pBe = mBe.parameters();
          for (const [i, p] of pRef.entries()) await closeNet(pBe[i].grad.data, p.grad.data, `step ${step} ${p.path} gradient`, step);
          optRef.step(pRef, 0.05);
          optBe.step(pBe, 0.05);
        }
        const pRef = mRef.parameters(),
          pBe = mBe.parameters();
        for (const [i, p] of pRef.entries()) await closeNet(pBe[i].value.data, p.value.data, `${p.path} after ${steps} step(s)`, steps);
      });
    }

    // Kernels that imported ONNX models need (kept together, apart from the suite above).
    describe('kernels for imported ONNX models', () => {
      it("local response normalisation with an explicit window start (ONNX's window for even sizes, and the extremes)", async () => {
        const rng = new Rng(41);
        for (const [N, C, HW, size, before, alpha, beta, k] of [
          [2, 7, 13, 4, 1, 0.3, 0.75, 1],
          [1, 6, 9, 2, 0, 0.5, 0.5, 1],
          [2, 9, 11, 6, 2, 0.2, 0.6, 2],
          [1, 5, 7, 4, 0, 0.4, 1, 1],
          [1, 5, 7, 4, 3, 0.4, 0.75, 1],
          [1, 8, 4, 3, 2, 0.1, 0.75, 1],
        ]) {
          const n = N * C * HW;
          const what = `lrn size ${size} before ${before}`;
          const [x, xr] = pair(be, n, rng, -3, 3);
          const [scale, scaler] = outputs(be, n, rng),
            [y, yr] = outputs(be, n, rng);
          be.lrnForward(N, C, HW, size, alpha, beta, k, x, scale, y, before);
          ref.lrnForward(N, C, HW, size, alpha, beta, k, xr, scaler, yr, before);
          await close(scale, scaler, `${what} scale`);
          await close(y, yr, `${what} forward`);
          const [dy, dyr] = pair(be, n, rng),
            [dx, dxr] = outputs(be, n, rng);
          be.lrnBackward(N, C, HW, size, alpha, beta, k, x, y, scale, dy, dx, before);
          ref.lrnBackward(N, C, HW, size, alpha, beta, k, xr, yr, scaler, dyr, dxr, before);
          await close(dx, dxr, `${what} backward`);
        }
      });

      it('hard sigmoid forward and backward (both kinks, NaN and infinities)', async () => {
        const rng = new Rng(42);
        for (const [n, alpha, beta] of [
          [1003, 1 / 6, 0.5],
          [64, 0.2, 0.5],
          [7, 1, 0],
        ]) {
          const [x, xr] = pair(be, n, rng, -8, 8);
          const special = [NaN, Infinity, -Infinity, -beta / alpha, (1 - beta) / alpha, 0];
          special.forEach((v, i) => {
            if (i < n) {
              x[i] = v;
              xr[i] = v;
            }
          });
          be.upload(x);
          const [y, yr] = outputs(be, n, rng, true);
          be.hardSigmoid(x, y, alpha, beta);
          ref.hardSigmoid(xr, yr, alpha, beta);
          await close(y, yr, `hardSigmoid n ${n}`);
          const [dy, dyr] = pair(be, n, rng),
            [dx, dxr] = outputs(be, n, rng, true);
          be.hardSigmoidBackward(x, dy, dx, alpha, beta);
          ref.hardSigmoidBackward(xr, dyr, dxr, alpha, beta);
          await close(dx, dxr, `hardSigmoidBackward n ${n}`);
        }
      });

      it('per-channel scale (squeeze-excitation) forward and backward', async () => {
        const rng = new Rng(43);
        for (const [P, HW] of [
          [6, 49],
          [1, 3],
          [37, 1],
          [64, 256],
          [130, 17],
        ]) {
          const n = P * HW;
          const [x, xr] = pair(be, n, rng, -2, 2),
            [sc, scr] = pair(be, P, rng);
          const [y, yr] = outputs(be, n, rng);
          be.channelScale(P, HW, x, sc, y);
          ref.channelScale(P, HW, xr, scr, yr);
          await close(y, yr, `channelScale ${P}×${HW}`);
          const [dy, dyr] = pair(be, n, rng),
            [dx, dxr] = outputs(be, n, rng),
            [ds, dsr] = outputs(be, P, rng);
          be.channelScaleBackward(P, HW, x, sc, dy, dx, ds);
          ref.channelScaleBackward(P, HW, xr, scr, dyr, dxr, dsr);
          await close(dx, dxr, `channelScaleBackward dx ${P}×${HW}`);
          await close(ds, dsr, `channelScaleBackward ds ${P}×${HW}`, 1e-4 * Math.sqrt(HW));
        }
      });
    });

    // ConvNeXt's layer norm over channels and GELU; ShuffleNet's channel shuffle and slice as the copies their layers make.
    describe('kernels for ConvNeXt and ShuffleNet', () => {
      it('layer norm over channels forward and backward (one channel, one position, odd sizes, a large offset)', async () => {
        const rng = new Rng(44);
        for (const [N, C, HW, shift] of [
          [2, 6, 9, 0],
          [1, 1, 5, 0],
          [3, 7, 1, 0],
          [2, 48, 17, 0],
          [1, 96, 64, 0],
          [2, 5, 3, 50],
          [4, 64, 160, 0],
        ]) {
          const n = N * C * HW,
            P = N * HW,
            what = `layerNorm ${N}×${C}×${HW}`;
          const [x, xr] = pair(be, n, rng, shift - 2, shift + 2),
            [g, gr] = pair(be, C, rng, 0.5, 1.5),
            [bt, btr] = pair(be, C, rng);
          const [m, mr] = outputs(be, P, rng),
            [s, sr] = outputs(be, P, rng),
            [y, yr] = outputs(be, n, rng);
          be.layerNormForward(N, C, HW, x, g, bt, 1e-6, m, s, y);
          ref.layerNormForward(N, C, HW, xr, gr, btr, 1e-6, mr, sr, yr);
          await close(m, mr, `${what} mean`);
          await close(s, sr, `${what} invStd`, C === 1 ? 1e-2 : TOL);
          await close(y, yr, `${what} forward`);
          const [dy, dyr] = pair(be, n, rng),
            [dx, dxr] = outputs(be, n, rng);
          const [dg, dgr] = outputs(be, C, rng),
            [db, dbr] = outputs(be, C, rng);
          be.layerNormBackward(N, C, HW, x, dy, m, s, g, dx, dg, db);
          ref.layerNormBackward(N, C, HW, xr, dyr, mr, sr, gr, dxr, dgr, dbr);
          await close(dx, dxr, `${what} dx`, C === 1 ? 1e-2 : TOL);
          await close(dg, dgr, `${what} dgamma`, 1e-4 * Math.sqrt(P));
          await close(db, dbr, `${what} dbeta`, 1e-4 * Math.sqrt(P));
        }
      });

      it('GELU forward and backward (0, both tails, the erf series/continued-fraction seam at ±2.5·√2)', async () => {
        const rng = new Rng(45);
        for (const n of [1003, 64, 7]) {
          const [x, xr] = pair(be, n, rng, -8, 8);
          [0, -0.5, 3.5355, -3.5355, 12, -12, 1e-3].forEach((v, i) => {
            if (i < n) {
              x[i] = v;
              xr[i] = v;
            }
          });
          be.upload(x);
          const [y, yr] = outputs(be, n, rng, true);
          be.gelu(x, y);
          ref.gelu(xr, yr);
          await close(y, yr, `gelu n ${n}`);
          const [dy, dyr] = pair(be, n, rng),
            [dx, dxr] = outputs(be, n, rng, true);
          be.geluBackward(x, dy, dx);
          ref.geluBackward(xr, dyr, dxr);
          await close(dx, dxr, `geluBackward n ${n}`);
        }
      });

      it("copyBlocks from a zero-stride source (the channel slice's zeros) and plane by plane (the channel shuffle)", async () => {
        const rng = new Rng(46);
        const [N, C, HW, g] = [3, 6, 5, 2];
        const [src, srcr] = pair(be, 8, rng),
          [dst, dstr] = outputs(be, N * 20, rng);
        be.copyBlocks(N, src, 0, 1, dst, 20, 3, 7);
        ref.copyBlocks(N, srcr, 0, 1, dstr, 20, 3, 7);
        await close(dst, dstr, 'copyBlocks, stride 0', 0);
        const [x, xr] = pair(be, N * C * HW, rng),
          [y, yr] = outputs(be, N * C * HW, rng);
        for (let c = 0; c < C; c++) {
          const to = (c % (C / g)) * g + Math.floor(c / (C / g));
          be.copyBlocks(N, x, C * HW, c * HW, y, C * HW, to * HW, HW);
          ref.copyBlocks(N, xr, C * HW, c * HW, yr, C * HW, to * HW, HW);
        }
        await close(y, yr, 'channel shuffle by planes', 0);
      });
    });
  });
}

// ---- Dilated convolutions: the im2col route on every backend, checked against the reference ----
// Each shape is one that would take a specialised wasm route (direct, directweights, convgemm,
// Winograd 3×3 and 5×5, thread split) were its taps adjacent; those routes must be bypassed.
const dilatedConvCases: [string, Conv2dGeometry][] = [
  ['dilation 2, stride 1, padding 2 (direct route shape)', convGeometry(2, 3, 9, 8, 4, 3, 3, 1, 1, 2, 2, 1, 2)],
  ['dilation 2, stride 2, padding 1, groups 2', convGeometry(2, 4, 11, 10, 6, 3, 3, 2, 2, 1, 1, 2, 2)],
  ['dilation (2, 3), kernel 3×2, stride (1, 2), padding (1, 2)', convGeometry(3, 2, 10, 13, 3, 3, 2, 1, 2, 1, 2, 1, 2, 3)],
  ['dilation 3, the dilated kernel just fits (one output row)', convGeometry(2, 2, 7, 9, 3, 3, 3, 1, 1, 0, 1, 1, 3)],
  ['dilation 2, padding beyond the dilated span minus one (input gradient)', convGeometry(1, 3, 4, 5, 2, 2, 2, 1, 1, 3, 3, 1, 2)],
  ['dilation 3 on a 1×1 kernel (no effect)', convGeometry(2, 5, 6, 7, 4, 1, 1, 1, 1, 0, 0, 1, 3)],
  ['dilation 2, 36 filters (convgemm shape)', convGeometry(2, 8, 9, 10, 36, 3, 3, 1, 1, 2, 2, 1, 2)],
  ['dilation 2, 3×3, 32 channels and filters (Winograd shape)', convGeometry(2, 32, 13, 11, 32, 3, 3, 1, 1, 2, 2, 1, 2)],
  ['dilation 2, 5×5, 32 channels, 34 filters (Winograd 5×5 shape)', convGeometry(1, 32, 21, 19, 34, 5, 5, 1, 1, 4, 4, 1, 2)],
  ['dilation 2, batch 8 (split across threads), groups 4', convGeometry(8, 16, 20, 18, 16, 3, 3, 1, 1, 2, 2, 4, 2)],
];

for (const c of selected) {
  describe(`backend ${c.label}: dilated convolutions`, { skip: c.skip }, () => {
    let be: Backend;
    before(async () => {
      be = await createBackend(c.name, c.options);
    });
    after(() => {
      (be as { dispose?: () => void }).dispose?.();
    });
    const close = guardedChecks(() => be);
    for (const [label, g] of dilatedConvCases) {
      it(`conv2d forward, backward input and weights: ${label}`, async () => {
        const rng = new Rng(label.length * 104729);
        const xn = g.N * g.C * g.H * g.W,
          wn = g.O * (g.C / g.groups) * g.KH * g.KW,
          yn = g.N * g.O * g.OH * g.OW;
        const [x, xr] = pair(be, xn, rng),
          [w, wr] = pair(be, wn, rng),
          [bias, biasr] = pair(be, g.O, rng);
        const [y, yr] = outputs(be, yn, rng);
        be.conv2dForward(g, x, w, bias, y);
        ref.conv2dForward(g, xr, wr, biasr, yr);
        await close(y, yr, 'forward');
        const [dy, dyr] = pair(be, yn, rng);
        const [dx, dxr] = outputs(be, xn, rng);
        be.conv2dBackwardInput(g, dy, w, dx);
        ref.conv2dBackwardInput(g, dyr, wr, dxr);
        await close(dx, dxr, 'backward input');
        const [dw, dwr] = outputs(be, wn, rng),
          [db, dbr] = outputs(be, g.O, rng);
        be.conv2dBackwardWeights(g, x, dy, dw, db);
        ref.conv2dBackwardWeights(g, xr, dyr, dwr, dbr);
        await close(dw, dwr, 'backward weights');
        await close(db, dbr, 'backward bias');
      });
    }
  });
}
