/// <reference types="@webgpu/types" />
import type { Conv2dGeometry } from '../backend.js';
import { type Dispatcher, type KernelDef, type UniformType, entry } from './dispatch.js';
import { type ImplicitGemm, runGemm } from './kernels-gemm.js';
import { workgroupSum } from './wgsl.js';

/**
 * Convolutions as implicit GEMMs (kernels-gemm.ts), one product per group, the im2col matrix
 * read straight from the image inside the operand loads:
 *  forward           y[o, p]  = Σ_k w[o, k] · col[k, p]        M = O/g, N = batch·OH·OW, K = C/g·KH·KW
 *  backward input    dx[c, q] = Σ_(o,kh,kw) w[o, c, kh, kw] · dy[o, (q + pad − kh·dilation)/stride]
 *                                                              M = C/g, N = batch·H·W,   K = O/g·KH·KW
 *                    (taps where the division is not exact or falls outside add 0: a gather, no scatter)
 *  backward weights  dw[o, k] = Σ_p dy[o, p] · col[k, p]       M = O/g, N = C/g·KH·KW,   K = batch·OH·OW (split)
 * and the bias gradient as a per-channel reduction. What a k stands for (a channel and kernel
 * tap, or an image and output pixel) comes from a small table built on the host per geometry,
 * so no load divides.
 */

const GEOMETRY: readonly (readonly [string, UniformType])[] = [
  ['C', 'u32'],
  ['H', 'u32'],
  ['W', 'u32'],
  ['O', 'u32'],
  ['KH', 'u32'],
  ['KW', 'u32'],
  ['sH', 'u32'],
  ['sW', 'u32'],
  ['pH', 'u32'],
  ['pW', 'u32'],
  ['OH', 'u32'],
  ['OW', 'u32'],
  ['Cg', 'u32'],
  ['Og', 'u32'],
  ['dH', 'u32'],
  ['dW', 'u32'],
];

function geometry(g: Conv2dGeometry): number[] {
  return [g.C, g.H, g.W, g.O, g.KH, g.KW, g.strideH, g.strideW, g.padH, g.padW, g.OH, g.OW, g.C / g.groups, g.O / g.groups, g.dilationH, g.dilationW];
}

const key = (kind: string, g: Conv2dGeometry) =>
  `conv-${kind}:${g.N},${g.C},${g.H},${g.W},${g.O},${g.KH},${g.KW},${g.strideH},${g.strideW},${g.padH},${g.padW},${g.OH},${g.OW},${g.groups},${g.dilationH},${g.dilationW}`;

/** Image pixel (ih, iw) of channel plane `plane`, or 0 where (ih, iw) lies in the padding. */
const PIXEL = `
fn pixel(plane: i32, ih: i32, iw: i32) -> f32 {
  let ok = (ih >= 0) & (iw >= 0) & (ih < i32(u.H)) & (iw < i32(u.W));
  let v = x[u32(select(0, plane + ih * i32(u.W) + iw, ok))];
  return select(0.0, v, ok);
}
`;

/** Forward: k = (c, kh, kw) → [c·H·W, kh·dH, kw·dW, 0] (the tap's offset in the window). */
function forwardTable(g: Conv2dGeometry): Int32Array<ArrayBuffer> {
  const Cg = g.C / g.groups,
    t = new Int32Array(Cg * g.KH * g.KW * 4);
  let k = 0;
  for (let c = 0; c < Cg; c++)
    for (let kh = 0; kh < g.KH; kh++) for (let kw = 0; kw < g.KW; kw++, k += 4) t.set([c * g.H * g.W, kh * g.dilationH, kw * g.dilationW, 0], k);
  return t;
}

function forwardSpec(bias: boolean): ImplicitGemm {
  return {
    name: 'conv2dForward',
    variant: bias ? 'bias' : 'nobias',
    bindings: [
      { name: 'x', access: 'read' },
      { name: 'w', access: 'read' },
      { name: 'ktab', access: 'read', type: 'vec4<i32>' },
      ...(bias ? [{ name: 'bias', access: 'read' as const }] : []),
      { name: 'y', access: 'read_write' },
    ],
    uniforms: GEOMETRY,
    code: `${PIXEL}
alias RowA = u32;
alias KeyA = u32;
fn rowA(m: u32, bt: u32) -> RowA { return (bt * u.Og + m) * u.K; }
fn keyA(k: u32) -> KeyA { return k; }
fn loadA(r: RowA, q: KeyA) -> f32 { return w[r + q]; }
struct RowB { plane: i32, hs: i32, ws: i32 }
alias KeyB = vec4<i32>;
fn keyB(k: u32) -> KeyB { return ktab[k]; }
fn rowB(n: u32, bt: u32) -> RowB {
  let ohw = u.OH * u.OW;
  let img = n / ohw;
  let p = n - img * ohw;
  let oh = p / u.OW;
  let ow = p - oh * u.OW;
  return RowB(i32((img * u.C + bt * u.Cg) * u.H * u.W), i32(oh * u.sH) - i32(u.pH), i32(ow * u.sW) - i32(u.pW));
}
fn loadB(r: RowB, q: KeyB) -> f32 { return pixel(r.plane + q.x, r.hs + q.y, r.ws + q.z); }
fn store(m: u32, n: u32, bt: u32, v: f32) {
  let ohw = u.OH * u.OW;
  let img = n / ohw;
  let o = bt * u.Og + m;
  let i = (img * u.O + o) * ohw + (n - img * ohw);
  let r = v${bias ? ' + bias[o]' : ''};
  y[i] = r;
  after(i, r);
}
`,
    output: bias ? 4 : 3,
    aAlongK: true,
    bAlongN: true,
  };
}

/**
 * Backward input: k = (o, kh, kw) → [offset of w[o, c, kh, kw] from w[0, c, 0, 0], o·OH·OW, th / sH,
 * th % sH], [tw / sW, tw % sW, 0, 0] (two vec4 per k) with the tap's offset th = kh·dH, tw = kw·dW.
 * The output row a tap reads is (ih + pH − th)/sH: exact when (ih + pH) % sH equals th % sH, and
 * then (ih + pH)/sH − th/sH.
 */
function backwardInputTable(g: Conv2dGeometry): Int32Array<ArrayBuffer> {
  const Cg = g.C / g.groups,
    Og = g.O / g.groups,
    khw = g.KH * g.KW;
  const t = new Int32Array(Og * khw * 8);
  let k = 0;
  for (let o = 0; o < Og; o++) {
    for (let kh = 0; kh < g.KH; kh++) {
      for (let kw = 0; kw < g.KW; kw++, k += 8) {
        const th = kh * g.dilationH,
          tw = kw * g.dilationW;
        t.set(
          [o * Cg * khw + kh * g.KW + kw, o * g.OH * g.OW, Math.floor(th / g.strideH), th % g.strideH, Math.floor(tw / g.strideW), tw % g.strideW, 0, 0],
          k,
        );
      }
    }
  }
  return t;
}

const backwardInputSpec: ImplicitGemm = {
  name: 'conv2dBackwardInput',
  variant: '',
  bindings: [
    { name: 'dy', access: 'read' },
    { name: 'w', access: 'read' },
    { name: 'ktab', access: 'read', type: 'vec4<i32>' },
    { name: 'dx', access: 'read_write' },
  ],
  uniforms: GEOMETRY,
  code: `
alias RowA = u32;
alias KeyA = u32;
fn rowA(m: u32, bt: u32) -> RowA { return (bt * u.Og * u.Cg + m) * u.KH * u.KW; }
fn keyA(k: u32) -> KeyA { return u32(ktab[2u * k].x); }
fn loadA(r: RowA, q: KeyA) -> f32 { return w[r + q]; }
struct RowB { plane: i32, qh: i32, rh: i32, qw: i32, rw: i32 }
struct KeyB { plane: i32, qh: i32, rh: i32, qw: i32, rw: i32 }
fn keyB(k: u32) -> KeyB { let a = ktab[2u * k]; let b = ktab[2u * k + 1u]; return KeyB(a.y, a.z, a.w, b.x, b.y); }
fn rowB(n: u32, bt: u32) -> RowB {
  let hw = u.H * u.W;
  let img = n / hw;
  let q = n - img * hw;
  let ih = q / u.W;
  let th = ih + u.pH;
  let tw = q - ih * u.W + u.pW;
  return RowB(i32((img * u.O + bt * u.Og) * u.OH * u.OW), i32(th / u.sH), i32(th % u.sH), i32(tw / u.sW), i32(tw % u.sW));
}
fn loadB(r: RowB, q: KeyB) -> f32 {
  let oh = r.qh - q.qh;
  let ow = r.qw - q.qw;
  let ok = (r.rh == q.rh) & (r.rw == q.rw) & (oh >= 0) & (ow >= 0) & (oh < i32(u.OH)) & (ow < i32(u.OW));
  let v = dy[u32(select(0, r.plane + q.plane + oh * i32(u.OW) + ow, ok))];
  return select(0.0, v, ok);
}
fn store(m: u32, n: u32, bt: u32, v: f32) {
  let hw = u.H * u.W;
  let img = n / hw;
  dx[(img * u.C + bt * u.Cg + m) * hw + (n - img * hw)] = v;
}
`,
  aAlongK: true,
  bAlongN: true,
};

/** Backward weights: k = (image, output pixel) → [offset of dy[img, 0, oh, ow], img·C·H·W, oh·sH − pH, ow·sW − pW]. */
function backwardWeightsTable(g: Conv2dGeometry): Int32Array<ArrayBuffer> {
  const t = new Int32Array(g.N * g.OH * g.OW * 4);
  let k = 0;
  for (let img = 0; img < g.N; img++) {
    for (let oh = 0; oh < g.OH; oh++) {
      for (let ow = 0; ow < g.OW; ow++, k += 4) {
        t.set([img * g.O * g.OH * g.OW + oh * g.OW + ow, img * g.C * g.H * g.W, oh * g.strideH - g.padH, ow * g.strideW - g.padW], k);
      }
    }
  }
  return t;
}

const backwardWeightsSpec: ImplicitGemm = {
  name: 'conv2dBackwardWeights',
  variant: '',
  bindings: [
    { name: 'x', access: 'read' },
    { name: 'dy', access: 'read' },
    { name: 'ktab', access: 'read', type: 'vec4<i32>' },
    { name: 'dw', access: 'read_write' },
  ],
  uniforms: GEOMETRY,
  code: `${PIXEL}
alias RowA = u32;
alias KeyA = u32;
fn rowA(m: u32, bt: u32) -> RowA { return (bt * u.Og + m) * u.OH * u.OW; }
fn keyA(k: u32) -> KeyA { return u32(ktab[k].x); }
fn loadA(r: RowA, q: KeyA) -> f32 { return dy[r + q]; }
struct RowB { plane: i32, kh: i32, kw: i32 } // the tap's offset in the window: kh·dH, kw·dW
alias KeyB = vec4<i32>;
fn keyB(k: u32) -> KeyB { return ktab[k]; }
fn rowB(n: u32, bt: u32) -> RowB {
  let khw = u.KH * u.KW;
  let c = n / khw;
  let r = n - c * khw;
  let kh = r / u.KW;
  return RowB(i32((bt * u.Cg + c) * u.H * u.W), i32(kh * u.dH), i32((r - kh * u.KW) * u.dW));
}
fn loadB(r: RowB, q: KeyB) -> f32 { return pixel(r.plane + q.y, q.z + r.kh, q.w + r.kw); }
fn store(m: u32, n: u32, bt: u32, v: f32) { dw[(bt * u.Og + m) * u.N + n] = v; }
`,
  aAlongK: true,
  bAlongN: false,
};

const REDUCE_WG = 256;

/** dbias[o] = Σ over images and pixels of dy[n, o, :]: one workgroup per channel, a fixed-order tree. */
const biasGradDef: KernelDef = {
  key: 'conv2dBiasGrad',
  label: 'conv2dBackwardWeights (bias)',
  uniforms: [
    ['N', 'u32'],
    ['O', 'u32'],
    ['ohw', 'u32'],
  ],
  bindings: [
    { name: 'dy', access: 'read' },
    { name: 'db', access: 'read_write' },
  ],
  code:
    workgroupSum(REDUCE_WG) +
    entry(
      REDUCE_WG,
      `
  let o = wgi;
  if (o >= u.O) { return; }
  let count = u.N * u.ohw;
  var s = 0.0;
  for (var e = lid; e < count; e = e + ${REDUCE_WG}u) {
    let img = e / u.ohw;
    s = s + dy[(img * u.O + o) * u.ohw + (e - img * u.ohw)];
  }
  let total = wgSum(lid, s);
  if (lid == 0u) { db[o] = total; }`,
    ),
};

export function conv2dForward(d: Dispatcher, g: Conv2dGeometry, x: GPUBuffer, w: GPUBuffer, bias: GPUBuffer | null, y: GPUBuffer): void {
  const Cg = g.C / g.groups,
    Og = g.O / g.groups;
  const table = d.table(key('forward', g), () => forwardTable(g));
  runGemm(d, forwardSpec(bias !== null), Og, g.N * g.OH * g.OW, Cg * g.KH * g.KW, g.groups, bias ? [x, w, table, bias, y] : [x, w, table, y], geometry(g));
}

export function conv2dBackwardInput(d: Dispatcher, g: Conv2dGeometry, dy: GPUBuffer, w: GPUBuffer, dx: GPUBuffer): void {
  const Cg = g.C / g.groups,
    Og = g.O / g.groups;
  const table = d.table(key('input', g), () => backwardInputTable(g));
  runGemm(d, backwardInputSpec, Cg, g.N * g.H * g.W, Og * g.KH * g.KW, g.groups, [dy, w, table, dx], geometry(g));
}

export function conv2dBackwardWeights(d: Dispatcher, g: Conv2dGeometry, x: GPUBuffer, dy: GPUBuffer, dw: GPUBuffer, dbias: GPUBuffer | null): void {
  const Cg = g.C / g.groups,
    Og = g.O / g.groups;
  const table = d.table(key('weights', g), () => backwardWeightsTable(g));
  runGemm(d, backwardWeightsSpec, Og, Cg * g.KH * g.KW, g.N * g.OH * g.OW, g.groups, [x, dy, table, dw], geometry(g));
  if (dbias) d.run(biasGradDef, [dy, dbias], [g.N, g.O, g.OH * g.OW], g.O);
}
