/**
 * Writes the kernels' records (wasm-interface.ts kernelRecords: convolution and pooling
 * geometry, the Winograd view, norm parameters) into the reserved region below the heap, by
 * field name: the field order lives in the table, and the two straight-line writers of the
 * hottest records are checked against it.
 */

import { RECORD_REGION_BYTES, type RecordName, kernelRecords } from './wasm-interface.js';
import type { WasmHeap } from './wasm-heap.js';

/** The module's static data (math tables) lies below the records; the host's heap starts here. */
export const HEAP_BASE = 65536;
/** Start of the record region. */
export const RECORDS = HEAP_BASE - RECORD_REGION_BYTES;

type FieldName<R extends RecordName> = (typeof kernelRecords)[R]['fields'][number][0];
export type RecordValues<R extends RecordName> = { readonly [F in FieldName<R>]: number };
export type FastWriter<R extends RecordName> = (v: Int32Array, at: number, values: RecordValues<R>) => void;

/**
 * Straight-line writers of the records written on every convolution and pooling call (the
 * generic loop costs ~0.2 µs a record, a few % of a small network's batch-1 inference). They
 * are checked against the table's field order whenever a RecordWriter is made (checkWriter).
 */
const fastWriters: { readonly [R in 'conv' | 'pool']: FastWriter<R> } = {
  conv: (v, i, g) => {
    v[i] = g.N;
    v[i + 1] = g.C;
    v[i + 2] = g.H;
    v[i + 3] = g.W;
    v[i + 4] = g.O;
    v[i + 5] = g.KH;
    v[i + 6] = g.KW;
    v[i + 7] = g.strideH;
    v[i + 8] = g.strideW;
    v[i + 9] = g.padH;
    v[i + 10] = g.padW;
    v[i + 11] = g.OH;
    v[i + 12] = g.OW;
    v[i + 13] = g.groups;
    v[i + 14] = g.dilationH;
    v[i + 15] = g.dilationW;
  },
  pool: (v, i, g) => {
    v[i] = g.N;
    v[i + 1] = g.C;
    v[i + 2] = g.H;
    v[i + 3] = g.W;
    v[i + 4] = g.KH;
    v[i + 5] = g.KW;
    v[i + 6] = g.strideH;
    v[i + 7] = g.strideW;
    v[i + 8] = g.padH;
    v[i + 9] = g.padW;
    v[i + 10] = g.OH;
    v[i + 11] = g.OW;
  },
};

/** Whether a fast writer puts every field of an all-i32 record where the table says; a list of problems. */
export function checkWriter<R extends RecordName>(record: R, writer: FastWriter<R>): string[] {
  const { fields } = kernelRecords[record];
  const probe: Record<string, number> = {};
  fields.forEach(([name], i) => {
    probe[name] = i + 1;
  });
  const out = new Int32Array(fields.length);
  writer(out, 0, probe as RecordValues<R>);
  return fields.flatMap(([name, type], i) =>
    type !== 'i32'
      ? [`${record}.${name}: the fast writer handles i32 fields only`]
      : out[i] === i + 1
        ? []
        : [`${record}.${name}: the fast writer puts it at field ${out.indexOf(i + 1) + 1}, the table at ${i + 1}`],
  );
}

export class RecordWriter {
  private readonly i32: Int32Array;
  private readonly f32: Float32Array;

  constructor(heap: WasmHeap) {
    this.i32 = heap.i32(RECORDS, RECORD_REGION_BYTES / 4);
    this.f32 = new Float32Array(this.i32.buffer, RECORDS, RECORD_REGION_BYTES / 4);
    const problems = [...checkWriter('conv', fastWriters.conv), ...checkWriter('pool', fastWriters.pool)];
    if (problems.length > 0) throw new Error(`wasm backend: record writers disagree with wasm-interface.ts: ${problems.join('; ')}`);
  }

  /** Writes a record (extra properties of `values` are ignored) and returns its pointer. */
  write<R extends RecordName>(record: R, values: RecordValues<R>): number {
    const { at, fields } = kernelRecords[record];
    const base = at / 4,
      named = values as Record<string, number>;
    for (let i = 0; i < fields.length; i++) {
      const [name, type] = fields[i];
      (type === 'f32' ? this.f32 : this.i32)[base + i] = named[name];
    }
    return RECORDS + at;
  }

  /** A convolution's geometry record. */
  conv(g: RecordValues<'conv'>): number {
    fastWriters.conv(this.i32, kernelRecords.conv.at / 4, g);
    return RECORDS + kernelRecords.conv.at;
  }

  /** A pooling geometry record. */
  pool(g: RecordValues<'pool'>): number {
    fastWriters.pool(this.i32, kernelRecords.pool.at / 4, g);
    return RECORDS + kernelRecords.pool.at;
  }
}
