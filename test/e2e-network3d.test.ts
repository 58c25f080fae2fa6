/**
 * The playground's 3-D network view end to end, in Debian's Chromium (WebGL through SwiftShader):
 * it renders the drawing and recolours the same meshes for a new one, hovering a unit marks
 * exactly its receptive field in the input (fieldBounds from the library, computed here in
 * Node), and at phone size it fits and its drag and pinch orbit and zoom without scrolling the
 * page. Screenshots go to out/e2e-network3d/; set CONVKIT_SCREENSHOT_3D=docs/img/playground-3d.png
 * to refresh the docs' picture.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CDPSession, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { Model, RefBackend, fieldBounds, receptiveFields, zoo } from '../src/index.js';
import { type Browser, CHROMIUM, type Served, buildPlayground, launchChromium, repoRoot, servePlayground } from '../web/scripts/browser.js';

const OUT = join(repoRoot, 'out', 'e2e-network3d');
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install -y chromium)`;
/** Both browsers serve the same build, made once. */
let built: Promise<void> | undefined;
const buildOnce = () => (built ??= buildPlayground());

interface Stats {
  builds: number;
  renders: number;
  colourUpdates: number;
  buildMs: number;
  lines: number;
  geometries: number;
  textures: number;
  meshes: number;
  instances: number;
  sceneObjects: number;
}
interface SlabInfo {
  kind: string;
  nodes: string[];
  channels: number;
  height: number;
  width: number;
  units: number;
}

/** The same LeNet-5 the page loads, for the library's receptive fields. */
const lenetFields = receptiveFields(new Model(zoo.lenet5.build(), new RefBackend()));

/** Input pixels (row-major indices into 28×28) inside a field's bounds: the image's part of it. */
function inputCells(node: string, row: number, col: number): number[] {
  const b = fieldBounds(lenetFields.get(node)!, row, col);
  const cells: number[] = [];
  for (let r = Math.max(0, b.top); r <= Math.min(27, b.bottom); r++) for (let c = Math.max(0, b.left); c <= Math.min(27, b.right); c++) cells.push(r * 28 + c);
  return cells;
}

/** Pixels unlike the view's background, and how many distinct colours (a blank or flat canvas has few). */
function pixelSummary(png: Buffer): { drawn: number; colours: number; total: number; data: Buffer } {
  const img = PNG.sync.read(png);
  const colours = new Set<number>();
  let drawn = 0;
  for (let i = 0; i < img.data.length; i += 4) {
    const [r, g, b] = [img.data[i], img.data[i + 1], img.data[i + 2]];
    colours.add((r << 16) | (g << 8) | b);
    if (Math.abs(r - 0x1b) + Math.abs(g - 0x1f) + Math.abs(b - 0x2a) > 24) drawn++;
  }
  return { drawn, colours: colours.size, total: img.width * img.height, data: img.data };
}

describe('the 3-D network view in headless Chromium', { skip, timeout: 180_000 }, () => {
  let served: Served;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  const hook = <T>(fn: string, ...args: unknown[]): Promise<T> =>
    page.evaluate(
      ([f, a]) => (window as unknown as { convkitNetwork3d: Record<string, (...x: unknown[]) => unknown> }).convkitNetwork3d[f as string](...(a as unknown[])),
      [fn, args] as const,
    ) as Promise<T>;
  const stats = () => hook<Stats>('stats');
  const canvas = () => page.locator('#network3d canvas');
  /** Waits until the view has rendered everything asked of it. */
  const settled = async () => {
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  };
  const stroke = async (points: [number, number][]) => {
    await page.locator('#draw-canvas').scrollIntoViewIfNeeded();
    const box = (await page.locator('#draw-canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width * points[0][0], box.y + box.height * points[0][1]);
    await page.mouse.down();
    for (const [x, y] of points.slice(1)) await page.mouse.move(box.x + box.width * x, box.y + box.height * y, { steps: 6 });
    await page.mouse.up();
  };
  const slabIndex = async (node: string) => (await hook<SlabInfo[]>('slabs')).findIndex((s) => s.nodes.includes(node));
  const hoverUnit = async (slab: number, unit: number) => {
    const at = await hook<{ x: number; y: number }>('project', slab, unit);
    await page.mouse.move(at.x, at.y);
    await page.waitForFunction(
      ([s, u]) => {
        const h = (window as unknown as { convkitNetwork3d: { hovered(): { slab: number; unit: number } | null } }).convkitNetwork3d.hovered();
        return h?.slab === s && h.unit === u;
      },
      [slab, unit],
    );
  };

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    await buildOnce();
    served = await servePlayground();
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
    await page.goto(served.url);
    await page.waitForSelector('#model-origin[data-name="lenet5"]', { timeout: 60_000, state: 'attached' });
    await page.click('[data-tab="3d"]');
    await page.waitForFunction(() => 'convkitNetwork3d' in window);
  });

  after(async () => {
    await browser?.close();
    await served?.close();
  });

  test('renders the drawing; a new drawing recolours the same meshes in place, and nothing renders while idle', async (t) => {
    assert.equal(await page.isVisible('#network3d .network3d-empty'), true, 'before a drawing, the view says to draw');
    await stroke([
      [0.52, 0.15],
      [0.49, 0.85],
    ]); // a "1"
    await page.waitForSelector('#draw-probs[data-prediction]');
    await page.waitForFunction(() => (window as unknown as { convkitNetwork3d: { stats(): Stats } }).convkitNetwork3d.stats().builds >= 1);
    await settled();
    await page.locator('#network3d-card').scrollIntoViewIfNeeded();
    await settled();
    const first = await stats();
    t.diagnostic(
      `LeNet-5 scene: ${first.meshes} instanced meshes, ${first.instances} cells, built in ${first.buildMs.toFixed(0)} ms; ${first.geometries} geometries`,
    );
    const slabs = await hook<SlabInfo[]>('slabs');
    assert.deepEqual(
      slabs.map((s) => s.nodes.join('+')),
      ['input', 'conv1+relu1', 'pool1', 'conv2+relu2', 'pool2+flatten1', 'fc1+relu3', 'fc2+relu4', 'fc3'],
    );
    // Bounded work: one mesh per slab, all sharing one box geometry (plus the lines and the marker).
    assert.equal(first.meshes, 8);
    assert.equal(first.instances, 784 + 4704 + 1176 + 1600 + 400 + 120 + 84 + 10);
    assert.ok(first.geometries <= 3, `${first.geometries} geometries on the GPU`);
    assert.equal(await page.isVisible('#network3d .network3d-empty'), false);
    assert.equal(await page.locator('#network3d .network3d-label').count(), 8, 'every slab is labelled');
    assert.equal(await page.locator('#network3d .network3d-class').count(), 10, 'every class is labelled');
    assert.match((await page.locator('#network3d .network3d-class.top').textContent()) ?? '', /^1: \d/);
    const shotOne = await canvas().screenshot({ path: join(OUT, 'one.png') });
    const one = pixelSummary(shotOne);
    assert.ok(one.drawn > one.total * 0.05, `${one.drawn} of ${one.total} pixels drawn`);
    assert.ok(one.colours > 200, `${one.colours} distinct colours`);

    // Idle: no render loop.
    const idle = (await stats()).renders;
    await page.waitForTimeout(400);
    assert.equal((await stats()).renders, idle, 'nothing renders while nothing changes');

    const conv1Before = await hook<number[]>('colours', 1);
    await stroke([
      [0.22, 0.17],
      [0.53, 0.15],
    ]); // a bar on top: now a "7"
    await page.waitForFunction(
      (n) => (window as unknown as { convkitNetwork3d: { stats(): Stats } }).convkitNetwork3d.stats().colourUpdates > n,
      first.colourUpdates,
    );
    await settled();
    const second = await stats();
    assert.equal(second.builds, 1, 'the scene is not rebuilt for a new drawing');
    assert.equal(second.geometries, first.geometries, 'no new geometries');
    assert.equal(second.meshes, first.meshes);
    assert.equal(second.sceneObjects, first.sceneObjects);
    assert.notDeepEqual(await hook<number[]>('colours', 1), conv1Before, 'conv1 cells changed colour');
    const two = pixelSummary(await canvas().screenshot({ path: join(OUT, 'seven.png') }));
    let changed = 0;
    for (let i = 0; i < Math.min(one.data.length, two.data.length); i += 4) if (one.data[i] !== two.data[i] || one.data[i + 2] !== two.data[i + 2]) changed++;
    assert.ok(changed > 500, `${changed} pixels changed with the drawing`);
  });

  test('hovering a unit marks its receptive field in the input: fieldBounds of that unit', async (t) => {
    const conv2 = await slabIndex('conv2'),
      pool1 = await slabIndex('pool1'),
      conv1 = await slabIndex('conv1');
    // Inside the image, and at the border where the field reaches into padding.
    for (const [slab, node, channel, row, col, H, W] of [
      [conv2, 'conv2', 3, 2, 7, 10, 10],
      [pool1, 'pool1', 2, 0, 0, 14, 14],
      [conv2, 'conv2', 15, 9, 9, 10, 10],
    ] as const) {
      await hoverUnit(slab, (channel * H + row) * W + col);
      assert.deepEqual(await hook<number[]>('highlighted', 0), inputCells(node, row, col), `${node} map ${channel} (${row}, ${col})`);
      assert.match(
        (await page.textContent('#network3d .network3d-info')) ?? '',
        new RegExp(`^${node}.*map ${channel}, row ${row}, column ${col}.*Receptive field: input rows`),
      );
    }
    // Through pooling a unit reads only its own map: pool1's (0, 0) in map 2 is conv1's 2×2 window there.
    await hoverUnit(pool1, (2 * 14 + 0) * 14 + 0);
    assert.deepEqual(await hook<number[]>('highlighted', conv1), [2 * 784, 2 * 784 + 1, 2 * 784 + 28, 2 * 784 + 29]);
    assert.equal((await stats()).lines, 4, 'a line to each of the four');
    // A conv2 unit reads a 5×5 window in all six pool1 maps.
    await hoverUnit(conv2, (3 * 10 + 2) * 10 + 7);
    assert.equal((await stats()).lines, 5 * 5 * 6);
    await settled();
    await page.locator('#network3d-card').screenshot({ path: join(OUT, 'hover-conv2.png') });
    if (process.env.CONVKIT_SCREENSHOT_3D) await page.locator('#network3d-card').screenshot({ path: join(repoRoot, process.env.CONVKIT_SCREENSHOT_3D) });
    // A dense unit sees the whole input.
    const fc1 = await slabIndex('fc1');
    await hoverUnit(fc1, 5);
    assert.equal((await hook<number[]>('highlighted', 0)).length, 784);
    assert.equal((await stats()).lines, 400);
    t.diagnostic((await page.textContent('#network3d .network3d-info')) ?? '');
    await page.mouse.move(2, 2);
    await page.waitForFunction(() => (window as unknown as { convkitNetwork3d: { hovered(): unknown } }).convkitNetwork3d.hovered() === null);
  });

  test('another network rebuilds the scene with its own receptive fields, and frees the old one', async () => {
    const before = await stats();
    await page.click('[data-tab="network"]');
    await page.locator('#network-preset').scrollIntoViewIfNeeded();
    await page.selectOption('#network-preset', 'convnetjs');
    await page.click('#network-apply');
    await page.waitForSelector('#model-origin[data-name="convnetjs-mnist"]', { state: 'attached' });
    await page.click('[data-tab="3d"]');
    await page.waitForFunction((n) => (window as unknown as { convkitNetwork3d: { stats(): Stats } }).convkitNetwork3d.stats().builds > n, before.builds);
    await settled();
    const after = await stats();
    const slabs = await hook<SlabInfo[]>('slabs');
    assert.deepEqual(
      slabs.map((s) => s.nodes.join('+')),
      ['input', 'conv1+relu1', 'pool1', 'conv2+relu2', 'pool2+flatten1', 'fc1'],
    );
    assert.deepEqual([slabs[0].height, slabs[0].width], [24, 24], 'the 24×24 crop');
    assert.equal(after.geometries, before.geometries, "the old slabs' geometry is not left behind");
    assert.equal(after.sceneObjects, before.sceneObjects - 2, 'two slabs fewer, nothing else added');
    // pool2 (3×3, stride 3) unit (1, 1) of map 5: its field in the 24×24 input, from this network's fields.
    const fields = receptiveFields(new Model(zoo['convnetjs-mnist'].build(), new RefBackend()));
    await page.locator('#network3d-card').scrollIntoViewIfNeeded();
    await settled();
    await hoverUnit(4, (5 * 4 + 1) * 4 + 1);
    const b = fieldBounds(fields.get('pool2')!, 1, 1);
    const expected: number[] = [];
    for (let r = Math.max(0, b.top); r <= Math.min(23, b.bottom); r++)
      for (let c = Math.max(0, b.left); c <= Math.min(23, b.right); c++) expected.push(r * 24 + c);
    assert.deepEqual(await hook<number[]>('highlighted', 0), expected);
    await page.mouse.move(2, 2);
  });

  test('no console errors', () => {
    assert.deepEqual(consoleErrors, []);
  });
});

describe('the 3-D network view on a phone (390×844, touch) in headless Chromium', { skip, timeout: 180_000 }, () => {
  let served: Served;
  let browser: Browser;
  let page: Page;
  let cdp: CDPSession;
  const consoleErrors: string[] = [];

  const hook = <T>(fn: string, ...args: unknown[]): Promise<T> =>
    page.evaluate(
      ([f, a]) => (window as unknown as { convkitNetwork3d: Record<string, (...x: unknown[]) => unknown> }).convkitNetwork3d[f as string](...(a as unknown[])),
      [fn, args] as const,
    ) as Promise<T>;
  const canvas = () => page.locator('#network3d canvas');
  const touch = (type: 'touchStart' | 'touchMove' | 'touchEnd' | 'touchCancel', points: [number, number][]) =>
    cdp.send('Input.dispatchTouchEvent', { type, touchPoints: points.map(([x, y], id) => ({ x, y, id })) });
  /** Fingers from `from` to `to` in steps, as the browser's input pipeline sees real touches (touch-action applies). */
  const gesture = async (from: [number, number][], to: [number, number][]) => {
    await touch('touchStart', from);
    for (let i = 1; i <= 10; i++)
      await touch(
        'touchMove',
        from.map(([x, y], k) => [x + ((to[k][0] - x) * i) / 10, y + ((to[k][1] - y) * i) / 10]),
      );
    await touch('touchEnd', []);
    await settledScroll();
  };
  /** Waits until the page stops moving (a fling goes on after the finger lifts). */
  const settledScroll = () =>
    page.waitForFunction(
      () =>
        new Promise<boolean>((resolve) => {
          const y = visualViewport!.pageTop;
          setTimeout(() => resolve(visualViewport!.pageTop === y), 250);
        }),
      undefined,
      { polling: 50 },
    );
  /** Where the screen shows the page: scrolling, or panning the visual viewport within a wider layout. */
  const scrollY = () => page.evaluate(() => `${visualViewport!.pageLeft}, ${visualViewport!.pageTop}`);
  const camera = () => hook<{ distance: number; position: number[] }>('camera');
  /** The view in the middle of the screen (the page above it grows as its reports arrive). */
  const showView = async () => {
    await page.evaluate(() => document.getElementById('network3d')!.scrollIntoView({ block: 'center' }));
    await settledScroll();
  };

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    await buildOnce();
    served = await servePlayground();
    browser = await launchChromium({ phone: true });
    page = await browser.context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
    cdp = await browser.context.newCDPSession(page);
    await page.goto(served.url);
    await page.waitForSelector('#model-origin[data-name="lenet5"]', { timeout: 60_000, state: 'attached' });
    await page.click('[data-tab="3d"]');
    // A "1" drawn with a finger.
    await page.locator('#draw-canvas').scrollIntoViewIfNeeded();
    const pad = (await page.locator('#draw-canvas').boundingBox())!;
    await gesture([[pad.x + pad.width * 0.52, pad.y + pad.height * 0.15]], [[pad.x + pad.width * 0.49, pad.y + pad.height * 0.85]]);
    await page.waitForFunction(() => ((window as unknown as { convkitNetwork3d?: { stats(): Stats } }).convkitNetwork3d?.stats().builds ?? 0) >= 1);
  });

  after(async () => {
    await browser?.close();
    await served?.close();
  });

  test('the canvas fits the screen and the card does not overflow', async () => {
    await showView();
    const box = (await canvas().boundingBox())!;
    assert.ok(box.x >= 0 && box.x + box.width <= 390, `canvas spans ${box.x}…${box.x + box.width}`);
    assert.ok(box.height >= 300 && box.height <= 844, `canvas height ${box.height}`);
    const card = await page.evaluate(() => {
      const c = document.getElementById('network3d-card')!;
      return { scroll: c.scrollWidth, client: c.clientWidth, right: c.getBoundingClientRect().right };
    });
    assert.ok(card.scroll <= card.client, `card content ${card.scroll} px wide in ${card.client}`);
    assert.ok(card.right <= 390, `card ends at ${card.right}`);
    await page.screenshot({ path: join(OUT, 'phone.png') });
  });

  test('a tap picks a unit and marks its receptive field', async () => {
    await showView();
    const conv2 = (await hook<SlabInfo[]>('slabs')).findIndex((s) => s.nodes.includes('conv2'));
    const client = await hook<{ x: number; y: number }>('project', conv2, 0);
    // Touches are placed on the visual viewport; the page's other cards may widen the layout viewport beyond it.
    const offset = await page.evaluate(() => ({ x: visualViewport!.offsetLeft, y: visualViewport!.offsetTop }));
    const at = { x: client.x - offset.x, y: client.y - offset.y };
    assert.ok(at.x > 0 && at.x < 390 && at.y > 0 && at.y < 844, `unit on screen at ${at.x}, ${at.y}`);
    await touch('touchStart', [[at.x, at.y]]);
    await touch('touchEnd', []);
    await page.waitForFunction(
      (s) => (window as unknown as { convkitNetwork3d: { hovered(): { slab: number } | null } }).convkitNetwork3d.hovered()?.slab === s,
      conv2,
    );
    const { unit } = await hook<{ slab: number; unit: number }>('hovered');
    const row = Math.floor(unit / 10) % 10,
      col = unit % 10;
    assert.deepEqual(await hook<number[]>('highlighted', 0), inputCells('conv2', row, col));
    await page.screenshot({ path: join(OUT, 'phone-tap.png') });
  });

  test('a one-finger drag orbits and a pinch zooms; neither scrolls the page, which the same drag on text does', async () => {
    await showView();
    const box = (await canvas().boundingBox())!;
    const cx = box.x + box.width / 2,
      cy = box.y + box.height / 2;
    assert.ok(box.y >= 0 && box.y + box.height <= 844, `canvas on screen: ${box.y}…${box.y + box.height}`);
    const y0 = await scrollY();
    const camera0 = await camera();
    await gesture([[cx, cy + 80]], [[cx + 40, cy - 80]]);
    const camera1 = await camera();
    assert.notDeepEqual(camera1.position, camera0.position, 'the drag orbited the camera');
    assert.equal(await scrollY(), y0, 'the drag did not scroll the page');
    await gesture(
      [
        [cx - 30, cy],
        [cx + 30, cy],
      ],
      [
        [cx - 120, cy],
        [cx + 120, cy],
      ],
    );
    const camera2 = await camera();
    assert.ok(camera2.distance < camera1.distance * 0.9, `pinching out zoomed in: ${camera1.distance} → ${camera2.distance}`);
    assert.equal(await scrollY(), y0, 'the pinch did not scroll the page');
    assert.equal(await page.evaluate(() => visualViewport?.scale ?? 1), 1, 'the pinch did not zoom the page');
    // The same drag on the card's text scrolls: the gesture is one that scrolls pages.
    await page.evaluate(() => document.querySelector('#network3d-card .hint')!.scrollIntoView({ block: 'center' }));
    const y1 = await scrollY();
    const hint = (await page.locator('#network3d-card .hint').boundingBox())!;
    // Dragged towards whichever end the page can still scroll to.
    const dy = Number(y1.split(', ')[1]) > 0 ? 150 : -150;
    await gesture([[hint.x + 40, hint.y + hint.height / 2]], [[hint.x + 60, hint.y + hint.height / 2 + dy]]);
    assert.notEqual(await scrollY(), y1, 'the drag on text scrolled the page');
  });

  test('no console errors on the phone', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
