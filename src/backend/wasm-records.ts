/**
 * Writes the kernels' records (wasm-interface.ts kernelRecords: convolution and pooling
 * geometry, the Winograd view, norm parameters) into the reserved region below the heap, by
 * field name: the field order lives in the table alone.
 */

import { RECORD_REGION_BYTES, type RecordName, kernelRecords } from './wasm-interface.js';
import type { WasmHeap } from './wasm-heap.js';

/** The module's static data (math tables) lies below the records; the host's heap starts here. */
export const HEAP_BASE = 65536;
/** Start of the record region. */
export const RECORDS = HEAP_BASE - RECORD_REGION_BYTES;

type FieldName<R extends RecordName> = (typeof kernelRecords)[R]['fields'][number][0];
export type RecordValues<R extends RecordName> = { readonly [F in FieldName<R>]: number };

export class RecordWriter {
  private readonly i32: Int32Array;
  private readonly f32: Float32Array;

  constructor(heap: WasmHeap) {
    this.i32 = heap.i32(RECORDS, RECORD_REGION_BYTES / 4);
    this.f32 = new Float32Array(this.i32.buffer, RECORDS, RECORD_REGION_BYTES / 4);
  }

  /** Writes a record (extra properties of `values` are ignored) and returns its pointer. */
  write<R extends RecordName>(record: R, values: RecordValues<R>): number {
    const { at, fields } = kernelRecords[record];
    const base = at / 4, named = values as Record<string, number>;
    for (let i = 0; i < fields.length; i++) {
      const [name, type] = fields[i];
      (type === 'f32' ? this.f32 : this.i32)[base + i] = named[name];
    }
    return RECORDS + at;
  }
}
