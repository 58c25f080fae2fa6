/**
 * Runs the bench page (web/bench.html) in headless Chromium and prints its figures as JSON
 * and as a Markdown table, for docs/BENCHMARKS.md.
 * Usage: node --import tsx web/scripts/bench-headless.ts
 */
import { buildPlayground, launchChromium, servePlayground } from './browser.js';
import type { BenchResult } from '../src/bench/jobs.js';

await buildPlayground();
const served = await servePlayground();
const browser = await launchChromium();
try {
  const page = await browser.context.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(`${served.url}bench.html?auto`);
  await page.waitForFunction(() => window.benchResults !== undefined, undefined, { timeout: 600_000, polling: 1000 });
  const out = await page.evaluate(() => window.benchResults!);
  const version = browser.context.browser()?.version() ?? '?';
  console.log(JSON.stringify({ chromium: version, ...out }, null, 2));
  console.log(`\nChromium ${version}, ${out.cores} cores reported\n`);
  console.log('| run | backend | images/s | images timed | training accuracy at the end |');
  console.log('|---|---|---:|---:|---:|');
  for (const r of out.results as BenchResult[]) {
    console.log(`| ${r.label} | ${r.backend} | ${Math.round(r.imagesPerSecond)} | ${r.images} | ${(r.trainAccuracy * 100).toFixed(1)} % |`);
  }
  for (const e of out.errors) console.log(`error: ${e}`);
} finally {
  await browser.close();
  await served.close();
}
