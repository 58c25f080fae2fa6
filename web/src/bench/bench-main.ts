/**
 * The bench page: runs every job of jobs.ts in a fresh worker, one at a time, and lists the
 * images per second. Open bench.html?auto to start at once; the results also land in
 * window.benchResults (what the headless runner reads).
 */
import { type BenchJob, type BenchResult, benchJobs, jobLabel } from './jobs.js';

declare global {
  interface Window {
    benchResults?: { results: BenchResult[]; errors: string[]; userAgent: string; cores: number };
  }
}

const button = document.getElementById('run') as HTMLButtonElement;
const status = document.getElementById('bench-status')!;
const body = document.querySelector('#bench-results tbody')!;

function runJob(job: BenchJob): Promise<BenchResult> {
  const worker = new Worker(new URL('./bench-worker.ts', import.meta.url), { type: 'module', name: 'convkit-bench' });
  return new Promise<BenchResult>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<{ ok: true; result: BenchResult } | { ok: false; error: string }>) => {
      worker.terminate();
      if (e.data.ok) resolve(e.data.result);
      else reject(new Error(e.data.error));
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(new Error(`${jobLabel(job)}: ${e.message}`));
    };
    worker.postMessage({ job, baseUrl: new URL(import.meta.env.BASE_URL, location.href).href });
  });
}

async function runAll(): Promise<void> {
  button.disabled = true;
  body.replaceChildren();
  delete window.benchResults;
  const results: BenchResult[] = [];
  const errors: string[] = [];
  for (const job of benchJobs) {
    status.textContent = `running ${jobLabel(job)}…`;
    try {
      const r = await runJob(job);
      results.push(r);
      const tr = document.createElement('tr');
      for (const text of [
        r.label,
        r.backend,
        r.images.toLocaleString('en'),
        r.seconds.toFixed(1),
        `${(r.trainAccuracy * 100).toFixed(1)} %`,
        Math.round(r.imagesPerSecond).toLocaleString('en'),
      ]) {
        tr.insertCell().textContent = text;
      }
      body.append(tr);
    } catch (e) {
      errors.push((e as Error).message);
      const tr = document.createElement('tr');
      const td = tr.insertCell();
      td.colSpan = 6;
      td.className = 'error';
      td.textContent = (e as Error).message;
      body.append(tr);
    }
  }
  status.textContent = `done (${navigator.hardwareConcurrency} cores reported by the browser)`;
  window.benchResults = { results, errors, userAgent: navigator.userAgent, cores: navigator.hardwareConcurrency };
  button.disabled = false;
}

button.addEventListener('click', () => void runAll());
if (new URLSearchParams(location.search).has('auto')) void runAll();
