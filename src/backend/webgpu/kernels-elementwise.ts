/// <reference types="@webgpu/types" />
import { type BindingDecl, type Dispatcher, type KernelDef, type UniformType, NO_EPILOGUE, entry } from './dispatch.js';
import { fuseElementwise } from './fusion.js';
import { FLOAT_BITS } from './wgsl.js';

/**
 * How an element-wise kernel uses one array: read ('r'), written ('w') or both ('rw'), at
 * element i or at `index` (a WGSL expression of i and the uniforms: a broadcast operand).
 */
export interface EwArg {
  name: string;
  mode: 'r' | 'w' | 'rw';
  index?: string;
}

/**
 * An element-wise kernel: `body` (WGSL) computes the written values from the read ones, all as
 * local variables named after the arguments. Every value is loaded before any is stored, so an
 * output may be the same array as an input (relu(x, x), add(a, b, a), in-place optimizer
 * steps): arguments that share a buffer share one binding, in a variant compiled for that
 * pattern, since WebGPU forbids binding one buffer twice when a binding writes it.
 */
export interface EwOp {
  name: string;
  args: readonly EwArg[];
  uniforms: readonly (readonly [string, UniformType])[];
  body: string;
  /** The argument that may be the output of the kernel before, fused into it (fusion.ts): activations' and bias addition's input. */
  chain?: string;
}

const WG = 256;
const variants = new Map<string, KernelDef>();

/** Runs an element-wise op over n elements; buffers in the order of op.args. */
export function runElementwise(d: Dispatcher, op: EwOp, buffers: readonly GPUBuffer[], uniforms: readonly number[], n: number): void {
  if (n === 0) return;
  if (fuseElementwise(d, op, buffers, uniforms, n)) return;
  const bufs = [...buffers];
  // A broadcast operand read through a buffer that is also written would see partial writes: read a copy.
  op.args.forEach((a, i) => {
    if (a.index && op.args.some((b, j) => j !== i && b.mode !== 'r' && buffers[j] === buffers[i])) {
      const copy = d.temp(bufs[i].size);
      d.copy(bufs[i], 0, copy, 0, bufs[i].size);
      bufs[i] = copy;
    }
  });
  const slots: GPUBuffer[] = [];
  const slotOf = bufs.map((b) => {
    let s = slots.indexOf(b);
    if (s < 0) s = slots.push(b) - 1;
    return s;
  });
  const key = `ew:${op.name}:${slotOf.join(',')}`;
  let def = variants.get(key);
  if (!def) variants.set(key, (def = elementwiseDef(op, key, slotOf, slots.length)));
  // An op with one output, written only, can take the next element-wise op into its epilogue.
  const outputs = op.args.filter((a) => a.mode !== 'r');
  const fusable = outputs.length === 1 && outputs[0].mode === 'w' ? { buffer: bufs[op.args.indexOf(outputs[0])], n } : undefined;
  d.run(def, slots, [n, ...uniforms], Math.ceil(n / WG), fusable);
}

function elementwiseDef(op: EwOp, key: string, slotOf: number[], slotCount: number): KernelDef {
  const bindings: BindingDecl[] = Array.from({ length: slotCount }, (_, s) => ({
    name: `b${s}`,
    access: op.args.some((a, i) => slotOf[i] === s && a.mode !== 'r') ? ('read_write' as const) : ('read' as const),
  }));
  const loads = op.args.map((a, i) => {
    const at = `b${slotOf[i]}[${a.index ?? 'i'}]`;
    return a.mode === 'r' ? `  let ${a.name} = ${at};` : a.mode === 'rw' ? `  var ${a.name} = ${at};` : `  var ${a.name}: f32;`;
  });
  const written = op.args.filter((a) => a.mode !== 'r');
  const stores = written.map((a) => `  b${slotOf[op.args.indexOf(a)]}[i] = ${a.name};`);
  const code =
    FLOAT_BITS +
    entry(
      WG,
      `
  let i = wgi * ${WG}u + lid;
  if (i >= u.n) { return; }
${loads.join('\n')}
  {
${op.body}
  }
${stores.join('\n')}${written.length === 1 ? `\n  after(i, ${written[0].name});` : ''}`,
    );
  return {
    key,
    label: op.name,
    uniforms: [['n', 'u32'], ...op.uniforms],
    bindings,
    code: written.length === 1 ? code + NO_EPILOGUE : code,
    codeBeforeEpilogue: written.length === 1 ? code : undefined,
  };
}

export const ops = {
  relu: {
    name: 'relu',
    chain: 'x',
    args: [
      { name: 'x', mode: 'r' },
      { name: 'y', mode: 'w' },
    ],
    uniforms: [],
    body: 'y = select(0.0, x, gtZero(x));',
  },
  reluBackward: {
    name: 'reluBackward',
    args: [
      { name: 'x', mode: 'r' },
      { name: 'dy', mode: 'r' },
      { name: 'dx', mode: 'w' },
    ],
    uniforms: [],
    body: 'dx = select(0.0, dy, gtZero(x));',
  },
  leakyRelu: {
    name: 'leakyRelu',
    chain: 'x',
    args: [
      { name: 'x', mode: 'r' },
      { name: 'y', mode: 'w' },
    ],
    uniforms: [
      ['slope', 'f32'],
      ['cap', 'f32'],
    ],
    // NaN stays NaN (min with the cap would drop it).
    body: 'let v = select(u.slope * x, x, gtZero(x)); y = select(min(v, u.cap), x, isNan(x));',
  },
  leakyReluBackward: {
    name: 'leakyReluBackward',
    args: [
      { name: 'x', mode: 'r' },
      { name: 'dy', mode: 'r' },
      { name: 'dx', mode: 'w' },
    ],
    uniforms: [
      ['slope', 'f32'],
      ['cap', 'f32'],
    ],
    body: 'let capped = !isNan(x) & (x >= u.cap); dx = select(select(u.slope * dy, dy, gtZero(x)), 0.0, capped);',
  },
  hardSigmoid: {
    name: 'hardSigmoid',
    chain: 'x',
    args: [
      { name: 'x', mode: 'r' },
      { name: 'y', mode: 'w' },
    ],
    uniforms: [
      ['alpha', 'f32'],
      ['beta', 'f32'],
    ],
    // NaN stays NaN (clamp would drop it).
    body: 'let v = u.alpha * x + u.beta; y = select(clamp(v, 0.0, 1.0), v, isNan(v));',
  },
  hardSigmoidBackward: {
    name: 'hardSigmoidBackward',
    args: [
      { name: 'x', mode: 'r' },
      { name: 'dy', mode: 'r' },
      { name: 'dx', mode: 'w' },
    ],
    uniforms: [
      ['alpha', 'f32'],
      ['beta', 'f32'],
    ],
    body: 'let v = u.alpha * x + u.beta; dx = select(0.0, u.alpha * dy, !isNan(v) & (v > 0.0) & (v < 1.0));',
  },
  tanh: {
    name: 'tanh',
    chain: 'x',
    args: [
      { name: 'x', mode: 'r' },
      { name: 'y', mode: 'w' },
    ],
    uniforms: [],
    // Past |x| = 10 tanh rounds to ±1 in float32; some implementations overflow to NaN there.
    body: 'y = select(tanh(x), sign(x), abs(x) > 10.0);',
  },
  tanhBackward: {
    name: 'tanhBackward',
    args: [
      { name: 'y', mode: 'r' },
      { name: 'dy', mode: 'r' },
      { name: 'dx', mode: 'w' },
    ],
    uniforms: [],
    body: 'dx = dy * (1.0 - y * y);',
  },
  sigmoid: {
    name: 'sigmoid',
    chain: 'x',
    args: [
      { name: 'x', mode: 'r' },
      { name: 'y', mode: 'w' },
    ],
    uniforms: [],
    // exp of a non-positive argument only: no overflow for large |x|.
    body: 'let e = exp(-abs(x)); y = select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);',
  },
  sigmoidBackward: {
    name: 'sigmoidBackward',
    args: [
      { name: 'y', mode: 'r' },
      { name: 'dy', mode: 'r' },
      { name: 'dx', mode: 'w' },
    ],
    uniforms: [],
    body: 'dx = dy * y * (1.0 - y);',
  },
  add: {
    name: 'add',
    args: [
      { name: 'a', mode: 'r' },
      { name: 'b', mode: 'r' },
      { name: 'o', mode: 'w' },
    ],
    uniforms: [],
    body: 'o = a + b;',
  },
  mul: {
    name: 'mul',
    args: [
      { name: 'a', mode: 'r' },
      { name: 'b', mode: 'r' },
      { name: 'o', mode: 'w' },
    ],
    uniforms: [],
    body: 'o = a * b;',
  },
  axpy: {
    name: 'axpy',
    args: [
      { name: 'x', mode: 'r' },
      { name: 'y', mode: 'rw' },
    ],
    uniforms: [['alpha', 'f32']],
    body: 'y = y + u.alpha * x;',
  },
  addBias: {
    name: 'addBias',
    chain: 'x',
    args: [
      { name: 'x', mode: 'r' },
      { name: 'b', mode: 'r', index: 'i % u.cols' },
      { name: 'y', mode: 'w' },
    ],
    uniforms: [['cols', 'u32']],
    body: 'y = x + b;',
  },
} satisfies Record<string, EwOp>;

/** Grid of N rows: dst[n, dstOffset + i] = src[n, srcOffset + i] for i < block. */
export const copyBlocksDef: KernelDef = {
  key: 'copyBlocks',
  label: 'copyBlocks',
  uniforms: [
    ['N', 'u32'],
    ['block', 'u32'],
    ['srcStride', 'u32'],
    ['srcOffset', 'u32'],
    ['dstStride', 'u32'],
    ['dstOffset', 'u32'],
  ],
  bindings: [
    { name: 'src', access: 'read' },
    { name: 'dst', access: 'read_write' },
  ],
  code: entry(
    WG,
    `
  let t = wgi * ${WG}u + lid;
  if (t >= u.N * u.block) { return; }
  let n = t / u.block;
  let i = t - n * u.block;
  dst[n * u.dstStride + u.dstOffset + i] = src[n * u.srcStride + u.srcOffset + i];`,
  ),
};

export function copyBlocks(
  d: Dispatcher,
  N: number,
  src: GPUBuffer,
  srcStride: number,
  srcOffset: number,
  dst: GPUBuffer,
  dstStride: number,
  dstOffset: number,
  block: number,
): void {
  d.run(copyBlocksDef, [src, dst], [N, block, srcStride, srcOffset, dstStride, dstOffset], Math.ceil((N * block) / WG));
}
