/// <reference types="@webgpu/types" />
import type { BindingDecl, Dispatcher, KernelDef, UniformType } from './dispatch.js';
import { entry } from './dispatch.js';
import type { EwOp } from './kernels-elementwise.js';

/**
 * Optimizer updates, in place on the weights and the optimizer state; scalars derived from the
 * step (Adam's bias corrections) are computed on the host in double precision, as the reference
 * does. One parameter is an element-wise op (kernels-elementwise.ts); many parameters go into one
 * fused dispatch that binds as many of them as the device's storage-buffer limit allows and
 * picks each element's parameter by its index. Both use the same update text, so a parameter
 * gets bit-identical values either way.
 */

/** The SGD update of w, v from g, with the step's lr and weight decay given as WGSL expressions. */
const sgdUpdate = (lr: string, wd: string) => `
    let grad = g + ${wd} * w;
    v = u.momentum * v + grad;
    w = w - ${lr} * select(v, grad + u.momentum * v, u.nesterov != 0u);`;

const adamUpdate = (lr: string, wd: string) => `
    let dec = u.decoupled != 0u;
    let grad = select(g + ${wd} * w, g, dec);
    m = u.beta1 * m + u.oneMinusBeta1 * grad;
    v = u.beta2 * v + u.oneMinusBeta2 * grad * grad;
    let update = (m / u.c1) / (sqrt(v / u.c2) + u.eps);
    w = w - ${lr} * (update + select(0.0, ${wd} * w, dec));`;

const SGD_SHARED: readonly (readonly [string, UniformType])[] = [
  ['momentum', 'f32'],
  ['nesterov', 'u32'],
];
const ADAM_SHARED: readonly (readonly [string, UniformType])[] = [
  ['beta1', 'f32'],
  ['oneMinusBeta1', 'f32'],
  ['beta2', 'f32'],
  ['oneMinusBeta2', 'f32'],
  ['c1', 'f32'],
  ['c2', 'f32'],
  ['eps', 'f32'],
  ['decoupled', 'u32'],
];

export const optimOps = {
  sgd: {
    name: 'sgdStep',
    args: [
      { name: 'w', mode: 'rw' },
      { name: 'g', mode: 'r' },
      { name: 'v', mode: 'rw' },
    ],
    uniforms: [['lr', 'f32'], ['wd', 'f32'], ...SGD_SHARED],
    body: sgdUpdate('u.lr', 'u.wd'),
  },
  adam: {
    name: 'adamStep',
    args: [
      { name: 'w', mode: 'rw' },
      { name: 'g', mode: 'r' },
      { name: 'm', mode: 'rw' },
      { name: 'v', mode: 'rw' },
    ],
    uniforms: [['lr', 'f32'], ['wd', 'f32'], ...ADAM_SHARED],
    body: adamUpdate('u.lr', 'u.wd'),
  },
} satisfies Record<string, EwOp>;

/** One parameter of a fused update: its weights, gradient, state buffers (velocity; or m, v), lr and weight decay. */
export interface FusedParam {
  w: GPUBuffer;
  g: GPUBuffer;
  state: readonly GPUBuffer[];
  n: number;
  lr: number;
  wd: number;
}

export type FusedKind = 'sgd' | 'adam';

const WG = 256;
/** Parameters per fused dispatch at most (the uniform block holds 3 words per parameter). */
const MAX_PER_DISPATCH = 16;
const fusedDefs = new Map<string, KernelDef>();

/** Buffers each parameter binds. */
export const buffersPerParam = (kind: FusedKind) => (kind === 'sgd' ? 3 : 4);

/** How many parameters one dispatch can update with this many storage bindings. */
export function paramsPerDispatch(kind: FusedKind, maxStorageBuffers: number): number {
  return Math.max(1, Math.min(MAX_PER_DISPATCH, Math.floor(maxStorageBuffers / buffersPerParam(kind))));
}

function fusedDef(kind: FusedKind, count: number): KernelDef {
  const key = `optim-fused:${kind}:${count}`;
  let def = fusedDefs.get(key);
  if (def) return def;
  const names = kind === 'sgd' ? ['w', 'g', 'v'] : ['w', 'g', 'm', 'v'];
  const bindings: BindingDecl[] = [];
  const uniforms: (readonly [string, UniformType])[] = [['n', 'u32'], ...(kind === 'sgd' ? SGD_SHARED : ADAM_SHARED)];
  const branches: string[] = [];
  for (let p = 0; p < count; p++) {
    for (const name of names) bindings.push({ name: `${name}${p}`, access: name === 'g' ? 'read' : 'read_write' });
    uniforms.push([`end${p}`, 'u32'], [`lr${p}`, 'f32'], [`wd${p}`, 'f32']);
    const begin = p === 0 ? '0u' : `u.end${p - 1}`;
    const loads = names.map((name) => `${name === 'g' ? 'let' : 'var'} ${name} = ${name}${p}[j];`).join(' ');
    const stores = names
      .filter((name) => name !== 'g')
      .map((name) => `${name}${p}[j] = ${name};`)
      .join(' ');
    const update = kind === 'sgd' ? sgdUpdate(`u.lr${p}`, `u.wd${p}`) : adamUpdate(`u.lr${p}`, `u.wd${p}`);
    branches.push(`${p === 0 ? '' : 'else '}if (i < u.end${p}) {
    let j = i - ${begin};
    ${loads}
    {${update}
    }
    ${stores}
  }`);
  }
  def = {
    key,
    label: kind === 'sgd' ? 'sgdStep (fused)' : 'adamStep (fused)',
    uniforms,
    bindings,
    code: entry(
      WG,
      `
  let i = wgi * ${WG}u + lid;
  if (i >= u.n) { return; }
  ${branches.join(' ')}`,
    ),
  };
  fusedDefs.set(key, def);
  return def;
}

/**
 * Records the updates of many parameters in ceil(count / paramsPerDispatch) dispatches. Each
 * parameter's buffers must be distinct from every other buffer of its dispatch (the caller checks).
 */
export function runFused(d: Dispatcher, kind: FusedKind, params: readonly FusedParam[], shared: readonly number[], maxStorageBuffers: number): void {
  const per = paramsPerDispatch(kind, maxStorageBuffers);
  for (let at = 0; at < params.length; at += per) {
    const chunk = params.slice(at, at + per).filter((p) => p.n > 0);
    if (!chunk.length) continue;
    const buffers: GPUBuffer[] = [],
      tail: number[] = [];
    let end = 0;
    for (const p of chunk) {
      buffers.push(p.w, p.g, ...p.state);
      end += p.n;
      tail.push(end, p.lr, p.wd);
    }
    d.run(fusedDef(kind, chunk.length), buffers, [end, ...shared, ...tail], Math.ceil(end / WG));
  }
}
