/**
 * Bundles test/backend.test.ts for the browser with Vite (rolldown): worker.ts is the entry,
 * and the suite's Node imports are swapped for browser stand-ins — node:test → node-test.ts,
 * node:assert/strict → assert.ts, node:fs and node:child_process → node-stubs.ts, the suite's
 * createBackend (src/backend/index.ts) → backends.ts, its WebGPU probe (test/webgpu-env.ts) →
 * webgpu-env.ts, and the `webgpu` package (Dawn for
 * Node) → a module that throws when loaded. Any other node: import is an
 * error, so a suite that grows a Node dependency fails to bundle instead of misbehaving.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Plugin, build } from 'vite';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const here = join(repoRoot, 'test', 'browser');
/** The bundle and nothing else: suite.js (served by run.ts). */
export const bundleDir = join(repoRoot, 'out', 'backend-browser');
export const webgpuModule = join(repoRoot, 'src', 'backend', 'webgpu', 'webgpu.ts');

const WEBGPU = 'convkit-browser:webgpu',
  DAWN = 'convkit-browser:dawn';

function browserShims(): Plugin {
  const replaced: Record<string, string> = {
    'node:test': join(here, 'node-test.ts'),
    'node:assert/strict': join(here, 'assert.ts'),
    'node:assert': join(here, 'assert.ts'),
    'node:fs': join(here, 'node-stubs.ts'),
    'node:child_process': join(here, 'node-stubs.ts'),
  };
  // Modules the suite imports, by resolved path, and their browser stand-ins.
  const standIns: Record<string, string> = {
    [join(repoRoot, 'src', 'backend', 'index.ts')]: join(here, 'backends.ts'),
    [join(repoRoot, 'test', 'webgpu-env.ts')]: join(here, 'webgpu-env.ts'),
  };
  return {
    name: 'convkit-browser-shims',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (source in replaced) return replaced[source];
      if (source === WEBGPU) return `\0${WEBGPU}`;
      // The `webgpu` package is Dawn for Node; the backend imports it only where navigator.gpu is missing.
      if (source === 'webgpu') return `\0${DAWN}`;
      if (source.startsWith('node:')) this.error(`${source}, imported by ${importer}, has no browser stand-in (test/browser/build.ts)`);
      if (importer?.startsWith(here) || !importer?.startsWith(join(repoRoot, 'test'))) return null;
      // The suite's own imports of Node-side modules: the browser's instead.
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      return (resolved && standIns[resolved.id]) ?? null;
    },
    transform(code, id) {
      // Vite would inline files named by `new URL('…', import.meta.url)` (the suite's kernel check) into the bundle.
      if (!id.startsWith(join(repoRoot, 'test')) || id.startsWith(here)) return null;
      return code.replaceAll('import.meta.url', "import.meta['url']");
    },
    load(id) {
      if (id === `\0${DAWN}`) return 'throw new Error("the webgpu package (Dawn for Node) is not part of the browser bundle");';
      if (id !== `\0${WEBGPU}`) return null;
      // Decided when bundling, so that the bundle builds before the webgpu backend exists.
      return existsSync(webgpuModule) ? `export { WebGpuBackend } from ${JSON.stringify(webgpuModule)};` : 'export const WebGpuBackend = null;';
    },
  };
}

/** Writes out/backend-browser/suite.js; returns whether the webgpu backend was in it. */
export async function buildSuite(): Promise<{ webgpu: boolean }> {
  const webgpu = existsSync(webgpuModule);
  await build({
    configFile: false,
    root: repoRoot,
    publicDir: false,
    logLevel: 'error',
    plugins: [browserShims()],
    // The library's sources: `#platform` is the browser's (src/backend/platform-browser.ts).
    resolve: { conditions: ['convkit-source', 'browser', 'module', 'development|production'] },
    build: {
      outDir: bundleDir,
      emptyOutDir: true,
      target: 'es2022',
      minify: false,
      sourcemap: 'inline',
      reportCompressedSize: false,
      lib: { entry: join(here, 'worker.ts'), formats: ['es'], fileName: () => 'suite.js' },
      rolldownOptions: { output: { codeSplitting: false } },
    },
  });
  return { webgpu };
}
