/**
 * Interleaved measurement of one work across libraries. Every library prepares its case first
 * (model, buffers, data in its own layout), then each is warmed up and calibrated, then the
 * timed runs go round-robin: repetition r runs every library once, starting at a rotating
 * offset, so that a slow phase of the machine (another process, thermal state) is spread over
 * all libraries instead of landing on one.
 */
import { fmt } from './report.mjs';
import { summarize } from './stats.mjs';
import { figure } from './works.mjs';

/** A case whose first run takes longer than this is reported from that single run. */
const LONG_FIRST_RUN_S = 20;
/** Upper bound on steps per timed run (tiny works at batch 1). */
const MAX_STEPS = 100000;
/**
 * Idle time before each timed run. Thread pools keep spinning for a while after their work
 * (ONNX Runtime, OpenMP, pthreadpool); the pause lets the previous library's threads go to
 * sleep so they do not take a core from the next one.
 */
const SETTLE_MS = 50;
const settle = (opts) => (opts.quick ? null : new Promise((resolve) => setTimeout(resolve, SETTLE_MS)));

/** A library cannot do this work (a missing kernel, no training API): reported, not an error. */
export class Unsupported extends Error {}

function message(e) {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 200);
}

/**
 * Returns one result per library that applies: { library, label, median, min, max, runs, note? }
 * (median null with a note when the library could not run it).
 */
export async function measureWork(work, libraries, opts, log, watch = () => {}) {
  const results = [];
  const cases = [];
  for (const lib of libraries) {
    const skip = lib.skip?.(work, opts);
    if (skip) {
      results.push(noteRow(lib, `skipped: ${skip}`));
      continue;
    }
    try {
      watch(`${work.id} on ${lib.label} (prepare)`);
      const c = await lib.prepare(work);
      if (c === null) continue; // not applicable (ConvNetJS has no matrix product)
      cases.push({ lib, c, values: [], n: 1, note: undefined });
    } catch (e) {
      results.push(noteRow(lib, e instanceof Unsupported ? e.message : `failed: ${message(e)}`));
    }
  }

  for (const k of cases) {
    try {
      log(`${work.id}: warm-up ${k.lib.label}`);
      watch(`${work.id} on ${k.lib.label} (warm-up)`);
      const first = await k.c.time(1); // compiles, allocates, fills caches
      if (first > LONG_FIRST_RUN_S) {
        k.values.push(figure(work, 1, first));
        k.note = `one run only: the first run took ${first.toFixed(0)} s`;
        k.done = true;
        continue;
      }
      const one = await k.c.time(1);
      k.n = Math.min(MAX_STEPS, Math.max(1, Math.ceil(opts.minTime / one)));
      if (!opts.quick) await k.c.time(k.n); // reach the steady state at the timed length
    } catch (e) {
      k.failed = e instanceof Unsupported ? e.message : `failed: ${message(e)}`;
    }
  }

  const live = cases.filter((k) => !k.failed && !k.done);
  for (let r = 0; r < opts.reps; r++) {
    log(`${work.id}: round ${r + 1}/${opts.reps}`);
    for (let j = 0; j < live.length; j++) {
      const k = live[(j + r) % live.length];
      if (k.failed) continue;
      await settle(opts);
      watch(`${work.id} on ${k.lib.label} (timed run ${r + 1})`);
      try {
        k.values.push(figure(work, k.n, await k.c.time(k.n)));
      } catch (e) {
        k.failed = `failed: ${message(e)}`;
      }
    }
  }

  watch(null);
  for (const k of cases) {
    await k.c.release?.();
    const s = k.failed ? null : summarize(k.values);
    results.push(s ? { library: k.lib.id, label: k.lib.label, ...s, steps: k.n, note: k.note } : noteRow(k.lib, k.failed ?? 'no runs'));
    log(`${work.id}: ${k.lib.label}: ${s ? `median ${fmt(s.median)} ${work.unit} (${fmt(s.min)}–${fmt(s.max)}, ${s.runs} runs)` : k.failed}`);
  }
  const order = new Map(libraries.map((l, i) => [l.id, i]));
  return results.sort((a, b) => order.get(a.library) - order.get(b.library));
}

function noteRow(lib, note) {
  return { library: lib.id, label: lib.label, median: null, min: null, max: null, runs: 0, note };
}

/** Times n calls of a synchronous or async step; returns seconds. */
export async function timeSteps(step, n) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const r = step(i);
    if (r && typeof r.then === 'function') await r;
  }
  return (performance.now() - t0) / 1000;
}
