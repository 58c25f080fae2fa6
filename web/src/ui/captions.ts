/** One-sentence explanations of each layer for someone who has never seen a CNN. */
import type { LayerView } from '../protocol.js';

export function layerCaption(layer: LayerView, previous: string, isLast: boolean): string {
  const [c, h, w] = layer.outputShape;
  switch (layer.type) {
    case 'conv2d': {
      const k = layer.weights?.shape ?? [];
      return `${layer.name}: ${c} filters of ${k[2] ?? '?'}×${k[3] ?? '?'} slide over ${previous}; each gives one ${h}×${w} map: red where its pattern is, blue where its opposite is.`;
    }
    case 'relu':
      return `${layer.name}: keeps the positive values and sets the negative ones (blue) to zero.`;
    case 'maxpool2d':
      return `${layer.name}: keeps the largest value of each small window, so the maps shrink to ${h}×${w}.`;
    case 'avgpool2d':
      return `${layer.name}: averages each small window, so the maps shrink to ${h}×${w}.`;
    case 'flatten':
      return `${layer.name}: lays all ${c} values out in one row for the dense layers.`;
    case 'dropout':
      return `${layer.name}: switches random units off while training (does nothing now).`;
    case 'dense':
      return isLast
        ? `${layer.name}: one score per digit 0–9, each a weighted sum of all values before; softmax turns the scores into the probabilities.`
        : `${layer.name}: ${c} units, each a weighted sum of all values of ${previous}.`;
    default:
      return `${layer.name} (${layer.type}): output ${layer.outputShape.join('×')}.`;
  }
}
