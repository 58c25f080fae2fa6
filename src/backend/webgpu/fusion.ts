/// <reference types="@webgpu/types" />
import type { BindingDecl, Dispatcher, HeldDispatch, KernelDef, UniformType } from './dispatch.js';
import type { EwOp } from './kernels-elementwise.js';
import { FLOAT_BITS } from './wgsl.js';

/**
 * Fusion of an element-wise kernel into the kernel before it, seen by the backend alone: when a
 * kernel that produces an output element by element (a GEMM or convolution epilogue, an
 * element-wise op such as bias addition or batch-norm's apply) is followed by an element-wise op
 * whose `chain` argument reads exactly that output (bias + activation, conv + ReLU, batch norm +
 * ReLU), the op runs inside the first kernel's `after(i, v)` on the value just written. Both
 * outputs are still written, so later kernels (a ReLU's backward reads its input) see the same
 * arrays, and the fused value is computed by the same WGSL on the same float: results are
 * bit-identical to the two dispatches. Layers and models need no change; CPU backends have
 * nothing to fuse.
 */

/** Uniforms one dispatch's slot holds (256 bytes). */
const MAX_UNIFORMS = 64;

/**
 * Fuses `op` (its buffers in the order of op.args) into the held dispatch if it can; false
 * when it cannot (the caller then records it as its own dispatch).
 */
export function fuseElementwise(d: Dispatcher, op: EwOp, buffers: readonly GPUBuffer[], uniforms: readonly number[], n: number): boolean {
  const held = d.heldDispatch;
  if (!held || !op.chain) return false;
  const chainIndex = op.args.findIndex((a) => a.name === op.chain);
  const outIndex = op.args.findIndex((a) => a.mode !== 'r');
  if (chainIndex < 0 || outIndex < 0 || op.args.some((a, i) => i !== outIndex && a.mode !== 'r') || op.args[outIndex].mode !== 'w') return false;
  if (buffers[chainIndex] !== held.output.buffer || n !== held.output.n) return false;
  const out = buffers[outIndex];
  // The op's other inputs must not be written by the held kernel (they would be read mid-write),
  // its output must not be read by it (another invocation may still read it).
  const others = op.args.map((_, i) => i).filter((i) => i !== chainIndex && i !== outIndex);
  if (others.some((i) => held.written.has(buffers[i])) || held.read.has(out) || others.some((i) => buffers[i] === out)) return false;

  // Bindings: reuse the held kernel's binding of a buffer it already has.
  const bindings: BindingDecl[] = [...held.def.bindings];
  const bound = [...held.buffers];
  const bindingOf = (buffer: GPUBuffer, access: 'read' | 'read_write'): string => {
    const at = bound.indexOf(buffer);
    if (at >= 0) return bindings[at].name;
    const name = `fused${bindings.length}`;
    bindings.push({ name, access });
    bound.push(buffer);
    return name;
  };
  const stage = held.stages.length;
  const prefix = `s${stage}_`;
  const names = new Map<string, string>();
  for (const i of others) names.set(op.args[i].name, bindingOf(buffers[i], 'read'));
  const outName = bindingOf(out, 'read_write');
  if (bindings.length > d.device.limits.maxStorageBuffersPerShaderStage) return false;
  const stageUniforms: (readonly [string, UniformType])[] = op.uniforms.map(([name, type]) => [prefix + name, type] as const);
  if (held.def.uniforms.length + stageUniforms.length > MAX_UNIFORMS) return false;

  const rename = (text: string) => op.uniforms.reduce((t, [name]) => t.replace(new RegExp(`\\bu\\.${name}\\b`, 'g'), `u.${prefix}${name}`), text);
  const loads = op.args
    .map((a, i) => {
      if (i === chainIndex) return `let ${a.name} = c;`;
      if (i === outIndex) return `var ${a.name}: f32;`;
      return `let ${a.name} = ${names.get(a.name)}[${rename(a.index ?? 'i')}];`;
    })
    .join(' ');
  const outArg = op.args[outIndex].name;
  const body = `
  { ${loads}
    {${rename(op.body)}
    }
    ${outName}[i] = ${outArg};
    c = ${outArg};
  }`;
  const previous = held.def.code.slice(held.def.codeBeforeEpilogue!.length);
  // The epilogue so far (without its closing brace), or a fresh one.
  const opened = held.stages.length ? previous.slice(0, previous.lastIndexOf('}')) : '\nfn after(i: u32, v: f32) {\n  var c = v;';
  const base = held.def.codeBeforeEpilogue!;
  const epilogue = `${opened}${body}\n}\n`;
  const stages = [...held.stages, op.name];
  // The variant is fixed by the base kernel and, per stage, the op and the bindings it reads and writes.
  const key = `${held.def.key}|+${op.name}(${[...names.values()].join(',')}->${outName})`;
  const def: KernelDef = {
    key,
    label: `${held.def.label.split(' + ')[0]} + ${stages.join(' + ')}`,
    uniforms: [...held.def.uniforms, ...stageUniforms],
    bindings,
    code: (base.includes('fn isNan(') ? '' : FLOAT_BITS) + base + epilogue,
    codeBeforeEpilogue: (base.includes('fn isNan(') ? '' : FLOAT_BITS) + base,
  };
  const next: HeldDispatch = {
    ...held,
    def: cachedDef(def),
    buffers: bound,
    uniforms: [...held.uniforms, ...uniforms],
    output: { buffer: out, n },
    written: new Set([...held.written, out]),
    read: new Set([...held.read, ...others.map((i) => buffers[i])]),
    stages,
  };
  d.replaceHeld(next);
  return true;
}

const defs = new Map<string, KernelDef>();

/** One KernelDef object per fused variant (the dispatcher caches pipelines by key). */
function cachedDef(def: KernelDef): KernelDef {
  const known = defs.get(def.key);
  if (known && known.code === def.code) return known;
  defs.set(def.key, def);
  return def;
}
