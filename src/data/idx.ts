import { FormatError } from '../errors.js';

/** A parsed IDX file (the MNIST format): unsigned bytes with their dimensions. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/**
 * Parses an IDX file of unsigned bytes (type code 0x08), the format MNIST ships in:
 * two zero bytes, the type code, the number of dimensions, then each dimension as a
 * big-endian uint32, then the data. Every field is checked against the file's real length,
 * so a truncated or foreign file fails with a message naming it and the problem.
 */
export function parseIdx(bytes: Uint8Array, fileName: string): IdxArray {
  const fail = (problem: string): never => {
    throw new FormatError(`${fileName}: not a valid IDX file: ${problem}`);
  };
  if (bytes.length < 4) fail(`only ${bytes.length} bytes, too short for the header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) fail(`bad magic number 0x${hex(bytes, 0, 4)} (expected 0x0000 then a type code)`);
  if (bytes[2] !== 0x08) fail(`element type 0x${bytes[2].toString(16).padStart(2, '0')} is not supported (only unsigned bytes, 0x08)`);
  const rank = bytes[3];
  if (rank < 1 || rank > 4) fail(`${rank} dimensions (expected 1 to 4)`);
  const headerLength = 4 + 4 * rank;
  if (bytes.length < headerLength) fail(`truncated header: ${bytes.length} bytes, need ${headerLength} for ${rank} dimensions`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  const expected = headerLength + count;
  if (bytes.length < expected) fail(`truncated: dimensions ${dims.join('×')} need ${expected} bytes, file has ${bytes.length}`);
  if (bytes.length > expected) fail(`${bytes.length - expected} unexpected trailing bytes after ${dims.join('×')} values`);
  return { dims, data: bytes.subarray(headerLength, expected) };
}

/** Encodes bytes as an IDX file (used by tests and by tools that write datasets). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = 0x08;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

function hex(b: Uint8Array, start: number, end: number): string {
  return Array.from(b.subarray(start, end), (x) => x.toString(16).padStart(2, '0')).join('');
}
