/// <reference types="@webgpu/types" />
import { type Dispatcher, type KernelDef, entry } from './dispatch.js';
import type { EwOp } from './kernels-elementwise.js';
import { workgroupSum } from './wgsl.js';

/**
 * Batch norm and local response normalisation. Per-channel statistics run one workgroup per
 * channel, each invocation summing a strided share in order and the workgroup adding the
 * shares as a tree: deterministic. The mean is found first and the variance summed as
 * Σ(x − mean)², as the reference does (no cancellation).
 */

const WG = 256;

/** Loop over the N·HW values of channel c: `v` is each value's flat index. */
const CHANNEL_LOOP = (body: string) => `
  for (var e = lid; e < u.N * u.HW; e = e + ${WG}u) {
    let img = e / u.HW;
    let j = (img * u.C + c) * u.HW + (e - img * u.HW);
${body}
  }`;

const statsDef: KernelDef = {
  key: 'batchNormStats',
  label: 'batchNormStats',
  uniforms: [
    ['N', 'u32'],
    ['C', 'u32'],
    ['HW', 'u32'],
  ],
  bindings: [
    { name: 'x', access: 'read' },
    { name: 'mean', access: 'read_write' },
    { name: 'variance', access: 'read_write' },
  ],
  code:
    workgroupSum(WG) +
    entry(
      WG,
      `
  let c = wgi;
  if (c >= u.C) { return; }
  let count = f32(u.N * u.HW);
  var s = 0.0;${CHANNEL_LOOP('    s = s + x[j];')}
  let m = wgSum(lid, s) / count;
  var q = 0.0;${CHANNEL_LOOP('    let dev = x[j] - m;\n    q = q + dev * dev;')}
  let v = wgSum(lid, q) / count;
  if (lid == 0u) { mean[c] = m; variance[c] = v; }`,
    ),
};

const backwardDef: KernelDef = {
  key: 'batchNormBackward',
  label: 'batchNormBackward',
  uniforms: [
    ['N', 'u32'],
    ['C', 'u32'],
    ['HW', 'u32'],
    ['batchStats', 'u32'],
  ],
  bindings: [
    { name: 'x', access: 'read' },
    { name: 'dy', access: 'read' },
    { name: 'mean', access: 'read' },
    { name: 'invStd', access: 'read' },
    { name: 'gamma', access: 'read' },
    { name: 'dx', access: 'read_write' },
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
  let count = f32(u.N * u.HW);
  let m = mean[c];
  let is = invStd[c];
  var sd = 0.0;
  var sdx = 0.0;${CHANNEL_LOOP('    sd = sd + dy[j];\n    sdx = sdx + dy[j] * (x[j] - m) * is;')}
  let sumDy = wgSum(lid, sd);
  let sumDyXhat = wgSum2(lid, sdx);
  // Running statistics (evaluation) are constants: then dx = dy·γ·σ⁻¹.
  let batchStats = u.batchStats != 0u;
  let scale = select(gamma[c] * is, (gamma[c] * is) / count, batchStats);${CHANNEL_LOOP('    let xhat = (x[j] - m) * is;\n    dx[j] = select(scale * dy[j], scale * (count * dy[j] - sumDy - xhat * sumDyXhat), batchStats);')}
  if (lid == 0u) { dbeta[c] = sumDy; dgamma[c] = sumDyXhat; }`,
    ),
};

export const normOps = {
  /** y = gamma[c]·(x − mean[c])·invStd[c] + beta[c] */
  batchNormApply: {
    name: 'batchNormApply',
    args: [
      { name: 'x', mode: 'r' },
      { name: 'mean', mode: 'r', index: '(i / u.HW) % u.C' },
      { name: 'invStd', mode: 'r', index: '(i / u.HW) % u.C' },
      { name: 'gamma', mode: 'r', index: '(i / u.HW) % u.C' },
      { name: 'beta', mode: 'r', index: '(i / u.HW) % u.C' },
      { name: 'y', mode: 'w' },
    ],
    uniforms: [
      ['C', 'u32'],
      ['HW', 'u32'],
    ],
    body: 'y = gamma * (x - mean) * invStd + beta;',
  },
  batchNormRunning: {
    name: 'batchNormRunning',
    args: [
      { name: 'mean', mode: 'r' },
      { name: 'variance', mode: 'r' },
      { name: 'runningMean', mode: 'rw' },
      { name: 'runningVar', mode: 'rw' },
      { name: 'invStd', mode: 'w' },
    ],
    uniforms: [
      ['eps', 'f32'],
      ['momentum', 'f32'],
      ['keep', 'f32'],
      ['unbias', 'f32'],
    ],
    body: `
    invStd = 1.0 / sqrt(variance + u.eps);
    runningMean = u.keep * runningMean + u.momentum * mean;
    runningVar = u.keep * runningVar + u.momentum * variance * u.unbias;`,
  },
  /** Momentum 0 (evaluation): only invStd, the running statistics are not touched. */
  batchNormInvStd: {
    name: 'batchNormRunning (momentum 0)',
    args: [
      { name: 'variance', mode: 'r' },
      { name: 'invStd', mode: 'w' },
    ],
    uniforms: [['eps', 'f32']],
    body: 'invStd = 1.0 / sqrt(variance + u.eps);',
  },
} satisfies Record<string, EwOp>;

const LRN_UNIFORMS = [
  ['N', 'u32'],
  ['C', 'u32'],
  ['HW', 'u32'],
  ['size', 'u32'],
  ['before', 'u32'],
  ['after', 'u32'],
  ['alphaOverSize', 'f32'],
  ['beta', 'f32'],
  ['k', 'f32'],
] as const;

const LRN_INDEX = `
  let t = wgi * ${WG}u + lid;
  if (t >= u.N * u.C * u.HW) { return; }
  let chw = u.C * u.HW;
  let img = t / chw;
  let r = t - img * chw;
  let c = r / u.HW;
  let i = r - c * u.HW;
  let base = img * chw + i;`;

const lrnForwardDef: KernelDef = {
  key: 'lrnForward',
  label: 'lrnForward',
  uniforms: LRN_UNIFORMS,
  bindings: [
    { name: 'x', access: 'read' },
    { name: 'scale', access: 'read_write' },
    { name: 'y', access: 'read_write' },
  ],
  code: entry(
    WG,
    `${LRN_INDEX}
  let j0 = select(c - u.before, 0u, c < u.before);
  let j1 = min(u.C - 1u, c + u.after);
  var sq = 0.0;
  for (var j = j0; j <= j1; j = j + 1u) { let v = x[base + j * u.HW]; sq = sq + v * v; }
  let s = u.k + u.alphaOverSize * sq;
  scale[t] = s;
  y[t] = x[t] * pow(s, -u.beta);`,
  ),
};

const lrnBackwardDef: KernelDef = {
  key: 'lrnBackward',
  label: 'lrnBackward',
  uniforms: [...LRN_UNIFORMS, ['twoAlphaBetaOverSize', 'f32']],
  bindings: [
    { name: 'x', access: 'read' },
    { name: 'y', access: 'read' },
    { name: 'scale', access: 'read' },
    { name: 'dy', access: 'read' },
    { name: 'dx', access: 'read_write' },
  ],
  code: entry(
    WG,
    `${LRN_INDEX}
  // x_c appears in its own output and in the scale of every channel whose window holds it.
  let j0 = select(c - u.after, 0u, c < u.after);
  let j1 = min(u.C - 1u, c + u.before);
  var sum = 0.0;
  for (var j = j0; j <= j1; j = j + 1u) { let at = base + j * u.HW; sum = sum + (dy[at] * y[at]) / scale[at]; }
  dx[t] = dy[t] * pow(scale[t], -u.beta) - u.twoAlphaBetaOverSize * x[t] * sum;`,
  ),
};

export function batchNormStats(d: Dispatcher, N: number, C: number, HW: number, x: GPUBuffer, mean: GPUBuffer, variance: GPUBuffer): void {
  d.run(statsDef, [x, mean, variance], [N, C, HW], C);
}

export function batchNormBackward(
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
  batchStatistics: boolean,
): void {
  d.run(backwardDef, [x, dy, mean, invStd, gamma, dx, dgamma, dbeta], [N, C, HW, +batchStatistics], C);
}

function lrnUniforms(N: number, C: number, HW: number, size: number, before: number, alpha: number, beta: number, k: number): number[] {
  return [N, C, HW, size, before, size - 1 - before, alpha / size, beta, k];
}

export function lrnForward(
  d: Dispatcher,
  N: number,
  C: number,
  HW: number,
  size: number,
  before: number,
  alpha: number,
  beta: number,
  k: number,
  x: GPUBuffer,
  scale: GPUBuffer,
  y: GPUBuffer,
): void {
  d.run(lrnForwardDef, [x, scale, y], lrnUniforms(N, C, HW, size, before, alpha, beta, k), Math.ceil((N * C * HW) / WG));
}

export function lrnBackward(
  d: Dispatcher,
  N: number,
  C: number,
  HW: number,
  size: number,
  before: number,
  alpha: number,
  beta: number,
  k: number,
  x: GPUBuffer,
  y: GPUBuffer,
  scale: GPUBuffer,
  dy: GPUBuffer,
  dx: GPUBuffer,
): void {
  d.run(
    lrnBackwardDef,
    [x, y, scale, dy, dx],
    [...lrnUniforms(N, C, HW, size, before, alpha, beta, k), (2 * alpha * beta) / size],
    Math.ceil((N * C * HW) / WG),
  );
}
