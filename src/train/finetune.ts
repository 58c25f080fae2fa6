import { ConfigError } from '../errors.js';
import { INPUT, Model, type ModelSpec, type NodeSpec } from '../model/model.js';
import type { ParamGroup } from './optimizer.js';

/** The per-channel statistics torchvision's ImageNet models expect (of pixel/255, RGB). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];

/** Layers without parameters that may sit between the classifier and the output: they keep one value per class. */
const AFTER_HEAD = new Set([
  'softmax',
  'flatten',
  'dropout',
  'globalavgpool2d',
  'adaptiveavgpool2d',
  'avgpool2d',
  'maxpool2d',
  'relu',
  'leakyrelu',
  'relu6',
  'tanh',
  'sigmoid',
]);

/**
 * The node that produces the logits: walking back from the output node through parameter-free
 * layers that keep one channel per class (softmax, flatten, dropout, pooling, activations —
 * SqueezeNet's classifier is conv → ReLU → pooling), the first node with parameters. It must be a
 * dense layer or an ungrouped conv2d with one output per class, and every node on the way must
 * read only it and be read only by the next; anything else (a join of branches, a batch norm, a
 * grouped conv) is ambiguous and refused with a ConfigError saying where the walk stopped.
 */
export function findHead(model: Model): string {
  const nodes = new Map(model.spec.nodes.map((n) => [n.name, n]));
  const readers = new Map<string, number>();
  for (const n of model.spec.nodes) for (const i of n.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  const output = model.spec.output ?? model.spec.nodes[model.spec.nodes.length - 1].name;
  const refuse = (why: string): never => {
    throw new ConfigError(
      `model "${model.name}": cannot tell which layer is the classifier head (${why}); the head is the last dense or conv2d layer before the output, reached through parameter-free layers only`,
    );
  };
  let node: NodeSpec = nodes.get(output)!;
  const path = [node.name];
  while (AFTER_HEAD.has(node.layer.type)) {
    if (node.inputs.length !== 1 || node.inputs[0] === INPUT) refuse(`"${node.name}" reads ${node.inputs.join(', ')}`);
    node = nodes.get(node.inputs[0])!;
    path.push(node.name);
    if ((readers.get(node.name) ?? 0) > 1) refuse(`"${node.name}" feeds more than the output path`);
  }
  const layer = node.layer as { type: string; units?: number; filters?: number; groups?: number };
  if (layer.type !== 'dense' && !(layer.type === 'conv2d' && (layer.groups ?? 1) === 1)) {
    refuse(`walking back from "${output}" (${path.join(' ← ')}) reached a ${layer.type}${layer.type === 'conv2d' ? ' with groups' : ''} layer`);
  }
  const outputs = layer.units ?? layer.filters;
  if (outputs !== model.outputShape[0]) refuse(`"${node.name}" has ${outputs} outputs but the model gives ${model.outputShape[0]} values per example`);
  return node.name;
}

/**
 * A copy of the model whose classifier head (findHead, or the node named) has one output per
 * class, freshly initialised as the zoo initialises it (He-normal weights, zero bias, unless the
 * layer's spec names another initialiser); every other tensor (weights, batch-norm statistics)
 * is copied. The class names go into the spec. Reads the host copies of the weights: on a
 * device backend await model.downloadWeights() first.
 */
export function withNewHead(model: Model, classes: number | string[], options: { seed?: number; head?: string } = {}): Model {
  const count = typeof classes === 'number' ? classes : classes.length;
  if (!Number.isInteger(count) || count < 2) throw new ConfigError(`a new head needs at least 2 classes, got ${JSON.stringify(classes)}`);
  const head = options.head ?? findHead(model);
  const spec: ModelSpec = structuredClone(model.spec);
  const node = spec.nodes.find((n) => n.name === head);
  if (!node || (node.layer.type !== 'dense' && node.layer.type !== 'conv2d'))
    throw new ConfigError(`model "${model.name}": "${head}" is not a dense or conv2d node`);
  node.layer = node.layer.type === 'dense' ? { ...node.layer, units: count } : { ...node.layer, filters: count };
  if (typeof classes === 'number') delete spec.classes;
  else spec.classes = [...classes];
  const tuned = new Model(spec, model.backend, options.seed ?? 1);
  const old = new Map(model.savedTensors().map((t) => [t.path, t.value]));
  for (const t of tuned.savedTensors()) {
    if (t.path.startsWith(`${head}.`)) continue;
    t.value.data.set(old.get(t.path)!.data);
  }
  tuned.uploadWeights();
  return tuned;
}

/** Every node up to and including `until`, in graph order (the order `convkit summary` lists them). */
export function nodesUntil(model: Model, until: string): string[] {
  const last = model.nodeIndex(until);
  return model.spec.nodes.slice(0, last + 1).map((n) => n.name);
}

export interface FineTunePlan {
  /** Freeze every node up to and including this one (TrainOptions.freeze gets the list). */
  freezeUntil?: string;
  /** The head: its parameters train at the full learning rate (default: findHead). */
  head?: string;
  /** The learning rate of the pretrained, unfrozen layers as a multiple of the head's (default 1). */
  lrPretrainedScale?: number;
}

/**
 * The train() options for fine-tuning: `freeze` (the frozen nodes) and the optimizer's
 * parameter groups (the pretrained part at lr × lrPretrainedScale). Refuses a freeze that would
 * take the head too.
 */
export function fineTuneOptions(model: Model, plan: FineTunePlan): { freeze: string[]; groups: ParamGroup[] } {
  const head = plan.head ?? findHead(model);
  const freeze = plan.freezeUntil === undefined ? [] : nodesUntil(model, plan.freezeUntil);
  if (freeze.includes(head)) throw new ConfigError(`freezing up to "${plan.freezeUntil}" would freeze the classifier head "${head}" too: nothing would train`);
  const scale = plan.lrPretrainedScale ?? 1;
  if (!(Number.isFinite(scale) && scale >= 0)) throw new ConfigError(`the pretrained layers' learning-rate scale must be a non-negative number, got ${scale}`);
  const frozen = new Set(freeze);
  const pretrained = model.spec.nodes.map((n) => n.name).filter((n) => n !== head && !frozen.has(n));
  return { freeze, groups: scale === 1 || pretrained.length === 0 ? [] : [{ nodes: pretrained, lrScale: scale }] };
}
