/// <reference types="@webgpu/types" />
import { ConvkitError } from '../../errors.js';
import type { GemmKernel } from './kernels-gemm.js';

/** Scalar types of a kernel's uniform fields (each 4 bytes, in declaration order). */
export type UniformType = 'u32' | 'i32' | 'f32';

/** A storage buffer a kernel binds (bindings 1, 2, …; binding 0 holds the uniforms). */
export interface BindingDecl {
  name: string;
  access: 'read' | 'read_write';
  /** Element type; default f32. */
  type?: 'f32' | 'i32' | 'u32' | 'vec4<i32>' | 'vec4<f32>';
}

/**
 * One compute kernel: WGSL code after a generated header (the uniform struct `u`, the storage
 * bindings), with an entry point `main` written with `entry()`. `key` names the exact variant
 * (pipelines are cached by it), `label` the kernel for error messages.
 */
export interface KernelDef {
  key: string;
  label: string;
  uniforms: readonly (readonly [string, UniformType])[];
  bindings: readonly BindingDecl[];
  code: string;
  /**
   * Set on kernels that end by calling `after(i, v)` for each element i they write to their
   * output (v the value written): the code without a definition of `after` (then `code` is it
   * plus an empty one). Element-wise kernels that follow on that output can be fused into
   * `after` (fusion.ts).
   */
  codeBeforeEpilogue?: string;
}

/** The empty epilogue of a fusable kernel (see KernelDef.codeBeforeEpilogue). */
export const NO_EPILOGUE = '\nfn after(i: u32, v: f32) {}\n';

/** A fusable kernel's output: the buffer it writes elements 0 … n − 1 of. */
export interface FusableOutput {
  buffer: GPUBuffer;
  n: number;
}

/** The last dispatch, prepared (uniforms in the arena, buffers marked as used) but not yet encoded, so a following element-wise kernel can join it. */
export interface HeldDispatch {
  def: KernelDef;
  buffers: GPUBuffer[];
  uniforms: number[];
  workgroups: number;
  slot: number;
  /** The output the next kernel may consume, with the buffers the held kernel writes and reads. */
  output: FusableOutput;
  written: Set<GPUBuffer>;
  read: Set<GPUBuffer>;
  /** Element-wise kernels fused into it so far (their names, for the key and the label). */
  stages: string[];
}

/** Bytes of one dispatch's uniforms in the arena: the dynamic-offset alignment WebGPU guarantees. */
const SLOT = 256;
/** Dispatches whose uniforms fit one arena; a batch that fills it is submitted early. */
const SLOTS = 1024;
/** Bind groups kept; the cache is cleared past this (keys of freed buffers never recur). */
const BIND_GROUP_CACHE = 4096;
/** Kernels timed per submission when profiling with timestamp queries (two queries each). */
const TIMED_PER_SUBMIT = 1024;
/** Lookup tables kept (least recently used dropped first). */
const MAX_TABLES = 256;
const MAX_TABLE_BYTES = 64 << 20;

/**
 * The entry point of every kernel. Workgroups are numbered 0, 1, … by `wgi` across a 2-D grid
 * (WebGPU caps each dimension at 65 535), `lid` is the invocation's index in its workgroup.
 */
export function entry(workgroupSize: number, body: string): string {
  return `@compute @workgroup_size(${workgroupSize})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let wgi = wid.x + wid.y * nwg.x;
${body}
}
`;
}

/** The WGSL header of a kernel: uniform struct and bindings. */
export function header(def: KernelDef): string {
  const fields = def.uniforms.length ? def.uniforms.map(([n, t]) => `  ${n}: ${t},`).join('\n') : '  _unused: u32,';
  const lines = [`struct U {\n${fields}\n}`, '@group(0) @binding(0) var<uniform> u: U;'];
  def.bindings.forEach((b, i) => lines.push(`@group(0) @binding(${i + 1}) var<storage, ${b.access}> ${b.name}: array<${b.type ?? 'f32'}>;`));
  return lines.join('\n') + '\n';
}

interface Compiled {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/**
 * Records kernels into one pending command encoder and submits it when something must reach
 * the queue: a host write to a buffer that pending commands use, a download, a full uniform
 * arena. Each dispatch's uniforms go into a host-side arena that is written to its GPU buffer
 * right before the submit, so uniforms never overtake kernels recorded earlier, and bind
 * groups (cached by buffers) use dynamic offsets into it.
 */
export class Dispatcher {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** Buffers the pending (unsubmitted) commands use. */
  private readonly touched = new Set<GPUBuffer>();
  /** Buffers to destroy once the pending commands are submitted. */
  private graveyard: GPUBuffer[] = [];
  private tempsInUse: GPUBuffer[] = [];
  /** Temps of the last submission: free again after the next one, so a kernel method that spans a submit never gets one twice. */
  private tempsSubmitted: GPUBuffer[] = [];
  private readonly tempsFree = new Map<number, GPUBuffer[]>();
  private readonly arena = new ArrayBuffer(SLOT * SLOTS);
  private readonly arenaU32 = new Uint32Array(this.arena);
  private readonly arenaI32 = new Int32Array(this.arena);
  private readonly arenaF32 = new Float32Array(this.arena);
  private slotsUsed = 0;
  private readonly uniformBuffer: GPUBuffer;
  private readonly pipelines = new Map<string, Compiled>();
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly tables = new Map<string, GPUBuffer>();
  private tableBytes = 0;
  private readonly ids = new WeakMap<GPUBuffer, number>();
  private nextId = 1;
  /** Compilation checks still running; download() waits for them so a broken kernel is reported. */
  private readonly compileChecks = new Set<Promise<void>>();
  /** The last dispatch while it may still take a fused element-wise kernel. */
  private held: HeldDispatch | null = null;
  /** Whether kernels are held back for fusion (off: every kernel is encoded as it comes, for comparisons). */
  fusion = true;
  /** Set once the device is lost, a kernel failed to compile or a command failed: every later call throws it. */
  failure: ConvkitError | null = null;
  private failureIsCompile = false;
  /** What the backend asked of the GPU since the last reset (for tests, tuning and bench:gpu). */
  stats: DispatchStats = emptyStats();
  /** Per-kernel time while profiling (see profile()); null when off. */
  private profiler: Profiler | null = null;
  /** Staging buffers of non-blocking read-backs that are mapped back and free again (readLater). */
  private readonly stagingFree: GPUBuffer[] = [];
  /** Staging buffers created for readLater so far (the ring's size). */
  stagingCreated = 0;
  /** The last readLater, settled either way (the next one resolves after it). */
  private lastReadLater: Promise<void> = Promise.resolve();

  constructor(
    readonly device: GPUDevice,
    /** Which GEMM kernel the matrix products and convolutions use. */
    readonly gemmKernel: GemmKernel = 'tiled',
    /** Wrap every dispatch in an error scope that names the kernel (slow: development only). */
    private readonly debug = false,
  ) {
    this.uniformBuffer = device.createBuffer({ size: SLOT * SLOTS, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'uniforms' });
  }

  /** Throws the recorded failure, if any. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  fail(error: ConvkitError, isCompile = false): void {
    if (!this.failure || (isCompile && !this.failureIsCompile)) {
      this.failure = error;
      this.failureIsCompile = isCompile;
    }
  }

  /** A stable number per buffer, for bind-group cache keys. */
  id(buffer: GPUBuffer): number {
    let id = this.ids.get(buffer);
    if (id === undefined) this.ids.set(buffer, (id = this.nextId++));
    return id;
  }

  /**
   * Records one dispatch of `workgroups` workgroups (numbered by wgi in the shader). With
   * `fusable` (the kernel's output, for a kernel with codeBeforeEpilogue) the dispatch is held
   * back until the next command, so that an element-wise kernel on that output can be fused into it.
   */
  run(def: KernelDef, buffers: readonly GPUBuffer[], uniforms: readonly number[], workgroups: number, fusable?: FusableOutput): void {
    this.check();
    if (buffers.length !== def.bindings.length)
      throw new Error(`internal error: webgpu backend: kernel ${def.label} takes ${def.bindings.length} buffers, got ${buffers.length}`);
    if (uniforms.length !== def.uniforms.length)
      throw new Error(`internal error: webgpu backend: kernel ${def.label} takes ${def.uniforms.length} uniforms, got ${uniforms.length}`);
    if (workgroups <= 0) return;
    // Checked here, not when encoded: a held dispatch is encoded during a later call.
    if (workgroups > 65535 * 65535)
      throw new ConvkitError(`webgpu backend: kernel ${def.label} needs ${workgroups} workgroups, more than one dispatch can hold`);
    this.release();
    if (this.slotsUsed === SLOTS) this.flush();
    const slot = this.slotsUsed++;
    this.writeUniforms(def, slot, uniforms);
    for (const b of buffers) this.touched.add(b);
    this.stats.dispatches++;
    if (fusable && def.codeBeforeEpilogue !== undefined && this.fusion) {
      const written = new Set<GPUBuffer>(),
        read = new Set<GPUBuffer>();
      def.bindings.forEach((b, i) => (b.access === 'read' ? read : written).add(buffers[i]));
      this.held = { def, buffers: [...buffers], uniforms: [...uniforms], workgroups, slot, output: fusable, written, read, stages: [] };
      return;
    }
    this.encode(def, buffers, workgroups, slot);
  }

  /** The dispatch held back for fusion, if any (fusion.ts replaces it with a fused one). */
  get heldDispatch(): HeldDispatch | null {
    return this.held;
  }

  /** Replaces the held dispatch by its fused variant (same slot: the uniforms are rewritten; compiled when encoded). */
  replaceHeld(next: HeldDispatch): void {
    this.writeUniforms(next.def, next.slot, next.uniforms);
    for (const b of next.buffers) this.touched.add(b);
    this.held = next;
  }

  /** Encodes the held dispatch (before any other command). */
  private release(): void {
    const h = this.held;
    if (!h) return;
    this.held = null;
    this.encode(h.def, h.buffers, h.workgroups, h.slot);
  }

  private writeUniforms(def: KernelDef, slot: number, uniforms: readonly number[]): void {
    if (def.uniforms.length > SLOT / 4) throw new Error(`webgpu backend: kernel ${def.label} has more uniforms than a slot holds`);
    const base = (slot * SLOT) / 4;
    def.uniforms.forEach(([name, type], i) => {
      const v = uniforms[i];
      if (type === 'f32') this.arenaF32[base + i] = v;
      else {
        if (!Number.isInteger(v)) throw new Error(`internal error: webgpu backend: kernel ${def.label}: uniform ${name} = ${v} is not an integer`);
        if (type === 'u32') this.arenaU32[base + i] = v;
        else this.arenaI32[base + i] = v;
      }
    });
  }

  private encode(def: KernelDef, buffers: readonly GPUBuffer[], workgroups: number, slot: number): void {
    const compiled = this.compile(def);
    let key = def.key;
    for (const b of buffers) key += ':' + this.id(b);
    let group = this.bindGroups.get(key);
    if (!group) {
      if (this.bindGroups.size >= BIND_GROUP_CACHE) this.bindGroups.clear();
      group = this.device.createBindGroup({
        layout: compiled.layout,
        entries: [
          { binding: 0, resource: { buffer: this.uniformBuffer, offset: 0, size: SLOT } },
          ...buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } })),
        ],
      });
      this.bindGroups.set(key, group);
    }
    const pass = this.profiler ? this.timedPass(def.label) : this.computePass();
    if (this.debug) this.device.pushErrorScope('validation');
    pass.setPipeline(compiled.pipeline);
    pass.setBindGroup(0, group, [slot * SLOT]);
    const maxX = 65535;
    const x = Math.min(workgroups, maxX),
      y = Math.ceil(workgroups / x);
    if (y > maxX) throw new ConvkitError(`webgpu backend: kernel ${def.label} needs ${workgroups} workgroups, more than one dispatch can hold`);
    pass.dispatchWorkgroups(x, y);
    if (this.profiler) this.endPass();
    if (this.debug) this.watch(this.device.popErrorScope(), `kernel ${def.label}`);
  }

  /** Records a buffer-to-buffer copy after the kernels recorded so far. */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.check();
    if (bytes <= 0) return;
    this.release();
    this.endPass();
    this.touched.add(src);
    this.touched.add(dst);
    this.commandEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    this.stats.copies++;
  }

  /**
   * Writes host data into a buffer so that kernels recorded before see the old content and
   * kernels recorded after see the new: pending commands that use the buffer are submitted first.
   */
  write(buffer: GPUBuffer, data: ArrayBufferView<ArrayBuffer> | ArrayBufferView<ArrayBufferLike>, bytes = data.byteLength): void {
    this.check();
    if (this.touched.has(buffer)) this.flush();
    if (bytes > 0) this.device.queue.writeBuffer(buffer, 0, data.buffer as ArrayBuffer, data.byteOffset, bytes);
    this.stats.uploads++;
    this.stats.bytesUploaded += Math.max(0, bytes);
  }

  /**
   * A storage buffer of at least `bytes` that belongs to the pending commands alone until they
   * are submitted (then it is reused). Content is undefined.
   */
  temp(bytes: number): GPUBuffer {
    const size = Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(bytes, 4))));
    const free = this.tempsFree.get(size);
    const buffer =
      free?.pop() ??
      this.device.createBuffer({
        size,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
        label: `temp ${size}`,
      });
    this.tempsInUse.push(buffer);
    return buffer;
  }

  /**
   * A read-only table (index decompositions that kernels would otherwise divide for), built
   * on the host once per key and kept while recently used.
   */
  table(key: string, build: () => Int32Array<ArrayBuffer>): GPUBuffer {
    let buffer = this.tables.get(key);
    if (buffer) {
      this.tables.delete(key);
      this.tables.set(key, buffer);
      return buffer;
    }
    const data = build();
    buffer = this.device.createBuffer({ size: Math.max(4, data.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, label: key });
    // A new buffer: no recorded command uses it, so the write needs no submit first.
    this.device.queue.writeBuffer(buffer, 0, data);
    this.tables.set(key, buffer);
    this.tableBytes += buffer.size;
    for (const [k, b] of this.tables) {
      if (k === key || (this.tables.size <= MAX_TABLES && this.tableBytes <= MAX_TABLE_BYTES)) break;
      this.tables.delete(k);
      this.tableBytes -= b.size;
      this.retire(b);
    }
    return buffer;
  }

  /** Destroys a buffer once no pending command uses it. */
  retire(buffer: GPUBuffer): void {
    if (this.touched.has(buffer)) this.graveyard.push(buffer);
    else buffer.destroy();
  }

  /** Submits the pending commands. */
  flush(): void {
    this.release();
    this.endPass();
    if (this.encoder) {
      if (this.slotsUsed > 0) this.device.queue.writeBuffer(this.uniformBuffer, 0, this.arena, 0, this.slotsUsed * SLOT);
      const timing = this.profiler?.resolve(this.encoder);
      const t0 = performance.now();
      this.device.queue.submit([this.encoder.finish()]);
      this.stats.submits++;
      this.profiler?.submitted(timing ?? null, t0, this.device.queue.onSubmittedWorkDone());
    }
    this.encoder = null;
    this.slotsUsed = 0;
    this.touched.clear();
    for (const b of this.graveyard) b.destroy();
    this.graveyard = [];
    for (const b of this.tempsSubmitted) {
      const list = this.tempsFree.get(b.size) ?? [];
      list.push(b);
      this.tempsFree.set(b.size, list);
    }
    this.tempsSubmitted = this.tempsInUse;
    this.tempsInUse = [];
  }

  /**
   * Copies the first bytes of each buffer back to the host after every pending command:
   * one submission, one MAP_READ staging buffer each. Throws the recorded failure, if any.
   */
  async read(sources: readonly { buffer: GPUBuffer; bytes: number }[]): Promise<ArrayBuffer[]> {
    this.check();
    this.stats.blockingReadbacks++;
    this.stats.bytesRead += sources.reduce((sum, s) => sum + s.bytes, 0);
    const staging = sources.map(({ buffer, bytes }) => {
      const s = this.device.createBuffer({ size: Math.max(4, bytes), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'readback' });
      this.copy(buffer, 0, s, 0, bytes);
      return s;
    });
    this.device.pushErrorScope('validation');
    this.flush();
    const submitError = this.device.popErrorScope();
    try {
      await Promise.all(staging.map((s) => s.mapAsync(GPUMapMode.READ)));
      await this.settle();
      const error = await submitError;
      if (error) this.fail(new ConvkitError(`webgpu backend: a GPU command failed: ${error.message}`));
      this.check();
      return staging.map((s, i) => s.getMappedRange(0, sources[i].bytes).slice(0));
    } catch (e) {
      await this.settle();
      this.check();
      throw new ConvkitError(`webgpu backend: reading results back failed: ${(e as Error).message}`);
    } finally {
      for (const s of staging) s.destroy();
    }
  }

  /**
   * Non-blocking read-back: copies the first bytes of each buffer, after every pending command,
   * into one staging buffer of a ring, submits, and resolves with the bytes once the staging
   * buffer is mapped. Recording goes on meanwhile; staging buffers return to the ring when read,
   * so in steady state (one read-back in flight per step) no buffer is created.
   */
  readLater(sources: readonly { buffer: GPUBuffer; bytes: number }[]): Promise<ArrayBuffer[]> {
    this.check();
    const offsets: number[] = [];
    let total = 0;
    for (const s of sources) {
      offsets.push(total);
      total += Math.ceil(s.bytes / 4) * 4;
    }
    const staging = this.takeStaging(Math.max(4, total));
    sources.forEach((s, i) => this.copy(s.buffer, 0, staging, offsets[i], Math.ceil(s.bytes / 4) * 4));
    this.stats.readbacksLater++;
    this.stats.bytesRead += sources.reduce((sum, s) => sum + s.bytes, 0);
    this.device.pushErrorScope('validation');
    this.flush();
    const submitError = this.device.popErrorScope();
    const previous = this.lastReadLater;
    const result = (async () => {
      try {
        await staging.mapAsync(GPUMapMode.READ, 0, staging.size);
        // Resolve in call order even if the driver reports mappings out of order.
        await previous;
      } catch (e) {
        staging.destroy();
        await this.settle();
        this.check();
        throw new ConvkitError(`webgpu backend: reading results back failed: ${(e as Error).message}`);
      }
      const error = await submitError;
      if (error) this.fail(new ConvkitError(`webgpu backend: a GPU command failed: ${error.message}`));
      await this.settle();
      const range = staging.getMappedRange(0, Math.max(4, total));
      const out = sources.map((s, i) => range.slice(offsets[i], offsets[i] + s.bytes));
      staging.unmap();
      if (this.failure) staging.destroy();
      else this.stagingFree.push(staging);
      this.check();
      return out;
    })();
    this.lastReadLater = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** A free MAP_READ staging buffer of at least `bytes` (the smallest that fits), or a new one. */
  private takeStaging(bytes: number): GPUBuffer {
    let best = -1;
    this.stagingFree.forEach((b, i) => {
      if (b.size >= bytes && (best < 0 || b.size < this.stagingFree[best].size)) best = i;
    });
    if (best >= 0) return this.stagingFree.splice(best, 1)[0];
    this.stagingCreated++;
    return this.device.createBuffer({
      size: 2 ** Math.ceil(Math.log2(Math.max(bytes, 256))),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      label: 'readback ring',
    });
  }

  /**
   * Starts or stops timing kernels. With timestamp queries (the device has 'timestamp-query')
   * every dispatch runs in its own compute pass that writes its start and end time: per-kernel
   * GPU time. Without, each submission's wall time from submit to completion is charged to the
   * kernels in it, in proportion to their count. Profiling changes how work is encoded, so
   * use it to find the slow kernels, not for the steady-state speed.
   */
  profile(on: boolean, timestamps = true): void {
    this.flush();
    this.profiler = on ? new Profiler(this.device, timestamps && this.device.features.has('timestamp-query')) : null;
  }

  /** Per kernel label: dispatches and milliseconds while profiling (waits for the timings still in flight). */
  async kernelTimes(): Promise<KernelTimes> {
    return this.profiler ? this.profiler.collect() : { source: 'off', kernels: {} };
  }

  private timedPass(label: string): GPUComputePassEncoder {
    this.endPass();
    const p = this.profiler!;
    const writes = p.next(label);
    if (!writes) return this.computePass();
    return (this.pass = this.commandEncoder().beginComputePass({ timestampWrites: writes }));
  }

  /** Waits for pending compilation checks (so their errors are recorded). */
  async settle(): Promise<void> {
    while (this.compileChecks.size) await Promise.all([...this.compileChecks]);
  }

  /** The pipeline of a kernel variant, created on first use; compile errors are reported asynchronously. */
  compile(def: KernelDef): Compiled {
    let c = this.pipelines.get(def.key);
    if (c) return c;
    const code = header(def) + def.code;
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code, label: def.label });
    const layout = this.device.createBindGroupLayout({
      label: def.label,
      entries: [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } },
        ...def.bindings.map((b, i) => ({
          binding: i + 1,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: b.access === 'read' ? ('read-only-storage' as const) : ('storage' as const) },
        })),
      ],
    });
    const pipeline = this.device.createComputePipeline({
      label: def.label,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    const check = this.device.popErrorScope().then(async (error) => {
      if (!error) return;
      let detail = error.message;
      try {
        const info = await module.getCompilationInfo();
        const errors = info.messages.filter((m) => m.type === 'error');
        if (errors.length) detail = errors.map((m) => `line ${m.lineNum}:${m.linePos}: ${m.message}`).join('; ');
      } catch {
        /* keep the scope's message */
      }
      this.fail(new ConvkitError(`webgpu backend: kernel "${def.label}" failed to compile: ${detail}`), true);
    });
    const tracked = check.finally(() => this.compileChecks.delete(tracked));
    this.compileChecks.add(tracked);
    c = { pipeline, layout };
    this.pipelines.set(def.key, c);
    return c;
  }

  private watch(scope: Promise<GPUError | null>, what: string): void {
    const check = scope.then((error) => {
      if (error) this.fail(new ConvkitError(`webgpu backend: ${what} failed: ${error.message}`));
    });
    const tracked = check.finally(() => this.compileChecks.delete(tracked));
    this.compileChecks.add(tracked);
  }

  private commandEncoder(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder());
  }

  private computePass(): GPUComputePassEncoder {
    return (this.pass ??= this.commandEncoder().beginComputePass());
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }
}

/** Counters of what was asked of the GPU (reset with resetStats()). */
export interface DispatchStats {
  /** Compute dispatches recorded. */
  dispatches: number;
  /** Queue submissions. */
  submits: number;
  /** Buffer-to-buffer copies recorded (scratch copies, read-back copies). */
  copies: number;
  /** Host writes to device buffers (uploads, labels, lookup tables are not counted). */
  uploads: number;
  bytesUploaded: number;
  /** Read-backs the caller waited for (download: a mapAsync the next step cannot start before). */
  blockingReadbacks: number;
  /** Non-blocking read-backs (downloadLater: mapped while later work is recorded). */
  readbacksLater: number;
  /** Bytes copied back to the host by either kind. */
  bytesRead: number;
}

export function emptyStats(): DispatchStats {
  return { dispatches: 0, submits: 0, copies: 0, uploads: 0, bytesUploaded: 0, blockingReadbacks: 0, readbacksLater: 0, bytesRead: 0 };
}

/** Per-kernel timing: 'timestamp' (GPU time per dispatch), 'submit' (wall time per submission, shared out), 'off'. */
export interface KernelTimes {
  source: 'timestamp' | 'submit' | 'off';
  kernels: Record<string, { dispatches: number; ms: number }>;
}

/** Collects per-kernel times for Dispatcher.profile(). */
class Profiler {
  private readonly querySet: GPUQuerySet | null;
  private labels: string[] = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly totals = new Map<string, { dispatches: number; ms: number }>();

  constructor(
    private readonly device: GPUDevice,
    timestamps: boolean,
  ) {
    this.querySet = timestamps ? device.createQuerySet({ type: 'timestamp', count: 2 * TIMED_PER_SUBMIT, label: 'kernel timestamps' }) : null;
  }

  /** The timestamp writes of the next dispatch's pass (null when the query set is full or absent). */
  next(label: string): GPUComputePassTimestampWrites | null {
    const i = this.labels.length;
    this.labels.push(label);
    if (!this.querySet || i >= TIMED_PER_SUBMIT) return null;
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /** Before the submit: copies this submission's timestamps to a mappable buffer. */
  resolve(encoder: GPUCommandEncoder): { staging: GPUBuffer; labels: string[] } | { labels: string[] } {
    const labels = this.labels;
    this.labels = [];
    const timed = Math.min(labels.length, TIMED_PER_SUBMIT);
    if (!this.querySet || timed === 0) return { labels };
    const bytes = 16 * timed;
    const resolved = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const staging = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.resolveQuerySet(this.querySet, 0, 2 * timed, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, staging, 0, bytes);
    void this.device.queue.onSubmittedWorkDone().then(
      () => resolved.destroy(),
      () => resolved.destroy(),
    );
    return { staging, labels };
  }

  /** After the submit: reads the timestamps back, or times the submission on the host. */
  submitted(timing: { staging?: GPUBuffer; labels: string[] } | null, t0: number, done: Promise<void>): void {
    if (!timing || timing.labels.length === 0) return;
    const { labels } = timing;
    const staging = timing.staging;
    const work = staging
      ? staging.mapAsync(GPUMapMode.READ).then(() => {
          const t = new BigUint64Array(staging.getMappedRange());
          for (let i = 0; i < t.length / 2; i++) this.add(labels[i], Number(t[2 * i + 1] - t[2 * i]) / 1e6);
          staging.destroy();
        })
      : done.then(() => {
          const share = (performance.now() - t0) / labels.length;
          for (const l of labels) this.add(l, share);
        });
    const tracked: Promise<void> = work.catch(() => undefined).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  async collect(): Promise<KernelTimes> {
    while (this.pending.size) await Promise.all([...this.pending]);
    const kernels: KernelTimes['kernels'] = {};
    for (const [label, t] of [...this.totals].sort((a, b) => b[1].ms - a[1].ms)) kernels[label] = { ...t };
    return { source: this.querySet ? 'timestamp' : 'submit', kernels };
  }

  private add(label: string, ms: number): void {
    const t = this.totals.get(label) ?? { dispatches: 0, ms: 0 };
    t.dispatches++;
    t.ms += Math.max(0, ms);
    this.totals.set(label, t);
  }
}
