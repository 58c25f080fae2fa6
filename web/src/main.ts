/**
 * The playground page: wires the controls and views to the training worker. All computation
 * happens in the worker (see worker/train-worker.ts); this thread only renders.
 */
import type { ModelSpec } from '../../src/index.js';
import { type BackendInfo, type BackendRequest, defaultSettings, isBackendRequest, type LayerReport, type ModelInfo, type WorkerEvent } from './protocol.js';
import { TrainingCharts } from './ui/charts.js';
import { DrawPad } from './ui/draw-pad.js';
import { ConvolutionExplainer } from './ui/explainer.js';
import { digitCanvas } from './ui/greyscale.js';
import { renderLayers } from './ui/layer-views.js';
import { NetworkEditor } from './ui/network-editor.js';
import { renderPredictions } from './ui/predictions.js';
import { renderProbabilities } from './ui/probability-bars.js';
import { downloadBytes, readPickedFile } from './ui/save-load.js';
import { SettingsForm } from './ui/settings-form.js';
import { renderStats } from './ui/stats-view.js';
import { WorkerClient } from './worker-client.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** While training, the layer views and the drawn digit's classification refresh this often. */
const LAYERS_REFRESH_MS = 2000;

let running = false;
let started = false;
const settingsForm = new SettingsForm($('settings') as HTMLFormElement);
settingsForm.write(defaultSettings);
const charts = new TrainingCharts($('chart-loss'), $('chart-accuracy'));
// ?backend=auto|wasm|webgpu|ref (default auto: WebGPU on a hardware adapter, else wasm).
const urlBackend = new URLSearchParams(location.search).get('backend');
const requestedBackend: BackendRequest = isBackendRequest(urlBackend) ? urlBackend : 'auto';
($('backend-select') as HTMLSelectElement).value = requestedBackend;
const client = new WorkerClient({ baseUrl: new URL(import.meta.env.BASE_URL, location.href).href, backend: requestedBackend }, onEvent);
/** Set while the GPU backend is broken: training controls wait for the move to another backend. */
let backendFailed = false;
/** While a backend change is under way, the training controls stay disabled. */
let changingBackend = false;
let haveModel = false;

function onEvent(event: WorkerEvent): void {
  switch (event.type) {
    case 'ready':
      setStatus(`MNIST loaded: ${event.trainCount.toLocaleString('en')} training and ${event.testCount.toLocaleString('en')} test digits.`);
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
      settingsForm.setEnabled(!running);
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

function setStatus(text: string, isError = false): void {
  $('status').textContent = text;
  $('status').classList.toggle('error', isError);
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

function showBackendFailure(backend: string, message: string, examples: number): void {
  backendFailed = true;
  $('backend-failure-message').textContent = message;
  $('backend-failure-detail').textContent = `Training stopped. The network can continue on the CPU from its weights after ${examples.toLocaleString('en')} training examples, the latest copy the page has.`;
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
  $('model-origin').textContent = `Current network: ${info.origin}, ${info.parameters.toLocaleString('en')} parameters.`;
  $('model-origin').dataset.name = info.spec.name;
  const table = $('network-summary') as HTMLTableElement;
  table.innerHTML = '<thead><tr><th>layer</th><th>type</th><th>output shape</th><th>parameters</th></tr></thead>';
  const body = table.createTBody();
  for (const r of info.rows) {
    const tr = body.insertRow();
    for (const text of [r.name, r.type, `[${r.outputShape.join(' × ')}]`, r.params.toLocaleString('en')]) tr.insertCell().textContent = text;
  }
  haveModel = true;
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

// Training controls.
$('start').addEventListener('click', async () => {
  if (running) { await client.request({ kind: 'pause' }); return; }
  let settings;
  try {
    settings = settingsForm.read();
  } catch (e) {
    $('settings-error').textContent = (e as Error).message;
    $('settings-error').hidden = false;
    return;
  }
  $('settings-error').hidden = true;
  try {
    await client.request({ kind: 'settings', settings });
    started = true;
    await client.request({ kind: 'start' });
  } catch (e) {
    setStatus(`Could not start training: ${(e as Error).message}`, true);
  }
});
$('reset').addEventListener('click', () => client.request({ kind: 'reset' }).catch((e: Error) => setStatus(`Could not reset: ${e.message}`, true)));
$('settings').addEventListener('change', () => settingsForm.syncVisibility());

// Network editor.
const editor = new NetworkEditor(
  { text: $('network-text'), preset: $('network-preset'), apply: $('network-apply'), error: $('network-error') },
  async (spec: ModelSpec) => { await client.request({ kind: 'network', spec }); },
);

// Layer views for a test digit.
let layersBusy = false;
let layersAgain = false;
async function refreshLayers(): Promise<void> {
  if (layersBusy) { layersAgain = true; return; }
  layersBusy = true;
  layersAgain = false;
  try {
    const index = Number(($('example-index') as HTMLInputElement).value) || 0;
    const report = await client.request({ kind: 'inspect', source: { kind: 'test', index } });
    renderLayers($('layers-view'), report, {
      gradients: ($('show-gradients') as HTMLInputElement).checked, filters: ($('show-filters') as HTMLInputElement).checked,
    });
    const guess = report.probs.indexOf(Math.max(...report.probs));
    $('example-result').textContent = `label ${report.label}, network says ${guess} (${(report.probs[guess] * 100).toFixed(1)} %)`;
    $('example-result').dataset.probability = String(report.probs[guess]);
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
  if (!running) return;
  void refreshLayers();
  void classifyDrawing();
}, LAYERS_REFRESH_MS);

// The whole network in 3-D for the drawing (three.js, loaded after the first screen): it is
// handed every report classifyDrawing gets, starting with the latest.
let currentSpec: ModelSpec | null = null;
let drawingReport: LayerReport | null = null;
const drawingViews: ((report: LayerReport | null) => void)[] = [];
const showDrawingReport = (report: LayerReport | null) => { drawingReport = report; for (const show of drawingViews) show(report); };
void import('./ui/network3d.js').then(({ mountNetwork3d }) => mountNetwork3d($('network3d'), {
  onActivations: (show) => { drawingViews.push(show); show(drawingReport); }, getModelSpec: () => currentSpec,
}));

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
  if (classifying) { drawnDirty = true; return; }
  const pixels = drawn;
  const preview = $('draw-preview') as HTMLCanvasElement;
  if (!pixels) {
    preview.getContext('2d')!.clearRect(0, 0, 28, 28);
    $('draw-probs').replaceChildren();
    delete $('draw-probs').dataset.prediction;
    $('draw-layers').replaceChildren();
    showDrawingReport(null);
    return;
  }
  preview.getContext('2d')!.drawImage(digitCanvas(pixels, 28, 1), 0, 0);
  classifying = true;
  drawnDirty = false;
  try {
    const report = await client.request({ kind: 'inspect', source: { kind: 'drawn', pixels } });
    renderProbabilities($('draw-probs'), report.probs);
    renderLayers($('draw-layers'), report, { gradients: false, filters: false });
    showDrawingReport(report);
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
  if (evaluating) { evaluateAgain = true; return; }
  evaluating = true;
  evaluateAgain = false;
  $('pred-summary').textContent = 'Evaluating the test digits…';
  delete $('pred-summary').dataset.accuracy;
  try {
    const report = await client.request({ kind: 'evaluate' });
    renderPredictions({ summary: $('pred-summary'), strip: $('pred-strip'), confusion: $('pred-confusion'), wrong: $('pred-wrong') }, report, (index) => {
      ($('example-index') as HTMLInputElement).value = String(index);
      void refreshLayers();
      $('layers').scrollIntoView({ behavior: 'smooth' });
    });
  } catch (e) {
    $('pred-summary').textContent = `Evaluation failed: ${(e as Error).message}`;
  } finally {
    evaluating = false;
  }
  if (evaluateAgain) void evaluate();
}
$('evaluate').addEventListener('click', () => void evaluate());

// Convolution explainer, with learned kernels from the current network.
new ConvolutionExplainer($('explainer'), () => client.request({ kind: 'firstConv' }));

// Save and load.
$('save').addEventListener('click', async () => {
  try {
    const { bytes, fileName } = await client.request({ kind: 'save' });
    downloadBytes(bytes, fileName);
    $('file-status').textContent = `Saved ${fileName} (${(bytes.length / 1024).toFixed(0)} KB).`;
    $('file-status').classList.remove('error');
  } catch (e) {
    $('file-status').textContent = `Could not save: ${(e as Error).message}`;
    $('file-status').classList.add('error');
  }
});
$('load-file').addEventListener('change', async () => {
  const input = $('load-file') as HTMLInputElement;
  const picked = await readPickedFile(input);
  input.value = '';
  if (!picked) return;
  try {
    const info = await client.request({ kind: 'load', bytes: picked.bytes, fileName: picked.fileName }, [picked.bytes.buffer]);
    $('file-status').textContent = `Loaded ${picked.fileName}: ${info.spec.name}, ${info.parameters.toLocaleString('en')} parameters.`;
    $('file-status').classList.remove('error');
  } catch (e) {
    $('file-status').textContent = (e as Error).message;
    $('file-status').classList.add('error');
  }
});
$('load-pretrained').addEventListener('click', async () => {
  try {
    await client.request({ kind: 'pretrained' });
    $('file-status').textContent = 'Loaded the pretrained LeNet-5.';
    $('file-status').classList.remove('error');
  } catch (e) {
    $('file-status').textContent = (e as Error).message;
    $('file-status').classList.add('error');
  }
});
