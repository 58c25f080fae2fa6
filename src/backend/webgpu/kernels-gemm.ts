/// <reference types="@webgpu/types" />
import { type BindingDecl, type Dispatcher, type KernelDef, type UniformType, NO_EPILOGUE, entry } from './dispatch.js';

/**
 * A matrix product C = op(A)·op(B) whose operands are read through functions: plain GEMM reads
 * arrays, convolutions read their im2col matrix straight from the image (implicit GEMM: no
 * column buffer). `batches` independent products (convolution groups) run in one dispatch.
 *
 * An operand element is loadA(rowA(m, bt), keyA(k)): rowA does the per-row work (a base
 * offset, an image position) once per invocation, keyA the per-k part (for convolutions a
 * lookup in a table built on the host, kernels-conv.ts) once per k, and loadA combines them,
 * so the inner loops divide nothing.
 *
 * Two kernels compute it:
 *  - 'tiled' (GPUs): a workgroup computes a BM×BN tile of C, each invocation TM×TN of it,
 *    walking K in steps of BK with both operand tiles staged in workgroup memory
 *    (BK·(BM + BN) floats ≤ 8 KiB);
 *  - 'registers' (software adapters): each invocation accumulates a TM×TN block reading the
 *    operands directly, no workgroup memory and no barriers — SwiftShader runs a barrier by
 *    switching every invocation's coroutine, which costs far more than shared tiles save.
 * When there are few tiles and a long K (weight gradients: K = batch × output pixels), K is
 * split into ranges whose partial products land in a scratch buffer, and a second kernel adds
 * the ranges in a fixed order: deterministic, no atomics.
 */
export interface ImplicitGemm {
  /** Kernel name for errors. */
  name: string;
  /** Distinguishes variants with different code (transposes, bias) in the pipeline cache. */
  variant: string;
  bindings: readonly BindingDecl[];
  /** Uniforms beyond the standard M, N, K, … ones. */
  uniforms: readonly (readonly [string, UniformType])[];
  /**
   * WGSL defining types RowA, KeyA, RowB, KeyB and the functions
   *   rowA(m: u32, bt: u32) -> RowA, keyA(k: u32) -> KeyA, loadA(r: RowA, q: KeyA) -> f32   (m < M, k < K),
   *   rowB(n: u32, bt: u32) -> RowB, keyB(k: u32) -> KeyB, loadB(r: RowB, q: KeyB) -> f32   (n < N, k < K),
   *   store(m: u32, n: u32, bt: u32, v: f32)                          (the epilogue: one element of C).
   */
  code: string;
  /**
   * The binding whose elements 0 … M·N·batches − 1 `store` writes, each followed by a call
   * `after(i, v)` with the element's index and value: a following element-wise kernel on it
   * can be fused in (fusion.ts). Absent where store does not call after.
   */
  output?: number;
  /** Adjacent invocations of the tiled kernel load adjacent k of A (true) or adjacent m (false); likewise n or k of B. */
  aAlongK: boolean;
  bAlongN: boolean;
}

/** Which GEMM kernel runs. */
export type GemmKernel = 'tiled' | 'registers';

const BK = 16;
const STANDARD: readonly (readonly [string, UniformType])[] = [
  ['M', 'u32'], ['N', 'u32'], ['K', 'u32'], ['tilesM', 'u32'], ['tilesN', 'u32'], ['batches', 'u32'], ['splits', 'u32'], ['kPerSplit', 'u32'],
];
/** The tiled kernel splits K until about this many workgroups run. */
const TARGET_WORKGROUPS = 128;
/** The register kernel splits K until about this many invocations run. */
const TARGET_INVOCATIONS = 8192;
/** A K range is at least this long. */
const MIN_SPLIT_K = 128;
const MAX_SPLITS = 64;
const REDUCE_WG = 256;
const REG_WG = 64;
const RN = 8;

interface Tile { BM: number; BN: number; TM: number; TN: number }

function tileFor(M: number, N: number): Tile {
  const side = (n: number) => (n <= 16 ? 16 : n <= 32 ? 32 : 64);
  const BM = side(M), BN = side(N);
  // 8 or 16 invocations per side, 2 or 4 elements each.
  const per = (b: number) => (b === 64 ? 4 : 2);
  return { BM, BN, TM: per(BM), TN: per(BN) };
}

/** Register blocks: up to 4 rows by 8 columns per invocation (8 loads feed 32 multiply-adds). */
function registerBlock(M: number, N: number): Tile {
  const TM = Math.min(M, 4), TN = Math.min(N, RN);
  return { BM: TM, BN: TN, TM, TN };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** A kernel of `spec` whose code may call store (and so after): the empty epilogue added, fusable when `stores`. */
function withEpilogue(spec: ImplicitGemm, def: Omit<KernelDef, 'key'>, stores: boolean): Omit<KernelDef, 'key'> {
  if (spec.output === undefined) return def;
  return { ...def, code: def.code + NO_EPILOGUE, codeBeforeEpilogue: stores ? def.code : undefined };
}
const defs = new Map<string, KernelDef>();

function cached(key: string, make: () => Omit<KernelDef, 'key'>, spec?: ImplicitGemm, stores = false): KernelDef {
  let def = defs.get(key);
  if (!def) defs.set(key, (def = { key, ...(spec ? withEpilogue(spec, make(), stores) : make()) }));
  return def;
}

/** Where the block/tile of an invocation lies: tile (tm, tn) of product bt, K range sp. */
const LOCATE = (index: string) => `
  if (${index} >= u.tilesM * u.tilesN * u.batches * u.splits) { return; }
  let tn = ${index} % u.tilesN;
  var r = ${index} / u.tilesN;
  let tm = r % u.tilesM;
  r = r / u.tilesM;
  let bt = r % u.batches;
  let sp = r / u.batches;
  let kBegin = sp * u.kPerSplit;
  let kEnd = min(u.K, kBegin + u.kPerSplit);`;

function result(split: boolean, acc: string): string {
  return split ? `partial[((sp * u.batches + bt) * u.M + m) * u.N + n] = ${acc};` : `store(m, n, bt, ${acc});`;
}

function bindings(spec: ImplicitGemm, split: boolean): readonly BindingDecl[] {
  return split ? [...spec.bindings, { name: 'partial', access: 'read_write' }] : spec.bindings;
}

function tiledDef(spec: ImplicitGemm, t: Tile, split: boolean): KernelDef {
  return cached(`gemm:${spec.name}:${spec.variant}:tiled${t.BM}x${t.BN}:${split}`, () => {
    const { BM, BN, TM, TN } = t;
    const WX = BN / TN, WY = BM / TM, NT = WX * WY;
    // Tile loads unrolled and branch-free: an out-of-range element loads a clamped (valid)
    // position and is replaced by 0, so invocations do not diverge. Which row (and k offset)
    // an invocation loads does not change along K: rows are resolved once, before the K loop.
    const plan = (count: number, alongK: boolean, rows: number, a: boolean) => range(count / NT).map((it) => {
      const e = `lid + ${it * NT}u`;
      const [origin, limit, row, load, tile, name] = a ? ['m0', 'u.M', 'rowA', 'loadA', 'As', `la${it}`] : ['n0', 'u.N', 'rowB', 'loadB', 'Bs', `lb${it}`];
      const [o, kk] = alongK ? [`(${e}) / ${BK}u`, `(${e}) % ${BK}u`] : [`(${e}) % ${rows}u`, `(${e}) / ${rows}u`];
      const key = a ? 'keyA' : 'keyB';
      return {
        before: `let ${name}o = ${o}; let ${name}k = ${kk}; let ${name}ok = ${origin} + ${name}o < ${limit}; `
          + `let ${name}r = ${row}(min(${origin} + ${name}o, ${limit} - 1u), bt);`,
        inside: `{ let k = k0 + ${name}k; let v = ${load}(${name}r, ${key}(min(k, kEnd - 1u))); `
          + `${tile}[${name}k * ${rows}u + ${name}o] = select(0.0, v, ${name}ok & (k < kEnd)); }`,
      };
    });
    const loads = [...plan(BM * BK, spec.aAlongK, BM, true), ...plan(BN * BK, !spec.bAlongN, BN, false)];
    // Accumulators and operand registers as scalars, loops over them unrolled here.
    const acc = range(TM).flatMap((i) => range(TN).map((j) => `var acc${i}_${j} = 0.0;`)).join(' ');
    const aRegs = range(TM).map((i) => `let a${i} = As[base + ${i * WY}u];`).join(' ');
    const bRegs = range(TN).map((j) => `let b${j} = Bs[bbase + ${j * WX}u];`).join(' ');
    const fmas = range(TM).flatMap((i) => range(TN).map((j) => `acc${i}_${j} = acc${i}_${j} + a${i} * b${j};`)).join('\n      ');
    const stores = range(TM).flatMap((i) => range(TN).map((j) =>
      `{ let m = m0 + ty + ${i * WY}u; let n = n0 + tx + ${j * WX}u; if ((m < u.M) & (n < u.N)) { ${result(split, `acc${i}_${j}`)} } }`)).join('\n  ');
    return {
      label: spec.name, uniforms: [...STANDARD, ...spec.uniforms], bindings: bindings(spec, split),
      code: `var<workgroup> As: array<f32, ${BK * BM}>;
var<workgroup> Bs: array<f32, ${BK * BN}>;
${spec.code}
${entry(NT, `${LOCATE('wgi')}
  let tx = lid % ${WX}u;
  let ty = lid / ${WX}u;
  let m0 = tm * ${BM}u;
  let n0 = tn * ${BN}u;
  ${acc}
  ${loads.map((l) => l.before).join('\n  ')}
  for (var k0 = kBegin; k0 < kEnd; k0 = k0 + ${BK}u) {
    ${loads.map((l) => l.inside).join('\n    ')}
    workgroupBarrier();
    for (var kk = 0u; kk < ${BK}u; kk = kk + 1u) {
      let base = kk * ${BM}u + ty;
      let bbase = kk * ${BN}u + tx;
      ${aRegs}
      ${bRegs}
      ${fmas}
    }
    workgroupBarrier();
  }
  ${stores}`)}`,
    };
  }, spec, !split);
}

function registerDef(spec: ImplicitGemm, TM: number, TN: number, split: boolean): KernelDef {
  return cached(`gemm:${spec.name}:${spec.variant}:reg${TM}x${TN}:${split}`, () => {
    const rows = range(TM).map((i) => `let ra${i} = rowA(min(m0 + ${i}u, u.M - 1u), bt);`).join(' ');
    const cols = range(TN).map((j) => `let rb${j} = rowB(min(n0 + ${j}u, u.N - 1u), bt);`).join(' ');
    const acc = range(TM).flatMap((i) => range(TN).map((j) => `var acc${i}_${j} = 0.0;`)).join(' ');
    const aRegs = 'let qa = keyA(k); ' + range(TM).map((i) => `let a${i} = loadA(ra${i}, qa);`).join(' ');
    const bRegs = 'let qb = keyB(k); ' + range(TN).map((j) => `let b${j} = loadB(rb${j}, qb);`).join(' ');
    const fmas = range(TM).flatMap((i) => range(TN).map((j) => `acc${i}_${j} = acc${i}_${j} + a${i} * b${j};`)).join('\n    ');
    const stores = range(TM).flatMap((i) => range(TN).map((j) =>
      `{ let m = m0 + ${i}u; let n = n0 + ${j}u; if ((m < u.M) & (n < u.N)) { ${result(split, `acc${i}_${j}`)} } }`)).join('\n  ');
    return {
      label: spec.name, uniforms: [...STANDARD, ...spec.uniforms], bindings: bindings(spec, split),
      code: `${spec.code}
${entry(REG_WG, `
  let t = wgi * ${REG_WG}u + lid;${LOCATE('t')}
  let m0 = tm * ${TM}u;
  let n0 = tn * ${TN}u;
  ${rows}
  ${cols}
  ${acc}
  for (var k = kBegin; k < kEnd; k = k + 1u) {
    ${aRegs}
    ${bRegs}
    ${fmas}
  }
  ${stores}`)}`,
    };
  }, spec, !split);
}

function reduceDef(spec: ImplicitGemm): KernelDef {
  return cached(`gemm:${spec.name}:${spec.variant}:reduce`, () => ({
    label: `${spec.name} (sum of K ranges)`,
    uniforms: [...STANDARD, ...spec.uniforms],
    bindings: [...spec.bindings, { name: 'partial', access: 'read' }],
    code: `${spec.code}
${entry(REDUCE_WG, `
  let t = wgi * ${REDUCE_WG}u + lid;
  let mn = u.M * u.N;
  if (t >= mn * u.batches) { return; }
  let bt = t / mn;
  let r = t - bt * mn;
  let m = r / u.N;
  let n = r - m * u.N;
  var s = 0.0;
  for (var sp = 0u; sp < u.splits; sp = sp + 1u) { s = s + partial[(sp * u.batches + bt) * mn + r]; }
  store(m, n, bt, s);`)}`,
  }), spec, true);
}

/** Records the product; buffers in the order of spec.bindings, extra uniforms in the order of spec.uniforms. */
export function runGemm(d: Dispatcher, spec: ImplicitGemm, M: number, N: number, K: number, batches: number,
  buffers: readonly GPUBuffer[], extra: readonly number[]): void {
  if (M === 0 || N === 0 || batches === 0) return;
  const registers = d.gemmKernel === 'registers';
  const t: Tile = registers ? registerBlock(M, N) : tileFor(M, N);
  const tilesM = Math.ceil(M / t.BM), tilesN = Math.ceil(N / t.BN);
  const tiles = tilesM * tilesN * batches;
  const target = registers ? TARGET_INVOCATIONS : TARGET_WORKGROUPS;
  let splits = 1;
  if (tiles < target && K >= 2 * MIN_SPLIT_K) splits = Math.min(MAX_SPLITS, Math.ceil(target / tiles), Math.floor(K / MIN_SPLIT_K));
  const kPerSplit = splits > 1 ? Math.ceil(K / splits / BK) * BK : Math.max(K, 1);
  if (splits > 1) splits = Math.ceil(K / kPerSplit);
  const uniforms = [M, N, K, tilesM, tilesN, batches, splits, kPerSplit, ...extra];
  const def = (split: boolean) => registers ? registerDef(spec, t.TM, t.TN, split) : tiledDef(spec, t, split);
  const groups = registers ? Math.ceil((tiles * splits) / REG_WG) : tiles * splits;
  const output = spec.output === undefined ? undefined : { buffer: buffers[spec.output], n: M * N * batches };
  if (splits === 1) {
    d.run(def(false), buffers, uniforms, groups, output);
    return;
  }
  const partial = d.temp(splits * batches * M * N * 4);
  d.run(def(true), [...buffers, partial], uniforms, groups);
  d.run(reduceDef(spec), [...buffers, partial], uniforms, Math.ceil((batches * M * N) / REDUCE_WG), output);
}

/** Plain GEMM on arrays: C = alpha·op(A)·op(B) + beta·C (C not read when beta is 0). */
export function gemmSpec(transA: boolean, transB: boolean): ImplicitGemm {
  return {
    name: 'gemm', variant: `${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`,
    bindings: [{ name: 'A', access: 'read' }, { name: 'B', access: 'read' }, { name: 'C', access: 'read_write' }],
    uniforms: [['alpha', 'f32'], ['beta', 'f32']],
    // A row is its first element's index; consecutive k step by 1, or by the row count when transposed.
    code: `
alias RowA = u32;
alias KeyA = u32;
alias RowB = u32;
alias KeyB = u32;
fn rowA(m: u32, bt: u32) -> RowA { return ${transA ? 'm' : 'm * u.K'}; }
fn keyA(k: u32) -> KeyA { return ${transA ? 'k * u.M' : 'k'}; }
fn loadA(r: RowA, q: KeyA) -> f32 { return A[r + q]; }
fn rowB(n: u32, bt: u32) -> RowB { return ${transB ? 'n * u.K' : 'n'}; }
fn keyB(k: u32) -> KeyB { return ${transB ? 'k' : 'k * u.N'}; }
fn loadB(r: RowB, q: KeyB) -> f32 { return B[r + q]; }
fn store(m: u32, n: u32, bt: u32, v: f32) {
  let i = m * u.N + n;
  var r = u.alpha * v;
  if (u.beta != 0.0) { r = r + u.beta * C[i]; }
  C[i] = r;
  after(i, r);
}
`,
    output: 2,
    aAlongK: !transA, bAlongN: !transB,
  };
}
