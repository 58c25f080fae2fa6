// Element-wise kernels, 4 lanes at a time with a scalar tail.

export function add(a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) + load<f32>(b + o));
  }
}

export function mul(a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) * load<f32>(b + o));
  }
}

/** y += alpha * x. */
export function axpy(alpha: f32, x: usize, y: usize, n: i32): void {
  const va = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(va, v128.load(x + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + alpha * load<f32>(x + o));
  }
}

/** y[r, c] = x[r, c] + b[c]. */
export function addBias(rows: i32, cols: i32, x: usize, b: usize, y: usize): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * cols) << 2), yr = y + (<usize>(r * cols) << 2);
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = <usize>c << 2;
      v128.store(yr + o, f32x4.add(v128.load(xr + o), v128.load(b + o)));
    }
    for (; c < cols; c++) {
      const o = <usize>c << 2;
      store<f32>(yr + o, load<f32>(xr + o) + load<f32>(b + o));
    }
  }
}

/** db[c] = Σ_r dy[r, c]. */
export function sumRows(rows: i32, cols: i32, dy: usize, db: usize): void {
  memory.fill(db, 0, <usize>cols << 2);
  for (let r = 0; r < rows; r++) {
    const row = dy + (<usize>(r * cols) << 2);
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = <usize>c << 2;
      v128.store(db + o, f32x4.add(v128.load(db + o), v128.load(row + o)));
    }
    for (; c < cols; c++) {
      const o = <usize>c << 2;
      store<f32>(db + o, load<f32>(db + o) + load<f32>(row + o));
    }
  }
}

/** y = x > 0 ? x : 0 (NaN gives 0, like the reference). */
export function relu(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    v128.store(y + o, v128.and(v, f32x4.gt(v, f32x4.splat(0))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    store<f32>(y + o, v > 0 ? v : 0);
  }
}

/** dx = x > 0 ? dy : 0. */
export function reluBackward(x: usize, dy: usize, dx: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, v128.and(v128.load(dy + o), f32x4.gt(v128.load(x + o), f32x4.splat(0))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(x + o) > 0 ? load<f32>(dy + o) : 0);
  }
}

export function tanh(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, Mathf.tanh(load<f32>(x + o)));
  }
}

/** dx = dy * (1 - y²). */
export function tanhBackward(y: usize, dy: usize, dx: usize, n: i32): void {
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(y + o);
    v128.store(dx + o, f32x4.mul(v128.load(dy + o), f32x4.sub(one, f32x4.mul(v, v))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(y + o);
    store<f32>(dx + o, load<f32>(dy + o) * (1 - v * v));
  }
}

export function sigmoid(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, <f32>1 / (<f32>1 + Mathf.exp(-load<f32>(x + o))));
  }
}

/** dx = dy * y * (1 - y). */
export function sigmoidBackward(y: usize, dy: usize, dx: usize, n: i32): void {
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(y + o);
    v128.store(dx + o, f32x4.mul(f32x4.mul(v128.load(dy + o), v), f32x4.sub(one, v)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(y + o);
    store<f32>(dx + o, load<f32>(dy + o) * v * (1 - v));
  }
}

/** y = min(x > 0 ? x : slope·x, cap): leaky ReLU, ReLU6 (slope 0, cap 6). NaN propagates. */
export function leakyRelu(x: usize, y: usize, n: i32, slope: f32, cap: f32): void {
  const vs = f32x4.splat(slope), vc = f32x4.splat(cap), zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    v128.store(y + o, f32x4.min(v128.bitselect(v, f32x4.mul(vs, v), f32x4.gt(v, zero)), vc));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    const r = v > 0 ? v : slope * v;
    // Math.min semantics: NaN wins.
    store<f32>(y + o, r != r ? r : min(r, cap));
  }
}

/** dx = x ≥ cap ? 0 : x > 0 ? dy : slope·dy. */
export function leakyReluBackward(x: usize, dy: usize, dx: usize, n: i32, slope: f32, cap: f32): void {
  const vs = f32x4.splat(slope), vc = f32x4.splat(cap), zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o), d = v128.load(dy + o);
    const r = v128.bitselect(d, f32x4.mul(vs, d), f32x4.gt(v, zero));
    v128.store(dx + o, v128.andnot(r, f32x4.ge(v, vc)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o), d = load<f32>(dy + o);
    store<f32>(dx + o, v >= cap ? 0 : v > 0 ? d : slope * d);
  }
}

/** y = clamp(alpha·x + beta, 0, 1); NaN stays NaN, like the reference. */
export function hardSigmoid(x: usize, y: usize, n: i32, alpha: f32, beta: f32): void {
  const va = f32x4.splat(alpha), vb = f32x4.splat(beta), zero = f32x4.splat(0), one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.min(one, f32x4.max(zero, f32x4.add(f32x4.mul(va, v128.load(x + o)), vb))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, min<f32>(1, max<f32>(0, alpha * load<f32>(x + o) + beta)));
  }
}

/** dx = alpha·dy where 0 < alpha·x + beta < 1, else 0. */
export function hardSigmoidBackward(x: usize, dy: usize, dx: usize, n: i32, alpha: f32, beta: f32): void {
  const va = f32x4.splat(alpha), vb = f32x4.splat(beta), zero = f32x4.splat(0), one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const v = f32x4.add(f32x4.mul(va, v128.load(x + o)), vb);
    v128.store(dx + o, v128.and(f32x4.mul(va, v128.load(dy + o)), v128.and(f32x4.gt(v, zero), f32x4.lt(v, one))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = alpha * load<f32>(x + o) + beta;
    store<f32>(dx + o, v > 0 && v < 1 ? alpha * load<f32>(dy + o) : 0);
  }
}

/** y[p, i] = x[p, i]·s[p] for planes p in [p0, p1) of HW values. */
export function channelScale(HW: i32, p0: i32, p1: i32, x: usize, s: usize, y: usize): void {
  for (let p = p0; p < p1; p++) {
    const base = <usize>p * <usize>HW << 2;
    const f = load<f32>(s + (<usize>p << 2));
    const vf = f32x4.splat(f);
    let i = 0;
    for (; i + 4 <= HW; i += 4) {
      const o = base + (<usize>i << 2);
      v128.store(y + o, f32x4.mul(v128.load(x + o), vf));
    }
    for (; i < HW; i++) {
      const o = base + (<usize>i << 2);
      store<f32>(y + o, load<f32>(x + o) * f);
    }
  }
}

/** dx[p, i] = dy[p, i]·s[p], ds[p] = Σ_i dy[p, i]·x[p, i], for planes p in [p0, p1). */
export function channelScaleBackward(HW: i32, p0: i32, p1: i32, x: usize, s: usize, dy: usize, dx: usize, ds: usize): void {
  for (let p = p0; p < p1; p++) {
    const base = <usize>p * <usize>HW << 2;
    const f = load<f32>(s + (<usize>p << 2));
    const vf = f32x4.splat(f);
    let acc = f32x4.splat(0);
    let i = 0;
    for (; i + 4 <= HW; i += 4) {
      const o = base + (<usize>i << 2);
      const d = v128.load(dy + o);
      acc = f32x4.add(acc, f32x4.mul(d, v128.load(x + o)));
      v128.store(dx + o, f32x4.mul(d, vf));
    }
    let sum: f32 = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
    for (; i < HW; i++) {
      const o = base + (<usize>i << 2);
      const d = load<f32>(dy + o);
      sum += d * load<f32>(x + o);
      store<f32>(dx + o, d * f);
    }
    store<f32>(ds + (<usize>p << 2), sum);
  }
}

/** Σ x² over n values, accumulated in double precision (gradient norms of 60 M-parameter nets). */
export function sumOfSquares(x: usize, n: i32): f64 {
  let lo = f64x2.splat(0), hi = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const sq = f32x4.mul(v, v);
    lo = f64x2.add(lo, f64x2.promote_low_f32x4(sq));
    hi = f64x2.add(hi, f64x2.promote_low_f32x4(i32x4.shuffle(sq, sq, 2, 3, 0, 1)));
  }
  let sum = f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1) + f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1);
  for (; i < n; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    sum += v * v;
  }
  return sum;
}

/** Whether the `bytes` bytes (a multiple of 4) at a and b are equal, bit for bit (so -0 ≠ 0 and NaN = the same NaN). */
export function sameBytes(a: usize, b: usize, bytes: i32): bool {
  let i = 0;
  for (; i + 64 <= bytes; i += 64) {
    const o = <usize>i;
    // Four vectors a step: differences OR-ed together, one test per cache line.
    const d = v128.or(v128.or(v128.xor(v128.load(a + o), v128.load(b + o)), v128.xor(v128.load(a + o, 16), v128.load(b + o, 16))),
      v128.or(v128.xor(v128.load(a + o, 32), v128.load(b + o, 32)), v128.xor(v128.load(a + o, 48), v128.load(b + o, 48))));
    if (v128.any_true(d)) return false;
  }
  for (; i < bytes; i += 4) if (load<i32>(a + <usize>i) != load<i32>(b + <usize>i)) return false;
  return true;
}
