// Batch normalisation and local response normalisation on [N, C, HW] tensors. Channel sums run
// in double precision, like the reference: batch statistics sum tens of thousands of values.
// Shapes and LRN's constants come in records (records.ts) the host writes once per call.

import { BatchNormShape, LrnParams } from './records';

/** mean[c], variance[c] (biased) over n and the HW positions, for channels [c0, c1). */
export function batchNormStats(shape: BatchNormShape, c0: i32, c1: i32, x: usize, mean: usize, variance: usize): void {
  const N = shape.N, C = shape.C, HW = shape.HW;
  const count = <f64>(N * HW);
  for (let c = c0; c < c1; c++) {
    let sum: f64 = 0;
    for (let n = 0; n < N; n++) sum += sumPlane(x + (<usize>((n * C + c) * HW) << 2), HW);
    const m = sum / count;
    let sq: f64 = 0;
    for (let n = 0; n < N; n++) sq += sumSquaredDeviations(x + (<usize>((n * C + c) * HW) << 2), HW, m);
    store<f32>(mean + (<usize>c << 2), <f32>m);
    store<f32>(variance + (<usize>c << 2), <f32>(sq / count));
  }
}

/** y = gamma[c]·(x − mean[c])·invStd[c] + beta[c] over planes (n, c) in [p0, p1). */
export function batchNormApply(shape: BatchNormShape, p0: i32, p1: i32, x: usize, mean: usize, invStd: usize,
  gamma: usize, beta: usize, y: usize): void {
  const C = shape.C, HW = shape.HW;
  for (let p = p0; p < p1; p++) {
    const c = p % C;
    const co = <usize>c << 2;
    const m = load<f32>(mean + co), a = load<f32>(gamma + co) * load<f32>(invStd + co), b = load<f32>(beta + co);
    const vm = f32x4.splat(m), va = f32x4.splat(a), vb = f32x4.splat(b);
    const xp = x + (<usize>(p * HW) << 2), yp = y + (<usize>(p * HW) << 2);
    let i = 0;
    for (; i + 4 <= HW; i += 4) {
      const o = <usize>i << 2;
      v128.store(yp + o, f32x4.add(f32x4.mul(f32x4.sub(v128.load(xp + o), vm), va), vb));
    }
    for (; i < HW; i++) {
      const o = <usize>i << 2;
      store<f32>(yp + o, (load<f32>(xp + o) - m) * a + b);
    }
  }
}

/**
 * Training-mode batch-norm backward for channels [c0, c1): with x̂ = (x − μ)·σ⁻¹,
 * dβ = Σ dy, dγ = Σ dy·x̂, dx = γσ⁻¹/m · (m·dy − dβ − x̂·dγ).
 */
export function batchNormBackward(shape: BatchNormShape, c0: i32, c1: i32, x: usize, dy: usize, mean: usize, invStd: usize,
  gamma: usize, dx: usize, dgamma: usize, dbeta: usize): void {
  const N = shape.N, C = shape.C, HW = shape.HW, batchStatistics = shape.batchStatistics;
  const count = <f64>(N * HW);
  for (let c = c0; c < c1; c++) {
    const co = <usize>c << 2;
    const m = load<f32>(mean + co), s = load<f32>(invStd + co);
    let sumDy: f64 = 0, sumDyXhat: f64 = 0;
    for (let n = 0; n < N; n++) {
      const off = <usize>((n * C + c) * HW) << 2;
      const xp = x + off, dp = dy + off;
      for (let i = 0; i < HW; i++) {
        const o = <usize>i << 2;
        const d = <f64>load<f32>(dp + o);
        sumDy += d;
        sumDyXhat += d * ((<f64>load<f32>(xp + o) - <f64>m) * <f64>s);
      }
    }
    store<f32>(dbeta + co, <f32>sumDy);
    store<f32>(dgamma + co, <f32>sumDyXhat);
    if (!batchStatistics) {
      // Constant (running) statistics: dx = dy·γ·σ⁻¹.
      scaleChannel(N, C, HW, c, <f32>(<f64>load<f32>(gamma + co) * <f64>s), dy, dx);
      continue;
    }
    const scale = <f32>((<f64>load<f32>(gamma + co) * <f64>s) / count);
    const cnt = <f32>count, sd = <f32>sumDy, sdx = <f32>sumDyXhat;
    const vscale = f32x4.splat(scale), vcnt = f32x4.splat(cnt), vsd = f32x4.splat(sd), vsdx = f32x4.splat(sdx);
    const vm = f32x4.splat(m), vs = f32x4.splat(s);
    for (let n = 0; n < N; n++) {
      const off = <usize>((n * C + c) * HW) << 2;
      const xp = x + off, dp = dy + off, op = dx + off;
      let i = 0;
      for (; i + 4 <= HW; i += 4) {
        const o = <usize>i << 2;
        const xhat = f32x4.mul(f32x4.sub(v128.load(xp + o), vm), vs);
        const t = f32x4.sub(f32x4.sub(f32x4.mul(vcnt, v128.load(dp + o)), vsd), f32x4.mul(xhat, vsdx));
        v128.store(op + o, f32x4.mul(vscale, t));
      }
      for (; i < HW; i++) {
        const o = <usize>i << 2;
        const xhat = (load<f32>(xp + o) - m) * s;
        store<f32>(op + o, scale * (cnt * load<f32>(dp + o) - sd - xhat * sdx));
      }
    }
  }
}

function sumPlane(p: usize, n: i32): f64 {
  let lo = f64x2.splat(0), hi = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(p + (<usize>i << 2));
    lo = f64x2.add(lo, f64x2.promote_low_f32x4(v));
    hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
  }
  let s = f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1) + f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1);
  for (; i < n; i++) s += <f64>load<f32>(p + (<usize>i << 2));
  return s;
}

function sumSquaredDeviations(p: usize, n: i32, m: f64): f64 {
  const vm = f64x2.splat(m);
  let lo = f64x2.splat(0), hi = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(p + (<usize>i << 2));
    const a = f64x2.sub(f64x2.promote_low_f32x4(v), vm);
    const b = f64x2.sub(f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)), vm);
    lo = f64x2.add(lo, f64x2.mul(a, a));
    hi = f64x2.add(hi, f64x2.mul(b, b));
  }
  let s = f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1) + f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1);
  for (; i < n; i++) {
    const d = <f64>load<f32>(p + (<usize>i << 2)) - m;
    s += d * d;
  }
  return s;
}

/**
 * Local response normalisation across channels for planes (n, c) in [p0, p1): scale = k +
 * (alpha/size)·Σ x² over channels [c − ⌊size/2⌋, c + ⌊(size−1)/2⌋]; y = x·scale^(−beta).
 * Four positions at a time; scale^(−beta) by square roots for the usual beta (0.75, 0.5, 1).
 */
export function lrnForward(params: LrnParams, p0: i32, p1: i32, x: usize, scale: usize, y: usize): void {
  const C = params.C, HW = params.HW, size = params.size, before = params.before;
  const alpha = params.alpha, beta = params.beta, k = params.k;
  const after = size - 1 - before;
  const a = alpha / <f32>size;
  const va = f32x4.splat(a), vk = f32x4.splat(k);
  const planeBytes = <usize>HW << 2;
  const HW4 = HW & ~3;
  for (let p = p0; p < p1; p++) {
    const n = p / C, c = p - n * C;
    const j0 = max(0, c - before), j1 = min(C - 1, c + after);
    const first = x + <usize>(n * C + j0) * planeBytes, at = <usize>p * planeBytes;
    let i = 0;
    for (; i < HW4; i += 4) {
      const o = <usize>i << 2;
      let q = first + o;
      let v = v128.load(q);
      let sq = f32x4.mul(v, v);
      for (let j = j0 + 1; j <= j1; j++) {
        q += planeBytes;
        v = v128.load(q);
        sq = f32x4.add(sq, f32x4.mul(v, v));
      }
      const s = f32x4.add(vk, f32x4.mul(va, sq));
      v128.store(scale + at + o, s);
      v128.store(y + at + o, f32x4.mul(v128.load(x + at + o), powNeg(s, beta)));
    }
    for (; i < HW; i++) {
      const o = <usize>i << 2;
      let q = first + o;
      let sq: f32 = 0;
      for (let j = j0; j <= j1; j++) {
        const v = load<f32>(q);
        sq += v * v;
        q += planeBytes;
      }
      const s = k + a * sq;
      store<f32>(scale + at + o, s);
      store<f32>(y + at + o, load<f32>(x + at + o) * Mathf.pow(s, -beta));
    }
  }
}

/**
 * dx = dy·scale^(−beta) − (2·alpha·beta/size)·x·Σ_j dy_j·y_j/scale_j over the channels whose
 * window holds c, for planes (n, c) in [p0, p1).
 */
export function lrnBackward(params: LrnParams, p0: i32, p1: i32, x: usize, y: usize, scale: usize, dy: usize, dx: usize): void {
  const C = params.C, HW = params.HW, size = params.size, before = params.before;
  const alpha = params.alpha, beta = params.beta;
  const after = size - 1 - before;
  const f: f32 = <f32>2 * alpha * beta / <f32>size;
  const vf = f32x4.splat(f);
  const planeBytes = <usize>HW << 2;
  const HW4 = HW & ~3;
  for (let p = p0; p < p1; p++) {
    const n = p / C, c = p - n * C;
    const j0 = max(0, c - after), j1 = min(C - 1, c + before);
    const first = <usize>(n * C + j0) * planeBytes, at = <usize>p * planeBytes;
    let i = 0;
    for (; i < HW4; i += 4) {
      const o = <usize>i << 2;
      let q = first + o;
      let sum = f32x4.div(f32x4.mul(v128.load(dy + q), v128.load(y + q)), v128.load(scale + q));
      for (let j = j0 + 1; j <= j1; j++) {
        q += planeBytes;
        sum = f32x4.add(sum, f32x4.div(f32x4.mul(v128.load(dy + q), v128.load(y + q)), v128.load(scale + q)));
      }
      const r = f32x4.mul(v128.load(dy + at + o), powNeg(v128.load(scale + at + o), beta));
      v128.store(dx + at + o, f32x4.sub(r, f32x4.mul(f32x4.mul(vf, v128.load(x + at + o)), sum)));
    }
    for (; i < HW; i++) {
      const o = <usize>i << 2;
      let q = first + o;
      let sum: f32 = 0;
      for (let j = j0; j <= j1; j++) {
        sum += load<f32>(dy + q) * load<f32>(y + q) / load<f32>(scale + q);
        q += planeBytes;
      }
      store<f32>(dx + at + o, load<f32>(dy + at + o) * Mathf.pow(load<f32>(scale + at + o), -beta) - f * load<f32>(x + at + o) * sum);
    }
  }
}

/** s^(−beta) lane-wise: square roots for beta 0.75, 0.5 and 1 (within a few ulp of pow), pow otherwise. */
// @ts-ignore: decorator
@inline
function powNeg(s: v128, beta: f32): v128 {
  if (beta == 0.75) {
    const r = f32x4.sqrt(s);
    return f32x4.div(f32x4.splat(1), f32x4.mul(r, f32x4.sqrt(r)));
  }
  if (beta == 0.5) return f32x4.div(f32x4.splat(1), f32x4.sqrt(s));
  if (beta == 1) return f32x4.div(f32x4.splat(1), s);
  return f32x4(Mathf.pow(f32x4.extract_lane(s, 0), -beta), Mathf.pow(f32x4.extract_lane(s, 1), -beta),
    Mathf.pow(f32x4.extract_lane(s, 2), -beta), Mathf.pow(f32x4.extract_lane(s, 3), -beta));
}

/** out = k·src over channel c's N planes of HW values. */
function scaleChannel(N: i32, C: i32, HW: i32, c: i32, k: f32, src: usize, out: usize): void {
  const vk = f32x4.splat(k);
  for (let n = 0; n < N; n++) {
    const off = <usize>((n * C + c) * HW) << 2;
    const sp = src + off, op = out + off;
    let i = 0;
    for (; i + 4 <= HW; i += 4) v128.store(op + (<usize>i << 2), f32x4.mul(vk, v128.load(sp + (<usize>i << 2))));
    for (; i < HW; i++) store<f32>(op + (<usize>i << 2), k * load<f32>(sp + (<usize>i << 2)));
  }
}
