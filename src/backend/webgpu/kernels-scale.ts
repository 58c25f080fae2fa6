/// <reference types="@webgpu/types" />
import { type Dispatcher, type KernelDef, entry } from './dispatch.js';
import { type EwOp, runElementwise } from './kernels-elementwise.js';

/**
 * Per-plane scale (squeeze-excitation's x · s with s of shape [N, C, 1, 1]): the product is an
 * element-wise kernel with a broadcast operand; the scale's gradient is one sum per plane,
 * summed in order by one invocation (deterministic).
 */

const WG = 64;

const scaleOp: EwOp = {
  name: 'channelScale',
  args: [
    { name: 'x', mode: 'r' },
    { name: 's', mode: 'r', index: 'i / u.HW' },
    { name: 'y', mode: 'w' },
  ],
  uniforms: [['HW', 'u32']],
  body: 'y = x * s;',
};

const scaleGradientDef: KernelDef = {
  key: 'channelScaleGradient',
  label: 'channelScaleGradient',
  uniforms: [
    ['P', 'u32'],
    ['HW', 'u32'],
  ],
  bindings: [
    { name: 'x', access: 'read' },
    { name: 'dy', access: 'read' },
    { name: 'ds', access: 'read_write' },
  ],
  code: entry(
    WG,
    `
  let p = wgi * ${WG}u + lid;
  if (p >= u.P) { return; }
  var sum = 0.0;
  for (var i = 0u; i < u.HW; i = i + 1u) { sum = sum + dy[p * u.HW + i] * x[p * u.HW + i]; }
  ds[p] = sum;`,
  ),
};

export function channelScale(d: Dispatcher, P: number, HW: number, x: GPUBuffer, s: GPUBuffer, y: GPUBuffer): void {
  runElementwise(d, scaleOp, [x, s, y], [HW], P * HW);
}

export function channelScaleBackward(d: Dispatcher, P: number, HW: number, x: GPUBuffer, s: GPUBuffer, dy: GPUBuffer, dx: GPUBuffer, ds: GPUBuffer): void {
  d.run(scaleGradientDef, [x, dy, ds], [P, HW], Math.ceil(P / WG));
  runElementwise(d, scaleOp, [dy, s, dx], [HW], P * HW);
}
