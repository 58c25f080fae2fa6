// Build-time check of the kernel interface: the compiled module's exported functions
// (names, parameter and result types, read from its binary) against the one table in
// src/backend/wasm-interface.ts, and the AssemblyScript record classes (assembly/records.ts)
// against that table's record field lists. Any difference fails the build.

/** name → { params: ['i32' | 'f32' | 'f64' | 'i64' | 'v128'], results: [...] } of a module's exported functions. */
export function exportedSignatures(bytes) {
  const r = new Reader(bytes);
  if (r.u32le() !== 0x6d736100) throw new Error('not a WebAssembly module');
  r.u32le(); // version
  const types = [],
    funcTypes = [],
    exported = new Map();
  while (r.pos < bytes.length) {
    const id = r.byte(),
      size = r.uleb(),
      end = r.pos + size;
    if (id === 1) {
      for (let n = r.uleb(); n > 0; n--) {
        if (r.byte() !== 0x60) throw new Error('unexpected type form');
        const params = r.vec(() => valType(r.byte())),
          results = r.vec(() => valType(r.byte()));
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = r.uleb(); n > 0; n--) {
        r.name();
        r.name();
        const kind = r.byte();
        if (kind === 0)
          funcTypes.push(r.uleb()); // imported functions come first in the index space
        else if (kind === 1) {
          r.byte();
          limits(r);
        } else if (kind === 2) limits(r);
        else if (kind === 3) {
          r.byte();
          r.byte();
        } else throw new Error(`unexpected import kind ${kind}`);
      }
    } else if (id === 3) {
      for (let n = r.uleb(); n > 0; n--) funcTypes.push(r.uleb());
    } else if (id === 7) {
      for (let n = r.uleb(); n > 0; n--) {
        const name = r.name(),
          kind = r.byte(),
          index = r.uleb();
        if (kind === 0) exported.set(name, types[funcTypes[index]]);
      }
    }
    r.pos = end;
  }
  return exported;
}

/** The wasm value types each table argument type compiles to (wasm32: pointers, records included, are i32). */
const WASM_TYPE = { ptr: 'i32', work: 'i32', i32: 'i32', flag: 'i32', f32: 'f32', f64: 'f64' };

/**
 * Differences between a module's exports and the kernel table, as readable lines (empty when
 * they agree): a kernel missing from either side, or a different argument count or type.
 */
export function interfaceMismatches(exported, kernels, records) {
  const out = [];
  const wasmType = (t) => WASM_TYPE[t] ?? (t in records ? 'i32' : `unknown type ${t}`);
  for (const [name, spec] of Object.entries(kernels)) {
    const sig = exported.get(name);
    if (!sig) {
      out.push(`${name}: in the table, not exported by assembly/kernels.ts`);
      continue;
    }
    const want = spec.args.map(([, t]) => wasmType(t));
    if (want.length !== sig.params.length) {
      out.push(`${name}: the table lists ${want.length} arguments, the kernel takes ${sig.params.length}`);
    } else {
      want.forEach((t, i) => {
        if (t !== sig.params[i]) out.push(`${name}: argument ${i + 1} (${spec.args[i][0]}) is ${sig.params[i]} in the kernel, ${spec.args[i][1]} in the table`);
      });
    }
    const result = spec.returns ? [WASM_TYPE[spec.returns]] : [];
    if (result.join() !== sig.results.join())
      out.push(`${name}: returns ${sig.results.join() || 'nothing'} in the kernel, ${result.join() || 'nothing'} in the table`);
  }
  for (const name of exported.keys()) if (!(name in kernels)) out.push(`${name}: exported by the kernels, missing from the table`);
  return out;
}

/**
 * Differences between the records' field lists in the table and the `@unmanaged` classes of
 * an AssemblyScript source (field names, types and order must match: both sides address
 * fields by position).
 */
export function recordMismatches(source, records, { regionBytes, slotBytes }) {
  const out = [];
  for (const [name, r] of Object.entries(records)) {
    if (r.at % slotBytes !== 0 || r.at + slotBytes > regionBytes || r.fields.length * 4 > slotBytes) {
      out.push(`record ${name}: ${r.fields.length} fields at byte ${r.at} do not fit one ${slotBytes}-byte slot of the ${regionBytes}-byte region`);
    }
  }
  const classes = new Map();
  for (const m of source.matchAll(/@unmanaged\s+export\s+class\s+(\w+)\s*\{([^}]*)\}/g)) {
    classes.set(
      m[1],
      [...m[2].replace(/\/\/.*$/gm, '').matchAll(/(\w+)\s*:\s*(\w+)\s*;/g)].map((f) => [f[1], f[2]]),
    );
  }
  for (const [name, record] of Object.entries(records)) {
    const fields = classes.get(record.assembly);
    if (!fields) {
      out.push(`record ${name}: no @unmanaged class ${record.assembly} in assembly/records.ts`);
      continue;
    }
    const want = record.fields.map(([f, t]) => `${f}: ${t}`).join(', '),
      got = fields.map(([f, t]) => `${f}: ${t}`).join(', ');
    if (want !== got) out.push(`record ${name}: the table has (${want}), assembly/records.ts ${record.assembly} has (${got})`);
  }
  return out;
}

function limits(r) {
  const flags = r.byte();
  r.uleb();
  if (flags & 1) r.uleb();
}

function valType(b) {
  const t = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128' }[b];
  if (!t) throw new Error(`unexpected value type 0x${b.toString(16)}`);
  return t;
}

class Reader {
  constructor(bytes) {
    this.b = bytes;
    this.pos = 0;
  }
  byte() {
    return this.b[this.pos++];
  }
  u32le() {
    const v = this.b[this.pos] | (this.b[this.pos + 1] << 8) | (this.b[this.pos + 2] << 16) | (this.b[this.pos + 3] << 24);
    this.pos += 4;
    return v >>> 0;
  }
  uleb() {
    let v = 0,
      shift = 0,
      b;
    do {
      b = this.byte();
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return v;
  }
  vec(f) {
    const out = [];
    for (let n = this.uleb(); n > 0; n--) out.push(f());
    return out;
  }
  name() {
    const n = this.uleb();
    const s = new TextDecoder().decode(this.b.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
}
