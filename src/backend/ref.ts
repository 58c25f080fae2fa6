import type { FloatArray } from '../tensor.js';
import type { AdamOptions, Backend, Conv2dGeometry, IndexArray, Labels, Pool2dGeometry, SgdOptions } from './backend.js';

/**
 * The reference backend: every kernel as plain loops, written to be obviously right rather
 * than fast. It is the oracle that fast backends are tested against, and with dtype
 * 'float64' it computes in double precision for finite-difference gradient checks.
 */
export class RefBackend implements Backend {
  readonly name = 'ref';
  constructor(readonly dtype: 'float32' | 'float64' = 'float32') {}

  alloc(n: number): FloatArray {
    return this.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  }

  // Kernels run on the host arrays themselves: nothing to move.
  upload(_a: FloatArray | IndexArray): void {}
  download(_arrays: readonly (FloatArray | IndexArray)[]): Promise<void> {
    return Promise.resolve();
  }

  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number, A: FloatArray, B: FloatArray, beta: number, C: FloatArray): void {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let sum = 0;
        for (let k = 0; k < K; k++) {
          const a = transA ? A[k * M + i] : A[i * K + k];
          const b = transB ? B[j * K + k] : B[k * N + j];
          sum += a * b;
        }
        C[i * N + j] = alpha * sum + (beta === 0 ? 0 : beta * C[i * N + j]);
      }
    }
  }

  conv2dForward(g: Conv2dGeometry, x: FloatArray, w: FloatArray, bias: FloatArray | null, y: FloatArray): void {
    const { N, C, H, W, O, KH, KW, OH, OW } = g;
    const Cg = C / g.groups,
      Og = O / g.groups;
    for (let n = 0; n < N; n++) {
      for (let o = 0; o < O; o++) {
        const c0 = Math.floor(o / Og) * Cg;
        for (let oh = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++) {
            let sum = bias ? bias[o] : 0;
            for (let c = 0; c < Cg; c++) {
              for (let kh = 0; kh < KH; kh++) {
                const ih = oh * g.strideH - g.padH + kh * g.dilationH;
                if (ih < 0 || ih >= H) continue;
                for (let kw = 0; kw < KW; kw++) {
                  const iw = ow * g.strideW - g.padW + kw * g.dilationW;
                  if (iw < 0 || iw >= W) continue;
                  sum += x[((n * C + c0 + c) * H + ih) * W + iw] * w[((o * Cg + c) * KH + kh) * KW + kw];
                }
              }
            }
            y[((n * O + o) * OH + oh) * OW + ow] = sum;
          }
        }
      }
    }
  }

  conv2dBackwardInput(g: Conv2dGeometry, dy: FloatArray, w: FloatArray, dx: FloatArray): void {
    const { N, C, H, W, O, KH, KW, OH, OW } = g;
    const Cg = C / g.groups,
      Og = O / g.groups;
    dx.fill(0);
    // Scatter: every output position sends dy * w back to the inputs it read.
    for (let n = 0; n < N; n++) {
      for (let o = 0; o < O; o++) {
        const c0 = Math.floor(o / Og) * Cg;
        for (let oh = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++) {
            const d = dy[((n * O + o) * OH + oh) * OW + ow];
            for (let c = 0; c < Cg; c++) {
              for (let kh = 0; kh < KH; kh++) {
                const ih = oh * g.strideH - g.padH + kh * g.dilationH;
                if (ih < 0 || ih >= H) continue;
                for (let kw = 0; kw < KW; kw++) {
                  const iw = ow * g.strideW - g.padW + kw * g.dilationW;
                  if (iw < 0 || iw >= W) continue;
                  dx[((n * C + c0 + c) * H + ih) * W + iw] += d * w[((o * Cg + c) * KH + kh) * KW + kw];
                }
              }
            }
          }
        }
      }
    }
  }

  conv2dBackwardWeights(g: Conv2dGeometry, x: FloatArray, dy: FloatArray, dw: FloatArray, dbias: FloatArray | null): void {
    const { N, C, H, W, O, KH, KW, OH, OW } = g;
    const Cg = C / g.groups,
      Og = O / g.groups;
    dw.fill(0);
    if (dbias) dbias.fill(0);
    for (let n = 0; n < N; n++) {
      for (let o = 0; o < O; o++) {
        const c0 = Math.floor(o / Og) * Cg;
        for (let oh = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++) {
            const d = dy[((n * O + o) * OH + oh) * OW + ow];
            if (dbias) dbias[o] += d;
            for (let c = 0; c < Cg; c++) {
              for (let kh = 0; kh < KH; kh++) {
                const ih = oh * g.strideH - g.padH + kh * g.dilationH;
                if (ih < 0 || ih >= H) continue;
                for (let kw = 0; kw < KW; kw++) {
                  const iw = ow * g.strideW - g.padW + kw * g.dilationW;
                  if (iw < 0 || iw >= W) continue;
                  dw[((o * Cg + c) * KH + kh) * KW + kw] += d * x[((n * C + c0 + c) * H + ih) * W + iw];
                }
              }
            }
          }
        }
      }
    }
  }

  maxPool2dForward(g: Pool2dGeometry, x: FloatArray, y: FloatArray, argmax: IndexArray): void {
    const { N, C, H, W, KH, KW, OH, OW } = g;
    for (let nc = 0; nc < N * C; nc++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let best = -Infinity,
            bestIndex = -1;
          for (let kh = 0; kh < KH; kh++) {
            const ih = oh * g.strideH - g.padH + kh;
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < KW; kw++) {
              const iw = ow * g.strideW - g.padW + kw;
              if (iw < 0 || iw >= W) continue;
              const i = (nc * H + ih) * W + iw;
              // Strict '>' keeps the first maximum, like PyTorch; NaN propagates.
              if (x[i] > best || bestIndex < 0 || Number.isNaN(x[i])) {
                best = x[i];
                bestIndex = i;
              }
            }
          }
          const o = (nc * OH + oh) * OW + ow;
          y[o] = bestIndex < 0 ? 0 : best;
          argmax[o] = bestIndex;
        }
      }
    }
  }

  maxPool2dBackward(g: Pool2dGeometry, dy: FloatArray, argmax: IndexArray, dx: FloatArray): void {
    dx.fill(0);
    const n = g.N * g.C * g.OH * g.OW;
    for (let o = 0; o < n; o++) if (argmax[o] >= 0) dx[argmax[o]] += dy[o];
  }

  avgPool2dForward(g: Pool2dGeometry, x: FloatArray, y: FloatArray, countPad: boolean): void {
    const { N, C, H, W, OH, OW } = g;
    for (let nc = 0; nc < N * C; nc++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          const win = poolWindow(g, oh, ow);
          let sum = 0;
          for (let ih = win.h0; ih < win.h1; ih++) {
            for (let iw = win.w0; iw < win.w1; iw++) sum += x[(nc * H + ih) * W + iw];
          }
          const count = countPad ? win.paddedCount : (win.h1 - win.h0) * (win.w1 - win.w0);
          y[(nc * OH + oh) * OW + ow] = count > 0 ? sum / count : 0;
        }
      }
    }
  }

  avgPool2dBackward(g: Pool2dGeometry, dy: FloatArray, dx: FloatArray, countPad: boolean): void {
    const { N, C, H, W, OH, OW } = g;
    dx.fill(0);
    for (let nc = 0; nc < N * C; nc++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          const win = poolWindow(g, oh, ow);
          const count = countPad ? win.paddedCount : (win.h1 - win.h0) * (win.w1 - win.w0);
          if (count === 0) continue;
          const d = dy[(nc * OH + oh) * OW + ow] / count;
          for (let ih = win.h0; ih < win.h1; ih++) {
            for (let iw = win.w0; iw < win.w1; iw++) dx[(nc * H + ih) * W + iw] += d;
          }
        }
      }
    }
  }

  adaptiveAvgPool2dForward(g: Pool2dGeometry, x: FloatArray, y: FloatArray): void {
    const { N, C, H, W, OH, OW } = g;
    for (let nc = 0; nc < N * C; nc++) {
      for (let oh = 0; oh < OH; oh++) {
        const h0 = Math.floor((oh * H) / OH),
          h1 = Math.ceil(((oh + 1) * H) / OH);
        for (let ow = 0; ow < OW; ow++) {
          const w0 = Math.floor((ow * W) / OW),
            w1 = Math.ceil(((ow + 1) * W) / OW);
          let sum = 0;
          for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) sum += x[(nc * H + ih) * W + iw];
          y[(nc * OH + oh) * OW + ow] = sum / ((h1 - h0) * (w1 - w0));
        }
      }
    }
  }

  adaptiveAvgPool2dBackward(g: Pool2dGeometry, dy: FloatArray, dx: FloatArray): void {
    const { N, C, H, W, OH, OW } = g;
    dx.fill(0);
    for (let nc = 0; nc < N * C; nc++) {
      for (let oh = 0; oh < OH; oh++) {
        const h0 = Math.floor((oh * H) / OH),
          h1 = Math.ceil(((oh + 1) * H) / OH);
        for (let ow = 0; ow < OW; ow++) {
          const w0 = Math.floor((ow * W) / OW),
            w1 = Math.ceil(((ow + 1) * W) / OW);
          const d = dy[(nc * OH + oh) * OW + ow] / ((h1 - h0) * (w1 - w0));
          for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) dx[(nc * H + ih) * W + iw] += d;
        }
      }
    }
  }

  batchNormStats(N: number, C: number, HW: number, x: FloatArray, mean: FloatArray, variance: FloatArray): void {
    const count = N * HW;
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) sum += x[(n * C + c) * HW + i];
      const m = sum / count;
      let sq = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) sq += (x[(n * C + c) * HW + i] - m) ** 2;
      mean[c] = m;
      variance[c] = sq / count;
    }
  }

  batchNormRunning(
    C: number,
    mean: FloatArray,
    variance: FloatArray,
    eps: number,
    momentum: number,
    unbias: number,
    runningMean: FloatArray,
    runningVar: FloatArray,
    invStd: FloatArray,
  ): void {
    batchNormRunningOnHost(C, mean, variance, eps, momentum, unbias, runningMean, runningVar, invStd);
  }

  batchNormApply(
    N: number,
    C: number,
    HW: number,
    x: FloatArray,
    mean: FloatArray,
    invStd: FloatArray,
    gamma: FloatArray,
    beta: FloatArray,
    y: FloatArray,
  ): void {
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        for (let i = 0; i < HW; i++) {
          const j = (n * C + c) * HW + i;
          y[j] = gamma[c] * (x[j] - mean[c]) * invStd[c] + beta[c];
        }
      }
    }
  }

  batchNormBackward(
    N: number,
    C: number,
    HW: number,
    x: FloatArray,
    dy: FloatArray,
    mean: FloatArray,
    invStd: FloatArray,
    gamma: FloatArray,
    dx: FloatArray,
    dgamma: FloatArray,
    dbeta: FloatArray,
    batchStatistics: boolean,
  ): void {
    const count = N * HW;
    for (let c = 0; c < C; c++) {
      // With x̂ = (x − μ)·σ⁻¹: dβ = Σ dy, dγ = Σ dy·x̂, dx = γσ⁻¹/m · (m·dy − dβ − x̂·dγ).
      let sumDy = 0,
        sumDyXhat = 0;
      for (let n = 0; n < N; n++) {
        for (let i = 0; i < HW; i++) {
          const j = (n * C + c) * HW + i;
          sumDy += dy[j];
          sumDyXhat += dy[j] * (x[j] - mean[c]) * invStd[c];
        }
      }
      dbeta[c] = sumDy;
      dgamma[c] = sumDyXhat;
      if (!batchStatistics) {
        // Constant statistics: an affine map per channel.
        for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) dx[(n * C + c) * HW + i] = gamma[c] * invStd[c] * dy[(n * C + c) * HW + i];
        continue;
      }
      const scale = (gamma[c] * invStd[c]) / count;
      for (let n = 0; n < N; n++) {
        for (let i = 0; i < HW; i++) {
          const j = (n * C + c) * HW + i;
          const xhat = (x[j] - mean[c]) * invStd[c];
          dx[j] = scale * (count * dy[j] - sumDy - xhat * sumDyXhat);
        }
      }
    }
  }

  lrnForward(
    N: number,
    C: number,
    HW: number,
    size: number,
    alpha: number,
    beta: number,
    k: number,
    x: FloatArray,
    scale: FloatArray,
    y: FloatArray,
    before = Math.floor(size / 2),
  ): void {
    const after = size - 1 - before;
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        for (let i = 0; i < HW; i++) {
          let sq = 0;
          for (let j = Math.max(0, c - before); j <= Math.min(C - 1, c + after); j++) sq += x[(n * C + j) * HW + i] ** 2;
          const at = (n * C + c) * HW + i;
          scale[at] = k + (alpha / size) * sq;
          y[at] = x[at] * Math.pow(scale[at], -beta);
        }
      }
    }
  }

  lrnBackward(
    N: number,
    C: number,
    HW: number,
    size: number,
    alpha: number,
    beta: number,
    k: number,
    x: FloatArray,
    y: FloatArray,
    scale: FloatArray,
    dy: FloatArray,
    dx: FloatArray,
    before = Math.floor(size / 2),
  ): void {
    const after = size - 1 - before;
    void k;
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        for (let i = 0; i < HW; i++) {
          // x_c appears in its own output and in the scale of every channel whose window holds it.
          let sum = 0;
          for (let j = Math.max(0, c - after); j <= Math.min(C - 1, c + before); j++) {
            const at = (n * C + j) * HW + i;
            sum += (dy[at] * y[at]) / scale[at];
          }
          const at = (n * C + c) * HW + i;
          dx[at] = dy[at] * Math.pow(scale[at], -beta) - ((2 * alpha * beta) / size) * x[at] * sum;
        }
      }
    }
  }

  leakyRelu(x: FloatArray, y: FloatArray, slope: number, cap: number): void {
    for (let i = 0; i < y.length; i++) y[i] = Math.min(x[i] > 0 ? x[i] : slope * x[i], cap);
  }

  leakyReluBackward(x: FloatArray, dy: FloatArray, dx: FloatArray, slope: number, cap: number): void {
    for (let i = 0; i < dx.length; i++) dx[i] = x[i] >= cap ? 0 : x[i] > 0 ? dy[i] : slope * dy[i];
  }

  hardSigmoid(x: FloatArray, y: FloatArray, alpha: number, beta: number): void {
    for (let i = 0; i < y.length; i++) y[i] = Math.min(1, Math.max(0, alpha * x[i] + beta));
  }

  hardSigmoidBackward(x: FloatArray, dy: FloatArray, dx: FloatArray, alpha: number, beta: number): void {
    for (let i = 0; i < dx.length; i++) {
      const v = alpha * x[i] + beta;
      dx[i] = v > 0 && v < 1 ? alpha * dy[i] : 0;
    }
  }

  channelScale(P: number, HW: number, x: FloatArray, s: FloatArray, y: FloatArray): void {
    for (let p = 0; p < P; p++) for (let i = 0; i < HW; i++) y[p * HW + i] = x[p * HW + i] * s[p];
  }

  channelScaleBackward(P: number, HW: number, x: FloatArray, s: FloatArray, dy: FloatArray, dx: FloatArray, ds: FloatArray): void {
    for (let p = 0; p < P; p++) {
      let sum = 0;
      for (let i = 0; i < HW; i++) {
        sum += dy[p * HW + i] * x[p * HW + i];
        dx[p * HW + i] = dy[p * HW + i] * s[p];
      }
      ds[p] = sum;
    }
  }

  layerNormForward(
    N: number,
    C: number,
    HW: number,
    x: FloatArray,
    gamma: FloatArray,
    beta: FloatArray,
    eps: number,
    mean: FloatArray,
    invStd: FloatArray,
    y: FloatArray,
  ): void {
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < HW; i++) {
        const p = n * HW + i,
          at = (c: number) => (n * C + c) * HW + i;
        let sum = 0;
        for (let c = 0; c < C; c++) sum += x[at(c)];
        const m = sum / C;
        let sq = 0;
        for (let c = 0; c < C; c++) sq += (x[at(c)] - m) ** 2;
        const s = 1 / Math.sqrt(sq / C + eps);
        mean[p] = m;
        invStd[p] = s;
        for (let c = 0; c < C; c++) y[at(c)] = gamma[c] * (x[at(c)] - m) * s + beta[c];
      }
    }
  }

  layerNormBackward(
    N: number,
    C: number,
    HW: number,
    x: FloatArray,
    dy: FloatArray,
    mean: FloatArray,
    invStd: FloatArray,
    gamma: FloatArray,
    dx: FloatArray,
    dgamma: FloatArray,
    dbeta: FloatArray,
  ): void {
    dgamma.fill(0);
    dbeta.fill(0);
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < HW; i++) {
        const p = n * HW + i,
          at = (c: number) => (n * C + c) * HW + i;
        // With g = dy·γ and x̂ = (x − μ)·σ⁻¹ over one position's C values: dx = σ⁻¹·(g − mean(g) − x̂·mean(g·x̂)).
        let sumG = 0,
          sumGXhat = 0;
        for (let c = 0; c < C; c++) {
          const xhat = (x[at(c)] - mean[p]) * invStd[p];
          sumG += dy[at(c)] * gamma[c];
          sumGXhat += dy[at(c)] * gamma[c] * xhat;
          dgamma[c] += dy[at(c)] * xhat;
          dbeta[c] += dy[at(c)];
        }
        for (let c = 0; c < C; c++) {
          const xhat = (x[at(c)] - mean[p]) * invStd[p];
          dx[at(c)] = invStd[p] * (dy[at(c)] * gamma[c] - sumG / C - (xhat * sumGXhat) / C);
        }
      }
    }
  }

  gelu(x: FloatArray, y: FloatArray): void {
    for (let i = 0; i < y.length; i++) y[i] = 0.5 * x[i] * (1 + erf(x[i] * Math.SQRT1_2));
  }

  geluBackward(x: FloatArray, dy: FloatArray, dx: FloatArray): void {
    for (let i = 0; i < dx.length; i++) {
      const v = x[i];
      dx[i] = dy[i] * (0.5 * (1 + erf(v * Math.SQRT1_2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI));
    }
  }

  addBias(rows: number, cols: number, x: FloatArray, b: FloatArray, y: FloatArray): void {
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) y[r * cols + c] = x[r * cols + c] + b[c];
  }

  sumRows(rows: number, cols: number, dy: FloatArray, db: FloatArray): void {
    db.fill(0);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) db[c] += dy[r * cols + c];
  }

  add(a: FloatArray, b: FloatArray, out: FloatArray): void {
    for (let i = 0; i < out.length; i++) out[i] = a[i] + b[i];
  }

  mul(a: FloatArray, b: FloatArray, out: FloatArray): void {
    for (let i = 0; i < out.length; i++) out[i] = a[i] * b[i];
  }

  axpy(alpha: number, x: FloatArray, y: FloatArray): void {
    for (let i = 0; i < y.length; i++) y[i] += alpha * x[i];
  }

  copyBlocks(N: number, src: FloatArray, srcStride: number, srcOffset: number, dst: FloatArray, dstStride: number, dstOffset: number, block: number): void {
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < block; i++) dst[n * dstStride + dstOffset + i] = src[n * srcStride + srcOffset + i];
    }
  }

  relu(x: FloatArray, y: FloatArray): void {
    for (let i = 0; i < y.length; i++) y[i] = x[i] > 0 ? x[i] : 0;
  }

  reluBackward(x: FloatArray, dy: FloatArray, dx: FloatArray): void {
    for (let i = 0; i < dx.length; i++) dx[i] = x[i] > 0 ? dy[i] : 0;
  }

  tanh(x: FloatArray, y: FloatArray): void {
    for (let i = 0; i < y.length; i++) y[i] = Math.tanh(x[i]);
  }

  tanhBackward(y: FloatArray, dy: FloatArray, dx: FloatArray): void {
    for (let i = 0; i < dx.length; i++) dx[i] = dy[i] * (1 - y[i] * y[i]);
  }

  sigmoid(x: FloatArray, y: FloatArray): void {
    for (let i = 0; i < y.length; i++) y[i] = 1 / (1 + Math.exp(-x[i]));
  }

  sigmoidBackward(y: FloatArray, dy: FloatArray, dx: FloatArray): void {
    for (let i = 0; i < dx.length; i++) dx[i] = dy[i] * y[i] * (1 - y[i]);
  }

  softmax(N: number, K: number, x: FloatArray, y: FloatArray): void {
    for (let n = 0; n < N; n++) {
      let max = -Infinity;
      for (let k = 0; k < K; k++) max = Math.max(max, x[n * K + k]);
      let sum = 0;
      for (let k = 0; k < K; k++) sum += y[n * K + k] = Math.exp(x[n * K + k] - max);
      for (let k = 0; k < K; k++) y[n * K + k] /= sum;
    }
  }

  softmaxBackward(N: number, K: number, y: FloatArray, dy: FloatArray, dx: FloatArray): void {
    for (let n = 0; n < N; n++) {
      let dot = 0;
      for (let k = 0; k < K; k++) dot += dy[n * K + k] * y[n * K + k];
      for (let k = 0; k < K; k++) dx[n * K + k] = y[n * K + k] * (dy[n * K + k] - dot);
    }
  }

  sumOfSquares(x: FloatArray, out: FloatArray, index: number): void {
    let sum = 0;
    for (let i = 0; i < x.length; i++) sum += x[i] * x[i];
    out[index] = sum;
  }

  softmaxCrossEntropy(N: number, K: number, logits: FloatArray, labels: Labels, probs: FloatArray, dlogits: FloatArray, lossOut: FloatArray): void {
    let loss = 0;
    for (let n = 0; n < N; n++) {
      let max = -Infinity;
      for (let k = 0; k < K; k++) max = Math.max(max, logits[n * K + k]);
      let sum = 0;
      for (let k = 0; k < K; k++) sum += Math.exp(logits[n * K + k] - max);
      const label = labels[n];
      loss += Math.log(sum) + max - logits[n * K + label];
      for (let k = 0; k < K; k++) {
        const p = Math.exp(logits[n * K + k] - max) / sum;
        probs[n * K + k] = p;
        dlogits[n * K + k] = (p - (k === label ? 1 : 0)) / N;
      }
    }
    lossOut[0] = loss / N;
  }

  sgdStep(w: FloatArray, g: FloatArray, v: FloatArray, o: SgdOptions): void {
    for (let i = 0; i < w.length; i++) {
      const grad = g[i] + o.weightDecay * w[i];
      v[i] = o.momentum * v[i] + grad;
      w[i] -= o.lr * (o.nesterov ? grad + o.momentum * v[i] : v[i]);
    }
  }

  adamStep(w: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, o: AdamOptions): void {
    const c1 = 1 - Math.pow(o.beta1, o.step),
      c2 = 1 - Math.pow(o.beta2, o.step);
    for (let i = 0; i < w.length; i++) {
      const grad = o.decoupled ? g[i] : g[i] + o.weightDecay * w[i];
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * grad;
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * grad * grad;
      const update = m[i] / c1 / (Math.sqrt(v[i] / c2) + o.eps);
      w[i] -= o.lr * (update + (o.decoupled ? o.weightDecay * w[i] : 0));
    }
  }
}

/** The input rows/columns a pooling window covers, clipped to the image, and its size within the padding. */
function poolWindow(g: Pool2dGeometry, oh: number, ow: number) {
  const hs = oh * g.strideH - g.padH,
    ws = ow * g.strideW - g.padW;
  const he = Math.min(hs + g.KH, g.H + g.padH),
    we = Math.min(ws + g.KW, g.W + g.padW);
  return {
    h0: Math.max(hs, 0),
    h1: Math.min(he, g.H),
    w0: Math.max(ws, 0),
    w1: Math.min(we, g.W),
    paddedCount: (he - hs) * (we - ws),
  };
}

/** Backend.batchNormRunning on host arrays (C values: CPU backends need no kernel for it). */
export function batchNormRunningOnHost(
  C: number,
  mean: FloatArray,
  variance: FloatArray,
  eps: number,
  momentum: number,
  unbias: number,
  runningMean: FloatArray,
  runningVar: FloatArray,
  invStd: FloatArray,
): void {
  for (let c = 0; c < C; c++) {
    invStd[c] = 1 / Math.sqrt(variance[c] + eps);
    if (momentum === 0) continue;
    runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean[c];
    runningVar[c] = (1 - momentum) * runningVar[c] + momentum * variance[c] * unbias;
  }
}

/**
 * The error function to double precision: its Maclaurin series below |x| = 2.5 (at most ~2
 * digits lost to cancellation), erfc's continued fraction above, ±1 from |x| = 6 (erfc(6) < 1e-16).
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (Number.isNaN(x)) return NaN;
  if (a >= 6) return Math.sign(x);
  if (a < 2.5) {
    // erf(x) = 2/√π · Σ (−1)ⁿ x^(2n+1) / (n!·(2n+1))
    let term = x,
      sum = x;
    for (let n = 1; n < 60; n++) {
      term *= (-x * x) / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(a) = e^(−a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + …)))), evaluated from its tail.
  let k = a;
  for (let j = 80; j >= 1; j--) k = a + j / 2 / k;
  const erfc = Math.exp(-a * a) / (Math.sqrt(Math.PI) * k);
  return Math.sign(x) * (1 - erfc);
}
