/**
 * The playground page: wires the controls and views to the training worker. All computation
 * happens in the worker (see worker/train-worker.ts); this thread only renders.
 */
import type { ModelSpec } from 'convkit';
import { type OverlayKind, PAGE_MODEL_MAX_PARAMETERS, PageModel } from './page-model.js';
import {
  type BackendInfo,
  type BackendRequest,
  defaultSettings,
  isBackendRequest,
  type LayerReport,
  type ModelInfo,
  type TrainSettings,
  type WorkerEvent,
  type WorkerInit,
} from './protocol.js';
import { parseTestIndex, queryHasSettings, settingsFromQuery, settingsToQuery } from './settings-query.js';
import { TrainingCharts } from './ui/charts.js';
import { DrawPad } from './ui/draw-pad.js';
import { ConvolutionExplainer } from './ui/explainer.js';
import { LayerViews } from './ui/layer-views.js';
import { divergingGradient } from './ui/maps.js';
import { NetworkEditor } from './ui/network-editor.js';
import { NetworkPath } from './ui/network-path.js';
import { drawOverlay } from './ui/overlay-view.js';
import { NetworkOverview } from './ui/overview.js';
import { confidenceCue } from './ui/scales.js';
import { setUpTabs } from './ui/tabs.js';
import { renderPredictions, renderStrip } from './ui/predictions.js';
import { renderProbabilities } from './ui/probability-bars.js';
import { downloadBytes, readPickedFile } from './ui/save-load.js';
import { SettingsForm } from './ui/settings-form.js';
import { renderStats } from './ui/stats-view.js';
import { BuildCancelled, WorkerClient } from './worker-client.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** While training, the layer views and the drawn digit's classification refresh this often. */
const LAYERS_REFRESH_MS = 2000;

/** Learning rate for a network that is already trained: fine-tuning keeps its accuracy (the default 0.02 costs the pretrained LeNet-5 about 0.3 %). */
const FINE_TUNE_LR = 0.002;

let running = false;
let started = false;
document.documentElement.style.setProperty('--diverging', divergingGradient);
const settingsForm = new SettingsForm($('settings') as HTMLFormElement);
// Settings from the link (?lr=…&momentum=…): checked; a bad value is named and the defaults stay.
const query = new URLSearchParams(location.search);
try {
  settingsForm.write(settingsFromQuery(query));
} catch (e) {
  settingsForm.write(defaultSettings);
  showSettingsError(`The link's settings were not used: ${(e as Error).message}`);
}
/** The user chose the learning rate (link or form): a loaded network does not change it. */
let lrChosen = queryHasSettings(query) && query.has('lr');
const charts = new TrainingCharts($('chart-loss'), $('chart-accuracy'));
(window as unknown as { convkitCharts: TrainingCharts }).convkitCharts = charts;
// ?backend=auto|wasm|webgpu|ref (default auto: WebGPU on a hardware adapter, else wasm).
const urlBackend = query.get('backend');
const requestedBackend: BackendRequest = isBackendRequest(urlBackend) ? urlBackend : 'auto';
($('backend-select') as HTMLSelectElement).value = requestedBackend;
// ?wasmMemoryMiB=N caps the wasm heap (tests of running out of memory).
const wasmMemoryMiB = Number(new URLSearchParams(location.search).get('wasmMemoryMiB')) || undefined;
const workerInit: WorkerInit = { baseUrl: new URL(import.meta.env.BASE_URL, location.href).href, backend: requestedBackend, wasmMemoryMiB };
const client = new WorkerClient(workerInit, onEvent);
/** Set while the GPU backend is broken: training controls wait for the move to another backend. */
let backendFailed = false;
/** While a backend change is under way, the training controls stay disabled. */
let changingBackend = false;
let haveModel = false;

function onEvent(event: WorkerEvent): void {
  switch (event.type) {
    case 'ready':
      // A worker that replaced a cancelled build loads the digits again: the page says nothing of it.
      if (!dataReady) setStatus(`MNIST loaded: ${event.trainCount.toLocaleString('en')} training and ${event.testCount.toLocaleString('en')} test digits.`);
      dataReady = true;
      $('data-progress').hidden = true;
      return;
    case 'building':
      if (event.cancellable) showBuilding(event);
      return;
    case 'built':
      hideBuilding();
      return;
    case 'data':
      showDataProgress(event.part, event.loaded, event.total);
      return;
    case 'backend':
      showBackend(event.info);
      return;
    case 'backendFailed':
      showBackendFailure(event.backend, event.message, event.examples);
      return;
    case 'model':
      showModel(event.info, event.moved ?? false);
      return;
    case 'state':
      running = event.running;
      $('start').textContent = running ? 'Pause' : started ? 'Resume training' : 'Start training';
      settingsForm.setRunning(running);
      if (!running && !backendFailed) void evaluate();
      return;
    case 'stats':
      renderStats($('stats'), event.stats);
      charts.add(event.stats);
      return;
    case 'error':
      setStatus(event.fatal ? `The playground could not start: ${event.message}` : `Training stopped: ${event.message}`, true);
  }
}

let dataReady = false;
function showDataProgress(part: string, loaded: number, total: number): void {
  if (dataReady) return;
  const bar = $('data-progress') as HTMLProgressElement;
  bar.hidden = false;
  if (total > 0) bar.value = loaded / total;
  else bar.removeAttribute('value');
  setStatus(
    `Loading the MNIST ${part} digits: ${(loaded / 2 ** 20).toFixed(1)}${total > 0 ? ` of ${(total / 2 ** 20).toFixed(1)}` : ''} MB… (drawing works already)`,
  );
}

function showSettingsError(message: string): void {
  $('settings-error').textContent = message;
  $('settings-error').hidden = message === '';
}

function setStatus(text: string, isError = false): void {
  $('status').textContent = text;
  $('status').classList.toggle('error', isError);
}

/** The line under "Save, load and fine-tune". */
function showFileStatus(text: string, isError = false): void {
  $('file-status').textContent = text;
  $('file-status').classList.toggle('error', isError);
}

/** The badge names the active backend (data-backend too); beside it, what was chosen and why. */
function showBackend(info: BackendInfo): void {
  $('backend').textContent = `backend: ${info.backend}`;
  $('backend').title = info.note;
  $('backend').dataset.backend = info.backend;
  $('backend-note').textContent = info.note;
  ($('backend-select') as HTMLSelectElement).value = info.requested;
  delete $('backend').dataset.failed;
  backendFailed = false;
  $('backend-failure').hidden = true;
  setTrainingEnabled(true);
}

/** The long build in progress: what it builds and the network to go back to if it is cancelled; its clock ticks every 0.1 s. */
let building: { event: Extract<WorkerEvent, { type: 'building' }>; timer: number } | null = null;

function showBuilding(event: Extract<WorkerEvent, { type: 'building' }>): void {
  hideBuilding();
  const since = performance.now();
  const show = () => {
    const seconds = ((performance.now() - since) / 1000).toFixed(1);
    $('build-text').textContent = `Building “${event.name}”: ${(event.parameters / 1e6).toFixed(1)} million parameters to allocate and draw… ${seconds} s`;
  };
  show();
  building = { event, timer: window.setInterval(show, 100) };
  $('build-progress').hidden = false;
}

function hideBuilding(): void {
  if (building) clearInterval(building.timer);
  building = null;
  $('build-progress').hidden = true;
}

/**
 * Cancels the build in progress: the worker is replaced (nothing else interrupts a synchronous
 * build, and its memory goes with it) by one that goes on with the network from before, its
 * weights, optimizer state and progress — and trains again if it was training.
 */
function cancelBuild(): void {
  if (!building) return;
  const { name, restore } = building.event;
  const wasRunning = running;
  hideBuilding();
  haveModel = false; // until the new worker has its network, drawings are classified here
  running = false;
  $('start').textContent = started ? 'Resume training' : 'Start training';
  settingsForm.setRunning(false);
  setTrainingEnabled(false);
  client.restart({ ...workerInit, backend: ($('backend-select') as HTMLSelectElement).value as BackendRequest, restore });
  setStatus(
    restore
      ? `Cancelled building “${name}”: the network before it is back (${restore.origin}).`
      : `Cancelled building “${name}”: the network before it was too large to keep a copy of, so the pretrained LeNet-5 is back.`,
  );
  if (wasRunning && restore) client.request({ kind: 'start' }).catch((e: Error) => setStatus(`Could not resume training: ${e.message}`, true));
}
$('build-cancel').addEventListener('click', cancelBuild);

function showBackendFailure(backend: string, message: string, examples: number): void {
  backendFailed = true;
  $('backend-failure-message').textContent = message;
  $('backend-failure-detail').textContent =
    `Training stopped. The network can continue on the CPU from its weights after ${examples.toLocaleString('en')} training examples, the latest copy the page has.`;
  $('backend-failure').hidden = false;
  $('backend').dataset.failed = backend;
  setTrainingEnabled(false);
  setStatus(`The ${backend} backend stopped working: ${message}`, true);
}

/** While the backend is broken (or changing), nothing that trains or builds a network can run. */
function setTrainingEnabled(enabled: boolean): void {
  const disabled = !enabled || !haveModel || changingBackend;
  for (const id of ['start', 'reset', 'network-apply', 'evaluate', 'load-pretrained']) ($(id) as HTMLButtonElement).disabled = disabled;
}

// Backend selector: the current network moves to the chosen backend with its weights and goes on.
async function switchBackend(name: BackendRequest): Promise<void> {
  changingBackend = true;
  ($('backend-select') as HTMLSelectElement).disabled = true;
  $('continue-wasm').toggleAttribute('disabled', true);
  setTrainingEnabled(false);
  setStatus(`Moving the network to ${name}…`);
  try {
    const info = await client.request({ kind: 'backend', name });
    const url = new URL(location.href);
    url.searchParams.set('backend', name);
    history.replaceState(null, '', url);
    setStatus(`The network moved to the ${info.backend} backend.`);
  } catch (e) {
    setStatus(`Could not change the backend: ${(e as Error).message}`, true);
  } finally {
    changingBackend = false;
    ($('backend-select') as HTMLSelectElement).disabled = false;
    $('continue-wasm').toggleAttribute('disabled', false);
    setTrainingEnabled(!backendFailed);
  }
}
$('backend-select').addEventListener('change', () => void switchBackend(($('backend-select') as HTMLSelectElement).value as BackendRequest));
$('continue-wasm').addEventListener('click', () => void switchBackend('wasm'));
// For tests: a lost GPU device on demand.
(window as unknown as { convkitDebug: object }).convkitDebug = { loseDevice: () => client.request({ kind: 'debugLoseDevice' }) };

function showModel(info: ModelInfo, moved: boolean): void {
  currentSpec = info.spec;
  editor.show(info.spec);
  const frozenUntil = info.frozen.at(-1);
  $('model-origin').textContent =
    `Current network: ${info.origin}, ${info.parameters.toLocaleString('en')} parameters${frozenUntil ? `; the layers up to ${frozenUntil} are frozen` : ''}.`;
  $('model-origin').dataset.name = info.spec.name;
  const table = $('network-summary') as HTMLTableElement;
  table.innerHTML = '<thead><tr><th>layer</th><th>type</th><th>output shape</th><th>parameters</th><th>trains</th></tr></thead>';
  const body = table.createTBody();
  const frozen = new Set(info.frozen);
  for (const r of info.rows) {
    const tr = body.insertRow();
    tr.classList.toggle('frozen', frozen.has(r.name));
    const trains = r.params === 0 ? '–' : frozen.has(r.name) ? 'frozen' : 'yes';
    for (const text of [r.name, r.type, `[${r.outputShape.join(' × ')}]`, r.params.toLocaleString('en'), trains]) tr.insertCell().textContent = text;
  }
  showFreezeChoice(info);
  haveModel = true;
  overview.setSpec(info.spec);
  if (!moved) adviseLearningRate(info.origin);
  void syncPageModel();
  ($('save') as HTMLButtonElement).disabled = false;
  setTrainingEnabled(!backendFailed);
  // A new network starts from its first example; if training runs, it simply goes on with it.
  // A network moved to another backend keeps its history.
  if (!moved) {
    started = running;
    if (!running) $('start').textContent = 'Start training';
    charts.clear();
  }
  void refreshLayers();
  void classifyDrawing();
  if (!running) void evaluate();
}

/** The freeze selector lists the current network's layers, the frozen ones' last selected. */
function showFreezeChoice(info: ModelInfo): void {
  const select = $('freeze-until') as HTMLSelectElement;
  select.replaceChildren(new Option('none: every layer trains', ''), ...info.rows.slice(0, -1).map((r) => new Option(`${r.name} (${r.type})`, r.name)));
  select.value = frozenShown = info.frozen.at(-1) ?? '';
  select.disabled = false;
}
/** The freeze the worker has (the selector goes back to it when a change is refused). */
let frozenShown = '';
$('freeze-until').addEventListener('change', async () => {
  const select = $('freeze-until') as HTMLSelectElement;
  try {
    const info = await client.request({ kind: 'freeze', until: select.value === '' ? null : select.value });
    showFileStatus(info.frozen.length > 0 ? `Frozen: ${info.frozen.join(', ')}. The other layers train.` : 'Every layer trains.');
  } catch (e) {
    showFileStatus(`Could not freeze: ${(e as Error).message}`, true);
    select.value = frozenShown;
  }
});

/**
 * A network that is already trained (the shipped one, a loaded file) is fine-tuned gently:
 * the usual learning rate would shake it out of its minimum and cost accuracy. A fresh network
 * gets the usual one. A learning rate the user chose stays.
 */
function adviseLearningRate(origin: string): void {
  const fresh = /fresh weights|defined in the editor|unavailable/.test(origin);
  const note = $('train-note');
  if (!lrChosen) {
    try {
      const settings = { ...settingsForm.read(), lr: fresh ? defaultSettings.lr : FINE_TUNE_LR };
      settingsForm.write(settings);
      // The worker's too, so the learning-rate figure among the statistics agrees with the form.
      client.request({ kind: 'settings', settings }).catch(() => undefined);
    } catch {
      /* a bad field is reported when training starts */
    }
  }
  note.hidden = fresh;
  note.textContent = fresh
    ? ''
    : `This network is already trained. Start fine-tunes it with a small learning rate (${FINE_TUNE_LR} unless you set one), so it keeps its accuracy. To watch a network learn from scratch, press “Reset weights”.`;
}

// Training controls.
$('start').addEventListener('click', async () => {
  if (running) {
    await client.request({ kind: 'pause' });
    return;
  }
  let settings: ReturnType<typeof settingsForm.read>;
  try {
    settings = settingsForm.read();
  } catch (e) {
    showSettingsError((e as Error).message);
    return;
  }
  showSettingsError('');
  rememberSettings(settings);
  try {
    await client.request({ kind: 'settings', settings });
    started = true;
    await client.request({ kind: 'start' });
  } catch (e) {
    setStatus(`Could not start training: ${(e as Error).message}`, true);
  }
});
$('reset').addEventListener('click', () =>
  client.request({ kind: 'reset' }).catch((e: Error) => {
    if (!(e instanceof BuildCancelled)) setStatus(`Could not reset: ${e.message}`, true);
  }),
);
$('settings').addEventListener('change', (e) => {
  settingsForm.syncVisibility();
  if ((e.target as HTMLInputElement).name === 'lr') lrChosen = true;
  let settings: TrainSettings;
  try {
    settings = settingsForm.read();
  } catch (error) {
    showSettingsError((error as Error).message);
    return;
  }
  showSettingsError('');
  rememberSettings(settings);
  // Live settings: while training runs, a new learning rate or momentum applies from the next batch.
  if (running) client.request({ kind: 'settings', settings }).catch((error: Error) => showSettingsError(`Could not change the settings: ${error.message}`));
});
/** The settings go into the page's URL, so the link reproduces them. */
function rememberSettings(settings: TrainSettings): void {
  const url = new URL(location.href);
  settingsToQuery(settings, url.searchParams);
  history.replaceState(null, '', url);
  ($('share-link') as HTMLAnchorElement).href = url.href;
}
$('share-link').addEventListener('click', (e) => {
  e.preventDefault();
  try {
    rememberSettings(settingsForm.read());
    void navigator.clipboard?.writeText(location.href).catch(() => undefined);
    $('share-link').textContent = 'Link copied (and in the address bar)';
  } catch (error) {
    showSettingsError((error as Error).message);
  }
});

// Network editor.
const editor = new NetworkEditor(
  { text: $('network-text'), preset: $('network-preset'), apply: $('network-apply'), error: $('network-error') },
  async (spec: ModelSpec) => {
    try {
      await client.request({ kind: 'network', spec });
    } catch (e) {
      if (!(e instanceof BuildCancelled)) throw e; // the status line says it was cancelled
    }
  },
);

// Views are refreshed only while on screen (and, while training, only if "refresh the views" is on).
const onScreen = new Set<Element>();
const observer = new IntersectionObserver((entries) => {
  for (const e of entries)
    if (e.isIntersecting) onScreen.add(e.target);
    else onScreen.delete(e.target);
});
for (const id of ['draw-path', 'draw-probs', 'overview', 'layers-view', 'pred-strip']) observer.observe($(id));
const visible = (id: string) => onScreen.has($(id)) && !$(id).closest<HTMLElement>('[data-panel]')?.hidden;
/** The latest drawing's report (the overview shows it when its tab opens). */
let lastDrawReport: LayerReport | null = null;
const path = new NetworkPath($('draw-path'));
const overview = new NetworkOverview($('overview'), (node, channel) => client.request({ kind: 'topPatches', node, channel }));
const layerViews = new LayerViews($('layers-view'));
setUpTabs($('tabs'), (name) => {
  if (name === 'overview' && lastDrawReport) overview.render(lastDrawReport);
  if (name === 'test') void refreshLayers();
});

// Layer views for a test digit.
let layersBusy = false;
let layersAgain = false;
async function refreshLayers(): Promise<void> {
  if (!haveModel) return;
  if (layersBusy) {
    layersAgain = true;
    return;
  }
  let index: number;
  try {
    index = parseTestIndex(($('example-index') as HTMLInputElement).value, 10000);
  } catch (e) {
    $('example-result').textContent = (e as Error).message;
    $('example-result').classList.add('error');
    delete $('example-result').dataset.probability;
    return;
  }
  $('example-result').classList.remove('error');
  layersBusy = true;
  layersAgain = false;
  try {
    const report = await client.request({ kind: 'inspect', source: { kind: 'test', index } });
    layerViews.render(report, { gradients: ($('show-gradients') as HTMLInputElement).checked, filters: ($('show-filters') as HTMLInputElement).checked });
    const guess = report.probs.indexOf(Math.max(...report.probs));
    $('example-result').textContent = `label ${report.label}, network says ${guess} (${(report.probs[guess] * 100).toFixed(1)} %)`;
    $('example-result').dataset.probability = String(report.probs[guess]);
    void showOverlay($('example-overlay') as HTMLCanvasElement, report);
  } catch (e) {
    $('example-result').textContent = `The layer views failed: ${(e as Error).message}`;
    delete $('example-result').dataset.probability;
  } finally {
    layersBusy = false;
  }
  if (layersAgain) void refreshLayers();
}
for (const id of ['example-index', 'show-gradients', 'show-filters']) $(id).addEventListener('change', () => void refreshLayers());
$('example-random').addEventListener('click', () => {
  ($('example-index') as HTMLInputElement).value = String(Math.floor(Math.random() * 10000));
  void refreshLayers();
});
setInterval(() => {
  if (!running || !($('live-views') as HTMLInputElement).checked) return;
  if (visible('layers-view')) void refreshLayers();
  if (visible('pred-strip')) void refreshStrip();
  if (drawn && (visible('draw-path') || visible('draw-probs') || visible('overview'))) void classifyDrawing();
}, LAYERS_REFRESH_MS);

// The page's own copy of the network: the shipped LeNet-5 at once (drawing works before MNIST
// has arrived), then the worker's current weights whenever its network changes.
let pageModel: PageModel | null = null;
let pageModelAt = 0;
void fetch(new URL('lenet5.convkit', new URL(import.meta.env.BASE_URL, location.href)))
  .then(async (r) => {
    if (!r.ok) throw new Error(`lenet5.convkit: ${r.status}`);
    const bytes = new Uint8Array(await r.arrayBuffer());
    if (!pageModel) pageModel = PageModel.fromBytes(bytes, 'lenet5.convkit');
    if (!haveModel) {
      setStatus('The pretrained LeNet-5 is ready: draw a digit. Loading the MNIST digits for training…');
      if (drawn) void classifyDrawing();
    }
  })
  .catch(() => undefined);
/** Re-reads the worker's weights (after a change of network; while training, at most every few seconds). */
async function syncPageModel(): Promise<void> {
  try {
    const { bytes, fileName } = await client.request({ kind: 'save' });
    const model = PageModel.fromBytes(bytes, fileName);
    pageModel = model.parameters <= PAGE_MODEL_MAX_PARAMETERS ? model : null;
    pageModelAt = performance.now();
    if (lastDrawReport) void showOverlay($('draw-preview') as HTMLCanvasElement, lastDrawReport);
  } catch {
    /* the overlays say that they are unavailable */
  }
}
/** The chosen explanation drawn over a network input (the drawing, a test digit). */
async function showOverlay(canvas: HTMLCanvasElement, report: LayerReport): Promise<void> {
  const kind = ($('overlay-kind') as HTMLSelectElement).value as OverlayKind | 'none';
  if (kind !== 'none' && running && performance.now() - pageModelAt > 5000) await syncPageModel();
  const model = pageModel;
  if (!model && kind !== 'none') {
    $('overlay-note').textContent = 'Explanations need a copy of the network on this page: this network is too large for that.';
  }
  try {
    const explained = await drawOverlay(canvas, model, model ? kind : 'none', report.input);
    if (model) {
      $('overlay-note').textContent =
        kind === 'saliency'
          ? `Saliency: bright where changing a pixel would change the score of “${explained}” most.`
          : kind === 'gradcam'
            ? `Grad-CAM: bright where the last convolution layer found evidence for “${explained}”.`
            : '';
    }
  } catch (e) {
    $('overlay-note').textContent = `No explanation: ${(e as Error).message}`;
  }
}
$('overlay-kind').addEventListener('change', () => {
  if (lastDrawReport) void showOverlay($('draw-preview') as HTMLCanvasElement, lastDrawReport);
  if (!$('layers').hidden) void refreshLayers();
});
// The whole network in 3-D for the drawing (three.js, loaded after the first screen): it is
// handed every report classifyDrawing gets, starting with the latest.
let currentSpec: ModelSpec | null = null;
let drawingReport: LayerReport | null = null;
const drawingViews: ((report: LayerReport | null) => void)[] = [];
const showDrawingReport = (report: LayerReport | null) => {
  drawingReport = report;
  for (const show of drawingViews) show(report);
};
void import('./ui/network3d.js').then(({ mountNetwork3d }) =>
  mountNetwork3d($('network3d'), {
    onActivations: (show) => {
      drawingViews.push(show);
      show(drawingReport);
    },
    getModelSpec: () => currentSpec,
  }),
);

// Drawing: classify the latest drawing; requests never pile up (one in flight, the newest waits).
let drawn: Uint8Array | null = null;
let classifying = false;
let drawnDirty = false;
const pad = new DrawPad($('draw-canvas'), (pixels) => {
  drawn = pixels;
  void classifyDrawing();
});
$('draw-clear').addEventListener('click', () => pad.clear());
async function classifyDrawing(): Promise<void> {
  if (classifying) {
    drawnDirty = true;
    return;
  }
  const pixels = drawn;
  const preview = $('draw-preview') as HTMLCanvasElement;
  if (!pixels) {
    preview.getContext('2d')!.clearRect(0, 0, preview.width, preview.height);
    $('draw-probs').replaceChildren();
    delete $('draw-probs').dataset.prediction;
    $('draw-cue').hidden = true;
    showDrawingReport(null);
    $('draw-answer').textContent = 'Draw a digit to see what the network thinks it is.';
    return;
  }
  if (!haveModel && !pageModel) {
    $('draw-answer').textContent = 'The network is still loading…';
    return;
  }
  classifying = true;
  drawnDirty = false;
  try {
    // Before the worker has its network (it waits for MNIST), the page's copy answers.
    const report = haveModel ? await client.request({ kind: 'inspect', source: { kind: 'drawn', pixels } }) : pageModel!.inspectDrawing(pixels);
    lastDrawReport = report;
    const cue = confidenceCue(report.probs, pad.inkExtent());
    renderProbabilities($('draw-probs'), report.probs, cue);
    $('draw-probs').dataset.source = haveModel ? 'worker' : 'page';
    const best = report.probs.indexOf(Math.max(...report.probs));
    $('draw-answer').innerHTML = 'The network reads <strong></strong> <span></span>';
    $('draw-answer').querySelector('strong')!.textContent = String(best);
    $('draw-answer').querySelector('span')!.textContent = `(${(report.probs[best] * 100).toFixed(1)} %)`;
    $('draw-cue').hidden = cue.level === 'ok';
    $('draw-cue').textContent = cue.level === 'low' ? cue.reason : '';
    path.render(report);
    showDrawingReport(report);
    if (!$('overview-card').hidden) overview.render(report);
    void showOverlay(preview, report);
  } catch (e) {
    $('draw-probs').textContent = `Could not classify the drawing: ${(e as Error).message}`;
    delete $('draw-probs').dataset.prediction;
  } finally {
    classifying = false;
  }
  if (drawnDirty) void classifyDrawing();
}

// Test-set report. A request during an evaluation runs again afterwards (the weights changed).
let evaluating = false;
let evaluateAgain = false;
async function evaluate(): Promise<void> {
  if (evaluating) {
    evaluateAgain = true;
    return;
  }
  evaluating = true;
  evaluateAgain = false;
  $('pred-summary').textContent = 'Evaluating the test digits…';
  delete $('pred-summary').dataset.accuracy;
  try {
    const report = await client.request({ kind: 'evaluate' });
    renderPredictions({ summary: $('pred-summary'), strip: $('pred-strip'), confusion: $('pred-confusion'), wrong: $('pred-wrong') }, report, pickTestDigit);
    $('pred-strip-note').textContent = '';
  } catch (e) {
    $('pred-summary').textContent = `Evaluation failed: ${(e as Error).message}`;
  } finally {
    evaluating = false;
  }
  if (evaluateAgain) void evaluate();
}
$('evaluate').addEventListener('click', () => void evaluate());
function pickTestDigit(index: number): void {
  ($('example-index') as HTMLInputElement).value = String(index);
  void refreshLayers();
  $('layers').scrollIntoView({ behavior: 'smooth' });
}

// While training, the strip alone (one batch of test digits) follows the weights; the full report comes when training pauses.
let stripBusy = false;
async function refreshStrip(): Promise<void> {
  if (stripBusy || !haveModel) return;
  stripBusy = true;
  try {
    const { examples, strip } = await client.request({ kind: 'strip' });
    if (!running) return; // the full report is on its way
    renderStrip($('pred-strip'), strip, examples, pickTestDigit);
    $('pred-strip-note').textContent = `Live while training: the weights after ${examples.toLocaleString('en')} training examples.`;
  } catch {
    /* the next refresh tries again; the report after training says what is wrong */
  } finally {
    stripBusy = false;
  }
}

// Convolution explainer, with learned kernels from the current network.
new ConvolutionExplainer($('explainer'), () => client.request({ kind: 'firstConv' }));

// Save and load.
$('save').addEventListener('click', async () => {
  try {
    const { bytes, fileName } = await client.request({ kind: 'save' });
    downloadBytes(bytes, fileName);
    showFileStatus(`Saved ${fileName} (${(bytes.length / 1024).toFixed(0)} KB).`);
  } catch (e) {
    showFileStatus(`Could not save: ${(e as Error).message}`, true);
  }
});
$('load-file').addEventListener('change', async () => {
  const input = $('load-file') as HTMLInputElement;
  const picked = await readPickedFile(input);
  input.value = '';
  if (!picked) return;
  try {
    const newHead = ($('load-new-head') as HTMLInputElement).checked;
    const info = await client.request({ kind: 'load', bytes: picked.bytes, fileName: picked.fileName, newHead }, [picked.bytes.buffer]);
    showFileStatus(`Loaded ${picked.fileName}: ${info.spec.name}, ${info.parameters.toLocaleString('en')} parameters.`);
  } catch (e) {
    if (e instanceof BuildCancelled) showFileStatus(`Loading ${picked.fileName} was cancelled.`);
    else showFileStatus((e as Error).message, true);
  }
});
$('load-pretrained').addEventListener('click', async () => {
  try {
    const newHead = ($('load-new-head') as HTMLInputElement).checked;
    await client.request({ kind: 'pretrained', newHead });
    showFileStatus(`Loaded the pretrained LeNet-5${newHead ? ' with a new 10-class head' : ''}.`);
  } catch (e) {
    showFileStatus((e as Error).message, true);
  }
});
