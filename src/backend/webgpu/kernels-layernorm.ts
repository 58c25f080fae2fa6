/// <reference types="@webgpu/types" />
import { type Dispatcher, type KernelDef, entry } from './dispatch.js';
import { type EwOp, runElementwise } from './kernels-elementwise.js';
import { workgroupSum } from './wgsl.js';

/**
 * Layer norm over channels of [N, C, HW] and the exact GELU. Statistics and the input gradient
 * run one invocation per position (n, i), summing its C values in order; the γ and β gradients
 * one workgroup per channel, shares added as a tree: deterministic, like every reduction here.
 */

const WG = 64;

/** Flat index of channel c at position p = n·HW + i. */
const AT = 'fn at(p: u32, c: u32) -> u32 { let n = p / u.HW; return (n * u.C + c) * u.HW + (p - n * u.HW); }';

const statsDef: KernelDef = {
  key: 'layerNormStats',
  label: 'layerNormStats',
  uniforms: [
    ['P', 'u32'],
    ['C', 'u32'],
    ['HW', 'u32'],
    ['eps', 'f32'],
  ],
  bindings: [
    { name: 'x', access: 'read' },
    { name: 'mean', access: 'read_write' },
    { name: 'invStd', access: 'read_write' },
  ],
  code:
    `${AT}\n` +
    entry(
      WG,
      `
  let p = wgi * ${WG}u + lid;
  if (p >= u.P) { return; }
  var s = 0.0;
  for (var c = 0u; c < u.C; c = c + 1u) { s = s + x[at(p, c)]; }
  let m = s / f32(u.C);
  var q = 0.0;
  for (var c = 0u; c < u.C; c = c + 1u) { let d = x[at(p, c)] - m; q = q + d * d; }
  mean[p] = m;
  invStd[p] = 1.0 / sqrt(q / f32(u.C) + u.eps);`,
    ),
};

const POSITION = '(i / (u.C * u.HW)) * u.HW + i % u.HW';
const CHANNEL = '(i / u.HW) % u.C';

const applyOp: EwOp = {
  name: 'layerNormApply',
  args: [
    { name: 'x', mode: 'r' },
    { name: 'mean', mode: 'r', index: POSITION },
    { name: 'invStd', mode: 'r', index: POSITION },
    { name: 'gamma', mode: 'r', index: CHANNEL },
    { name: 'beta', mode: 'r', index: CHANNEL },
    { name: 'y', mode: 'w' },
  ],
  uniforms: [
    ['C', 'u32'],
    ['HW', 'u32'],
  ],
  body: 'y = gamma * (x - mean) * invStd + beta;',
};

const inputGradientDef: KernelDef = {
  key: 'layerNormInputGradient',
  label: 'layerNormInputGradient',
  uniforms: [
    ['P', 'u32'],
    ['C', 'u32'],
    ['HW', 'u32'],
  ],
  bindings: [
    { name: 'x', access: 'read' },
    { name: 'dy', access: 'read' },
    { name: 'mean', access: 'read' },
    { name: 'invStd', access: 'read' },
    { name: 'gamma', access: 'read' },
    { name: 'dx', access: 'read_write' },
  ],
  code:
    `${AT}\n` +
    entry(
      WG,
      `
  let p = wgi * ${WG}u + lid;
  if (p >= u.P) { return; }
  let m = mean[p];
  let s = invStd[p];
  var sg = 0.0;
  var sgx = 0.0;
  for (var c = 0u; c < u.C; c = c + 1u) {
    let j = at(p, c);
    let g = dy[j] * gamma[c];
    sg = sg + g;
    sgx = sgx + g * (x[j] - m) * s;
  }
  let mg = sg / f32(u.C);
  let mgx = sgx / f32(u.C);
  for (var c = 0u; c < u.C; c = c + 1u) {
    let j = at(p, c);
    dx[j] = s * (dy[j] * gamma[c] - mg - (x[j] - m) * s * mgx);
  }`,
    ),
};

const paramGradientDef: KernelDef = {
  key: 'layerNormParamGradients',
  label: 'layerNormParamGradients',
  uniforms: [
    ['N', 'u32'],
    ['C', 'u32'],
    ['HW', 'u32'],
  ],
  bindings: [
    { name: 'x', access: 'read' },
    { name: 'dy', access: 'read' },
    { name: 'mean', access: 'read' },
    { name: 'invStd', access: 'read' },
    { name: 'dgamma', access: 'read_write' },
    { name: 'dbeta', access: 'read_write' },
  ],
  code:
    workgroupSum(WG) +
    workgroupSum(WG, 'wgSum2') +
    entry(
      WG,
      `
  let c = wgi;
  if (c >= u.C) { return; }
  var sg = 0.0;
  var sb = 0.0;
  for (var e = lid; e < u.N * u.HW; e = e + ${WG}u) {
    let img = e / u.HW;
    let j = (img * u.C + c) * u.HW + (e - img * u.HW);
    sg = sg + dy[j] * (x[j] - mean[e]) * invStd[e];
    sb = sb + dy[j];
  }
  let g = wgSum(lid, sg);
  let b = wgSum2(lid, sb);
  if (lid == 0u) { dgamma[c] = g; dbeta[c] = b; }`,
    ),
};

/** erf(x/√2) to about 1.5e-7 (Abramowitz & Stegun 7.1.26), as `e`; then Φ(x) = (1 + e)/2. */
const ERF_OF_X_OVER_SQRT2 = `
    let a = abs(x) * 0.70710678118654752;
    let t = 1.0 / (1.0 + 0.3275911 * a);
    let r = 1.0 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * exp(-a * a);
    let e = select(r, -r, x < 0.0);`;

export const geluOps = {
  gelu: {
    name: 'gelu',
    args: [
      { name: 'x', mode: 'r' },
      { name: 'y', mode: 'w' },
    ],
    uniforms: [],
    body: `${ERF_OF_X_OVER_SQRT2}\n    y = 0.5 * x * (1.0 + e);`,
  },
  geluBackward: {
    name: 'geluBackward',
    args: [
      { name: 'x', mode: 'r' },
      { name: 'dy', mode: 'r' },
      { name: 'dx', mode: 'w' },
    ],
    uniforms: [],
    body: `${ERF_OF_X_OVER_SQRT2}\n    dx = dy * (0.5 * (1.0 + e) + x * exp(-0.5 * x * x) * 0.39894228040143268);`,
  },
} satisfies Record<string, EwOp>;

export function layerNormForward(
  d: Dispatcher,
  N: number,
  C: number,
  HW: number,
  eps: number,
  x: GPUBuffer,
  gamma: GPUBuffer,
  beta: GPUBuffer,
  mean: GPUBuffer,
  invStd: GPUBuffer,
  y: GPUBuffer,
): void {
  const P = N * HW;
  d.run(statsDef, [x, mean, invStd], [P, C, HW, eps], Math.ceil(P / WG));
  runElementwise(d, applyOp, [x, mean, invStd, gamma, beta, y], [C, HW], N * C * HW);
}

export function layerNormBackward(
  d: Dispatcher,
  N: number,
  C: number,
  HW: number,
  x: GPUBuffer,
  dy: GPUBuffer,
  mean: GPUBuffer,
  invStd: GPUBuffer,
  gamma: GPUBuffer,
  dx: GPUBuffer,
  dgamma: GPUBuffer,
  dbeta: GPUBuffer,
): void {
  const P = N * HW;
  d.run(inputGradientDef, [x, dy, mean, invStd, gamma, dx], [P, C, HW], Math.ceil(P / WG));
  d.run(paramGradientDef, [x, dy, mean, invStd, dgamma, dbeta], [N, C, HW], C);
}
