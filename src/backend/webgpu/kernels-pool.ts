/// <reference types="@webgpu/types" />
import type { Pool2dGeometry } from '../backend.js';
import { type Dispatcher, type KernelDef, type UniformType, entry } from './dispatch.js';
import { FLOAT_BITS } from './wgsl.js';

/**
 * Pooling: forward passes run one invocation per output over its window; backward passes one
 * invocation per input, gathering from the outputs whose windows cover it, in increasing
 * output order (the reference's order of accumulation), so no float atomics are needed.
 */

const WG = 256;
const GEOMETRY: readonly (readonly [string, UniformType])[] = [
  ['NC', 'u32'],
  ['H', 'u32'],
  ['W', 'u32'],
  ['KH', 'u32'],
  ['KW', 'u32'],
  ['sH', 'u32'],
  ['sW', 'u32'],
  ['pH', 'u32'],
  ['pW', 'u32'],
  ['OH', 'u32'],
  ['OW', 'u32'],
  ['countPad', 'u32'],
];

function geometry(g: Pool2dGeometry, countPad = false): number[] {
  return [g.N * g.C, g.H, g.W, g.KH, g.KW, g.strideH, g.strideW, g.padH, g.padW, g.OH, g.OW, +countPad];
}

/** Window of output (oh, ow) as in ref.ts's poolWindow: rows [h0, h1), columns [w0, w1) and the padded count. */
const WINDOW = `
struct Win { h0: i32, h1: i32, w0: i32, w1: i32, padded: i32 }
fn window(oh: u32, ow: u32) -> Win {
  let hs = i32(oh * u.sH) - i32(u.pH);
  let ws = i32(ow * u.sW) - i32(u.pW);
  let he = min(hs + i32(u.KH), i32(u.H + u.pH));
  let we = min(ws + i32(u.KW), i32(u.W + u.pW));
  return Win(max(hs, 0), min(he, i32(u.H)), max(ws, 0), min(we, i32(u.W)), (he - hs) * (we - ws));
}
fn divisor(win: Win) -> i32 {
  if (u.countPad != 0u) { return win.padded; }
  return (win.h1 - win.h0) * (win.w1 - win.w0);
}
`;

/** Outputs whose window may hold input row ih: [lo, hi] (empty when lo > hi). */
const COVER = `
fn coverLo(i: u32, k: u32, s: u32, p: u32) -> i32 {
  let t = i32(i + p) - i32(k) + 1;
  if (t <= 0) { return 0; }
  return (t + i32(s) - 1) / i32(s);
}
fn coverHi(i: u32, s: u32, p: u32, count: u32) -> i32 {
  return min(i32(count) - 1, i32((i + p) / s));
}
`;

/** Thread t's plane nc and its position (row, col) in planes of rows × cols; threads past the end return. */
const planeIndex = (rows: string, cols: string, row: string, col: string) => `
  let t = wgi * ${WG}u + lid;
  let area = ${rows} * ${cols};
  if (t >= u.NC * area) { return; }
  let nc = t / area;
  let rest = t - nc * area;
  let ${row} = rest / ${cols};
  let ${col} = rest - ${row} * ${cols};`;

const OUTPUT_INDEX = planeIndex('u.OH', 'u.OW', 'oh', 'ow');
const INPUT_INDEX = planeIndex('u.H', 'u.W', 'ih', 'iw');

/** The outputs [ohLo, ohHi] × [owLo, owHi] whose windows can cover input (ih, iw). */
const COVERING_OUTPUTS = `
  let ohLo = coverLo(ih, u.KH, u.sH, u.pH);
  let ohHi = coverHi(ih, u.sH, u.pH, u.OH);
  let owLo = coverLo(iw, u.KW, u.sW, u.pW);
  let owHi = coverHi(iw, u.sW, u.pW, u.OW);`;

const maxForwardDef: KernelDef = {
  key: 'maxPool2dForward',
  label: 'maxPool2dForward',
  uniforms: GEOMETRY,
  bindings: [
    { name: 'x', access: 'read' },
    { name: 'y', access: 'read_write' },
    { name: 'argmax', access: 'read_write', type: 'i32' },
  ],
  code:
    FLOAT_BITS +
    entry(
      WG,
      `${OUTPUT_INDEX}
  var best = 0.0;
  var bestIndex = -1;
  for (var kh = 0u; kh < u.KH; kh = kh + 1u) {
    let ih = i32(oh * u.sH + kh) - i32(u.pH);
    if ((ih < 0) | (ih >= i32(u.H))) { continue; }
    for (var kw = 0u; kw < u.KW; kw = kw + 1u) {
      let iw = i32(ow * u.sW + kw) - i32(u.pW);
      if ((iw < 0) | (iw >= i32(u.W))) { continue; }
      let i = (i32(nc * u.H) + ih) * i32(u.W) + iw;
      let v = x[i];
      // Strict '>' keeps the first maximum; NaN wins (the last NaN, as in the reference).
      if ((bestIndex < 0) | isNan(v) | (!isNan(best) & (v > best))) { best = v; bestIndex = i; }
    }
  }
  y[t] = select(best, 0.0, bestIndex < 0);
  argmax[t] = bestIndex;`,
    ),
};

const maxBackwardDef: KernelDef = {
  key: 'maxPool2dBackward',
  label: 'maxPool2dBackward',
  uniforms: GEOMETRY,
  bindings: [
    { name: 'dy', access: 'read' },
    { name: 'argmax', access: 'read', type: 'i32' },
    { name: 'dx', access: 'read_write' },
  ],
  code:
    COVER +
    entry(
      WG,
      `${INPUT_INDEX}
  var s = 0.0;${COVERING_OUTPUTS}
  for (var oh = ohLo; oh <= ohHi; oh = oh + 1) {
    for (var ow = owLo; ow <= owHi; ow = ow + 1) {
      let o = (nc * u.OH + u32(oh)) * u.OW + u32(ow);
      if (argmax[o] == i32(t)) { s = s + dy[o]; }
    }
  }
  dx[t] = s;`,
    ),
};

const avgForwardDef: KernelDef = {
  key: 'avgPool2dForward',
  label: 'avgPool2dForward',
  uniforms: GEOMETRY,
  bindings: [
    { name: 'x', access: 'read' },
    { name: 'y', access: 'read_write' },
  ],
  code:
    WINDOW +
    entry(
      WG,
      `${OUTPUT_INDEX}
  let win = window(oh, ow);
  var s = 0.0;
  for (var ih = win.h0; ih < win.h1; ih = ih + 1) {
    for (var iw = win.w0; iw < win.w1; iw = iw + 1) { s = s + x[(nc * u.H + u32(ih)) * u.W + u32(iw)]; }
  }
  let count = divisor(win);
  y[t] = select(0.0, s / f32(count), count > 0);`,
    ),
};

const avgBackwardDef: KernelDef = {
  key: 'avgPool2dBackward',
  label: 'avgPool2dBackward',
  uniforms: GEOMETRY,
  bindings: [
    { name: 'dy', access: 'read' },
    { name: 'dx', access: 'read_write' },
  ],
  code:
    WINDOW +
    COVER +
    entry(
      WG,
      `${INPUT_INDEX}
  var s = 0.0;${COVERING_OUTPUTS}
  for (var oh = ohLo; oh <= ohHi; oh = oh + 1) {
    for (var ow = owLo; ow <= owHi; ow = ow + 1) {
      let win = window(u32(oh), u32(ow));
      let count = divisor(win);
      if (count > 0) { s = s + dy[(nc * u.OH + u32(oh)) * u.OW + u32(ow)] / f32(count); }
    }
  }
  dx[t] = s;`,
    ),
};

/** Adaptive pooling: cell i covers [⌊i·H/OH⌋, ⌈(i+1)·H/OH⌉). */
const ADAPTIVE = `
fn cellStart(i: u32, inSize: u32, outSize: u32) -> u32 { return (i * inSize) / outSize; }
fn cellEnd(i: u32, inSize: u32, outSize: u32) -> u32 { return ((i + 1u) * inSize + outSize - 1u) / outSize; }
`;

const adaptiveForwardDef: KernelDef = {
  key: 'adaptiveAvgPool2dForward',
  label: 'adaptiveAvgPool2dForward',
  uniforms: GEOMETRY,
  bindings: [
    { name: 'x', access: 'read' },
    { name: 'y', access: 'read_write' },
  ],
  code:
    ADAPTIVE +
    entry(
      WG,
      `${OUTPUT_INDEX}
  let h0 = cellStart(oh, u.H, u.OH);
  let h1 = cellEnd(oh, u.H, u.OH);
  let w0 = cellStart(ow, u.W, u.OW);
  let w1 = cellEnd(ow, u.W, u.OW);
  var s = 0.0;
  for (var ih = h0; ih < h1; ih = ih + 1u) {
    for (var iw = w0; iw < w1; iw = iw + 1u) { s = s + x[(nc * u.H + ih) * u.W + iw]; }
  }
  y[t] = s / f32((h1 - h0) * (w1 - w0));`,
    ),
};

const adaptiveBackwardDef: KernelDef = {
  key: 'adaptiveAvgPool2dBackward',
  label: 'adaptiveAvgPool2dBackward',
  uniforms: GEOMETRY,
  bindings: [
    { name: 'dy', access: 'read' },
    { name: 'dx', access: 'read_write' },
  ],
  code:
    ADAPTIVE +
    entry(
      WG,
      `${INPUT_INDEX}
  var s = 0.0;
  // Cells holding row ih lie in [⌊ih·OH/H⌋, ⌈(ih+1)·OH/H⌉ − 1]; each is checked exactly.
  let ohLo = (ih * u.OH) / u.H;
  let ohHi = min(u.OH, ((ih + 1u) * u.OH + u.H - 1u) / u.H);
  let owLo = (iw * u.OW) / u.W;
  let owHi = min(u.OW, ((iw + 1u) * u.OW + u.W - 1u) / u.W);
  for (var oh = ohLo; oh < ohHi; oh = oh + 1u) {
    let h0 = cellStart(oh, u.H, u.OH);
    let h1 = cellEnd(oh, u.H, u.OH);
    if ((ih < h0) | (ih >= h1)) { continue; }
    for (var ow = owLo; ow < owHi; ow = ow + 1u) {
      let w0 = cellStart(ow, u.W, u.OW);
      let w1 = cellEnd(ow, u.W, u.OW);
      if ((iw < w0) | (iw >= w1)) { continue; }
      s = s + dy[(nc * u.OH + oh) * u.OW + ow] / f32((h1 - h0) * (w1 - w0));
    }
  }
  dx[t] = s;`,
    ),
};

const outputs = (g: Pool2dGeometry) => Math.ceil((g.N * g.C * g.OH * g.OW) / WG);
const inputs = (g: Pool2dGeometry) => Math.ceil((g.N * g.C * g.H * g.W) / WG);

export function maxPool2dForward(d: Dispatcher, g: Pool2dGeometry, x: GPUBuffer, y: GPUBuffer, argmax: GPUBuffer): void {
  d.run(maxForwardDef, [x, y, argmax], geometry(g), outputs(g));
}
export function maxPool2dBackward(d: Dispatcher, g: Pool2dGeometry, dy: GPUBuffer, argmax: GPUBuffer, dx: GPUBuffer): void {
  d.run(maxBackwardDef, [dy, argmax, dx], geometry(g), inputs(g));
}
export function avgPool2dForward(d: Dispatcher, g: Pool2dGeometry, x: GPUBuffer, y: GPUBuffer, countPad: boolean): void {
  d.run(avgForwardDef, [x, y], geometry(g, countPad), outputs(g));
}
export function avgPool2dBackward(d: Dispatcher, g: Pool2dGeometry, dy: GPUBuffer, dx: GPUBuffer, countPad: boolean): void {
  d.run(avgBackwardDef, [dy, dx], geometry(g, countPad), inputs(g));
}
export function adaptiveAvgPool2dForward(d: Dispatcher, g: Pool2dGeometry, x: GPUBuffer, y: GPUBuffer): void {
  d.run(adaptiveForwardDef, [x, y], geometry(g), outputs(g));
}
export function adaptiveAvgPool2dBackward(d: Dispatcher, g: Pool2dGeometry, dy: GPUBuffer, dx: GPUBuffer): void {
  d.run(adaptiveBackwardDef, [dy, dx], geometry(g), inputs(g));
}
