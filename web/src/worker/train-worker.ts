/**
 * The playground's Web Worker: owns the data, the backend and the network, trains in short
 * slices while running and answers the page's requests between slices, so the page never
 * waits on computation.
 *
 * Backends: the page picks one (auto / wasm / webgpu / ref) at start and may switch at any
 * time; the network moves with its weights and optimizer state. On a GPU backend every array
 * lives on the device (see src/backend/backend.ts, "Residency"): the worker uploads what it
 * writes and downloads what it reads, one readback per training step. If the GPU stops working
 * (device lost, a kernel that does not compile) the page is told ('backendFailed') and can move
 * the network to wasm from the host snapshot of the weights the run keeps (network-run.ts).
 */
import { type Backend, ConvkitError, type ImageDataset, Model, type ModelSpec, decodeModel, limitDataset } from '../../../src/index.js';
import type { WebGpuBackend } from '../../../src/backend/webgpu/webgpu.js';
import { validateNetwork } from '../network-def.js';
import { presets } from '../presets.js';
import {
  type BackendInfo, type BackendRequest, type FromWorker, type ModelInfo, type Replies, type Request, type ToWorker, type TrainSettings, type WorkerEvent,
  defaultSettings,
} from '../protocol.js';
import { chooseBackend } from './backend-choice.js';
import { fetchMnist } from './mnist-data.js';
import { NetworkRun, type RunState } from './network-run.js';
import { testReport } from './test-report.js';
import { yieldToEvents } from './yield.js';

/** Train this long between looks at the message queue. */
const SLICE_MS = 30;
/** Stats (and with them a host snapshot of the weights) this often while training. */
const STATS_EVERY_MS = 250;
/** Test reports on slow backends (ref, a software GPU) cover this many test digits. */
const SLOW_REPORT_LIMIT = 2000;

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;

let backend: Backend;
let backendInfo: BackendInfo;
/** Set when the current backend stopped working; cleared by moving to another one. */
let failure: { message: string; wasRunning: boolean } | null = null;
let train: ImageDataset;
let test: ImageDataset;
let baseUrl = '';
let settings: TrainSettings = { ...defaultSettings };
let run: NetworkRun | undefined;
let running = false;
/** The training loop's promise: a new loop starts only after the previous one has stopped. */
let loopDone: Promise<void> = Promise.resolve();
/** The backend switch in progress: later requests wait for it. */
let switching: Promise<unknown> = Promise.resolve();
/** Training goes on after the switch in progress (it was running; no pause since). */
let resumeAfterSwitch = false;
let seed = 1;
/** Resolves once data and backend are loaded; requests wait for it. */
let ready: Promise<void> | undefined;
/** Requests still using a backend, so a replaced backend is disposed only once they finish. */
const users = new Map<Backend, number>();
const retired = new Set<Backend>();

function emit(event: WorkerEvent): void {
  scope.postMessage({ type: 'event', event });
}

scope.onmessage = (e) => {
  const message = e.data;
  if ('init' in message) {
    baseUrl = message.init.baseUrl;
    ready = initialise(message.init.backend);
    return;
  }
  const { id, request } = message;
  (async () => {
    await ready;
    if (request.kind === 'backend') return (switching = switching.then(() => switchBackend(request.name), () => switchBackend(request.name)));
    if (request.kind !== 'pause') await switching.catch(() => undefined);
    return handle(request);
  })().then(
    (result) => {
      const transfer = result && typeof result === 'object' && 'bytes' in result && result.bytes instanceof Uint8Array ? [result.bytes.buffer] : [];
      scope.postMessage({ type: 'reply', id, ok: true, result }, transfer as Transferable[]);
    },
    (error: unknown) => scope.postMessage({ type: 'reply', id, ok: false, error: describe(error) }),
  );
};

async function initialise(requested: BackendRequest): Promise<void> {
  try {
    await useBackend(requested);
    [train, test] = await Promise.all([fetchMnist(baseUrl, 'train'), fetchMnist(baseUrl, 'test')]);
    emit({ type: 'ready', trainCount: train.count, testCount: test.count });
    await installFirstNetwork();
  } catch (error) {
    if (failure) return;
    emit({ type: 'error', message: describe(error), fatal: true });
    throw error;
  }
}

/** The shipped LeNet-5, or if it cannot be loaded, the ConvNetJS net with fresh weights. */
async function installFirstNetwork(): Promise<void> {
  try {
    await loadPretrained();
  } catch (error) {
    if (failure) return;
    // The page still works without the shipped model.
    install(new Model(presets[0].spec, backend, seed), `${presets[0].label} (pretrained model unavailable: ${describe(error)})`);
  }
}

async function handle(request: Request): Promise<Replies[Request['kind']]> {
  switch (request.kind) {
    case 'start':
      healthy();
      return startLoop();
    case 'pause':
      if (failure) failure.wasRunning = false;
      resumeAfterSwitch = false;
      return setRunning(false);
    case 'settings':
      settings = { ...request.settings };
      // After a failure the settings apply to the run that the move to another backend builds.
      if (!failure) await using((r) => r.session.applySettings(settings));
      return;
    case 'reset':
      healthy();
      return void install(new Model(current().model.spec, backend, ++seed), `${current().model.name}, fresh weights (seed ${seed})`);
    case 'network':
      healthy();
      return installSpec(request.spec);
    case 'inspect':
      return using((r) => r.inspector.inspect(request.source));
    case 'evaluate':
      // The reference backend and a GPU emulated on the CPU (SwiftShader) are 30–50× slower than wasm: their reports cover the first test digits only.
      return using((r) => testReport(r.reportReplica, slow(r.backend) ? limitDataset(test, SLOW_REPORT_LIMIT) : test, r.session.examples, yieldToEvents));
    case 'save':
      // After a failure, the latest host snapshot is what is left of the weights: that is saved.
      return using((r) => r.save(failure !== null));
    case 'load':
      healthy();
      return loadFile(request.bytes, request.fileName);
    case 'pretrained':
      healthy();
      return loadPretrained();
    case 'firstConv':
      return using((r) => r.firstConvKernels());
    case 'backend':
      return switchBackend(request.name);
    case 'debugLoseDevice':
      if (backend.name !== 'webgpu') throw new Error(`the active backend is ${backend.name}, not webgpu`);
      (backend as WebGpuBackend).device.destroy();
      return;
  }
}

function current(): NetworkRun {
  if (!run) throw new Error('no network yet');
  return run;
}

/** Refuses work that needs the backend while it is broken. */
function healthy(): void {
  if (failure) throw new Error(`the ${backend.name} backend stopped working (${failure.message}); continue on another backend first`);
}

function slow(b: Backend): boolean {
  return b.name === 'ref' || (b.name === 'webgpu' && (b as WebGpuBackend).info.software);
}

/** Runs `f` on the current network, holding its backend (a switch disposes it only afterwards); a GPU failure is reported. */
async function using<T>(f: (r: NetworkRun) => T | Promise<T>): Promise<T> {
  const r = current();
  const b = r.backend;
  users.set(b, (users.get(b) ?? 0) + 1);
  try {
    return await f(r);
  } catch (error) {
    noteFailure(b);
    throw error;
  } finally {
    const left = users.get(b)! - 1;
    if (left > 0) users.set(b, left);
    else {
      users.delete(b);
      if (retired.has(b)) dispose(b);
    }
  }
}

function install(model: Model, origin: string, resume?: RunState): ModelInfo {
  run = new NetworkRun(model, origin, train, test, settings, seed, resume);
  const info = run.info();
  emit({ type: 'model', info, moved: resume !== undefined });
  emit({ type: 'stats', stats: run.stats() });
  return info;
}

function installSpec(spec: ModelSpec): ModelInfo {
  validateNetwork(spec);
  return install(new Model(spec, backend, ++seed), `${spec.name}, defined in the editor`);
}

function loadFile(bytes: Uint8Array, fileName: string, origin?: string): ModelInfo {
  const { model } = decodeModel(bytes, fileName, backend);
  validateNetwork(model.spec);
  return install(model, origin ?? `${model.name} from ${fileName}`);
}

async function loadPretrained(): Promise<ModelInfo> {
  const url = new URL('lenet5.convkit', baseUrl);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not fetch ${url.pathname} (${response.status})`);
  return loadFile(new Uint8Array(await response.arrayBuffer()), 'lenet5.convkit', 'pretrained LeNet-5 (shipped with the page)');
}

// Backends.

/** Creates the requested backend, makes it the current one and tells the page. */
async function useBackend(requested: BackendRequest): Promise<void> {
  const chosen = await chooseBackend(requested);
  const b = chosen.backend;
  backend = b;
  failure = null;
  backendInfo = { backend: b.name, requested, note: chosen.note };
  if (b.name === 'webgpu') {
    void (b as WebGpuBackend).device.lost.then((lost) => {
      if (b === backend) reportFailure(`The GPU device was lost (${lost.reason}${lost.message ? `: ${lost.message.trim()}` : ''})`);
    });
  }
  emit({ type: 'backend', info: backendInfo });
}

/** Moves the current network to a new backend (the old one disposed once unused) and goes on training if it was. */
async function switchBackend(requested: BackendRequest): Promise<BackendInfo> {
  resumeAfterSwitch = running || (failure?.wasRunning ?? false);
  setRunning(false);
  await loopDone;
  const old = backend;
  const oldRun = run;
  let state: RunState | undefined;
  if (oldRun && !failure) {
    try {
      state = await using((r) => r.exportState());
    } catch (error) {
      if (!failure) throw error;
    }
  }
  // A broken backend's device copies are gone: continue from the latest host snapshot.
  if (oldRun && !state) state = oldRun.salvage();
  await useBackend(requested);
  retire(old);
  if (oldRun && state) install(new Model(oldRun.model.spec, backend, seed), oldRun.origin, state);
  else if (!run && train) await installFirstNetwork(); // the old backend failed before a network was ready
  if (resumeAfterSwitch) await startLoop();
  return backendInfo;
}

function retire(b: Backend): void {
  if (b === backend) return;
  retired.add(b);
  if (!users.has(b)) dispose(b);
}

function dispose(b: Backend): void {
  retired.delete(b);
  try {
    b.dispose?.();
  } catch { /* a lost device may refuse; nothing is left to release */ }
}

/** After an error: if it came from a GPU backend that no longer works, tell the page (once). */
function noteFailure(b: Backend): boolean {
  if (b !== backend || b.name !== 'webgpu') return false;
  if (failure) return true;
  try {
    // Throws the backend's recorded failure (device lost, compile error, failed command), if any.
    (b as WebGpuBackend).flush();
    return false;
  } catch (error) {
    reportFailure(describe(error));
    return true;
  }
}

/** Resolves once the device is lost, or its queue has drained, whichever is first (at most a second). */
function settled(b: WebGpuBackend): Promise<unknown> {
  return Promise.race([
    b.device.lost, b.device.queue.onSubmittedWorkDone().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000)),
  ]);
}

function reportFailure(message: string): void {
  if (failure) return;
  failure = { message, wasRunning: running };
  // The page hears of the failure before the stop, so it does not start an evaluation.
  emit({ type: 'backendFailed', backend: backend.name, message, examples: run?.snapshot.examples ?? 0 });
  setRunning(false);
}

// Training.

function setRunning(value: boolean): void {
  if (running === value) return;
  running = value;
  emit({ type: 'state', running });
}

async function startLoop(): Promise<void> {
  await loopDone;
  if (running || failure) return;
  loopDone = runLoop();
}

async function runLoop(): Promise<void> {
  setRunning(true);
  let lastStats = 0;
  let r: NetworkRun | undefined;
  try {
    current().throughput.clear();
    while (running) {
      r = current(); // may change between slices (reset, new network)
      const end = performance.now() + SLICE_MS;
      do {
        // When stats are due, the step's readback also brings the weights home (the snapshot).
        const statsDue = performance.now() - lastStats > STATS_EVERY_MS;
        await r.step({ snapshot: statsDue });
        if (statsDue) {
          emit({ type: 'stats', stats: r.stats() });
          lastStats = performance.now();
        }
      } while (running && r === run && performance.now() < end);
      await yieldToEvents();
    }
  } catch (error) {
    // A destroyed device fails the pending readback before it reports the loss: give it a moment.
    if (r?.backend.name === 'webgpu') await settled(r.backend as WebGpuBackend);
    if (!(r && noteFailure(r.backend))) {
      setRunning(false);
      emit({ type: 'error', message: describe(error), fatal: false });
    }
  }
  if (!run) return;
  emit({ type: 'stats', stats: run.stats() });
  if (!failure) await run.refreshSnapshot().catch(() => undefined);
}

function describe(error: unknown): string {
  if (error instanceof ConvkitError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
