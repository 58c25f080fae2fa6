// Vite settings for the browser example: the COOP/COEP headers that give the page
// SharedArrayBuffer (so the wasm backend runs on every core), module workers, and the MNIST
// slice at /mnist.gz. Run from the repository root after `npm run build`:
//   npx vite examples/browser            (development server)
//   npx vite build examples/browser && npx vite preview examples/browser
// Drop `headers` to see the single-threaded fallback.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
const mnist = fileURLToPath(new URL('../../test/fixtures/mnist-3000-500.gz', import.meta.url));

/** Serves the MNIST slice (test/fixtures, made by scripts/mnist-fixture.mjs) at /mnist.gz. */
const serveMnist = {
  name: 'serve-mnist',
  configureServer: (server) => addRoute(server),
  configurePreviewServer: (server) => addRoute(server),
};
function addRoute(server) {
  server.middlewares.use('/mnist.gz', (_req, res) => {
    res.setHeader('Content-Type', 'application/octet-stream');
    res.end(readFileSync(mnist));
  });
}

export default {
  server: { headers },
  preview: { headers },
  worker: { format: 'es' },
  plugins: [serveMnist],
};
