#!/usr/bin/env node
/**
 * convkit side by side with ConvNetJS, TF.js (cpu, wasm), ONNX Runtime and PyTorch: one run,
 * interleaved, medians of repeated timed runs after warm-up. See docs/BENCHMARKS.md.
 */
import { availableParallelism, loadavg } from 'node:os';
import { USAGE, parseArgs, selects } from './lib/args.mjs';
import { loadConvkit } from './lib/convkit.mjs';
import { makeBatches } from './lib/data.mjs';
import { openLibraries, MODULES } from './lib/libraries.mjs';
import { measureWork } from './lib/measure.mjs';
import { convkitBuild, machine } from './lib/machine.mjs';
import { startWatchdog } from './lib/watchdog.mjs';
import { addRatios, jsonLines, table } from './lib/report.mjs';
import { allWorks } from './lib/works.mjs';

async function main(argv) {
  const opts = parseArgs(argv);
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  const ck = await loadConvkit();
  const works = allWorks(ck).filter((w) => selects(opts.only, w.id));
  if (opts.list) {
    console.log(
      `works:\n${allWorks(ck)
        .map((w) => `  ${w.id.padEnd(22)} ${w.title} (${w.unit})`)
        .join('\n')}`,
    );
    console.log(`library modules: ${MODULES.map((m) => m.prefix).join(', ')}`);
    return 0;
  }
  if (works.length === 0) throw new Error(`--only ${opts.only.join(',')} selects no work (see --list)`);
  // In JSON mode stdout carries only measurement lines.
  const say = (s) => (opts.json ? process.stderr : process.stdout).write(`${s}\n`);
  const log = (s) => process.stderr.write(`  · ${s}\n`);

  const before = machine();
  say(`machine: ${before.description}`);
  say(`convkit: ${convkitBuild()}`);
  say(`method: ${opts.reps} timed runs of ≥ ${opts.minTime} s per library and work after warm-up, round-robin over libraries; median, min–max`);

  const batchCache = new Map();
  const batches = (work) => {
    if (!batchCache.has(work.id)) batchCache.set(work.id, makeBatches(ck, work, opts.data));
    const b = batchCache.get(work.id);
    work.data = b.source;
    return b;
  };
  const { libraries, unavailable } = await openLibraries(opts.libs, { ck, batches, log, opts, cores: availableParallelism() });
  for (const u of unavailable) say(`unavailable: ${u.label}: ${u.reason}`);
  say(`libraries: ${libraries.map((l) => l.label).join('; ')}`);

  const measured = [];
  const watchdog = startWatchdog(opts.hangSeconds);
  try {
    for (const work of works) {
      log(`${work.title}`);
      const rows = await measureWork(work, libraries, opts, log, watchdog.watch);
      batchCache.delete(work.id);
      // Other processes share the machine: keep the load next to each work's figures.
      const entry = { work, rows, load: loadavg()[0] };
      addRatios([entry]);
      measured.push(entry);
      if (opts.json) for (const line of jsonLines(work, rows, entry.load)) console.log(line);
    }
  } finally {
    await watchdog.stop();
    for (const l of libraries) await l.close?.();
  }
  const after = machine();
  if (!opts.json) {
    console.log(`\n${table(measured)}\n`);
    console.log('× X: speed relative to anchor X in the same run (> 1 = faster; for ms, the inverse ratio).');
    console.log(`1-minute load average at the end of each work: ${measured.map((m) => `${m.work.id} ${m.load.toFixed(1)}`).join(', ')}`);
  }
  say(`load average before ${before.load}, after ${after.load}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(`bench: ${e?.message ?? e}`);
    process.exit(1);
  },
);
