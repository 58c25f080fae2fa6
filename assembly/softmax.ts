// Row-wise softmax and the fused softmax cross-entropy. Rows are short (class counts), so
// these run in double precision like the reference and are never a bottleneck.

export function softmax(N: i32, K: i32, x: usize, y: usize): void {
  for (let n = 0; n < N; n++) {
    const xr = x + (<usize>(n * K) << 2), yr = y + (<usize>(n * K) << 2);
    const max = rowMax(K, xr);
    let sum: f64 = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(<f64>load<f32>(xr + (<usize>k << 2)) - max);
      sum += e;
      store<f32>(yr + (<usize>k << 2), <f32>e);
    }
    // Normalise from the double-precision exponentials, not the rounded stored ones.
    for (let k = 0; k < K; k++) {
      store<f32>(yr + (<usize>k << 2), <f32>(Math.exp(<f64>load<f32>(xr + (<usize>k << 2)) - max) / sum));
    }
  }
}

/**
 * Mean cross-entropy of softmax(logits) against labels (i32), computed with log-sum-exp;
 * writes probs and dlogits = (p - onehot) / N.
 */
export function softmaxCrossEntropy(N: i32, K: i32, logits: usize, labels: usize, probs: usize, dlogits: usize): f64 {
  let loss: f64 = 0;
  const invN = 1 / <f64>N;
  for (let n = 0; n < N; n++) {
    const xr = logits + (<usize>(n * K) << 2);
    const pr = probs + (<usize>(n * K) << 2), dr = dlogits + (<usize>(n * K) << 2);
    const max = rowMax(K, xr);
    let sum: f64 = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(<f64>load<f32>(xr + (<usize>k << 2)) - max);
    const label = load<i32>(labels + (<usize>n << 2));
    loss += Math.log(sum) + max - <f64>load<f32>(xr + (<usize>label << 2));
    for (let k = 0; k < K; k++) {
      const p = Math.exp(<f64>load<f32>(xr + (<usize>k << 2)) - max) / sum;
      store<f32>(pr + (<usize>k << 2), <f32>p);
      store<f32>(dr + (<usize>k << 2), <f32>((p - (k == label ? 1 : 0)) * invN));
    }
  }
  return loss * invN;
}

// @ts-ignore: decorator
@inline
function rowMax(K: i32, row: usize): f64 {
  let max: f64 = -Infinity;
  for (let k = 0; k < K; k++) max = Math.max(max, <f64>load<f32>(row + (<usize>k << 2)));
  return max;
}

/** dx = y ⊙ (dy − Σ_k dy·y) per row (the softmax layer's backward, from its output y). */
export function softmaxBackward(N: i32, K: i32, y: usize, dy: usize, dx: usize): void {
  for (let n = 0; n < N; n++) {
    const row = <usize>(n * K) << 2;
    let dot: f64 = 0;
    for (let k = 0; k < K; k++) {
      const o = row + (<usize>k << 2);
      dot += <f64>load<f32>(dy + o) * <f64>load<f32>(y + o);
    }
    for (let k = 0; k < K; k++) {
      const o = row + (<usize>k << 2);
      store<f32>(dx + o, <f32>(<f64>load<f32>(y + o) * (<f64>load<f32>(dy + o) - dot)));
    }
  }
}
