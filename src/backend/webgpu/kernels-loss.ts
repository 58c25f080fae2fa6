/// <reference types="@webgpu/types" />
import { type Dispatcher, type KernelDef, entry } from './dispatch.js';
import { FLOAT_BITS, workgroupMax, workgroupSum } from './wgsl.js';

/**
 * Row-wise softmax and its gradient, the fused softmax cross-entropy, and the reductions that
 * end in one number (sum of squares, the mean loss) or one per column (sumRows). Every sum is
 * a fixed-order tree within a workgroup, so results are reproducible.
 */

const ROW_WG = 64;
const WG = 256;

/** One workgroup per row of K values. */
const ROW = `
  let row = wgi;
  if (row >= u.N) { return; }
  let base = row * u.K;`;

const softmaxDef: KernelDef = {
  key: 'softmax',
  label: 'softmax',
  uniforms: [
    ['N', 'u32'],
    ['K', 'u32'],
  ],
  bindings: [
    { name: 'x', access: 'read' },
    { name: 'y', access: 'read_write' },
  ],
  code:
    FLOAT_BITS +
    workgroupMax(ROW_WG) +
    workgroupSum(ROW_WG) +
    entry(
      ROW_WG,
      `${ROW}
  var mx = x[base];
  for (var k = lid; k < u.K; k = k + ${ROW_WG}u) { mx = wgMaxPair(mx, x[base + k]); }
  let rowMax = wgMax(lid, mx);
  var s = 0.0;
  for (var k = lid; k < u.K; k = k + ${ROW_WG}u) { s = s + exp(x[base + k] - rowMax); }
  let sum = wgSum(lid, s);
  for (var k = lid; k < u.K; k = k + ${ROW_WG}u) { y[base + k] = exp(x[base + k] - rowMax) / sum; }`,
    ),
};

const softmaxBackwardDef: KernelDef = {
  key: 'softmaxBackward',
  label: 'softmaxBackward',
  uniforms: [
    ['N', 'u32'],
    ['K', 'u32'],
  ],
  bindings: [
    { name: 'y', access: 'read' },
    { name: 'dy', access: 'read' },
    { name: 'dx', access: 'read_write' },
  ],
  code:
    workgroupSum(ROW_WG) +
    entry(
      ROW_WG,
      `${ROW}
  var s = 0.0;
  for (var k = lid; k < u.K; k = k + ${ROW_WG}u) { s = s + dy[base + k] * y[base + k]; }
  let dot = wgSum(lid, s);
  for (var k = lid; k < u.K; k = k + ${ROW_WG}u) { dx[base + k] = y[base + k] * (dy[base + k] - dot); }`,
    ),
};

/** Per row: probabilities, the fused gradient and the row's loss log Σ exp + max − logit[label]. */
const crossEntropyRowsDef: KernelDef = {
  key: 'softmaxCrossEntropy',
  label: 'softmaxCrossEntropy',
  uniforms: [
    ['N', 'u32'],
    ['K', 'u32'],
  ],
  bindings: [
    { name: 'logits', access: 'read' },
    { name: 'labels', access: 'read', type: 'u32' },
    { name: 'probs', access: 'read_write' },
    { name: 'dlogits', access: 'read_write' },
    { name: 'rowLoss', access: 'read_write' },
  ],
  code:
    FLOAT_BITS +
    workgroupMax(ROW_WG) +
    workgroupSum(ROW_WG) +
    entry(
      ROW_WG,
      `${ROW}
  let label = labels[row];
  var mx = logits[base];
  for (var k = lid; k < u.K; k = k + ${ROW_WG}u) { mx = wgMaxPair(mx, logits[base + k]); }
  let rowMax = wgMax(lid, mx);
  var s = 0.0;
  for (var k = lid; k < u.K; k = k + ${ROW_WG}u) { s = s + exp(logits[base + k] - rowMax); }
  let sum = wgSum(lid, s);
  for (var k = lid; k < u.K; k = k + ${ROW_WG}u) {
    let p = exp(logits[base + k] - rowMax) / sum;
    probs[base + k] = p;
    dlogits[base + k] = (p - select(0.0, 1.0, k == label)) / f32(u.N);
  }
  if (lid == 0u) { rowLoss[row] = log(sum) + rowMax - logits[base + label]; }`,
    ),
};

/**
 * The whole softmax cross-entropy in one dispatch for batches of up to FUSED_LIMIT logits: one
 * workgroup, each invocation a row at a time (probabilities, gradient, the row's loss), then
 * the mean loss as a fixed-order tree over the invocations. Larger batches take a workgroup
 * per row and a separate reduction.
 */
const FUSED_LIMIT = 1 << 18;

const crossEntropyFusedDef: KernelDef = {
  key: 'softmaxCrossEntropyFused',
  label: 'softmaxCrossEntropy (fused)',
  uniforms: [
    ['N', 'u32'],
    ['K', 'u32'],
  ],
  bindings: [
    { name: 'logits', access: 'read' },
    { name: 'labels', access: 'read', type: 'u32' },
    { name: 'probs', access: 'read_write' },
    { name: 'dlogits', access: 'read_write' },
    { name: 'loss', access: 'read_write' },
  ],
  code:
    FLOAT_BITS +
    workgroupSum(WG) +
    `
fn maxKeepNan(a: f32, b: f32) -> f32 { if (isNan(a)) { return a; } if (isNan(b)) { return b; } return max(a, b); }
` +
    entry(
      WG,
      `
  var total = 0.0;
  for (var row = lid; row < u.N; row = row + ${WG}u) {
    let base = row * u.K;
    let label = labels[row];
    var mx = logits[base];
    for (var k = 1u; k < u.K; k = k + 1u) { mx = maxKeepNan(mx, logits[base + k]); }
    var s = 0.0;
    for (var k = 0u; k < u.K; k = k + 1u) { s = s + exp(logits[base + k] - mx); }
    for (var k = 0u; k < u.K; k = k + 1u) {
      let p = exp(logits[base + k] - mx) / s;
      probs[base + k] = p;
      dlogits[base + k] = (p - select(0.0, 1.0, k == label)) / f32(u.N);
    }
    total = total + (log(s) + mx - logits[base + label]);
  }
  let sum = wgSum(lid, total);
  if (lid == 0u) { loss[0] = sum / f32(u.N); }`,
    ),
};

/**
 * Sum of f(src[i]) over [0, n) in two passes: chunks of CHUNK elements, one workgroup each,
 * into partial sums; then one workgroup adds the partials and writes out[index] = scale · Σ.
 */
const CHUNK = 8192;

function partialSumsDef(square: boolean): KernelDef {
  return {
    key: `sumChunks:${square}`,
    label: square ? 'sumOfSquares' : 'sum',
    uniforms: [['n', 'u32']],
    bindings: [
      { name: 'src', access: 'read' },
      { name: 'partial', access: 'read_write' },
    ],
    code:
      workgroupSum(WG) +
      entry(
        WG,
        `
  let begin = wgi * ${CHUNK}u;
  let end = min(u.n, begin + ${CHUNK}u);
  var s = 0.0;
  for (var i = begin + lid; i < end; i = i + ${WG}u) { let v = src[i]; s = s + ${square ? 'v * v' : 'v'}; }
  let total = wgSum(lid, s);
  if (lid == 0u) { partial[wgi] = total; }`,
      ),
  };
}

function finalSumDef(square: boolean): KernelDef {
  return {
    key: `sumFinal:${square}`,
    label: square ? 'sumOfSquares' : 'sum',
    uniforms: [
      ['n', 'u32'],
      ['index', 'u32'],
      ['scale', 'f32'],
    ],
    bindings: [
      { name: 'src', access: 'read' },
      { name: 'out', access: 'read_write' },
    ],
    code:
      workgroupSum(WG) +
      entry(
        WG,
        `
  var s = 0.0;
  for (var i = lid; i < u.n; i = i + ${WG}u) { let v = src[i]; s = s + ${square ? 'v * v' : 'v'}; }
  let total = wgSum(lid, s);
  if (lid == 0u) { out[u.index] = total * u.scale; }`,
      ),
  };
}

const chunkDefs = [partialSumsDef(false), partialSumsDef(true)];
const finalDefs = [finalSumDef(false), finalSumDef(true)];

/** out[index] = scale · Σ src[i] (or Σ src[i]²) over the first n elements. */
export function reduceSum(d: Dispatcher, src: GPUBuffer, n: number, square: boolean, out: GPUBuffer, index: number, scale: number): void {
  if (n <= CHUNK) {
    d.run(finalDefs[+square], [src, out], [n, index, scale], 1);
    return;
  }
  const chunks = Math.ceil(n / CHUNK);
  const partial = d.temp(chunks * 4);
  d.run(chunkDefs[+square], [src, partial], [n], chunks);
  reduceSum(d, partial, chunks, false, out, index, scale);
}

/**
 * Sums of squares of many arrays, out[first + p] = Σ src_p[i]², in two dispatches per group of
 * arrays the bindings allow: every (array, chunk) pair is a workgroup writing one partial sum,
 * then one workgroup per array adds its partials. Both passes do what reduceSum does for one
 * array, in the same order, so each result is bit-identical to sumOfSquares.
 */
const MAX_SUMS_PER_DISPATCH = 16;
const multiDefs = new Map<string, KernelDef>();

function multiChunksDef(count: number): KernelDef {
  const key = `sumsOfSquaresChunks:${count}`;
  let def = multiDefs.get(key);
  if (def) return def;
  // Workgroup wgi belongs to array p when start_p ≤ wgi < start_(p+1) (start_count = the total).
  const branches = Array.from(
    { length: count },
    (_, p) => `${p ? 'else ' : ''}if (wgi < u.start${p + 1}) { let c = wgi - u.start${p};
    let end = min(u.n${p}, (c + 1u) * ${CHUNK}u);
    for (var i = c * ${CHUNK}u + lid; i < end; i = i + ${WG}u) { let v = src${p}[i]; s = s + v * v; } }`,
  ).join(' ');
  def = {
    key,
    label: 'sumsOfSquares',
    uniforms: [
      ['start0', 'u32'],
      ...Array.from(
        { length: count },
        (_, p) =>
          [
            [`n${p}`, 'u32'],
            [`start${p + 1}`, 'u32'],
          ] as const,
      ).flat(),
    ],
    bindings: [...Array.from({ length: count }, (_, p) => ({ name: `src${p}`, access: 'read' as const })), { name: 'partial', access: 'read_write' }],
    code:
      workgroupSum(WG) +
      entry(
        WG,
        `
  var s = 0.0;
  if (wgi < u.start${count}) { ${branches} }
  let total = wgSum(lid, s);
  if (lid == 0u) { partial[wgi] = total; }`,
      ),
  };
  multiDefs.set(key, def);
  return def;
}

function multiFinalDef(count: number): KernelDef {
  const key = `sumsOfSquaresFinal:${count}`;
  let def = multiDefs.get(key);
  if (def) return def;
  const pick = Array.from(
    { length: count },
    (_, p) => `${p ? 'else ' : ''}if (wgi == ${p}u) { begin = u.begin${p}; end = u.begin${p + 1}; index = u.index${p}; }`,
  ).join(' ');
  def = {
    key,
    label: 'sumsOfSquares',
    uniforms: [
      ['begin0', 'u32'],
      ...Array.from(
        { length: count },
        (_, p) =>
          [
            [`begin${p + 1}`, 'u32'],
            [`index${p}`, 'u32'],
          ] as const,
      ).flat(),
    ],
    bindings: [
      { name: 'partial', access: 'read' },
      { name: 'out', access: 'read_write' },
    ],
    code:
      workgroupSum(WG) +
      entry(
        WG,
        `
  var begin = 0u; var end = 0u; var index = 0u;
  ${pick}
  var s = 0.0;
  for (var i = begin + lid; i < end; i = i + ${WG}u) { s = s + partial[i]; }
  let total = wgSum(lid, s);
  if (lid == 0u) { out[index] = total; }`,
      ),
  };
  multiDefs.set(key, def);
  return def;
}

/** out[indices[p]] = Σ sources[p][i]² over its first lengths[p] elements; sources must not include out. */
export function sumsOfSquares(
  d: Dispatcher,
  sources: readonly GPUBuffer[],
  lengths: readonly number[],
  out: GPUBuffer,
  indices: readonly number[],
  maxStorageBuffers: number,
): void {
  const per = Math.max(1, Math.min(MAX_SUMS_PER_DISPATCH, maxStorageBuffers - 1));
  for (let at = 0; at < sources.length; at += per) {
    const group = sources.slice(at, at + per),
      ns = lengths.slice(at, at + per),
      where = indices.slice(at, at + per);
    const chunks = ns.map((n) => Math.max(1, Math.ceil(n / CHUNK)));
    const starts = [0];
    for (const c of chunks) starts.push(starts.at(-1)! + c);
    const partial = d.temp(starts.at(-1)! * 4);
    d.run(multiChunksDef(group.length), [...group, partial], [0, ...ns.flatMap((n, p) => [n, starts[p + 1]])], starts.at(-1)!);
    d.run(multiFinalDef(group.length), [partial, out], [0, ...where.flatMap((index, p) => [starts[p + 1], index])], group.length);
  }
}

/** db[c] = Σ_r dy[r, c]: one invocation per column, rows in order. */
const sumRowsDef: KernelDef = {
  key: 'sumRows',
  label: 'sumRows',
  uniforms: [
    ['rows', 'u32'],
    ['cols', 'u32'],
  ],
  bindings: [
    { name: 'dy', access: 'read' },
    { name: 'db', access: 'read_write' },
  ],
  code:
    workgroupSum(ROW_WG) +
    entry(
      ROW_WG,
      `
  let c = wgi;
  if (c >= u.cols) { return; }
  var s = 0.0;
  for (var r = lid; r < u.rows; r = r + ${ROW_WG}u) { s = s + dy[r * u.cols + c]; }
  let total = wgSum(lid, s);
  if (lid == 0u) { db[c] = total; }`,
    ),
};

export function softmax(d: Dispatcher, N: number, K: number, x: GPUBuffer, y: GPUBuffer): void {
  if (K > 0) d.run(softmaxDef, [x, y], [N, K], N);
}

export function softmaxBackward(d: Dispatcher, N: number, K: number, y: GPUBuffer, dy: GPUBuffer, dx: GPUBuffer): void {
  if (K > 0) d.run(softmaxBackwardDef, [y, dy, dx], [N, K], N);
}

export function softmaxCrossEntropy(
  d: Dispatcher,
  N: number,
  K: number,
  logits: GPUBuffer,
  labels: Uint32Array,
  probs: GPUBuffer,
  dlogits: GPUBuffer,
  loss: GPUBuffer,
): void {
  const labelBuffer = d.temp(Math.max(4, N * 4));
  d.write(labelBuffer, labels);
  if (N * K <= FUSED_LIMIT) {
    d.run(crossEntropyFusedDef, [logits, labelBuffer, probs, dlogits, loss], [N, K], 1);
    return;
  }
  const rowLoss = d.temp(Math.max(4, N * 4));
  d.run(crossEntropyRowsDef, [logits, labelBuffer, probs, dlogits, rowLoss], [N, K], N);
  reduceSum(d, rowLoss, N, false, loss, 0, 1 / N);
}

export function sumRows(d: Dispatcher, rows: number, cols: number, dy: GPUBuffer, db: GPUBuffer): void {
  d.run(sumRowsDef, [dy, db], [rows, cols], cols);
}
