import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const webRoot = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Cross-origin isolation: SharedArrayBuffer (the wasm backend's threads) needs both headers. */
export const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: webRoot,
  // Relative asset URLs, so the built page also works from a sub-path.
  base: './',
  resolve: {
    // The library's sources, as the tests run them: `#platform` is then the browser's
    // (src/backend/platform-browser.ts), so no Node module reaches the bundle.
    conditions: ['convkit-source', 'browser', 'module', 'development|production'],
  },
  server: { headers: isolationHeaders, fs: { allow: [repoRoot] } },
  preview: { headers: isolationHeaders },
  // Workers are bundled separately, with their own plugins: the playground's training runs in one.
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: {
      input: { playground: `${webRoot}index.html`, bench: `${webRoot}bench.html` },
    },
  },
});
