import { ConfigError } from '../errors.js';
import type { Model } from '../model/model.js';
import { Tensor } from '../tensor.js';
import { activation, allocBatch, forwardBatch, readAll, seedGradient } from './run.js';
import { type ClassOptions, classScores } from './saliency.js';
import { defaultCamNode, scoreNode, spatialNode } from './target.js';
import { resizeBilinear } from './upsample.js';
import { checkModelAndImage, checkOptions } from './arguments.js';

export interface GradCamOptions extends ClassOptions {
  /** The node whose feature maps are weighted; default: the last convolution with a spatial output. */
  node?: string;
  /** Grad-CAM++ (Chattopadhay et al. 2018) channel weights instead of the mean gradient. */
  plusPlus?: boolean;
}

export interface GradCam {
  node: string;
  classIndex: number;
  score: number;
  /** ReLU(Σ_k w_k A_k) at the node's resolution, [h, w]. */
  map: Tensor;
  /** The map bilinearly resized to the input, [H, W] (for overlays). */
  upsampled: Tensor;
  /** The channel weights w_k. */
  weights: Float64Array;
}

/**
 * Grad-CAM (Selvaraju et al. 2017): the node's feature maps A_k weighted by the spatial mean of
 * d(class logit)/dA_k, summed, and kept where positive. Grad-CAM++ weighs each position's
 * positive gradient by α = g² / (2g² + Σ_ij A · g³) instead (the closed form for an
 * exponential score that pytorch-grad-cam uses).
 */
export async function gradCam(model: Model, image: Tensor, o: GradCamOptions = {}): Promise<GradCam> {
  checkModelAndImage(model, image, 'gradCam');
  checkOptions(o, 'gradCam');
  const node = o.node ?? defaultCamNode(model);
  const [C, h, w] = spatialNode(model, node, 'Grad-CAM layer');
  const { scores, classIndex } = await classScores(model, image, o.classIndex);
  const x = allocBatch(model, 1);
  x.data.set(image.data);
  forwardBatch(model, x);
  const score = scoreNode(model);
  const dy = seedGradient(model, score, 1, (d) => {
    d[classIndex] = 1;
  });
  model.backward(dy, false, false, { from: score });
  const g = model.activationGradients().get(node);
  if (!g) {
    throw new ConfigError(`Grad-CAM layer "${node}" of model "${model.name}" does not influence the class scores`);
  }
  const [A, dA] = await readAll(model, [activation(model, node), g]);
  const weights = new Float64Array(C);
  const HW = h * w;
  for (let k = 0; k < C; k++) {
    const a = A.data.subarray(k * HW, (k + 1) * HW),
      gk = dA.data.subarray(k * HW, (k + 1) * HW);
    if (o.plusPlus) {
      let sumA = 0;
      for (let p = 0; p < HW; p++) sumA += a[p];
      for (let p = 0; p < HW; p++) {
        const g1 = gk[p],
          g2 = g1 * g1,
          g3 = g2 * g1;
        if (g1 > 0) weights[k] += (g2 / (2 * g2 + sumA * g3 + 1e-7)) * g1;
      }
    } else {
      for (let p = 0; p < HW; p++) weights[k] += gk[p];
      weights[k] /= HW;
    }
  }
  const map = Tensor.zeros([h, w], model.backend.dtype);
  for (let p = 0; p < HW; p++) {
    let v = 0;
    for (let k = 0; k < C; k++) v += weights[k] * A.data[k * HW + p];
    map.data[p] = Math.max(0, v);
  }
  const [, H, W] = model.inputShape;
  return { node, classIndex, score: scores[classIndex], map, upsampled: resizeBilinear(map, H, W), weights };
}
