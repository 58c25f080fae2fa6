/**
 * Serves a built browser app (a folder) plus the MNIST fixture at /mnist.gz on 127.0.0.1,
 * with or without the COOP/COEP headers, and opens it in Debian's headless Chromium through
 * playwright-core (never a downloaded browser), waiting for the page's window.result.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, relative } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.json': 'application/json',
};

function serve(dir: string, mnist: string, isolated: boolean): Promise<{ url: string; server: Server }> {
  const headers: Record<string, string> = isolated ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {};
  const server = createServer((req, res) => {
    let path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path.endsWith('/')) path += 'index.html';
    const file = path === '/mnist.gz' ? mnist : normalize(join(dir, path));
    const inside = file === mnist || !relative(dir, file).startsWith('..');
    if (!inside || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, headers).end(`not found: ${path}`);
      return;
    }
    res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store', ...headers });
    res.end(readFileSync(file));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (!address || typeof address === 'string') return reject(new Error('no TCP address'));
      resolve({ url: `http://127.0.0.1:${address.port}/`, server });
    });
  });
}

export interface PageRun {
  result: Record<string, unknown>;
  /** Console errors and uncaught page errors. */
  errors: string[];
}

/** Opens the app's index.html, served with or without cross-origin isolation, and waits for its result. */
export async function runApp(dir: string, mnist: string, isolated: boolean, timeoutMs = 150_000): Promise<PageRun> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (never a Playwright browser download)`);
  const { url, server } = await serve(dir, mnist, isolated);
  const profile = mkdtempSync(join(tmpdir(), 'convkit-consumer-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const errors: string[] = [];
  try {
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => (window as { result?: unknown }).result !== undefined, undefined, { timeout: timeoutMs, polling: 250 });
    const result = await page.evaluate(() => (window as unknown as { result: Record<string, unknown> }).result);
    return { result, errors };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    server.close();
  }
}
