import { ConfigError } from '../errors.js';
import { INPUT, type Model, type SummaryRow } from '../model/model.js';
import { shapeSize } from '../tensor.js';
import { checkModel } from './arguments.js';

/** The nodes the model runs (up to its output), in order. */
function runNodes(model: Model): SummaryRow[] {
  checkModel(model, 'explain');
  const rows = model.summary();
  const output = model.spec.output ?? rows[rows.length - 1].name;
  return rows.slice(0, rows.findIndex((r) => r.name === output) + 1);
}

/**
 * The node whose outputs are the class scores that explanations differentiate: the logits,
 * before any softmax. A model that ends in a softmax node is read at that node's input, since
 * the gradient of a probability mixes every other class into it.
 */
export function scoreNode(model: Model): string {
  const rows = runNodes(model);
  const last = rows[rows.length - 1];
  if (last.type === 'softmax' && last.inputs[0] !== INPUT) return last.inputs[0];
  return last.name;
}

/** Number of class scores at the score node. */
export function classCount(model: Model): number {
  return shapeSize(nodeShape(model, scoreNode(model)));
}

/** A node's per-example output shape; a ConfigError listing the valid names if it does not exist. */
export function nodeShape(model: Model, name: string, what = 'node'): readonly number[] {
  const row = runNodes(model).find((r) => r.name === name);
  if (!row) {
    throw new ConfigError(
      `model "${model.name}" has no ${what} "${name}" (nodes: ${runNodes(model)
        .map((r) => r.name)
        .join(', ')})`,
    );
  }
  return row.outputShape;
}

/** A node with a [C, H, W] output (a feature map); a ConfigError naming the spatial nodes otherwise. */
export function spatialNode(model: Model, name: string, what = 'layer'): [number, number, number] {
  const shape = nodeShape(model, name, what);
  if (shape.length !== 3) {
    throw new ConfigError(
      `${what} "${name}" of model "${model.name}" has output [${shape.join(', ')}], not a feature map [C, H, W] (spatial nodes: ${spatialNodes(model).join(', ')})`,
    );
  }
  return shape as [number, number, number];
}

/** Names of the nodes whose output is a feature map [C, H, W] with more than one position. */
export function spatialNodes(model: Model): string[] {
  return runNodes(model)
    .filter((r) => r.outputShape.length === 3 && r.outputShape[1] * r.outputShape[2] > 1)
    .map((r) => r.name);
}

/** Grad-CAM's default: the last convolution whose output is spatial (else the last spatial node). */
export function defaultCamNode(model: Model): string {
  const spatial = new Set(spatialNodes(model));
  const rows = runNodes(model).filter((r) => spatial.has(r.name));
  const convs = rows.filter((r) => r.type === 'conv2d');
  const chosen = convs[convs.length - 1] ?? rows[rows.length - 1];
  if (!chosen) throw new ConfigError(`model "${model.name}" has no node with a spatial output for Grad-CAM`);
  return chosen.name;
}

/**
 * A class given by index or by name (model.spec.classes), checked against the number of
 * scores; a ConfigError listing the valid classes otherwise.
 */
export function resolveClass(model: Model, cls: number | string): number {
  const K = classCount(model);
  const names = model.spec.classes;
  const valid = () => (names && names.length === K ? names.map((n, i) => `${i}=${n}`).join(', ') : `0..${K - 1}`);
  if (typeof cls === 'number') {
    if (Number.isInteger(cls) && cls >= 0 && cls < K) return cls;
    throw new ConfigError(`class ${cls} does not exist in model "${model.name}" (classes: ${valid()})`);
  }
  const byName = names?.indexOf(cls) ?? -1;
  if (byName >= 0 && byName < K) return byName;
  if (/^\d+$/.test(cls)) return resolveClass(model, Number(cls));
  throw new ConfigError(`class "${cls}" does not exist in model "${model.name}" (classes: ${valid()})`);
}

/** A channel index of a node, checked. */
export function resolveChannel(model: Model, node: string, channel: number): number {
  const channels = nodeShape(model, node)[0];
  if (!Number.isInteger(channel) || channel < 0 || channel >= channels) {
    throw new ConfigError(`node "${node}" of model "${model.name}" has channels 0..${channels - 1}, not ${channel}`);
  }
  return channel;
}
