/**
 * The playground's Web Worker: owns the data, the backend and the network, trains in short
 * slices while running and answers the page's requests between slices, so the page never
 * waits on computation. It uses the convkit package's public API only.
 *
 * Its phase (loading, idle, training, paused, switching, failed) is one state machine
 * (phase.ts). Evaluations run beside training and are cancelled whenever the network they
 * were asked for goes away (new network, reset, another backend).
 *
 * Backends: the page picks one (auto / wasm / webgpu / ref) at start and may switch at any
 * time; the network moves with its weights and optimizer state. On a GPU backend every array
 * lives on the device (the library's "Residency" rule): the worker uploads what it writes and
 * downloads what it reads, one readback per training step. If the device is lost
 * (`backend.lost`) or a kernel fails (`backend.failure()`), the page is told ('backendFailed')
 * and can move the network to wasm from the host snapshot of the weights (network-run.ts).
 *
 * Memory: a network whose build fails for lack of memory leaves the network before it in
 * place, on a fresh backend — a wasm heap that grew cannot shrink, so the old one is dropped.
 *
 * Cancelling: building a network is synchronous (seconds for tens of millions of parameters),
 * so the page cancels a long build by replacing this worker. Before such a build the worker
 * sends the page a copy of the run it replaces (a RestorePoint), from which the new worker
 * goes on as if nothing had happened.
 */
import { type Backend, ConvkitError, type ImageDataset, Model, type ModelSpec, ResourceError, limitDataset } from 'convkit';
import { validateNetwork } from '../network-def.js';
import { presets } from '../presets.js';
import {
  type BackendInfo,
  type BackendRequest,
  type FromWorker,
  type ModelInfo,
  type Replies,
  type Request,
  type RestorePoint,
  type ToWorker,
  type TrainSettings,
  type WorkerEvent,
  type WorkerInit,
  defaultSettings,
} from '../protocol.js';
import { fetchMnist } from './mnist-data.js';
import { readModelFile } from './model-file.js';
import { NetworkRun, type RunState } from './network-run.js';
import { openBackend } from './open-backend.js';
import { WorkerPhase } from './phase.js';
import { testReport } from './test-report.js';
import { ViewBudget } from './view-budget.js';
import { yieldToEvents } from './yield.js';

/** Train this long between looks at the message queue. */
const SLICE_MS = 30;
/** Stats (and with them a host snapshot of the weights) this often while training. */
const STATS_EVERY_MS = 250;
/** Test reports on slow backends (ref, a software GPU) cover this many test digits. */
const SLOW_REPORT_LIMIT = 2000;
/** Building draws each parameter at about 30 ns: from this size on it takes long enough that the page offers to cancel. */
const CANCELLABLE_PARAMETERS = 1_000_000;
/** The run a cancellable build replaces is copied to the page (weights and optimizer state) up to this size. */
const RESTORABLE_PARAMETERS = 16_000_000;

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;

const phase = new WorkerPhase((from, to) => {
  emit({ type: 'phase', phase: to.name });
  if ((from.name === 'training') !== (to.name === 'training')) emit({ type: 'state', running: to.name === 'training' });
});

/** What the worker was started with. */
let init: WorkerInit;
let backend: Backend;
let backendInfo: BackendInfo;
let data: { train: ImageDataset; test: ImageDataset } | undefined;
let settings: TrainSettings = { ...defaultSettings };
let run: NetworkRun | undefined;
let seed = 1;
/** The training loop's promise: a new loop starts only after the previous one has stopped. */
let loopDone: Promise<void> = Promise.resolve();
/** The backend switch in progress: later requests wait for it. */
let switching: Promise<unknown> = Promise.resolve();
/** Resolves once the backend and the first network are there; requests wait for it. */
let ready: Promise<void> | undefined;
/** Resolves once the digits are here and the current network has them; requests that need them wait for it. */
let digits: Promise<{ train: ImageDataset; test: ImageDataset }> | undefined;
/** Cancels the evaluation in progress (its network went away, or the page asked). */
let evaluation: AbortController | undefined;
/** While training, layer views take at most this share of the worker's time. */
const views = new ViewBudget(0.05);
/** Requests still using a backend, so a replaced backend is disposed only once they finish. */
const users = new Map<Backend, number>();
const retired = new Set<Backend>();

function emit(event: WorkerEvent): void {
  scope.postMessage({ type: 'event', event });
}

scope.onmessage = (e) => {
  const message = e.data;
  if ('init' in message) {
    init = message.init;
    ready = initialise();
    return;
  }
  const { id, request } = message;
  (async () => {
    // Cancelling must not wait behind the work it cancels.
    if (request.kind === 'cancelEvaluation') return void evaluation?.abort(new Error('evaluation cancelled'));
    await ready;
    if (request.kind === 'backend')
      return (switching = switching.then(
        () => switchBackend(request.name),
        () => switchBackend(request.name),
      ));
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

/**
 * The backend, then the pretrained network (drawings are classified from then on), while the
 * digits arrive in parts: the test set first, then the training set.
 */
async function initialise(): Promise<void> {
  digits = loadData();
  digits.catch(() => undefined);
  try {
    await useBackend(init.backend);
    if (!(init.restore && restore(init.restore))) await installFirstNetwork();
    phase.send({ type: 'loaded' });
  } catch (error) {
    if (phase.failed) return;
    emit({ type: 'error', message: describe(error), fatal: true });
    throw error;
  }
}

async function loadData(): Promise<{ train: ImageDataset; test: ImageDataset }> {
  try {
    const progress = (part: 'train' | 'test') => throttled((loaded: number, total: number) => emit({ type: 'data', part, loaded, total }));
    const test = await fetchMnist(init.baseUrl, 'test', progress('test'));
    const train = await fetchMnist(init.baseUrl, 'train', progress('train'));
    data = { train, test };
    await ready?.catch(() => undefined);
    run?.attachData(train, test);
    emit({ type: 'ready', trainCount: train.count, testCount: test.count });
    if (run) emit({ type: 'stats', stats: run.stats() });
    return data;
  } catch (error) {
    emit({ type: 'error', message: `the MNIST digits could not be loaded: ${describe(error)}`, fatal: true });
    throw error;
  }
}

/** Progress at most every 100 ms, and always the last. */
function throttled(report: (loaded: number, total: number) => void): (loaded: number, total: number) => void {
  let last = 0;
  return (loaded, total) => {
    const t = performance.now();
    if (t - last < 100 && loaded !== total) return;
    last = t;
    report(loaded, total);
  };
}

/** The shipped LeNet-5, or if it cannot be loaded, the ConvNetJS net with fresh weights. */
async function installFirstNetwork(): Promise<void> {
  try {
    await loadPretrained();
  } catch (error) {
    if (phase.failed) return;
    // The page still works without the shipped model.
    install(new Model(presets[0].spec, backend, seed), `${presets[0].label} (pretrained model unavailable: ${describe(error)})`);
  }
}

/** Goes on with the network of a worker that was replaced (a cancelled build); false if it cannot be built here. */
function restore(point: RestorePoint): boolean {
  try {
    seed = point.seed;
    settings = { ...point.settings };
    install(new Model(point.spec, backend, seed), point.origin, point.state);
    return true;
  } catch {
    return false;
  }
}

async function handle(request: Request): Promise<Replies[Request['kind']]> {
  switch (request.kind) {
    case 'start':
      await digits;
      return startLoop();
    case 'pause':
      phase.send({ type: 'pause' });
      return;
    case 'settings':
      settings = { ...request.settings };
      // After a failure the settings apply to the run that the move to another backend builds.
      if (!phase.failed) await using((r) => r.applySettings(settings));
      return;
    case 'reset':
      return build(
        current().model.spec,
        current().model.parameterCount(),
        (b) => new Model(current().model.spec, b, ++seed),
        () => `${current().model.name}, fresh weights (seed ${seed})`,
      );
    case 'network':
      return build(
        request.spec,
        validateNetwork(request.spec).parameters,
        (b) => new Model(request.spec, b, ++seed),
        () => `${request.spec.name}, defined in the editor`,
      );
    case 'inspect':
      // A drawing needs only the network; a test digit waits for the digits.
      if (request.source.kind === 'test') await digits;
      return asView((r) => r.inspector.inspect(request.source));
    case 'evaluate':
      return evaluate();
    case 'strip':
      await digits;
      return asView((r) => r.strip());
    case 'save':
      // After a failure, the latest host snapshot is what is left of the weights: that is saved.
      return using((r) => r.save(phase.failed));
    case 'load':
      return loadFile(request.bytes, request.fileName, { newHead: request.newHead });
    case 'pretrained':
      return loadPretrained(request.newHead);
    case 'freeze':
      // Between two steps: the session is rebuilt with the new frozen nodes and the same optimizer state.
      return betweenSteps(() =>
        using(async (r) => {
          await r.freeze(request.until);
          const info = r.info();
          emit({ type: 'model', info, moved: true });
          return info;
        }),
      );
    case 'firstConv':
      return using((r) => r.firstConvKernels());
    case 'topPatches':
      await digits;
      return asView((r) => r.topPatches(request.node, request.channel));
    case 'backend':
      return switchBackend(request.name);
    case 'debugLoseDevice':
      if (!('loseDevice' in backend) || typeof backend.loseDevice !== 'function') throw new Error(`the active backend is ${backend.name}, not webgpu`);
      backend.loseDevice();
      return;
    case 'cancelEvaluation':
      evaluation?.abort(new Error('evaluation cancelled'));
      return;
  }
}

function current(): NetworkRun {
  if (!run) throw new Error('no network yet');
  return run;
}

function slow(b: Backend): boolean {
  return b.name === 'ref' || b.emulated === true;
}

/** The whole test set through the current network; cancelled when that network goes away. */
async function evaluate(): Promise<Replies['evaluate']> {
  const { test } = await digits!;
  evaluation?.abort(new Error('evaluation cancelled: another one started'));
  const controller = (evaluation = new AbortController());
  try {
    // The reference backend and a GPU emulated on the CPU (SwiftShader) are 30–50× slower than wasm: their reports cover the first test digits only.
    return await using((r) =>
      testReport(r.reportReplica, slow(r.backend) ? limitDataset(test, SLOW_REPORT_LIMIT) : test, r.examples, yieldToEvents, controller.signal),
    );
  } finally {
    if (evaluation === controller) evaluation = undefined;
  }
}

/** Work for a view (layer views, the strip, patches): while training it waits for its share of the time, so training keeps at least 95 %. */
function asView<T>(f: (r: NetworkRun) => T | Promise<T>): Promise<T> {
  return phase.training ? views.run(() => using(f)) : using(f);
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
  evaluation?.abort(new Error('evaluation cancelled: the network changed'));
  run = new NetworkRun(model, origin, data?.train, data?.test, settings, seed, resume);
  phase.send({ type: 'network' });
  const info = run.info();
  emit({ type: 'model', info, moved: resume !== undefined });
  emit({ type: 'stats', stats: run.stats() });
  return info;
}

/**
 * Builds a network of about `parameters` parameters in the worker (never on the page) and
 * installs it. A build that fails for lack of memory (not a mistake in the definition) leaves
 * the current network in place, moved to a fresh backend: the failed build's memory is
 * released with the old one. A long build may be cancelled by the page (see the module comment).
 */
async function build(spec: ModelSpec, parameters: number, make: (b: Backend) => Model, origin: () => string): Promise<ModelInfo> {
  if (phase.failed) phase.send({ type: 'network' }); // refuses, saying why
  const cancellable = parameters >= CANCELLABLE_PARAMETERS;
  const restore = cancellable ? await restorePoint() : undefined;
  emit({ type: 'building', name: spec.name, parameters, cancellable, restore });
  try {
    // Let the page hear of it (and show progress) before the worker is busy building.
    await yieldToEvents();
    let model: Model;
    try {
      model = make(backend);
    } catch (error) {
      // A mistake in the definition or the file leaves the backend as it was; running out of memory does not.
      if (!(error instanceof ConvkitError) || error instanceof ResourceError) await renewBackend();
      throw error;
    }
    return install(model, origin());
  } finally {
    emit({ type: 'built' });
  }
}

/** The current run as a new worker would go on with it, if there is one small enough to copy. */
async function restorePoint(): Promise<RestorePoint | undefined> {
  const r = run;
  if (!r || r.model.parameterCount() > RESTORABLE_PARAMETERS || r.backend.failure?.() !== undefined) return undefined;
  // Between two steps, so the weights and the optimizer state belong together.
  const state = await betweenSteps(() => using((x) => x.exportState()));
  return { spec: r.model.spec, origin: r.origin, seed, settings, state };
}

/** `origin`: what the status line calls it (default: the file's name); a new head is added to it. */
function loadFile(bytes: Uint8Array, fileName: string, options: { origin?: string; newHead?: boolean } = {}): Promise<ModelInfo> {
  let spec: ModelSpec | undefined;
  return build(
    { name: fileName } as ModelSpec,
    bytes.length / 4, // a model file is mostly its float32 weights
    (b) =>
      readModelFile(bytes, fileName, b, {
        newHead: options.newHead,
        checked: (s) => {
          spec = s;
        },
      }),
    () => `${options.origin ?? `${spec?.name ?? fileName} from ${fileName}`}${options.newHead ? ', with a new 10-class head' : ''}`,
  );
}

async function loadPretrained(newHead = false): Promise<ModelInfo> {
  const url = new URL('lenet5.convkit', init.baseUrl);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not fetch ${url.pathname} (${response.status})`);
  return loadFile(new Uint8Array(await response.arrayBuffer()), 'lenet5.convkit', { origin: 'pretrained LeNet-5 (shipped with the page)', newHead });
}

// Backends.

/** Creates the requested backend, makes it the current one and tells the page. */
async function useBackend(requested: BackendRequest): Promise<void> {
  const opened = await openBackend(requested, init.wasmMemoryMiB ? { maximumMemoryMiB: init.wasmMemoryMiB } : {});
  const b = opened.backend;
  backend = b;
  backendInfo = { backend: b.name, requested, note: opened.note };
  void b.lost?.then((why) => {
    if (b === backend) reportFailure(why.charAt(0).toUpperCase() + why.slice(1));
  });
  emit({ type: 'backend', info: backendInfo });
}

/** Moves the current network to a new backend (the old one disposed once unused) and goes on training if it was. */
async function switchBackend(requested: BackendRequest): Promise<BackendInfo> {
  phase.send({ type: 'switch' });
  evaluation?.abort(new Error('evaluation cancelled: the backend changed'));
  try {
    await loopDone;
    const old = backend;
    const oldRun = run;
    let state: RunState | undefined;
    const broken = old.failure?.() !== undefined;
    if (oldRun && !broken) {
      try {
        state = await using((r) => r.exportState());
      } catch (error) {
        if (old.failure?.() === undefined) throw error;
      }
    }
    // A broken backend's device copies are gone: continue from the latest host snapshot.
    if (oldRun && !state) state = oldRun.salvage();
    await useBackend(requested);
    retire(old);
    if (oldRun && state) install(new Model(oldRun.model.spec, backend, seed), oldRun.origin, state);
    else if (!run) await installFirstNetwork(); // the old backend failed before a network was ready
  } finally {
    if (phase.phase.name === 'switching') phase.send({ type: 'switched' });
  }
  if (phase.training) await startLoop(true);
  return backendInfo;
}

/** After running out of memory: the same kind of backend, fresh, with the current network moved onto it. */
async function renewBackend(): Promise<void> {
  const resume = phase.training;
  phase.send({ type: 'pause' });
  await loopDone;
  await switchBackend(backendInfo.requested);
  if (resume) await startLoop();
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
  } catch {
    /* a lost device may refuse; nothing is left to release */
  }
}

/** After an error: if it came from a backend that no longer works, tell the page (once). */
function noteFailure(b: Backend): boolean {
  if (b !== backend) return false;
  if (phase.failed) return true;
  const failure = b.failure?.();
  if (!failure) return false;
  reportFailure(describe(failure));
  return true;
}

/** Resolves once the backend reports its loss, or after a second, whichever is first. */
function settled(b: Backend): Promise<unknown> {
  return Promise.race([b.lost ?? Promise.resolve(), new Promise((resolve) => setTimeout(resolve, 1000))]);
}

function reportFailure(message: string): void {
  if (phase.failed) return;
  // The page hears of the failure before the stop, so it does not start an evaluation.
  emit({ type: 'backendFailed', backend: backend.name, message, examples: run?.snapshot.examples ?? 0 });
  evaluation?.abort(new Error('evaluation cancelled: the backend stopped working'));
  phase.send({ type: 'fail', message });
}

// Training.

/** Work waiting for the training loop's next step boundary. */
const atBoundary: (() => Promise<void>)[] = [];

/** Runs `f` between two training steps (at once when not training). */
function betweenSteps<T>(f: () => Promise<T>): Promise<T> {
  if (!phase.training) return f();
  return new Promise<T>((resolve, reject) => atBoundary.push(() => f().then(resolve, reject)));
}

async function runBoundaryWork(): Promise<void> {
  while (atBoundary.length > 0) await atBoundary.shift()!();
}

/** `afterSwitch`: the switch already put the phase back to training. */
async function startLoop(afterSwitch = false): Promise<void> {
  await loopDone;
  if (!afterSwitch) {
    if (!current().hasData) throw new Error('the MNIST digits are still loading: training starts once they are here');
    if (phase.training) return;
    phase.send({ type: 'start' });
  }
  loopDone = runLoop();
}

async function runLoop(): Promise<void> {
  let lastStats = 0;
  let r: NetworkRun | undefined;
  try {
    current().throughput.clear();
    while (phase.training) {
      r = current(); // may change between slices (reset, new network)
      const end = performance.now() + SLICE_MS;
      do {
        // When stats are due, the step's readback also brings the weights home (the snapshot).
        const statsDue = performance.now() - lastStats > STATS_EVERY_MS;
        await r.step({ snapshot: statsDue });
        await runBoundaryWork();
        if (statsDue) {
          emit({ type: 'stats', stats: r.stats() });
          lastStats = performance.now();
        }
      } while (phase.training && r === run && performance.now() < end);
      await yieldToEvents();
    }
  } catch (error) {
    // A destroyed device fails the pending readback before it reports the loss: give it a moment.
    if (r?.backend.lost) await settled(r.backend);
    if (!(r && noteFailure(r.backend))) {
      phase.send({ type: 'stopped' });
      emit({ type: 'error', message: describe(error), fatal: false });
    }
  }
  await runBoundaryWork();
  if (!run) return;
  emit({ type: 'stats', stats: run.stats() });
  if (!phase.failed) await run.refreshSnapshot().catch(() => undefined);
}

function describe(error: unknown): string {
  if (error instanceof ConvkitError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
