/**
 * The workload of test/thread-pool-stress.test.ts, run in a child process so that a hung pool
 * (the calling thread blocked in join) can be detected and killed from outside.
 *
 *   node --import tsx test/thread-pool-stress-run.ts MODE SECONDS
 *
 * MODE 'pool': one ThreadPool of 2 threads on the real kernel module, jobs of tiny axpy pieces
 * (y += x, integers, so exact on any build) with a random piece count each time: thousands of
 * job changes a second, each checked element by element. A piece run twice, skipped, or run
 * with another job's arguments changes y.
 * MODE 'backend': the wasm backend with 2 threads alternating differently split accumulating
 * GEMMs (beta = 1: 2 and 7 pieces) and an axpy, each result checked against the reference
 * backend's on every iteration.
 *
 * Prints `progress N` after every checked batch of jobs, `wrong …` and exits 1 on a wrong
 * result, `done {json}` at the end.
 */
import { createBackend } from '../src/backend/index.js';
import { RefBackend } from '../src/backend/ref.js';
import { instantiateKernels, loadKernels, threadedKernels } from '../src/backend/wasm-kernels.js';
import { kernelBytes } from '../src/backend/wasm-files.js';
import { platform } from '../src/node/platform.js';
import { type Piece, ThreadPool } from '../src/backend/wasm-threads.js';
import { Rng } from '../src/rng.js';

const [mode, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg);
const rng = new Rng(20261207);
const deadline = performance.now() + seconds * 1000;

function wrong(message: string): never {
  process.stdout.write(`wrong ${message}\n`);
  process.exit(1);
}

async function poolMode(): Promise<void> {
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true });
  const { module } = await loadKernels((file) => kernelBytes(file), true, false);
  const k = instantiateKernels(module, memory);
  const pool = await ThreadPool.start(2, module, memory, k, platform.spawnWorker!);
  const axpy = threadedKernels.indexOf('axpy');
  // 40 pieces of 16 elements at most: x, y and the expected y above the kernels' static data.
  const PIECE_FLOATS = 16,
    MAX = 40,
    n = PIECE_FLOATS * MAX;
  const xPtr = 1 << 17,
    yPtr = xPtr + n * 4;
  const x = new Float32Array(memory.buffer, xPtr, n),
    y = new Float32Array(memory.buffer, yPtr, n);
  const start = Float32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < n; i++) x[i] = (i % 7) + 1;
  const counts = [1, 2, 3, 7, 8, 13, 40];
  const pieces: Piece[][] = counts.map((count) =>
    Array.from({ length: count }, (_, p) => ({
      args: [1, xPtr + p * PIECE_FLOATS * 4, yPtr + p * PIECE_FLOATS * 4, PIECE_FLOATS],
    })),
  );
  let jobs = 0;
  while (performance.now() < deadline) {
    for (let rep = 0; rep < 200; rep++) {
      const which = rng.int(counts.length),
        count = counts[which];
      y.set(start);
      pool.run(axpy, pieces[which]);
      for (let i = 0; i < n; i++) {
        const want = i < count * PIECE_FLOATS ? start[i] + x[i] : start[i];
        if (y[i] !== want) wrong(`job ${jobs} (${count} pieces): y[${i}] = ${y[i]}, expected ${want}`);
      }
      jobs++;
    }
    process.stdout.write(`progress ${jobs}\n`);
  }
  pool.close();
  process.stdout.write(`done ${JSON.stringify({ mode, jobs })}\n`);
}

async function backendMode(): Promise<void> {
  const be = await createBackend('wasm', { threads: 2, relaxedSimd: false });
  const ref = new RefBackend('float32');
  const fill = (n: number) => {
    const a = be.alloc(n);
    for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
    return a;
  };
  // The two GEMMs of a 784-100-10 dense layer's backward pass: split 2 ways (columns) and 7 ways (rows).
  const gemms = [
    [true, false, 10, 784, 100],
    [false, true, 100, 10, 784],
  ] as const;
  const cases = gemms.map(([tA, tB, M, N, K]) => {
    const a = fill(M * K),
      b = fill(K * N),
      c0 = fill(M * N),
      c = be.alloc(M * N),
      want = Float32Array.from(c0);
    ref.gemm(tA, tB, M, N, K, 1, a, b, 1, want);
    return {
      run: () => {
        c.set(c0);
        be.gemm(tA, tB, M, N, K, 1, a, b, 1, c);
      },
      c,
      want,
      what: `gemm ${M}×${N}×${K}`,
    };
  });
  const n = 40_013,
    ax = fill(n),
    ay0 = fill(n),
    ay = be.alloc(n),
    ayWant = Float32Array.from(ay0);
  ref.axpy(0.5, ax, ayWant);
  cases.push({
    run: () => {
      ay.set(ay0);
      be.axpy(0.5, ax, ay);
    },
    c: ay,
    want: ayWant,
    what: `axpy ${n}`,
  });
  let jobs = 0;
  while (performance.now() < deadline) {
    for (let rep = 0; rep < 20; rep++) {
      for (const { run, c, want, what } of cases) {
        run();
        for (let i = 0; i < want.length; i++) {
          if (!(Math.abs(c[i] - want[i]) <= 1e-4 * (1 + Math.abs(want[i])))) wrong(`iteration ${jobs}, ${what}: element ${i} is ${c[i]}, reference ${want[i]}`);
        }
      }
      jobs++;
    }
    process.stdout.write(`progress ${jobs}\n`);
  }
  (be as { dispose?: () => void }).dispose?.();
  process.stdout.write(`done ${JSON.stringify({ mode, jobs })}\n`);
}

await (mode === 'pool' ? poolMode() : backendMode());
