/**
 * The browser playground end to end, in Debian's Chromium driven by playwright-core: build
 * web/ (the test does it itself), serve the build on 127.0.0.1 at a random port, then load,
 * draw, train, pause, break the network definition, save and load, all without console errors.
 * A second browser with WebGPU on (SwiftShader's software adapter where there is no GPU)
 * trains with ?backend=webgpu, loses its device and continues on WASM, and switches backends
 * with the selector. Screenshots go to out/e2e-playground/; set
 * CONVKIT_SCREENSHOT=docs/img/playground.png to refresh the README's picture.
 * Run alone: node --import tsx --test test/e2e-playground.test.ts
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { type Browser, CHROMIUM, type Served, buildPlayground, launchChromium, repoRoot, servePlayground } from '../web/scripts/browser.js';

const OUT = join(repoRoot, 'out', 'e2e-playground');
/** Stated level: from fresh weights, the ConvNetJS net reaches this rolling test accuracy… */
const TEST_ACCURACY_LEVEL = 0.9;
/** …within this many seconds of training (any backend; the wasm one needs a few). */
const TRAIN_SECONDS = 120;

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install -y chromium)`;
/** Both browsers serve the same build, made once. */
let built: Promise<void> | undefined;
const buildOnce = () => (built ??= buildPlayground());

describe('playground in headless Chromium', { skip, timeout: 240_000 }, () => {
  let served: Served;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  const stat = async (name: string): Promise<number> => Number(await page.getAttribute(`[data-stat="${name}"]`, 'data-value') || NaN);
  const shot = (name: string) => page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
  const section = (id: string, name: string) => page.locator(`#${id}`).screenshot({ path: join(OUT, `${name}.png`) });
  /** Waits until the start button shows that the worker is (not) training. */
  const waitRunning = (running: boolean) => page.waitForFunction((r) => document.getElementById('start')!.textContent === (r ? 'Pause' : 'Resume training') || (!r && document.getElementById('start')!.textContent === 'Start training'), running);

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    await buildOnce();
    served = await servePlayground();
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
    await page.goto(served.url);
  });

  after(async () => {
    await browser?.close();
    await served?.close();
  });

  test('loads MNIST and the pretrained LeNet-5, shows the backend, cross-origin isolated', async () => {
    await page.waitForSelector('#model-origin[data-name="lenet5"]', { timeout: 60_000 });
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'COOP/COEP headers make the page cross-origin isolated');
    const backend = await page.getAttribute('#backend', 'data-backend');
    assert.ok(backend === 'wasm' || backend === 'ref', `backend shown: ${backend}`);
    // The default is auto, and the page says why it chose (no WebGPU in this browser: wasm).
    assert.equal(await page.inputValue('#backend-select'), 'auto');
    if (backend === 'wasm') assert.match(await page.textContent('#backend-note') ?? '', /^wasm \(auto: .+\), .*SIMD/);
    // The digits arrive in parts, possibly after the pretrained network.
    await page.waitForFunction(() => /60,000 training and 10,000 test digits/.test(document.getElementById('status')!.textContent ?? ''), undefined, { timeout: 60_000 });
    // The shipped model is evaluated on the whole test set at once.
    await page.waitForSelector('#pred-summary[data-accuracy]', { timeout: 60_000 });
    const accuracy = Number(await page.getAttribute('#pred-summary', 'data-accuracy'));
    assert.ok(accuracy > 0.97, `pretrained LeNet-5 test accuracy ${accuracy}`);
    assert.equal(await page.locator('#pred-strip .example').count(), 24);
    assert.equal(await page.locator('#pred-confusion td.diagonal').count(), 10);
  });

  test('a "1" drawn on the canvas is classified live', async () => {
    const box = (await page.locator('#draw-canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.52, box.y + box.height * 0.15);
    await page.mouse.down();
    for (let i = 1; i <= 12; i++) await page.mouse.move(box.x + box.width * (0.52 - 0.03 * i / 12), box.y + box.height * (0.15 + 0.7 * i / 12));
    await page.mouse.up();
    await page.waitForSelector('#draw-probs[data-prediction]');
    assert.equal(await page.getAttribute('#draw-probs', 'data-prediction'), '1');
    // Every layer's activations for the drawn digit.
    assert.equal(await page.locator('#draw-layers .layer-row').count(), 1 + 12);
    await section('draw', 'draw-one');
  });

  test(`trains the ConvNetJS net from scratch to ≥ ${TEST_ACCURACY_LEVEL * 100} % test accuracy within ${TRAIN_SECONDS} s, then pauses`, async (t) => {
    await page.selectOption('#network-preset', 'convnetjs');
    await page.click('#network-apply');
    await page.waitForSelector('#model-origin[data-name="convnetjs-mnist"]');
    await page.click('#start');
    await waitRunning(true);
    const started = Date.now();
    // (Predicates run in the page: no nested functions, which tsx would wrap in a helper the page lacks.)
    await page.waitForFunction((level) => Number(document.querySelector<HTMLElement>('[data-stat="testAccuracy"]')!.dataset.value || NaN) >= level,
      TEST_ACCURACY_LEVEL, { timeout: TRAIN_SECONDS * 1000, polling: 500 });
    const seconds = (Date.now() - started) / 1000;
    const examples = await stat('examples');
    t.diagnostic(`reached ${await stat('testAccuracy')} rolling test accuracy after ${examples} examples in ${seconds.toFixed(1)} s at ${Math.round(await stat('imagesPerSecond'))} images/s (${await page.getAttribute('#backend', 'data-backend')})`);
    assert.ok(await stat('forwardMs') > 0 && await stat('backwardMs') > 0, 'forward and backward times shown');
    await shot('training');
    // The README's picture: training curves, the network and a drawn digit, mid-training.
    const top = { fullPage: true, clip: { x: 0, y: 0, width: 1400, height: 1340 } };
    await page.screenshot({ path: join(OUT, 'playground.png'), ...top });
    if (process.env.CONVKIT_SCREENSHOT) await page.screenshot({ path: join(repoRoot, process.env.CONVKIT_SCREENSHOT), ...top });
    await page.click('#start');
    await waitRunning(false);
    const paused = await stat('examples');
    await page.waitForTimeout(1000);
    assert.equal(await stat('examples'), paused, 'no training while paused');
    // Settings are editable only while paused.
    assert.equal(await page.isEnabled('#settings [name="lr"]'), true);
  });

  test('an invalid network shows the library error and the old network keeps training', async () => {
    await page.click('#start');
    await waitRunning(true);
    await page.fill('#network-text', JSON.stringify({ input: [1, 24, 24], layers: [{ type: 'conv2d', filters: 4, kernel: 30 }, { type: 'flatten' }, { type: 'dense', units: 10 }] }));
    await page.click('#network-apply');
    await page.waitForSelector('#network-error:not([hidden])');
    const message = await page.textContent('#network-error') ?? '';
    assert.match(message, /conv1/, `error names the layer: ${message}`);
    const before = await stat('examples');
    await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('[data-stat="examples"]')!.dataset.value) > n + 500, before, { timeout: 30_000 });
    assert.equal(await page.getAttribute('#model-origin', 'data-name'), 'convnetjs-mnist');
    await section('network', 'invalid-network');
    await page.fill('#network-text', '{"layers": [ {"type": "conv2d",, } ]}');
    await page.click('#network-apply');
    await page.waitForFunction(() => /not valid JSON/.test(document.getElementById('network-error')!.textContent ?? ''));
    await page.click('#start');
    await waitRunning(false);
  });

  test('saves the trained model and loads it back with the same test accuracy', async () => {
    await page.waitForSelector('#pred-summary[data-accuracy]', { timeout: 60_000 });
    const accuracy = await page.getAttribute('#pred-summary', 'data-accuracy');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
    assert.equal(download.suggestedFilename(), 'convnetjs-mnist.convkit');
    const file = join(OUT, 'saved.convkit');
    await download.saveAs(file);
    assert.equal(readFileSync(file).subarray(0, 8).toString(), 'CONVKIT1');
    await page.click('#load-pretrained');
    await page.waitForSelector('#model-origin[data-name="lenet5"]');
    await page.setInputFiles('#load-file', file);
    await page.waitForSelector('#model-origin[data-name="convnetjs-mnist"]');
    assert.match(await page.textContent('#file-status') ?? '', /Loaded saved\.convkit/);
    await page.waitForSelector('#pred-summary[data-accuracy]', { timeout: 60_000 });
    assert.equal(await page.getAttribute('#pred-summary', 'data-accuracy'), accuracy);
  });

  test('the convolution explainer reproduces the lecture example with the library conv', async () => {
    const output = page.locator('#explainer [data-ref="output"]');
    assert.equal(await output.getAttribute('data-values'), '3 2 2 3 1/2 0 2 1 0/2 2 1 0 0/3 1 0 0 0/1 0 0 0 0');
    await page.click('#explainer [data-ref="step"]');
    await page.click('#explainer [data-ref="step"]');
    assert.match(await page.textContent('#explainer [data-ref="formula"]') ?? '', /^output\[0\]\[1\] = .* = 2$/);
    await page.selectOption('#explainer [data-ref="mode"]', 'max');
    assert.equal(await output.getAttribute('data-values'), '1 1 1/1 1 1/1 1 0');
    await page.selectOption('#explainer [data-ref="mode"]', 'conv');
    await page.selectOption('#explainer [data-ref="kernelChoice"]', 'learned (first conv layer)');
    await page.waitForFunction(() => document.querySelectorAll('#explainer .kernel-cell').length === 25);
    await section('explainer-card', 'explainer');
  });

  test('no console errors, and a final screenshot', async () => {
    await shot('full-page');
    assert.deepEqual(consoleErrors, []);
  });
});

describe('playground on WebGPU in headless Chromium (SwiftShader without a GPU)', { skip, timeout: 180_000 }, () => {
  let served: Served;
  let browser: Browser;
  let page: Page;
  /** Why the WebGPU cases cannot run in this browser, or false. */
  let noAdapter: string | false = false;
  const consoleErrors: string[] = [];

  const stat = async (name: string): Promise<number> => Number(await page.getAttribute(`[data-stat="${name}"]`, 'data-value') || NaN);
  const waitRunning = (running: boolean) => page.waitForFunction((r) => document.getElementById('start')!.textContent === (r ? 'Pause' : 'Resume training') || (!r && document.getElementById('start')!.textContent === 'Start training'), running);
  const waitExamples = (n: number, timeout: number) => page.waitForFunction((m) => Number(document.querySelector<HTMLElement>('[data-stat="examples"]')!.dataset.value) >= m, n, { timeout, polling: 200 });
  /** The layer views' confidence for test digit #0, once they (re)render after `change`. */
  const digitZeroAfter = async (change: () => Promise<unknown>): Promise<number> => {
    await page.evaluate(() => { delete document.getElementById('example-result')!.dataset.probability; });
    await change();
    await page.waitForSelector('#example-result[data-probability]', { timeout: 30_000 });
    return Number(await page.getAttribute('#example-result', 'data-probability'));
  };

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    await buildOnce();
    served = await servePlayground();
    browser = await launchChromium({ webgpu: true });
    page = await browser.context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
    await page.goto(`${served.url}?backend=webgpu`);
    noAdapter = await page.evaluate(async () => {
      const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      if (!gpu) return 'this Chromium has no navigator.gpu';
      return (await gpu.requestAdapter()) ? false : 'no WebGPU adapter in this Chromium';
    });
  });

  after(async () => {
    await browser?.close();
    await served?.close();
  });

  test('?backend=webgpu: the badge says webgpu and names the adapter; training from fresh weights moves the loss', async (t) => {
    if (noAdapter) return t.skip(noAdapter);
    await page.waitForSelector('#model-origin[data-name="lenet5"]', { timeout: 60_000 });
    assert.equal(await page.getAttribute('#backend', 'data-backend'), 'webgpu', await page.textContent('#backend-note') ?? '');
    assert.equal(await page.inputValue('#backend-select'), 'webgpu');
    const note = await page.textContent('#backend-note') ?? '';
    assert.match(note, /^webgpu: \S/);
    await page.click('#reset');
    await page.waitForFunction(() => /fresh weights/.test(document.getElementById('model-origin')!.textContent ?? ''));
    await page.click('#start');
    await waitRunning(true);
    const started = Date.now();
    await waitExamples(32, 30_000);
    const firstLoss = await stat('loss');
    await waitExamples(160, 40_000);
    const loss = await stat('loss');
    t.diagnostic(`${note}: ${await stat('examples')} examples in ${((Date.now() - started) / 1000).toFixed(1)} s, ${Math.round(await stat('imagesPerSecond'))} images/s, `
      + `${(await stat('waitMs')).toFixed(0)} ms per batch waiting for the GPU; smoothed loss ${firstLoss.toFixed(3)} → ${loss.toFixed(3)}`);
    assert.ok(Number.isFinite(firstLoss) && Number.isFinite(loss), `finite losses ${firstLoss}, ${loss}`);
    // Fresh LeNet-5 weights start far off (a smoothed loss of ~4.5 on the reference backend too) and learn at once.
    assert.ok(loss < firstLoss, `the loss went down: ${firstLoss} → ${loss}`);
  });

  test('a lost GPU device shows why and "Continue on WASM" goes on training from the latest weights', async (t) => {
    if (noAdapter) return t.skip(noAdapter);
    await page.evaluate(() => (window as unknown as { convkitDebug: { loseDevice(): Promise<void> } }).convkitDebug.loseDevice());
    await page.waitForSelector('#backend-failure:not([hidden])', { timeout: 20_000 });
    assert.match(await page.textContent('#backend-failure-message') ?? '', /device was lost/);
    assert.equal(await page.isDisabled('#start'), true, 'nothing trains on a broken backend');
    const lost = await stat('examples');
    await page.locator('#backend-failure').screenshot({ path: join(OUT, 'webgpu-device-lost.png') });
    await page.click('#continue-wasm');
    await page.waitForSelector('#backend[data-backend="wasm"]', { timeout: 30_000 });
    assert.equal(await page.isHidden('#backend-failure'), true);
    // Training was running when the device went, so it goes on; the example count carries over.
    await waitRunning(true);
    assert.ok(await stat('examples') >= 32, 'progress kept');
    await waitExamples(lost + 1000, 30_000);
    assert.ok(Number.isFinite(await stat('loss')));
    await page.click('#start');
    await waitRunning(false);
  });

  test('the selector: auto picks wasm on a software adapter and says why; a switch keeps the weights', async (t) => {
    if (noAdapter) return t.skip(noAdapter);
    const onWasm = await digitZeroAfter(() => page.selectOption('#backend-select', 'auto'));
    assert.equal(await page.getAttribute('#backend', 'data-backend'), 'wasm');
    const why = await page.textContent('#backend-note') ?? '';
    t.diagnostic(why);
    assert.match(why, /^wasm \(auto: the only WebGPU adapter \(.+\) renders in software\)/);
    assert.match(page.url(), /[?&]backend=auto/);
    const onGpu = await digitZeroAfter(async () => {
      await page.selectOption('#backend-select', 'webgpu');
      await page.waitForSelector('#backend[data-backend="webgpu"]', { timeout: 30_000 });
    });
    assert.ok(Math.abs(onGpu - onWasm) < 1e-4, `digit #0 confidence on wasm ${onWasm}, on webgpu ${onGpu}`);
    await page.screenshot({ path: join(OUT, 'webgpu.png'), fullPage: true });
  });

  test('no console errors on WebGPU', () => {
    assert.deepEqual(consoleErrors, []);
  });
});

describe('playground worker: no data yet, and out of memory', { skip, timeout: 180_000 }, () => {
  let served: Served;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    await buildOnce();
    served = await servePlayground();
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
    await page.goto(`${served.url}?backend=wasm&wasmMemoryMiB=160`);
  });

  after(async () => {
    await browser?.close();
    await served?.close();
  });

  test('a network within the tab budget that the heap cannot hold fails with the reason; then the pretrained LeNet-5 loads, classifies and evaluates', async () => {
    await page.waitForSelector('#model-origin[data-name="lenet5"]', { timeout: 60_000 });
    await page.waitForSelector('#pred-summary[data-accuracy]', { timeout: 60_000 });
    // 38 M weights (154 MB) fit in the 160 MiB heap, their gradients do not: the build fails part way, on the worker.
    await page.fill('#network-text', JSON.stringify({ input: [1, 28, 28], layers: [{ type: 'flatten' }, { type: 'dense', units: 49000 }, { type: 'relu' }, { type: 'dense', units: 10 }] }));
    await page.click('#network-apply');
    await page.waitForSelector('#network-error:not([hidden])', { timeout: 60_000 });
    assert.match(await page.textContent('#network-error') ?? '', /out of memory/);
    await page.click('#load-pretrained');
    await page.waitForFunction(() => /pretrained LeNet-5/.test(document.getElementById('file-status')!.textContent ?? ''), undefined, { timeout: 30_000 });
    await page.waitForSelector('#pred-summary[data-accuracy]', { timeout: 60_000 });
    assert.ok(Number(await page.getAttribute('#pred-summary', 'data-accuracy')) > 0.97);
    const box = (await page.locator('#draw-canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.52, box.y + box.height * 0.15);
    await page.mouse.down();
    for (let i = 1; i <= 12; i++) await page.mouse.move(box.x + box.width * (0.52 - 0.03 * i / 12), box.y + box.height * (0.15 + 0.7 * i / 12));
    await page.mouse.up();
    await page.waitForSelector('#draw-probs[data-prediction]', { timeout: 30_000 });
    assert.equal(await page.getAttribute('#draw-probs', 'data-prediction'), '1');
    // Training still works on the fresh backend.
    await page.click('#start');
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('[data-stat="examples"]')!.dataset.value) > 200, undefined, { timeout: 30_000 });
    assert.deepEqual(consoleErrors, []);
  });

  test('before the MNIST digits arrive, the pretrained network is there and classifies a drawing; the digits follow with progress', async () => {
    const held: (() => Promise<void>)[] = [];
    const fresh = await browser.context.newPage();
    // The data files wait until the drawing has been classified.
    await fresh.route('**/data/mnist-*.bin', (route) => { held.push(() => route.continue()); });
    await fresh.goto(`${served.url}?backend=wasm`);
    await fresh.waitForSelector('#model-origin[data-name="lenet5"]', { timeout: 60_000 });
    const box = (await fresh.locator('#draw-canvas').boundingBox())!;
    await fresh.mouse.move(box.x + box.width * 0.52, box.y + box.height * 0.15);
    await fresh.mouse.down();
    for (let i = 1; i <= 12; i++) await fresh.mouse.move(box.x + box.width * (0.52 - 0.03 * i / 12), box.y + box.height * (0.15 + 0.7 * i / 12));
    await fresh.mouse.up();
    await fresh.waitForSelector('#draw-probs[data-prediction]', { timeout: 30_000 });
    assert.equal(await fresh.getAttribute('#draw-probs', 'data-prediction'), '1');
    assert.doesNotMatch(await fresh.textContent('#status') ?? '', /test digits/, 'the digits were held back');
    assert.equal(held.length, 1, 'the test digits are asked for first, the training digits after them');
    await held.shift()!();
    // Later requests (the training digits) go through; unroute also lets any held one go on.
    await fresh.unroute('**/data/mnist-*.bin');
    await fresh.waitForFunction(() => /10,000 test digits/.test(document.getElementById('status')!.textContent ?? ''), undefined, { timeout: 60_000 });
    // The evaluation the page asked for before the digits came runs once they are here.
    await fresh.waitForSelector('#pred-summary[data-accuracy]', { timeout: 60_000 });
    await fresh.close();
  });
});
