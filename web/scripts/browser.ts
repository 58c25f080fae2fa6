/**
 * Shared by the end-to-end test and the headless bench runner: build the playground, serve
 * the build on 127.0.0.1 at a free port (with the COOP/COEP headers), and start Debian's
 * Chromium through playwright-core (never a downloaded browser).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { preview } from 'vite';
import { buildWeb } from './build-web.mjs';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const webRoot = join(repoRoot, 'web');
export const CHROMIUM = '/usr/bin/chromium';
/** Debian's Chromium, headless, with nothing that reaches out to the network on its own. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Builds web/dist (kernels, MNIST files, Vite) without console output. */
export async function buildPlayground(): Promise<void> {
  await buildWeb({ quiet: true });
}

export interface Served {
  url: string;
  close(): Promise<void>;
}

/** Serves web/dist on 127.0.0.1 at a port the OS picks. */
export async function servePlayground(): Promise<Served> {
  const server = await preview({
    root: webRoot,
    configFile: join(webRoot, 'vite.config.ts'),
    logLevel: 'error',
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('preview server has no TCP address');
  return { url: `http://127.0.0.1:${address.port}/`, close: () => server.close() };
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Headless Chromium with a fresh profile, launched as toolchain-facts.md prescribes. `webgpu`:
 * WebGPU on (--enable-unsafe-webgpu, as test/browser/run.ts launches it); without a GPU,
 * headless Chromium then offers SwiftShader's software adapter ("google swiftshader", a
 * fallback adapter). `phone`: a phone-sized touch screen.
 */
export async function launchChromium(options: { webgpu?: boolean; phone?: boolean } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (never a Playwright browser download)`);
  const profile = mkdtempSync(join(tmpdir(), 'convkit-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    // phone: a 390×844 touch screen (an iPhone 12–14's CSS pixels).
    viewport: options.phone ? { width: 390, height: 844 } : { width: 1400, height: 1000 },
    ...(options.phone ? { hasTouch: true, isMobile: true, deviceScaleFactor: 2 } : {}),
    args: [...CHROMIUM_ARGS, ...(options.webgpu ? ['--enable-unsafe-webgpu'] : [])],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
