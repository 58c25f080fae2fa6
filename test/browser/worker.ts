/**
 * The entry of the browser bundle (build.ts): a module Worker that declares the backend suite
 * for the cases its configuration names (select.ts), runs it with the node:test shim and posts
 * every start and result, then `done`, to the page (page.js), which hands them to Node.
 * The suite runs in a Worker, not on the page's main thread, because the wasm backend's calling
 * thread blocks (Atomics.wait) while its compute threads run, and a page may not block.
 */
import { config, selection } from './select.js';
import '../backend.test.js';
import { type Report, runAll } from './node-test.js';

export type Message =
  | Report
  | { type: 'cases'; all: string[]; chosen: string[]; crossOriginIsolated: boolean; cores: number; userAgent: string }
  | { type: 'error'; message: string }
  | { type: 'done'; ms: number };

const post = (m: Message) => postMessage(m);

addEventListener('unhandledrejection', (e) => post({ type: 'error', message: `unhandled rejection: ${(e.reason as Error)?.stack ?? String(e.reason)}` }));
addEventListener('error', (e) => {
  e.preventDefault(); // reported here; the page would otherwise end the run
  post({ type: 'error', message: `uncaught error: ${e.message}` });
});

const t0 = performance.now();
post({
  type: 'cases',
  all: selection.all.map((c) => c.label),
  chosen: selection.chosen.map((c) => c.label),
  crossOriginIsolated,
  cores: navigator.hardwareConcurrency,
  userAgent: navigator.userAgent,
});
if (!selection.asked) post({ type: 'error', message: 'test/backend.test.ts did not consult globalThis.__convkitCases: the browser cannot choose its cases' });
else if (selection.chosen.length === 0) post({ type: 'error', message: `no case of test/backend.test.ts matches ${JSON.stringify(config)}` });
else await runAll(post, { timeoutMs: config.timeoutMs });
post({ type: 'done', ms: performance.now() - t0 });
