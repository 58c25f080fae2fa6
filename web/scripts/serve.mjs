// Serves the built playground (web/dist) on localhost with the COOP/COEP headers of
// vite.config.ts and prints its URL. npm start builds first, then runs this.
// Usage: node web/scripts/serve.mjs [port]   (default 4173; the next free one if taken)
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preview } from 'vite';

const webRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const port = Number(process.argv[2] ?? 4173);
const server = await preview({
  root: webRoot,
  configFile: join(webRoot, 'vite.config.ts'),
  logLevel: 'warn',
  preview: { host: 'localhost', port, strictPort: false, open: false },
});
const url = server.resolvedUrls?.local[0] ?? `http://localhost:${port}/`;
console.log(`convkit playground: ${url}  (benchmark page: ${url}bench.html; Ctrl+C stops)`);
