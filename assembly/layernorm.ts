// Layer norm over channels of [N, C, HW] tensors (each position normalised over its C values)
// and the exact GELU. Positions p = n·HW + i; sums over channels run in double precision.

@inline function at(C: i32, HW: i32, p: i32, c: i32): usize {
  const n = p / HW, i = p - n * HW;
  return <usize>((n * C + c) * HW + i) << 2;
}

/** y = gamma[c]·(x − mean[p])·invStd[p] + beta[c] for positions [p0, p1); writes mean and invStd. */
export function layerNormForward(C: i32, HW: i32, p0: i32, p1: i32, x: usize, gamma: usize, beta: usize, eps: f32,
  mean: usize, invStd: usize, y: usize): void {
  for (let p = p0; p < p1; p++) {
    let sum: f64 = 0;
    for (let c = 0; c < C; c++) sum += <f64>load<f32>(x + at(C, HW, p, c));
    const m = sum / <f64>C;
    let sq: f64 = 0;
    for (let c = 0; c < C; c++) {
      const d = <f64>load<f32>(x + at(C, HW, p, c)) - m;
      sq += d * d;
    }
    const s = 1 / Math.sqrt(sq / <f64>C + <f64>eps);
    store<f32>(mean + (<usize>p << 2), <f32>m);
    store<f32>(invStd + (<usize>p << 2), <f32>s);
    const mf = <f32>m, sf = <f32>s;
    for (let c = 0; c < C; c++) {
      const o = at(C, HW, p, c), co = <usize>c << 2;
      store<f32>(y + o, load<f32>(gamma + co) * (load<f32>(x + o) - mf) * sf + load<f32>(beta + co));
    }
  }
}

/** dx = σ⁻¹·(g − mean(g) − x̂·mean(g·x̂)), g = dy·γ, over each position's channels, for positions [p0, p1). */
export function layerNormBackward(C: i32, HW: i32, p0: i32, p1: i32, x: usize, dy: usize, mean: usize, invStd: usize,
  gamma: usize, dx: usize): void {
  for (let p = p0; p < p1; p++) {
    const m = load<f32>(mean + (<usize>p << 2)), s = load<f32>(invStd + (<usize>p << 2));
    let sumG: f64 = 0, sumGXhat: f64 = 0;
    for (let c = 0; c < C; c++) {
      const o = at(C, HW, p, c);
      const g = <f64>(load<f32>(dy + o) * load<f32>(gamma + (<usize>c << 2)));
      sumG += g;
      sumGXhat += g * <f64>((load<f32>(x + o) - m) * s);
    }
    const meanG = <f32>(sumG / <f64>C), meanGXhat = <f32>(sumGXhat / <f64>C);
    for (let c = 0; c < C; c++) {
      const o = at(C, HW, p, c);
      const xhat = (load<f32>(x + o) - m) * s;
      store<f32>(dx + o, s * (load<f32>(dy + o) * load<f32>(gamma + (<usize>c << 2)) - meanG - xhat * meanGXhat));
    }
  }
}

/** dgamma[c] = Σ dy·x̂, dbeta[c] = Σ dy over all N·HW positions, for channels [c0, c1). */
export function layerNormParamGrads(N: i32, C: i32, HW: i32, c0: i32, c1: i32, x: usize, dy: usize, mean: usize, invStd: usize,
  dgamma: usize, dbeta: usize): void {
  for (let c = c0; c < c1; c++) {
    let sg: f64 = 0, sb: f64 = 0;
    for (let n = 0; n < N; n++) {
      const base = <usize>((n * C + c) * HW) << 2, pbase = <usize>(n * HW) << 2;
      for (let i = 0; i < HW; i++) {
        const o = base + (<usize>i << 2), po = pbase + (<usize>i << 2);
        const d = load<f32>(dy + o);
        sg += <f64>(d * (load<f32>(x + o) - load<f32>(mean + po)) * load<f32>(invStd + po));
        sb += <f64>d;
      }
    }
    store<f32>(dgamma + (<usize>c << 2), <f32>sg);
    store<f32>(dbeta + (<usize>c << 2), <f32>sb);
  }
}

/** erf to about 1.5e-7 (Abramowitz & Stegun 7.1.26): below float32's resolution of GELU's outputs. */
@inline function erf(x: f64): f64 {
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const r = 1 - poly * Math.exp(-a * a);
  return x < 0 ? -r : r;
}

/** y = x·(1 + erf(x/√2))/2. */
export function gelu(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const v = <f64>load<f32>(x + o);
    store<f32>(y + o, <f32>(0.5 * v * (1 + erf(v * 0.7071067811865476))));
  }
}

/** dx = dy·(Φ(x) + x·φ(x)). */
export function geluBackward(x: usize, dy: usize, dx: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const v = <f64>load<f32>(x + o);
    const d = 0.5 * (1 + erf(v * 0.7071067811865476)) + v * Math.exp(-0.5 * v * v) * 0.3989422804014327;
    store<f32>(dx + o, <f32>(<f64>load<f32>(dy + o) * d));
  }
}
