// Builds the playground into web/dist: the wasm kernels if dist-wasm/ lacks them (the page
// falls back to the reference backend when they cannot be built), the MNIST files, then Vite.
// Usage: node web/scripts/build-web.mjs   (npm run build:web; npm start also serves it)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { buildMnist } from './build-mnist.mjs';

const webRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = join(webRoot, '..');

/** `quiet` keeps the console clean for tests: only failures are printed. */
export async function buildWeb({ quiet = false } = {}) {
  const log = quiet ? () => {} : console.log;
  if (!existsSync(join(repoRoot, 'dist-wasm', 'kernels-simd.wasm'))) {
    log('building the wasm kernels (node assembly/build.mjs)…');
    const r = spawnSync(process.execPath, [join(repoRoot, 'assembly', 'build.mjs')], { cwd: repoRoot, stdio: quiet ? 'pipe' : 'inherit' });
    if (r.status !== 0) console.warn('build-web: the wasm kernels did not build; the playground will use the reference backend');
  }
  buildMnist(log);
  await build({ root: webRoot, configFile: join(webRoot, 'vite.config.ts'), logLevel: quiet ? 'error' : 'warn' });
  log('built web/dist');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildWeb();
