/**
 * The wasm kernel interface's one definition (src/backend/wasm-interface.ts): the build's check
 * of it against the compiled kernels and assembly/records.ts (assembly/interface-check.mjs),
 * shown to catch each kind of drift, and what the backend derives from it.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { exportedSignatures, interfaceMismatches, recordMismatches } from '../assembly/interface-check.mjs';
import { RECORD_REGION_BYTES, RECORD_SLOT_BYTES, kernelRecords, kernelTable } from '../src/backend/wasm-interface.js';
import { threadedKernels, workspaceMask } from '../src/backend/wasm-kernels.js';
import { RECORDS, RecordWriter, checkWriter } from '../src/backend/wasm-records.js';
import { WasmHeap } from '../src/backend/wasm-heap.js';
import { MAX_ARGS } from '../src/backend/wasm-threads.js';

const root = new URL('../', import.meta.url);
const layout = { regionBytes: RECORD_REGION_BYTES, slotBytes: RECORD_SLOT_BYTES };
type Table = Record<string, { args: (readonly [string, string])[]; returns?: string; threaded?: boolean }>;
const copyTable = (): Table => JSON.parse(JSON.stringify(kernelTable));

test('every build of the kernels matches the kernel table', async () => {
  for (const file of ['kernels-simd.wasm', 'kernels-relaxed.wasm', 'kernels-simd-unshared.wasm', 'kernels-relaxed-unshared.wasm']) {
    const exported = exportedSignatures(await readFile(new URL(`dist-wasm/${file}`, root)));
    assert.deepEqual(interfaceMismatches(exported, kernelTable, kernelRecords), [], file);
    assert.equal(exported.size, Object.keys(kernelTable).length, file);
  }
});

test('the interface check names each kind of drift between the table and the kernels', async () => {
  const exported = exportedSignatures(await readFile(new URL('dist-wasm/kernels-simd.wasm', root)));
  const check = (edit: (t: Table) => void) => {
    const t = copyTable();
    edit(t);
    return interfaceMismatches(exported, t, kernelRecords);
  };
  assert.deepEqual(
    check((t) => {
      t.gemm.args.pop();
    }),
    ['gemm: the table lists 13 arguments, the kernel takes 14'],
  );
  assert.deepEqual(
    check((t) => {
      t.axpy.args[0] = ['alpha', 'i32'];
    }),
    ['axpy: argument 1 (alpha) is f32 in the kernel, i32 in the table'],
  );
  assert.deepEqual(
    check((t) => {
      t.lrnForward.args[3] = ['x', 'f32'];
    }),
    ['lrnForward: argument 4 (x) is i32 in the kernel, f32 in the table'],
  );
  assert.deepEqual(
    check((t) => {
      delete t.sumOfSquares.returns;
    }),
    ['sumOfSquares: returns f64 in the kernel, nothing in the table'],
  );
  assert.deepEqual(
    check((t) => {
      delete t.relu;
    }),
    ['relu: exported by the kernels, missing from the table'],
  );
  assert.deepEqual(
    check((t) => {
      t.noSuchKernel = { args: [['x', 'ptr']] };
    }),
    ['noSuchKernel: in the table, not exported by assembly/kernels.ts'],
  );
});

test('the record classes in assembly/records.ts match the table, and a reordered or retyped field is caught', async () => {
  const source = await readFile(new URL('assembly/records.ts', root), 'utf8');
  assert.deepEqual(recordMismatches(source, kernelRecords, layout), []);
  const swapped = source.replace(
    'strideH: i32; strideW: i32;\n  padH: i32; padW: i32;\n  OH: i32; OW: i32;\n  groups',
    'strideH: i32; strideW: i32;\n  padW: i32; padH: i32;\n  OH: i32; OW: i32;\n  groups',
  );
  assert.notEqual(swapped, source);
  const problems = recordMismatches(swapped, kernelRecords, layout);
  assert.equal(problems.length, 1);
  assert.match(problems[0], /^record conv: the table has \(.*padH: i32, padW: i32.*\), assembly\/records\.ts ConvGeometry has \(.*padW: i32, padH: i32/);
  assert.match(recordMismatches(source.replace('alpha: f32', 'alpha: i32'), kernelRecords, layout)[0], /^record lrn: /);
  assert.match(recordMismatches(source.replace('class LrnParams', 'class LrnOptions'), kernelRecords, layout)[0], /no @unmanaged class LrnParams/);
  const crowded = { ...kernelRecords, winograd: { ...kernelRecords.winograd, at: RECORD_REGION_BYTES } };
  assert.match(recordMismatches(source, crowded, layout)[0], /^record winograd: 16 fields at byte 256 do not fit/);
});

test('threaded kernels and their workspace arguments come from the table', () => {
  assert.deepEqual(
    [...threadedKernels],
    Object.keys(kernelTable).filter((n) => (kernelTable as unknown as Table)[n].threaded),
  );
  for (const name of threadedKernels) assert.ok(kernelTable[name].args.length <= MAX_ARGS, `${name} takes more arguments than a piece holds`);
  // The workspace arguments' positions, formerly written by hand next to each call.
  assert.equal(workspaceMask('gemm'), 1 << 13);
  assert.equal(workspaceMask('gemmPacked'), 1 << 11);
  assert.equal(workspaceMask('conv2dForward'), 1 << 7);
  assert.equal(workspaceMask('conv2dBackwardInput'), 1 << 6);
  assert.equal(workspaceMask('conv2dBackwardWeights'), 1 << 7);
  assert.equal(workspaceMask('convGemmForward'), 1 << 10);
  assert.equal(workspaceMask('convGemmWeights'), 1 << 10);
  assert.equal(workspaceMask('winogradInput'), 1 << 5);
  assert.equal(workspaceMask('winogradMultiply'), 1 << 10);
  assert.equal(workspaceMask('winogradGradProducts'), 1 << 6);
  assert.equal(workspaceMask('axpy'), 0);
});

test("records are written by field name, in the table's order and types", () => {
  const memory = new WebAssembly.Memory({ initial: 2 });
  const heap = new WasmHeap(memory, false, 65536);
  const records = new RecordWriter(heap);
  const g = {
    N: 1,
    C: 2,
    H: 3,
    W: 4,
    O: 5,
    KH: 6,
    KW: 7,
    strideH: 8,
    strideW: 9,
    padH: 10,
    padW: 11,
    OH: 12,
    OW: 13,
    groups: 14,
    dilationH: 15,
    dilationW: 16,
  };
  const conv = records.write('conv', g);
  assert.equal(conv, RECORDS + kernelRecords.conv.at);
  assert.deepEqual(
    [...new Int32Array(memory.buffer, conv, 16)],
    Array.from({ length: 16 }, (_, i) => i + 1),
  );
  new Int32Array(memory.buffer, conv, 16).fill(0);
  assert.equal(records.conv(g), conv);
  assert.deepEqual(
    [...new Int32Array(memory.buffer, conv, 16)],
    Array.from({ length: 16 }, (_, i) => i + 1),
  );
  const p = { N: 1, C: 2, H: 3, W: 4, KH: 5, KW: 6, strideH: 7, strideW: 8, padH: 9, padW: 10, OH: 11, OW: 12 };
  assert.equal(records.pool(p), RECORDS + kernelRecords.pool.at);
  assert.deepEqual(
    [...new Int32Array(memory.buffer, RECORDS + kernelRecords.pool.at, 12)],
    Array.from({ length: 12 }, (_, i) => i + 1),
  );
  const lrn = records.write('lrn', { C: 3, HW: 9, size: 5, before: 2, alpha: 1e-4, beta: 0.75, k: 2 });
  assert.deepEqual([...new Int32Array(memory.buffer, lrn, 4)], [3, 9, 5, 2]);
  assert.deepEqual([...new Float32Array(memory.buffer, lrn + 16, 3)], [Math.fround(1e-4), 0.75, 2]);
});

test('a straight-line record writer that disagrees with the table is caught', () => {
  type Pool = Parameters<typeof checkWriter<'pool'>>[1];
  const swapped: Pool = (v, i, g) => {
    v[i] = g.N;
    v[i + 1] = g.C;
    v[i + 2] = g.H;
    v[i + 3] = g.W;
    v[i + 4] = g.KH;
    v[i + 5] = g.KW;
    v[i + 6] = g.strideH;
    v[i + 7] = g.strideW;
    v[i + 8] = g.padW;
    v[i + 9] = g.padH;
    v[i + 10] = g.OH;
    v[i + 11] = g.OW;
  };
  assert.deepEqual(checkWriter('pool', swapped), [
    'pool.padH: the fast writer puts it at field 10, the table at 9',
    'pool.padW: the fast writer puts it at field 9, the table at 10',
  ]);
  const short: Pool = (v, i, g) => {
    v[i] = g.N;
  };
  assert.equal(checkWriter('pool', short).length, 11);
});
