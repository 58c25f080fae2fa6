import { ResourceError } from '../errors.js';
/**
 * A first-fit free-list allocator over a WebAssembly.Memory, so tensors can live inside the
 * kernels' linear memory and be passed to them as plain pointers (zero copy).
 *
 * Views must never go stale: growing a non-shared memory detaches every existing view, so a
 * non-shared heap never grows (it starts at its full size). A shared memory grows in place
 * and old views stay valid, but each growth hands out a new SharedArrayBuffer object, so
 * ownership is checked against every buffer object the memory has had.
 */

const PAGE = 65536;
/** Block alignment: a cache line, which also keeps every f32x4 load aligned. */
export const ALIGN = 64;
/**
 * Bytes never handed out at the end of memory: kernels may read a little past an array's end
 * (whole vectors, full-width tiles) and must not fault when the array is the last block.
 */
const GUARD = 1024;
/** The most memory a wasm32 module can address: 65536 pages of 64 KiB. */
export const WASM32_MAX_BYTES = 65536 * PAGE;

interface Block {
  ptr: number;
  size: number;
}

export class WasmHeap {
  private readonly buffers = new Set<ArrayBufferLike>();
  /** Free blocks sorted by address, never adjacent (coalesced). */
  private free: Block[] = [];
  private readonly live = new Map<number, number>();
  /** Frees blocks whose views the garbage collector reclaimed. */
  private readonly registry = new FinalizationRegistry<number>((ptr) => this.release(ptr));

  /** Bytes the heap can ever hand out: its memory's maximum (4 GiB at most for wasm32) less the low region and the guard. */
  readonly capacity: number;

  /** `maximumBytes`: the memory's maximum size (a non-shared memory never grows past its current size). */
  constructor(
    readonly memory: WebAssembly.Memory,
    readonly shared: boolean,
    base: number,
    maximumBytes = WASM32_MAX_BYTES,
  ) {
    const start = alignUp(base);
    this.capacity = Math.max(0, (shared ? Math.min(maximumBytes, WASM32_MAX_BYTES) : memory.buffer.byteLength) - start - GUARD);
    const end = memory.buffer.byteLength - GUARD;
    if (start < end) this.free.push({ ptr: start, size: end - start });
    this.buffers.add(memory.buffer);
  }

  /** Bytes currently handed out. */
  get bytesInUse(): number {
    let n = 0;
    for (const size of this.live.values()) n += size;
    return n;
  }

  /** Whether a typed array is a view into this heap's memory. */
  owns(a: ArrayBufferView): boolean {
    return this.buffers.has(a.buffer);
  }

  /** A zero-filled Float32Array view of n elements, freed when the view is garbage collected. */
  allocF32(n: number): Float32Array {
    const ptr = this.allocBytes(n * 4);
    const view = new Float32Array(this.buffer(), ptr, n);
    view.fill(0);
    this.registry.register(view, ptr);
    return view;
  }

  /**
   * Throws a ResourceError naming `what` when `bytes` can never fit this heap, before anything is
   * allocated; a size that is not a non-negative integer (a wrapped or NaN computation) is a bug.
   */
  checkFits(bytes: number, what: string): void {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new Error(`internal error: wasm backend: ${what}: invalid size ${bytes} bytes`);
    if (bytes > this.capacity) {
      throw new ResourceError(
        `wasm backend: out of memory: ${what} needs ${formatSize(bytes)}, more than the ${formatSize(this.capacity)} the wasm heap can ever hold ` +
          '(a smaller batch, input or padding needs less; the ref backend has no such limit)',
      );
    }
  }

  /** Reserves bytes (ALIGN-aligned, not zeroed) for internal use; release with release(). */
  allocBytes(bytes: number, what = 'a block'): number {
    this.checkFits(bytes, what);
    const size = alignUp(Math.max(bytes, 1));
    this.checkFits(size, what);
    let i = this.free.findIndex((b) => b.size >= size);
    if (i < 0) {
      this.grow(size);
      i = this.free.findIndex((b) => b.size >= size);
    }
    const block = this.free[i];
    const ptr = block.ptr;
    if (block.size === size) this.free.splice(i, 1);
    else {
      block.ptr += size;
      block.size -= size;
    }
    this.live.set(ptr, size);
    return ptr;
  }

  release(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) return;
    this.live.delete(ptr);
    this.insertFree(ptr, size);
  }

  /** The memory's current buffer (a new object after each growth of a shared memory). */
  buffer(): ArrayBufferLike {
    const b = this.memory.buffer;
    this.buffers.add(b);
    return b;
  }

  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.buffer(), ptr, n);
  }

  i32(ptr: number, n: number): Int32Array {
    return new Int32Array(this.buffer(), ptr, n);
  }

  private grow(needed: number): void {
    const current = this.memory.buffer.byteLength;
    if (!this.shared) {
      throw new ResourceError(
        `wasm backend: out of memory (${mib(current)} MiB heap, ${mib(needed)} MiB more requested); ` +
          'without SharedArrayBuffer the heap cannot grow, so create the backend with a larger initialMemoryMiB',
      );
    }
    // Grow geometrically so a training run grows a handful of times, not per tensor.
    const pages = Math.max(Math.ceil((needed + GUARD) / PAGE), Math.ceil(current / PAGE / 2), 16);
    try {
      this.memory.grow(pages);
    } catch {
      const minimal = Math.ceil((needed + GUARD) / PAGE);
      try {
        this.memory.grow(minimal);
      } catch {
        throw new ResourceError(`wasm backend: out of memory (${mib(current)} MiB in use, cannot grow by ${mib(needed)} MiB more; maximumMemoryMiB limits it)`);
      }
    }
    // The old guard becomes usable; a new one sits at the new end.
    const end = this.buffer().byteLength;
    this.insertFree(current - GUARD, end - current);
  }

  private insertFree(ptr: number, size: number): void {
    const free = this.free;
    let lo = 0,
      hi = free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (free[mid].ptr < ptr) lo = mid + 1;
      else hi = mid;
    }
    const prev = free[lo - 1],
      next = free[lo];
    if (prev && prev.ptr + prev.size === ptr) {
      prev.size += size;
      if (next && prev.ptr + prev.size === next.ptr) {
        prev.size += next.size;
        free.splice(lo, 1);
      }
    } else if (next && ptr + size === next.ptr) {
      next.ptr = ptr;
      next.size += size;
    } else {
      free.splice(lo, 0, { ptr, size });
    }
  }
}

export function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

function formatSize(bytes: number): string {
  return bytes >= 1 << 30 ? `${(bytes / (1 << 30)).toFixed(2)} GiB` : `${mib(bytes)} MiB`;
}

function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}
