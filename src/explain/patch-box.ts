import { ConfigError } from '../errors.js';
import { INPUT, type Model } from '../model/model.js';

/**
 * The input box a unit of a node sees (its receptive field), clipped to the image. This is the
 * one place explanations compute receptive fields; it holds a minimal walk over the graph until
 * src/model/receptive-field.ts can supply size, jump and start per node.
 */
export interface Box { top: number; left: number; height: number; width: number }

interface Field { size: [number, number]; jump: [number, number]; start: [number, number] }

export function unitBox(model: Model, node: string, y: number, x: number): Box {
  const f = receptiveFieldOf(model, node);
  const [, H, W] = model.inputShape;
  const span = (d: 0 | 1, i: number, extent: number): [number, number] => {
    const centre = f.start[d] + i * f.jump[d];
    const from = Math.max(0, Math.ceil(centre - (f.size[d] - 1) / 2));
    const to = Math.min(extent - 1, Math.floor(centre + (f.size[d] - 1) / 2));
    return [from, Math.max(from, to) - from + 1];
  };
  const [top, height] = span(0, y, H), [left, width] = span(1, x, W);
  return { top, left, height, width };
}

/**
 * Size, jump (input pixels between neighbouring units) and start (centre of the first unit's
 * field) of every node up to `node`. Where several inputs meet (add, concat), the widest field
 * counts; global pooling, dense and flatten see the whole input.
 */
function receptiveFieldOf(model: Model, node: string): Field {
  const [, H, W] = model.inputShape;
  const fields = new Map<string, Field>([[INPUT, { size: [1, 1], jump: [1, 1], start: [0, 0] }]]);
  for (const n of model.spec.nodes) {
    const inputs = n.inputs.map((i) => fields.get(i)!);
    const widest = inputs.reduce((a, b) => (b.size[0] * b.size[1] > a.size[0] * a.size[1] ? b : a));
    const layer = n.layer as unknown as Record<string, unknown>;
    let field = widest;
    if (layer.type === 'conv2d' || layer.type === 'maxpool2d' || layer.type === 'avgpool2d') {
      const k = pairOf(layer.kernel, 1);
      const s = layer.stride !== undefined ? pairOf(layer.stride, 1) : layer.type === 'conv2d' ? [1, 1] : k;
      const p = layer.padding === 'same' ? [(k[0] - 1) / 2, (k[1] - 1) / 2] : layer.padding === 'valid' ? [0, 0] : pairOf(layer.padding, 0);
      field = {
        size: [widest.size[0] + (k[0] - 1) * widest.jump[0], widest.size[1] + (k[1] - 1) * widest.jump[1]],
        jump: [widest.jump[0] * s[0], widest.jump[1] * s[1]],
        start: [widest.start[0] + ((k[0] - 1) / 2 - p[0]) * widest.jump[0], widest.start[1] + ((k[1] - 1) / 2 - p[1]) * widest.jump[1]],
      };
    } else if (['dense', 'flatten', 'globalavgpool2d', 'adaptiveavgpool2d'].includes(layer.type as string)) {
      field = { size: [2 * H, 2 * W], jump: [H, W], start: [(H - 1) / 2, (W - 1) / 2] };
    }
    fields.set(n.name, field);
    if (n.name === node) return field;
  }
  throw new ConfigError(`model "${model.name}" has no node "${node}"`);
}

function pairOf(v: unknown, fallback: number): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v)) return [v[0], v[1]];
  return [fallback, fallback];
}
