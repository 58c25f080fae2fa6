import { Conv2d } from '../layers/conv2d.js';
import type { Layer } from '../layers/layer.js';
import { AdaptiveAvgPool2d, Pool2d } from '../layers/pool2d.js';
import type { Shape } from '../tensor.js';
import { INPUT, type Model } from './model.js';

/**
 * Receptive fields, by shape arithmetic over the graph (Araujo, Norris & Sim, "Computing
 * receptive fields of convolutional neural networks", Distill 2019). Per axis (index 0: rows,
 * 1: columns), output position i of a node sees the input pixels
 *
 *   start + i · jump  …  start + i · jump + size − 1   (inclusive)
 *
 * where `start` is the first pixel of position 0's field (negative when the field reaches into
 * padding; its centre is start + (size − 1) / 2). Fields count padding and ceil-mode overhang as
 * pixels, so near the border part of a field lies outside the image.
 *
 * - conv2d and pooling with kernel k, stride s, padding p, dilation d:
 *   size += (d·(k − 1)) · jump, start −= p · jump, jump *= s. Ceil mode changes only how many
 *   windows there are.
 * - Adaptive pooling to a size that divides the input is pooling with k = s = input / output.
 *   Global pooling, other adaptive pooling, flatten, dense and any layer not listed here see the
 *   whole input: every output position gets the union of all input positions' fields and
 *   jump 0 (no spatial resolution is left).
 * - Element-wise layers (activations, dropout, batch norm, LRN across channels) keep the field.
 * - Nodes with several inputs (add, concat) get a field that covers every input's field at every
 *   position. With equal jumps that is the union: the earliest start and the latest end. With
 *   different jumps a window of constant size cannot be exact; of the inputs' jumps, the one
 *   that needs the smallest covering size is used (ties: the larger jump).
 */
export interface ReceptiveField {
  /** Input pixels (rows, columns) one output position sees. */
  size: [number, number];
  /** Input pixels between the fields of neighbouring output positions: the effective stride (0: all positions see the same field). */
  jump: [number, number];
  /** Input row and column where the field of output position (0, 0) begins. */
  start: [number, number];
}

/** One axis of a receptive field. */
export interface AxisField {
  size: number;
  jump: number;
  start: number;
}

/** The receptive field of every node's output, by node name (and 'input': one pixel, stride 1). */
export function receptiveFields(model: Model): Map<string, ReceptiveField> {
  const rows = model.summary();
  const layers = model.layers;
  const extent = (shape: Shape): [number, number] => (shape.length === 3 ? [shape[1], shape[2]] : [1, 1]);
  const fields = new Map<string, AxisField[]>([
    [
      INPUT,
      [
        { size: 1, jump: 1, start: 0 },
        { size: 1, jump: 1, start: 0 },
      ],
    ],
  ]);
  const extents = new Map<string, [number, number]>([[INPUT, extent(model.inputShape)]]);
  rows.forEach((row, n) => {
    const inputs = row.inputs.map((name) => ({ field: fields.get(name)!, extent: extents.get(name)! }));
    const out = extent(row.outputShape);
    fields.set(
      row.name,
      [0, 1].map((axis) => {
        const through = inputs.map((input) => layerField(layers[n], input.field[axis], input.extent[axis], axis));
        return through.length === 1 ? through[0] : covering(through, out[axis]);
      }),
    );
    extents.set(row.name, out);
  });
  const result = new Map<string, ReceptiveField>();
  for (const [name, [h, w]] of fields) result.set(name, { size: [h.size, w.size], jump: [h.jump, w.jump], start: [h.start, w.start] });
  return result;
}

/** The input rows and columns (inclusive) that output position (row, col) of a node sees. */
export function fieldBounds(field: ReceptiveField, row: number, col: number): { top: number; left: number; bottom: number; right: number } {
  const top = field.start[0] + row * field.jump[0],
    left = field.start[1] + col * field.jump[1];
  return { top, left, bottom: top + field.size[0] - 1, right: left + field.size[1] - 1 };
}

/** A window of `kernel` taps `dilation` apart, moved `stride` at a time over input padded by `padding`. */
export function throughWindow(f: AxisField, kernel: number, stride: number, padding: number, dilation = 1): AxisField {
  return { size: f.size + dilation * (kernel - 1) * f.jump, jump: f.jump * stride, start: f.start - padding * f.jump };
}

/** Every output position sees all `positions` input positions. */
function wholeInput(f: AxisField, positions: number): AxisField {
  return { size: f.size + (positions - 1) * f.jump, jump: 0, start: f.start };
}

function layerField(layer: Layer, f: AxisField, positions: number, axis: number): AxisField {
  if (layer instanceof Conv2d) {
    const dilation = pairOf(layer.config().dilation, 1)[axis];
    return throughWindow(f, layer.kernel[axis], layer.stride[axis], layer.padding[axis], dilation);
  }
  if (layer instanceof Pool2d) return throughWindow(f, layer.kernel[axis], layer.stride[axis], layer.padding[axis]);
  if (layer instanceof AdaptiveAvgPool2d) {
    const out = layer.output[axis];
    if (out > 1 && positions % out === 0) return throughWindow(f, positions / out, positions / out, 0);
    return wholeInput(f, positions);
  }
  if (layer.keepsPositions) return f;
  return wholeInput(f, positions);
}

/** conv2d's `dilation`: a number or [rows, columns]. */
function pairOf(v: unknown, fallback: number): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')) return [v[0], v[1]];
  return [fallback, fallback];
}

/** One field that covers each of `fields` at every one of `positions` output positions. */
function covering(fields: AxisField[], positions: number): AxisField {
  // Field bounds are linear in the position, so the first and last positions decide.
  const ends = positions > 1 ? [0, positions - 1] : [0];
  let best: AxisField | undefined;
  for (const jump of [...new Set(fields.map((f) => f.jump))].sort((a, b) => b - a)) {
    let start = Infinity,
      end = -Infinity;
    for (const i of ends) {
      for (const f of fields) {
        start = Math.min(start, f.start + i * (f.jump - jump));
        end = Math.max(end, f.start + i * (f.jump - jump) + f.size - 1);
      }
    }
    if (!best || end - start + 1 < best.size) best = { size: end - start + 1, jump, start };
  }
  return best!;
}
