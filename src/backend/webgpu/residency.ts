/// <reference types="@webgpu/types" />
import { ConvkitError } from '../../errors.js';
import type { Dispatcher } from './dispatch.js';

/** The device copy of a host array. */
export interface Resident {
  buffer: GPUBuffer;
  /** Elements of the host array (the buffer may be larger: at least 4 bytes). */
  length: number;
  kind: 'f32' | 'i32';
}

type HostArray = Float32Array | Float64Array | Int32Array;

/**
 * Host mirrors and their GPU buffers. `alloc` hands out a Float32Array with its own
 * ArrayBuffer and creates a zero-filled GPU buffer for it; the registry is keyed by the
 * ArrayBuffer, so any whole-buffer view finds it and a subarray view is recognised (and
 * refused). The device copy is authoritative once a kernel has written it: host writes are
 * published with `upload`, device results fetched with `download`. Int32Arrays the caller
 * made (max pooling's argmax) are registered on first use. GPU buffers are destroyed when their
 * host arrays are garbage collected.
 */
export class Residency {
  private readonly registry = new WeakMap<ArrayBufferLike, Resident>();
  private readonly collected: FinalizationRegistry<GPUBuffer>;

  constructor(
    private readonly d: Dispatcher,
    /** Largest buffer a kernel may bind (the device's maxStorageBufferBindingSize). */
    readonly maxBytes: number,
  ) {
    this.collected = new FinalizationRegistry((buffer) => {
      if (!d.failure) d.retire(buffer);
    });
  }

  alloc(n: number): Float32Array {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`internal error: webgpu backend: cannot allocate ${n} elements`);
    const host = new Float32Array(n);
    this.register(host, 'f32');
    return host;
  }

  /**
   * The device copy of `a`, which must hold at least `need` elements. An Int32Array seen for
   * the first time is registered and its content uploaded; any other unknown array is refused.
   */
  resolve(a: HostArray, need: number, what: string): Resident {
    if (a.length < need) throw new RangeError(`internal error: webgpu backend: ${what} has ${a.length} elements, the kernel needs ${need}`);
    const r = this.registry.get(a.buffer);
    if (r) {
      if (a.byteOffset !== 0 || a.byteLength !== a.buffer.byteLength) {
        throw new ConvkitError(
          `webgpu backend: ${what} is a subarray view (offset ${a.byteOffset / a.BYTES_PER_ELEMENT}, ${a.length} of ${r.length} elements); kernels take whole arrays from alloc()`,
        );
      }
      return r;
    }
    if (a instanceof Int32Array && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) {
      const created = this.register(a, 'i32');
      this.d.write(created.buffer, a);
      return created;
    }
    throw new ConvkitError(
      a instanceof Float64Array
        ? `webgpu backend: ${what} is a Float64Array; this backend computes in float32 on arrays from its alloc()`
        : `webgpu backend: ${what} was not allocated by this backend (or is a view into part of an array); ` +
            'device kernels only take arrays from alloc() (and Int32Array index arrays)',
    );
  }

  /** The device copy of `a` is made current from the host (after kernels recorded before). */
  upload(a: HostArray): void {
    const r = this.registry.get(a.buffer);
    if (!r && a instanceof Int32Array) {
      this.resolve(a, 0, 'the uploaded array');
      return;
    }
    const resident = this.resolve(a, 0, 'the uploaded array');
    this.d.write(resident.buffer, a, a.byteLength);
  }

  /** Host copies of these arrays current once every kernel recorded before has run. */
  async download(arrays: readonly HostArray[]): Promise<void> {
    this.d.check();
    const targets = this.targets(arrays);
    const data = await this.d.read(targets.map(({ host, r }) => ({ buffer: r.buffer, bytes: host.byteLength })));
    targets.forEach(({ host }, i) => new Uint8Array(host.buffer, 0, host.byteLength).set(new Uint8Array(data[i])));
  }

  /** Like download, through the non-blocking read-back ring: recording goes on while it runs. */
  async downloadLater(arrays: readonly HostArray[]): Promise<void> {
    this.d.check();
    const targets = this.targets(arrays);
    const data = await this.d.readLater(targets.map(({ host, r }) => ({ buffer: r.buffer, bytes: host.byteLength })));
    targets.forEach(({ host }, i) => new Uint8Array(host.buffer, 0, host.byteLength).set(new Uint8Array(data[i])));
  }

  /** The distinct device copies to read for these host arrays. */
  private targets(arrays: readonly HostArray[]): { host: HostArray; r: Resident }[] {
    const targets: { host: HostArray; r: Resident }[] = [];
    const seen = new Set<Resident>();
    for (const a of arrays) {
      // An index array never used by a kernel has no device copy: the host one is current.
      if (a instanceof Int32Array && !this.registry.has(a.buffer)) continue;
      const r = this.resolve(a, 0, 'a downloaded array');
      if (seen.has(r)) continue;
      seen.add(r);
      targets.push({ host: a, r });
    }
    return targets;
  }

  private register(host: Float32Array | Int32Array, kind: 'f32' | 'i32'): Resident {
    const bytes = Math.max(4, host.byteLength);
    if (bytes > this.maxBytes) {
      throw new ConvkitError(
        `webgpu backend: an array of ${host.length} elements (${bytes} bytes) exceeds the device's largest storage buffer (${this.maxBytes} bytes)`,
      );
    }
    const buffer = this.d.device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    const r: Resident = { buffer, length: host.length, kind };
    this.registry.set(host.buffer, r);
    this.collected.register(host.buffer, buffer);
    return r;
  }
}
