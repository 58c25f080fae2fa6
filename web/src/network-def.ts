/**
 * The network editor's text format: JSON holding a layer stack and the input size,
 *   { "name": "...", "input": [1, 24, 24], "layers": [ { "type": "conv2d", ... }, ... ] }
 * turned into a ModelSpec with the library's `sequential`. A full ModelSpec ({ "nodes": ... },
 * what a loaded .convkit file may hold) is accepted as well. Parsed with JSON.parse and
 * validated by shape arithmetic (nothing allocated), never evaluated as code.
 */
import {
  ConfigError,
  type LayerSpec,
  type ModelSpec,
  type Shape,
  checkMemory,
  estimateMemory,
  parseJsonLimited,
  refuseUnknownKeys,
  sequential,
  shapeToString,
  specShapes,
} from 'convkit';

/** The images the playground trains on: MNIST digits, 1×28×28, ten classes. */
export const DATA_SHAPE = [1, 28, 28] as const;
export const CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
/** Most memory a network may need to train in the playground (a browser tab has a few GiB at most). */
export const PLAYGROUND_MEMORY_LIMIT = 2 ** 30;

interface LayerStack {
  name?: unknown;
  input?: unknown;
  layers?: unknown;
}

/** Parses editor text into a ModelSpec; throws ConfigError with a readable message. */
export function parseNetwork(text: string): ModelSpec {
  const json = parseJsonLimited(text, (problem) => new ConfigError(problem));
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ConfigError('expected an object like {"input": [1, 28, 28], "layers": [...]}');
  }
  if ('nodes' in json) return { ...(json as ModelSpec), classes: CLASSES };
  const stack = json as LayerStack;
  refuseUnknownKeys(stack, ['name', 'input', 'layers'], 'the network');
  const name = typeof stack.name === 'string' && stack.name !== '' ? stack.name : 'custom';
  if (!Array.isArray(stack.layers) || stack.layers.length === 0) throw new ConfigError('"layers" must be a non-empty list of layer specs');
  const input = stack.input ?? [...DATA_SHAPE];
  if (!Array.isArray(input) || input.length !== 3) throw new ConfigError('"input" must be [channels, height, width], e.g. [1, 28, 28]');
  return sequential(name, input as [number, number, number], stack.layers as LayerSpec[], CLASSES);
}

/**
 * Checks a network by shape arithmetic alone — nothing is allocated, so the page stays
 * responsive whatever the definition asks for (the worker builds it) — with the library's own
 * ShapeError/ConfigError messages: it must fit MNIST (one channel, at most 28×28: smaller
 * inputs are cropped from the digit), output the ten digits (unless `anyOutputs`: a model that
 * gets a new ten-class head), and train within the tab's memory.
 */
export function validateNetwork(spec: ModelSpec, batchSize = 32, anyOutputs = false): { outputShape: Shape; parameters: number } {
  const [c, h, w] = spec.inputShape ?? [];
  if (c !== DATA_SHAPE[0] || !(h <= DATA_SHAPE[1]) || !(w <= DATA_SHAPE[2])) {
    throw new ConfigError(
      `MNIST digits are 1×28×28: "input" must be [1, H, W] with H and W at most 28 (smaller sizes are random crops), got ${JSON.stringify(spec.inputShape)}`,
    );
  }
  checkMemory(estimateMemory(spec, { batchSize, training: true, optimizer: 'adam' }), PLAYGROUND_MEMORY_LIMIT, spec.name);
  refuseFinalSoftmax(spec);
  const shapes = specShapes(spec);
  const out = shapes.outputShape;
  if (!anyOutputs && (out.length !== 1 || out[0] !== CLASSES.length)) {
    throw new ConfigError(`the last layer must output the 10 digit classes (e.g. {"type": "dense", "units": 10}), but it outputs ${shapeToString(out)}`);
  }
  return shapes;
}

/**
 * The training loss (softmax cross-entropy) applies softmax itself: a softmax as the last layer
 * would be applied twice and training stalls (about 88 % on MNIST), so it is refused.
 */
function refuseFinalSoftmax(spec: ModelSpec): void {
  const outputName = spec.output ?? spec.nodes[spec.nodes.length - 1]?.name;
  const last = spec.nodes.find((n) => n.name === outputName);
  if (last && last.layer.type === 'softmax') {
    throw new ConfigError(
      `layer "${last.name}" (softmax): remove the final softmax layer; the network must output scores (logits), and the playground's loss and probabilities apply softmax themselves`,
    );
  }
}

/** Editor text for a spec: the compact layer stack when the graph is a plain chain. */
export function networkText(spec: ModelSpec): string {
  const chain =
    spec.nodes.every((n, i) => n.inputs.length === 1 && n.inputs[0] === (i === 0 ? 'input' : spec.nodes[i - 1].name)) &&
    (spec.output === undefined || spec.output === spec.nodes[spec.nodes.length - 1].name);
  if (!chain) return JSON.stringify({ ...spec, classes: undefined }, null, 2);
  const layers = spec.nodes.map((n) => `    ${JSON.stringify(n.layer).replaceAll(',"', ', "').replaceAll('":', '": ')}`);
  return `{\n  "name": ${JSON.stringify(spec.name)},\n  "input": ${JSON.stringify(spec.inputShape).replaceAll(',', ', ')},\n  "layers": [\n${layers.join(',\n')}\n  ]\n}\n`;
}
