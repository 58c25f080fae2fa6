/**
 * A copy of the network on the page's own thread (reference backend), for what must not wait
 * for the worker: classifying a drawing before the MNIST files have arrived (the worker builds
 * its network only once it has data), and the explanation overlays (saliency, Grad-CAM) and
 * receptive fields, which need the model itself. Small networks only: a LeNet-5 forward pass
 * here takes a few milliseconds; bigger networks leave the overlays to say so.
 */
import { Model, type ModelSpec, type ReceptiveField, RefBackend, Tensor, decodeModel, explain, fillBatch, receptiveFields, shapeSize } from 'convkit';
import type { LayerReport } from './protocol.js';
import { drawnDataset } from './drawn-digit.js';

/** Above this many parameters the page leaves computation to the worker (overlays say so). */
export const PAGE_MODEL_MAX_PARAMETERS = 2_000_000;

export type OverlayKind = 'saliency' | 'gradcam';

export class PageModel {
  private readonly x: Tensor;

  private constructor(readonly model: Model) {
    this.x = new Tensor([1, ...model.inputShape], model.backend.alloc(shapeSize(model.inputShape)));
  }

  /** Decodes a .convkit file (the shipped LeNet-5, or the worker's current weights). */
  static fromBytes(bytes: Uint8Array, fileName: string): PageModel {
    return new PageModel(decodeModel(bytes, fileName, new RefBackend()).model);
  }

  get parameters(): number {
    return this.model.summary().reduce((s, r) => s + r.params, 0);
  }

  /** A drawn 28×28 digit through the network: every layer's activation and the probabilities (no gradients: a drawing has no label). */
  inspectDrawing(pixels: Uint8Array): LayerReport {
    fillBatch(drawnDataset(pixels), [0], 0, this.x, new Uint8Array(1), { crop: 'center' });
    const logits = this.model.forward(this.x, false);
    const probs = softmax(Array.from(logits.data));
    const activations = this.model.activations();
    return {
      input: { shape: [...this.model.inputShape], data: Float32Array.from(this.x.data) },
      probs,
      layers: this.model.summary().map((row, i) => {
        const weight = row.type === 'conv2d' ? this.model.layers[i].params().find((p) => p.name === 'weight') : undefined;
        return {
          name: row.name,
          type: row.type,
          outputShape: [...row.outputShape],
          params: row.params,
          activation: Float32Array.from(activations.get(row.name)!.data),
          ...(weight ? { weights: { shape: [...weight.value.shape], data: Float32Array.from(weight.value.data) } } : {}),
        };
      }),
    };
  }

  /** Saliency or Grad-CAM for the network input of a report, as a map of the input's size with values ≥ 0. */
  async overlay(kind: OverlayKind, input: { shape: number[]; data: Float32Array }): Promise<{ map: Float32Array; h: number; w: number; classIndex: number }> {
    const image = new Tensor([...input.shape], this.model.backend.alloc(input.data.length));
    image.data.set(input.data);
    const [, h, w] = input.shape;
    if (kind === 'saliency') {
      const a = await explain.saliency(this.model, image);
      return { map: Float32Array.from(a.map.data), h, w, classIndex: a.classIndex };
    }
    const cam = await explain.gradCam(this.model, image);
    return { map: Float32Array.from(cam.upsampled.data), h, w, classIndex: cam.classIndex };
  }
}

/** Receptive fields of a network's layers, from its spec (built once on the reference backend). */
export function fieldsOf(spec: ModelSpec): Map<string, ReceptiveField> {
  return receptiveFields(new Model(spec, new RefBackend()));
}

export function softmax(logits: number[]): number[] {
  const m = Math.max(...logits);
  const e = logits.map((z) => Math.exp(z - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
