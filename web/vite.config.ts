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
    // createBackend('wasm') imports Node's platform (fs, worker_threads) and the WebGPU probe
    // a child process; browsers get stubs.
    alias: [
      { find: /^\.\/wasm-node\.js$/, replacement: `${webRoot}src/worker/node-platform-stub.ts` },
      { find: /^\.\/gpu-probe-node\.js$/, replacement: `${webRoot}src/worker/gpu-probe-node-stub.ts` },
    ],
  },
  server: { headers: isolationHeaders, fs: { allow: [repoRoot] } },
  preview: { headers: isolationHeaders },
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
