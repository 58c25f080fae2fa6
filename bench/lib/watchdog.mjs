/**
 * Ends the run when one library makes no progress for too long. A deadlocked kernel blocks the
 * main thread (a synchronous Atomics.wait), so no timer there can fire: the watchdog is a
 * worker thread that the main thread tells what it is about to run, and that names the culprit
 * on stderr and ends the process when the deadline passes.
 */
import { Worker } from 'node:worker_threads';

const source = `
const { parentPort } = require('node:worker_threads');
const { writeSync } = require('node:fs');
let current = null;
parentPort.on('message', (m) => { current = m && { ...m, since: Date.now() }; });
setInterval(() => {
  if (current && Date.now() - current.since > current.limitMs) {
    writeSync(2, '\\nbench: ' + current.what + ' made no progress for ' + Math.round(current.limitMs / 1000) + ' s: giving up (a hung thread pool?)\\n');
    process.kill(process.pid, 'SIGTERM');
  }
}, 1000);
`;

export function startWatchdog(limitSeconds) {
  const worker = new Worker(source, { eval: true });
  worker.unref();
  return {
    /** Announces the next blocking call; null when idle. */
    watch: (what) => worker.postMessage(what ? { what, limitMs: limitSeconds * 1000 } : null),
    stop: () => worker.terminate(),
  };
}
