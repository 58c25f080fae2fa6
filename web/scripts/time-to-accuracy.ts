/**
 * How long a visitor trains in the tab until the whole test set is ≥ 98 % right: loads the
 * playground in headless Chromium, picks a preset, trains with the default settings, and
 * every `checkEvery` seconds pauses to let the page evaluate all 10,000 test digits.
 * Usage: node --import tsx web/scripts/time-to-accuracy.ts [preset=convnetjs] [checkEvery=15] [limit=300] [query]
 * (query: e.g. "backend=ref" to train on the reference backend)
 */
import { buildPlayground, launchChromium, servePlayground } from './browser.js';

const [preset = 'convnetjs', checkEvery = '15', limit = '300', query = ''] = process.argv.slice(2);
const target = 0.98;

await buildPlayground();
const served = await servePlayground();
const browser = await launchChromium();
try {
  const page = await browser.context.newPage();
  await page.goto(`${served.url}${query ? `?${query}` : ''}`);
  await page.waitForSelector('#model-origin[data-name="lenet5"]', { timeout: 60_000 });
  await page.selectOption('#network-preset', preset);
  await page.click('#network-apply');
  await page.waitForFunction(() => /defined in the editor/.test(document.getElementById('model-origin')!.textContent ?? ''));
  const backend = await page.getAttribute('#backend', 'title');
  let trainSeconds = 0;
  const wallStart = Date.now();
  for (;;) {
    await page.click('#start');
    await page.waitForFunction(() => document.getElementById('start')!.textContent === 'Pause');
    const t0 = Date.now();
    await page.waitForTimeout(Number(checkEvery) * 1000);
    await page.click('#start');
    await page.waitForFunction(() => document.getElementById('start')!.textContent !== 'Pause');
    trainSeconds += (Date.now() - t0) / 1000;
    await page.waitForSelector('#pred-summary[data-accuracy]', { timeout: 120_000 });
    const accuracy = Number(await page.getAttribute('#pred-summary', 'data-accuracy'));
    const examples = Number(await page.getAttribute('[data-stat="examples"]', 'data-value'));
    const rate = await page.textContent('[data-stat="imagesPerSecond"]');
    console.log(
      `${preset}: ${trainSeconds.toFixed(0)} s training (${((Date.now() - wallStart) / 1000).toFixed(0)} s wall), ${examples} examples, test accuracy ${(accuracy * 100).toFixed(2)} %, ${rate} images/s [${backend}]`,
    );
    if (accuracy >= target || trainSeconds >= Number(limit)) break;
  }
} finally {
  await browser.close();
  await served.close();
}
