/**
 * The playground's Web Worker: owns the data, the backend and the network, trains in short
 * slices while running and answers the page's requests between slices, so the page never
 * waits on computation.
 */
import { type Backend, ConvkitError, type ImageDataset, Model, type ModelSpec, decodeModel, limitDataset } from '../../../src/index.js';
import { validateNetwork } from '../network-def.js';
import { presets } from '../presets.js';
import { type FromWorker, type ModelInfo, type Replies, type Request, type ToWorker, type TrainSettings, type WorkerEvent, defaultSettings } from '../protocol.js';
import { chooseBackend } from './backend-choice.js';
import { fetchMnist } from './mnist-data.js';
import { NetworkRun } from './network-run.js';
import { testReport } from './test-report.js';
import { yieldToEvents } from './yield.js';

/** Train this long between looks at the message queue. */
const SLICE_MS = 30;
const STATS_EVERY_MS = 250;
const REF_REPORT_LIMIT = 2000;

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;

let backend: Backend;
let train: ImageDataset;
let test: ImageDataset;
let baseUrl = '';
let settings: TrainSettings = { ...defaultSettings };
let run: NetworkRun | undefined;
let running = false;
/** Identifies the live training loop: a loop from before a quick pause/start exits instead of running twice. */
let loopId = 0;
let seed = 1;
/** Resolves once data and backend are loaded; requests wait for it. */
let ready: Promise<void> | undefined;

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
    return handle(request);
  })().then(
    (result) => {
      const transfer = result && typeof result === 'object' && 'bytes' in result && result.bytes instanceof Uint8Array ? [result.bytes.buffer] : [];
      scope.postMessage({ type: 'reply', id, ok: true, result }, transfer as Transferable[]);
    },
    (error: unknown) => scope.postMessage({ type: 'reply', id, ok: false, error: describe(error) }),
  );
};

async function initialise(only?: 'ref'): Promise<void> {
  try {
    const chosen = await chooseBackend({ only });
    backend = chosen.backend;
    [train, test] = await Promise.all([fetchMnist(baseUrl, 'train'), fetchMnist(baseUrl, 'test')]);
    emit({ type: 'ready', backend: backend.name, backendNote: chosen.note, trainCount: train.count, testCount: test.count });
    try {
      await loadPretrained();
    } catch (error) {
      // The page still works without the shipped model: start from the ConvNetJS net.
      install(new Model(presets[0].spec, backend, seed), `${presets[0].label} (pretrained model unavailable: ${describe(error)})`);
    }
  } catch (error) {
    emit({ type: 'error', message: describe(error), fatal: true });
    throw error;
  }
}

async function handle(request: Request): Promise<Replies[Request['kind']]> {
  switch (request.kind) {
    case 'start':
      if (!running) void runLoop();
      return;
    case 'pause':
      setRunning(false);
      return;
    case 'settings':
      settings = { ...request.settings };
      current().session.applySettings(settings);
      return;
    case 'reset':
      return void install(new Model(current().model.spec, backend, ++seed), `${current().model.name}, fresh weights (seed ${seed})`);
    case 'network':
      return installSpec(request.spec);
    case 'inspect':
      return current().inspector.inspect(request.source);
    case 'evaluate':
      // The reference backend is ~50× slower: its report covers the first test digits only.
      return testReport(current().reportReplica, backend.name === 'ref' ? limitDataset(test, REF_REPORT_LIMIT) : test, current().session.examples, yieldToEvents);
    case 'save':
      return current().save();
    case 'load':
      return loadFile(request.bytes, request.fileName);
    case 'pretrained':
      return loadPretrained();
    case 'firstConv':
      return current().firstConvKernels();
  }
}

function current(): NetworkRun {
  if (!run) throw new Error('no network yet');
  return run;
}

function install(model: Model, origin: string): ModelInfo {
  run = new NetworkRun(model, origin, train, test, settings, seed);
  const info = run.info();
  emit({ type: 'model', info });
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

function setRunning(value: boolean): void {
  if (running === value) return;
  running = value;
  emit({ type: 'state', running });
}

async function runLoop(): Promise<void> {
  const id = ++loopId;
  setRunning(true);
  current().throughput.clear();
  let lastStats = 0;
  try {
    while (running && id === loopId) {
      const r = current(); // may change between slices (reset, new network)
      const end = performance.now() + SLICE_MS;
      do r.step(); while (performance.now() < end);
      if (performance.now() - lastStats > STATS_EVERY_MS) {
        emit({ type: 'stats', stats: r.stats() });
        lastStats = performance.now();
      }
      await yieldToEvents();
    }
  } catch (error) {
    setRunning(false);
    emit({ type: 'error', message: describe(error), fatal: false });
  }
  if (run && id === loopId) emit({ type: 'stats', stats: run.stats() });
}

function describe(error: unknown): string {
  if (error instanceof ConvkitError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
