import { fileURLToPath } from 'node:url';
import { type Plugin, defineConfig } from 'vite';

const webRoot = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Cross-origin isolation: SharedArrayBuffer (the wasm backend's threads) needs both headers. */
export const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * src/backend/webgpu/device.ts loads Dawn for Node (the `webgpu` package, a native binary)
 * with `import('./node.js')` where there is no navigator.gpu; browsers always have one, so the
 * bundle gets a stub. Matched by importer as well as specifier: no other module's './node.js'
 * (there is none today: grep -rn "'./node.js'" src) can be caught by it.
 */
function webgpuNodeStub(): Plugin {
  const stub = `${webRoot}src/worker/webgpu-node-stub.ts`;
  return {
    name: 'convkit-webgpu-node-stub',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source === './node.js' && importer && /[\\/]src[\\/]backend[\\/]webgpu[\\/]device\.ts$/.test(importer)) return stub;
      return null;
    },
  };
}

export default defineConfig({
  root: webRoot,
  plugins: [webgpuNodeStub()],
  // Relative asset URLs, so the built page also works from a sub-path.
  base: './',
  resolve: {
    // createBackend('wasm') imports Node's platform (fs, worker_threads) and the WebGPU probe
    // a child process; browsers get stubs. (The webgpu backend's Dawn loader: webgpuNodeStub.)
    alias: [
      { find: /^\.\/wasm-node\.js$/, replacement: `${webRoot}src/worker/node-platform-stub.ts` },
      { find: /^\.\/gpu-probe-node\.js$/, replacement: `${webRoot}src/worker/gpu-probe-node-stub.ts` },
    ],
  },
  server: { headers: isolationHeaders, fs: { allow: [repoRoot] } },
  preview: { headers: isolationHeaders },
  // Workers are bundled separately, with their own plugins: the playground's training runs in one.
  worker: { format: 'es', plugins: () => [webgpuNodeStub()] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: {
      input: { playground: `${webRoot}index.html`, bench: `${webRoot}bench.html` },
    },
  },
});
