// Optimizer steps, in place, 4 lanes at a time.

/** v = momentum * v + (g + wd * w); w -= lr * (nesterov ? grad + momentum * v : v). */
export function sgdStep(w: usize, g: usize, v: usize, n: i32, lr: f32, momentum: f32, weightDecay: f32, nesterov: bool): void {
  const vlr = f32x4.splat(lr), vm = f32x4.splat(momentum), vwd = f32x4.splat(weightDecay);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const wi = v128.load(w + o);
    const grad = f32x4.add(v128.load(g + o), f32x4.mul(vwd, wi));
    const vi = f32x4.add(f32x4.mul(vm, v128.load(v + o)), grad);
    v128.store(v + o, vi);
    const step = nesterov ? f32x4.add(grad, f32x4.mul(vm, vi)) : vi;
    v128.store(w + o, f32x4.sub(wi, f32x4.mul(vlr, step)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const wi = load<f32>(w + o);
    const grad = load<f32>(g + o) + weightDecay * wi;
    const vi = momentum * load<f32>(v + o) + grad;
    store<f32>(v + o, vi);
    store<f32>(w + o, wi - lr * (nesterov ? grad + momentum * vi : vi));
  }
}

/** Adam, or AdamW when decoupled; c1, c2 are the bias corrections 1 - beta^step. */
export function adamStep(w: usize, g: usize, m: usize, v: usize, n: i32, lr: f32, beta1: f32, beta2: f32,
  eps: f32, weightDecay: f32, decoupled: bool, c1: f32, c2: f32): void {
  const vb1 = f32x4.splat(beta1), vb2 = f32x4.splat(beta2);
  const va1 = f32x4.splat(1 - beta1), va2 = f32x4.splat(1 - beta2);
  const vc1 = f32x4.splat(c1), vc2 = f32x4.splat(c2), veps = f32x4.splat(eps), vlr = f32x4.splat(lr);
  // L2 decay joins the gradient; decoupled (AdamW) decay joins the update.
  const l2 = f32x4.splat(decoupled ? 0 : weightDecay), dec = f32x4.splat(decoupled ? weightDecay : 0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const wi = v128.load(w + o);
    const grad = f32x4.add(v128.load(g + o), f32x4.mul(l2, wi));
    const mi = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(va1, grad));
    const vi = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(f32x4.mul(va2, grad), grad));
    v128.store(m + o, mi);
    v128.store(v + o, vi);
    const update = f32x4.div(f32x4.div(mi, vc1), f32x4.add(f32x4.sqrt(f32x4.div(vi, vc2)), veps));
    v128.store(w + o, f32x4.sub(wi, f32x4.mul(vlr, f32x4.add(update, f32x4.mul(dec, wi)))));
  }
  const l2s: f32 = decoupled ? 0 : weightDecay, decs: f32 = decoupled ? weightDecay : 0;
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const wi = load<f32>(w + o);
    const grad = load<f32>(g + o) + l2s * wi;
    const mi = beta1 * load<f32>(m + o) + (1 - beta1) * grad;
    const vi = beta2 * load<f32>(v + o) + (1 - beta2) * grad * grad;
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    const update = (mi / c1) / (Mathf.sqrt(vi / c2) + eps);
    store<f32>(w + o, wi - lr * (update + decs * wi));
  }
}
