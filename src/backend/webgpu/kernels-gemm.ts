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

/** Which GEMM kernel runs ('auto': 'wide' for large products, 'tiled' for small ones). */
export type GemmKernel = 'auto' | 'wide' | 'tiled' | 'registers';

const BK = 16;
const STANDARD: readonly (readonly [string, UniformType])[] = [
  ['M', 'u32'],
  ['N', 'u32'],
  ['K', 'u32'],
  ['tilesM', 'u32'],
  ['tilesN', 'u32'],
  ['batches', 'u32'],
  ['splits', 'u32'],
  ['kPerSplit', 'u32'],
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

interface Tile {
  BM: number;
  BN: number;
  TM: number;
  TN: number;
}

function tileFor(M: number, N: number): Tile {
  const side = (n: number) => (n <= 16 ? 16 : n <= 32 ? 32 : 64);
  const BM = side(M),
    BN = side(N);
  // 8 or 16 invocations per side, 2 or 4 elements each.
  const per = (b: number) => (b === 64 ? 4 : 2);
  return { BM, BN, TM: per(BM), TN: per(BN) };
}

/** Register blocks: up to 4 rows by 8 columns per invocation (8 loads feed 32 multiply-adds). */
function registerBlock(M: number, N: number): Tile {
  const TM = Math.min(M, 4),
    TN = Math.min(N, RN);
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
  return cached(
    `gemm:${spec.name}:${spec.variant}:tiled${t.BM}x${t.BN}:${split}`,
    () => {
      const { BM, BN, TM, TN } = t;
      const WX = BN / TN,
        WY = BM / TM,
        NT = WX * WY;
      // Tile loads unrolled and branch-free: an out-of-range element loads a clamped (valid)
      // position and is replaced by 0, so invocations do not diverge. Which row (and k offset)
      // an invocation loads does not change along K: rows are resolved once, before the K loop.
      const plan = (count: number, alongK: boolean, rows: number, a: boolean) =>
        range(count / NT).map((it) => {
          const e = `lid + ${it * NT}u`;
          const [origin, limit, row, load, tile, name] = a ? ['m0', 'u.M', 'rowA', 'loadA', 'As', `la${it}`] : ['n0', 'u.N', 'rowB', 'loadB', 'Bs', `lb${it}`];
          const [o, kk] = alongK ? [`(${e}) / ${BK}u`, `(${e}) % ${BK}u`] : [`(${e}) % ${rows}u`, `(${e}) / ${rows}u`];
          const key = a ? 'keyA' : 'keyB';
          return {
            before:
              `let ${name}o = ${o}; let ${name}k = ${kk}; let ${name}ok = ${origin} + ${name}o < ${limit}; ` +
              `let ${name}r = ${row}(min(${origin} + ${name}o, ${limit} - 1u), bt);`,
            inside:
              `{ let k = k0 + ${name}k; let v = ${load}(${name}r, ${key}(min(k, kEnd - 1u))); ` +
              `${tile}[${name}k * ${rows}u + ${name}o] = select(0.0, v, ${name}ok & (k < kEnd)); }`,
          };
        });
      const loads = [...plan(BM * BK, spec.aAlongK, BM, true), ...plan(BN * BK, !spec.bAlongN, BN, false)];
      // Accumulators and operand registers as scalars, loops over them unrolled here.
      const acc = range(TM)
        .flatMap((i) => range(TN).map((j) => `var acc${i}_${j} = 0.0;`))
        .join(' ');
      const aRegs = range(TM)
        .map((i) => `let a${i} = As[base + ${i * WY}u];`)
        .join(' ');
      const bRegs = range(TN)
        .map((j) => `let b${j} = Bs[bbase + ${j * WX}u];`)
        .join(' ');
      const fmas = range(TM)
        .flatMap((i) => range(TN).map((j) => `acc${i}_${j} = acc${i}_${j} + a${i} * b${j};`))
        .join('\n      ');
      const stores = range(TM)
        .flatMap((i) =>
          range(TN).map(
            (j) => `{ let m = m0 + ty + ${i * WY}u; let n = n0 + tx + ${j * WX}u; if ((m < u.M) & (n < u.N)) { ${result(split, `acc${i}_${j}`)} } }`,
          ),
        )
        .join('\n  ');
      return {
        label: spec.name,
        uniforms: [...STANDARD, ...spec.uniforms],
        bindings: bindings(spec, split),
        code: `var<workgroup> As: array<f32, ${BK * BM}>;
var<workgroup> Bs: array<f32, ${BK * BN}>;
${spec.code}
${entry(
  NT,
  `${LOCATE('wgi')}
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
  ${stores}`,
)}`,
      };
    },
    spec,
    !split,
  );
}

function registerDef(spec: ImplicitGemm, TM: number, TN: number, split: boolean): KernelDef {
  return cached(
    `gemm:${spec.name}:${spec.variant}:reg${TM}x${TN}:${split}`,
    () => {
      const rows = range(TM)
        .map((i) => `let ra${i} = rowA(min(m0 + ${i}u, u.M - 1u), bt);`)
        .join(' ');
      const cols = range(TN)
        .map((j) => `let rb${j} = rowB(min(n0 + ${j}u, u.N - 1u), bt);`)
        .join(' ');
      const acc = range(TM)
        .flatMap((i) => range(TN).map((j) => `var acc${i}_${j} = 0.0;`))
        .join(' ');
      const aRegs =
        'let qa = keyA(k); ' +
        range(TM)
          .map((i) => `let a${i} = loadA(ra${i}, qa);`)
          .join(' ');
      const bRegs =
        'let qb = keyB(k); ' +
        range(TN)
          .map((j) => `let b${j} = loadB(rb${j}, qb);`)
          .join(' ');
      const fmas = range(TM)
        .flatMap((i) => range(TN).map((j) => `acc${i}_${j} = acc${i}_${j} + a${i} * b${j};`))
        .join('\n    ');
      const stores = range(TM)
        .flatMap((i) => range(TN).map((j) => `{ let m = m0 + ${i}u; let n = n0 + ${j}u; if ((m < u.M) & (n < u.N)) { ${result(split, `acc${i}_${j}`)} } }`))
        .join('\n  ');
      return {
        label: spec.name,
        uniforms: [...STANDARD, ...spec.uniforms],
        bindings: bindings(spec, split),
        code: `${spec.code}
${entry(
  REG_WG,
  `
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
  ${stores}`,
)}`,
      };
    },
    spec,
    !split,
  );
}

function reduceDef(spec: ImplicitGemm): KernelDef {
  return cached(
    `gemm:${spec.name}:${spec.variant}:reduce`,
    () => ({
      label: `${spec.name} (sum of K ranges)`,
      uniforms: [...STANDARD, ...spec.uniforms],
      bindings: [...spec.bindings, { name: 'partial', access: 'read' }],
      code: `${spec.code}
${entry(
  REDUCE_WG,
  `
  let t = wgi * ${REDUCE_WG}u + lid;
  let mn = u.M * u.N;
  if (t >= mn * u.batches) { return; }
  let bt = t / mn;
  let r = t - bt * mn;
  let m = r / u.N;
  let n = r - m * u.N;
  var s = 0.0;
  for (var sp = 0u; sp < u.splits; sp = sp + 1u) { s = s + partial[(sp * u.batches + bt) * mn + r]; }
  store(m, n, bt, s);`,
)}`,
    }),
    spec,
    true,
  );
}

/**
 * The wide kernel (GPUs, large products): a 128 × 128 tile of C per workgroup of 256
 * invocations, each accumulating 8 × 8 results as 16 vec4 (rows 4·ty … 4·ty + 3 and 64 + 4·ty …,
 * columns likewise, so workgroup-memory reads are vec4 without bank conflicts). K advances in
 * steps of 8 with two operand buffers in workgroup memory (2 × 2 × 8 × 128 floats = 16 KiB): the
 * next step's operands are loaded from memory into registers while the current step is
 * multiplied, then stored to the other buffer; one barrier per step. Operands are loaded through
 * the spec's functions (convolutions: implicit GEMM), or as vec4 straight from the arrays when
 * `vec4` gives their layouts (plain GEMM with K, or M/N, a multiple of 4).
 */
const WM = 128,
  WK = 8;

/** vec4 operand layouts: whether A is contiguous along k (row-major M×K) and B along n (row-major K×N). */
export interface Vec4Layout {
  aAlongK: boolean;
  bAlongN: boolean;
}

function wideDef(spec: ImplicitGemm, split: boolean, vec4: Vec4Layout | null): KernelDef {
  const variant = vec4 ? `vec4${+vec4.aAlongK}${+vec4.bAlongN}` : 'scalar';
  return cached(
    `gemm:${spec.name}:${spec.variant}:wide-${variant}:${split}`,
    () => {
      // Loads of one K step into registers (`fetch`), then into workgroup buffer `buf` (`put`).
      const operand = (a: boolean) => {
        const [tile, origin, limit, row, load, key, alongK] = a
          ? ['As', 'm0', 'u.M', 'rowA', 'loadA', 'keyA', spec.aAlongK]
          : ['Bs', 'n0', 'u.N', 'rowB', 'loadB', 'keyB', !spec.bAlongN];
        const name = a ? 'la' : 'lb';
        if (vec4) {
          const array = a ? 'A4' : 'B4';
          const contiguousK = a ? vec4.aAlongK : !vec4.bAlongN;
          const stride = a ? (vec4.aAlongK ? 'u.K' : 'u.M') : vec4.bAlongN ? 'u.N' : 'u.K';
          if (contiguousK) {
            // 128 rows × 2 vec4 of k: invocation → row lid / 2, k offset 4·(lid % 2).
            return {
              before:
                `let ${name}o = lid / 2u; let ${name}k = (lid % 2u) * 4u; let ${name}ok = ${origin} + ${name}o < ${limit}; ` +
                `let ${name}base = min(${origin} + ${name}o, ${limit} - 1u) * ${stride};`,
              fetch: `let ${name}kk = k0 + ${name}k; let ${name}v = select(vec4<f32>(0.0), ${array}[(${name}base + min(${name}kk, u.K - 4u)) / 4u], ${name}ok & (${name}kk < kEnd));`,
              put: (buf: string) =>
                range(4)
                  .map((c) => `${tile}[${buf} + (${name}k + ${c}u) * 32u + ${name}o / 4u][${name}o % 4u] = ${name}v[${c}];`)
                  .join(' '),
            };
          }
          // 8 k × 32 vec4 of rows: invocation → k lid / 32, rows 4·(lid % 32) … + 3.
          return {
            before: `let ${name}k = lid / 32u; let ${name}o = (lid % 32u) * 4u; let ${name}ok = ${origin} + ${name}o < ${limit};`,
            fetch: `let ${name}kk = k0 + ${name}k; let ${name}v = select(vec4<f32>(0.0), ${array}[(min(${name}kk, u.K - 1u) * ${stride} + min(${origin} + ${name}o, ${limit} - 4u)) / 4u], ${name}ok & (${name}kk < kEnd));`,
            put: (buf: string) => `${tile}[${buf} + ${name}k * 32u + ${name}o / 4u] = ${name}v;`,
          };
        }
        // Scalar loads through the spec: 4 elements of the 128 × 8 tile per invocation.
        const parts = range(4).map((it) => {
          const e = `lid + ${it * 256}u`;
          const [o, kk] = alongK ? [`(${e}) / ${WK}u`, `(${e}) % ${WK}u`] : [`(${e}) % ${WM}u`, `(${e}) / ${WM}u`];
          const v = `${name}${it}`;
          return {
            before: `let ${v}o = ${o}; let ${v}k = ${kk}; let ${v}ok = ${origin} + ${v}o < ${limit}; let ${v}r = ${row}(min(${origin} + ${v}o, ${limit} - 1u), bt);`,
            fetch: `let ${v}kk = k0 + ${v}k; let ${v}v = select(0.0, ${load}(${v}r, ${key}(min(${v}kk, kEnd - 1u))), ${v}ok & (${v}kk < kEnd));`,
            put: (buf: string) => `${tile}[${buf} + ${v}k * 32u + ${v}o / 4u][${v}o % 4u] = ${v}v;`,
          };
        });
        return {
          before: parts.map((q) => q.before).join('\n  '),
          fetch: parts.map((q) => q.fetch).join(' '),
          put: (buf: string) => parts.map((q) => q.put(buf)).join(' '),
        };
      };
      const A = operand(true),
        B = operand(false);
      // Loops with constant bounds (GPU compilers unroll them; the code stays small to compile).
      const acc = 'var acc: array<vec4<f32>, 16>;';
      const step = `for (var kk = 0u; kk < ${WK}u; kk = kk + 1u) {
      let a0 = As[cur + kk * 32u + ty]; let a1 = As[cur + kk * 32u + ty + 16u];
      let b0 = Bs[cur + kk * 32u + tx]; let b1 = Bs[cur + kk * 32u + tx + 16u];
      for (var r = 0u; r < 4u; r = r + 1u) {
        acc[2u * r] = acc[2u * r] + a0[r] * b0; acc[2u * r + 1u] = acc[2u * r + 1u] + a0[r] * b1;
        acc[2u * r + 8u] = acc[2u * r + 8u] + a1[r] * b0; acc[2u * r + 9u] = acc[2u * r + 9u] + a1[r] * b1;
      }
    }`;
      // acc[2r + c] holds row (r < 4 ? 4·ty + r : 64 + 4·ty + r − 4), columns 64·c + 4·tx … + 3.
      const stores = `for (var r = 0u; r < 8u; r = r + 1u) {
    let m = m0 + (r / 4u) * 64u + 4u * ty + (r % 4u);
    for (var c = 0u; c < 2u; c = c + 1u) {
      let v = acc[2u * r + c];
      for (var j = 0u; j < 4u; j = j + 1u) {
        let n = n0 + c * 64u + 4u * tx + j;
        if ((m < u.M) & (n < u.N)) { ${result(split, 'v[j]')} }
      }
    }
  }`;
      const vecBindings: BindingDecl[] = vec4
        ? [
            { name: 'A4', access: 'read', type: 'vec4<f32>' },
            { name: 'B4', access: 'read', type: 'vec4<f32>' },
          ]
        : [];
      return {
        label: spec.name,
        uniforms: [...STANDARD, ...spec.uniforms],
        bindings: [...bindings(spec, split), ...vecBindings],
        code: `var<workgroup> As: array<vec4<f32>, ${2 * WK * 32}>;
var<workgroup> Bs: array<vec4<f32>, ${2 * WK * 32}>;
${spec.code}
${entry(
  256,
  `${LOCATE('wgi')}
  let tx = lid % 16u;
  let ty = lid / 16u;
  let m0 = tm * ${WM}u;
  let n0 = tn * ${WM}u;
  ${acc}
  ${A.before}
  ${B.before}
  let steps = (max(kEnd, kBegin) - kBegin + ${WK - 1}u) / ${WK}u;
  if (steps > 0u) {
    let k0 = kBegin;
    ${A.fetch}
    ${B.fetch}
    ${A.put('0u')}
    ${B.put('0u')}
  }
  workgroupBarrier();
  for (var s = 0u; s < steps; s = s + 1u) {
    let cur = (s % 2u) * ${WK * 32}u;
    let nxt = ${WK * 32}u - cur;
    let more = s + 1u < steps;
    let k0 = kBegin + (s + 1u) * ${WK}u;
    ${A.fetch}
    ${B.fetch}
    ${step}
    if (more) {
      ${A.put('nxt')}
      ${B.put('nxt')}
    }
    workgroupBarrier();
  }
  ${stores}`,
)}`,
      };
    },
    spec,
    !split,
  );
}

/** Records the product; buffers in the order of spec.bindings, extra uniforms in the order of spec.uniforms. */
export function runGemm(
  d: Dispatcher,
  spec: ImplicitGemm,
  M: number,
  N: number,
  K: number,
  batches: number,
  buffers: readonly GPUBuffer[],
  extra: readonly number[],
  vec4?: { layout: Vec4Layout; A: GPUBuffer; B: GPUBuffer },
): void {
  if (M === 0 || N === 0 || batches === 0) return;
  const registers = d.gemmKernel === 'registers';
  const wide = d.gemmKernel === 'wide' || (d.gemmKernel === 'auto' && M >= 64 && N >= 64);
  const t: Tile = registers ? registerBlock(M, N) : wide ? { BM: WM, BN: WM, TM: 8, TN: 8 } : tileFor(M, N);
  const tilesM = Math.ceil(M / t.BM),
    tilesN = Math.ceil(N / t.BN);
  const tiles = tilesM * tilesN * batches;
  const target = registers ? TARGET_INVOCATIONS : TARGET_WORKGROUPS;
  let splits = 1;
  if (tiles < target && K >= 2 * MIN_SPLIT_K) splits = Math.min(MAX_SPLITS, Math.ceil(target / tiles), Math.floor(K / MIN_SPLIT_K));
  const kPerSplit = splits > 1 ? Math.ceil(K / splits / BK) * BK : Math.max(K, 1);
  if (splits > 1) splits = Math.ceil(K / kPerSplit);
  const uniforms = [M, N, K, tilesM, tilesN, batches, splits, kPerSplit, ...extra];
  // vec4 loads need whole vec4 along each operand's contiguous direction.
  const aligned = vec4 && (vec4.layout.aAlongK ? K % 4 === 0 : M % 4 === 0) && (vec4.layout.bAlongN ? N % 4 === 0 : K % 4 === 0);
  const extraBuffers = wide && aligned && vec4 ? [vec4.A, vec4.B] : [];
  const def = (split: boolean) =>
    registers ? registerDef(spec, t.TM, t.TN, split) : wide ? wideDef(spec, split, aligned && vec4 ? vec4.layout : null) : tiledDef(spec, t, split);
  if (wide) {
    const output = spec.output === undefined ? undefined : { buffer: buffers[spec.output], n: M * N * batches };
    if (splits === 1) {
      d.run(def(false), [...buffers, ...extraBuffers], uniforms, tiles, output);
      return;
    }
    const partial = d.temp(splits * batches * M * N * 4);
    d.run(def(true), [...buffers, partial, ...extraBuffers], uniforms, tiles * splits);
    d.run(reduceDef(spec), [...buffers, partial], uniforms, Math.ceil((batches * M * N) / REDUCE_WG), output);
    return;
  }
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
    name: 'gemm',
    variant: `${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`,
    bindings: [
      { name: 'A', access: 'read' },
      { name: 'B', access: 'read' },
      { name: 'C', access: 'read_write' },
    ],
    uniforms: [
      ['alpha', 'f32'],
      ['beta', 'f32'],
    ],
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
    aAlongK: !transA,
    bAlongN: !transB,
  };
}
