/**
 * PyTorch CPU through bench/torch_bench.py, a long-lived Python process that times its own
 * steps on request, so PyTorch takes its turn in the round-robin like every other library.
 * Uses Debian's /usr/bin/python3 (python3-torch); OpenBLAS goes first on LD_LIBRARY_PATH when
 * installed, since the reference BLAS Debian's torch links by default is ~20× slower.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Unsupported } from '../lib/measure.mjs';

const PYTHON = '/usr/bin/python3';
const OPENBLAS_DIR = '/usr/lib/x86_64-linux-gnu/openblas-openmp';

/** One request at a time, one reply line each. */
class TorchProcess {
  constructor(cores) {
    const env = { ...process.env, BENCH_THREADS: String(cores), OMP_NUM_THREADS: String(cores) };
    if (existsSync(OPENBLAS_DIR)) env.LD_LIBRARY_PATH = [OPENBLAS_DIR, env.LD_LIBRARY_PATH].filter(Boolean).join(':');
    this.child = spawn(PYTHON, [new URL('../torch_bench.py', import.meta.url).pathname], { env, stdio: ['pipe', 'pipe', 'inherit'] });
    this.waiting = [];
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
    this.child.on('exit', (code) => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`PyTorch process exited (${code})`));
    });
    this.child.on('error', (e) => {
      for (const w of this.waiting.splice(0)) w.reject(e);
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => this.waiting.shift()?.resolve(JSON.parse(line)));
  }

  next() {
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  request(obj) {
    const reply = this.next();
    this.child.stdin.write(`${JSON.stringify(obj)}\n`);
    return reply;
  }

  close() {
    this.child.stdin.end();
    setTimeout(() => this.child.kill(), 2000).unref();
  }
}

export async function open(ctx) {
  if (!ctx.wants('torch')) return [];
  if (!existsSync(PYTHON)) {
    ctx.unavailable('torch', 'PyTorch', `skipped: ${PYTHON} not found`);
    return [];
  }
  const py = new TorchProcess(ctx.cores);
  const hello = await py.next();
  if (!hello.ready) {
    py.close();
    ctx.unavailable('torch', 'PyTorch', `skipped: ${PYTHON} -c "import torch" fails (${hello.error}); apt-get install python3-torch libopenblas0-openmp`);
    return [];
  }
  const dir = mkdtempSync(join(tmpdir(), 'convkit-bench-torch-'));
  let ids = 0;
  return [
    {
      id: 'torch',
      label: `PyTorch ${hello.version} CPU (${hello.threads} threads, ${hello.blas})`,
      prepare: async (work) => {
        const id = ids++;
        const r = await py.request({ op: 'prepare', id, work: describe(ctx, work, dir, id) });
        if (!r.ok) throw r.unsupported ? new Unsupported(r.unsupported) : new Error(r.error);
        return {
          time: async (n) => {
            const t = await py.request({ op: 'time', id, n });
            if (!t.ok) throw new Error(t.error);
            return t.seconds;
          },
          release: () => py.request({ op: 'release', id }),
        };
      },
      close: async () => {
        py.close();
        await py.exited;
        rmSync(dir, { recursive: true, force: true });
      },
    },
  ];
}

/** The work as the Python side needs it; batches go through files, the same pixels every library gets. */
function describe(ctx, work, dir, id) {
  if (work.kind === 'gemm') return { kind: 'gemm', size: work.size };
  const batches = ctx.batches(work);
  const xFile = join(dir, `x${id}.f32`),
    labelsFile = join(dir, `y${id}.i32`);
  writeFileSync(xFile, Buffer.concat(batches.x.map((x) => Buffer.from(x.buffer, x.byteOffset, x.byteLength))));
  writeFileSync(labelsFile, Buffer.concat(batches.labels.map((l) => Buffer.from(Int32Array.from(l).buffer))));
  return { kind: work.kind, batch: work.batch, inputShape: work.net.inputShape, layers: work.net.layers, xFile, labelsFile };
}
