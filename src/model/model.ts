import type { Backend } from '../backend/backend.js';
import { ConfigError, ShapeError, refuseUnknownKeys, specKeys } from '../errors.js';
import { type LayerSpec, createLayer } from '../layers/index.js';
import type { Layer, Param, ReluRule } from '../layers/layer.js';
import { Conv2d } from '../layers/conv2d.js';
import { Rng } from '../rng.js';
import { type Shape, Tensor, shapeSize, shapeToString } from '../tensor.js';
import { DEFAULT_MEMORY_LIMIT, type MemoryEstimate, type MemoryOptions, type NodeFootprint, checkMemory, memoryEstimate } from './memory.js';

/** One node of the graph: a layer and the names of the nodes (or 'input') it reads. */
export interface NodeSpec {
  name: string;
  layer: LayerSpec;
  inputs: string[];
}

/** A whole network as JSON: what model files store and what the zoo builds. */
export interface ModelSpec {
  name: string;
  /** Per-example input shape [C, H, W]. */
  inputShape: [number, number, number];
  /** Nodes in topological order (each reads only 'input' or earlier nodes). */
  nodes: NodeSpec[];
  /** The node whose output is the model's output (logits); defaults to the last node. */
  output?: string;
  /** Class names, index = class id. */
  classes?: string[];
}

export const INPUT = 'input';

const modelSpecKeys = specKeys<ModelSpec>({ name: true, inputShape: true, nodes: true, output: true, classes: true });
const nodeSpecKeys = specKeys<NodeSpec>({ name: true, layer: true, inputs: true });

/**
 * Bounds on what a spec may ask for, checked before anything is allocated, so that a model
 * file or network definition from an untrusted source cannot make convkit allocate memory in
 * proportion to a number it merely states.
 */
export interface ModelLimits {
  /** Most values building may allocate (parameters, their gradients, layer state); default MAX_BUILD_VALUES. */
  maxValues?: number;
  /** Most values in one example's input or in one node's output for one example; default MAX_ACTIVATION. */
  maxActivation?: number;
  /**
   * Most bytes a forward or backward pass may need for a batch (see estimateMemory), checked
   * before each new batch size allocates its buffers; default DEFAULT_MEMORY_LIMIT (2 GiB).
   */
  memoryBytes?: number;
}

/** 2^29 values: 2 GiB of float32, room for 250 M parameters and their gradients (VGG-16 has 138 M). */
export const MAX_BUILD_VALUES = 2 ** 29;
/** 2^26 values per example per node: 256 MiB of float32 (VGG's largest is 3.2 M). */
export const MAX_ACTIVATION = 2 ** 26;

/** The backend with an alloc that throws a ConfigError instead of passing `max` values in all, and the count so far. */
function allocationGuard(backend: Backend, model: string, max: number): { backend: Backend; allocated: () => number } {
  let total = 0;
  const alloc = (n: number) => {
    if (!Number.isSafeInteger(n) || n < 0) throw new ConfigError(`model "${model}": a layer asked for ${n} values`);
    if (total + n > max) {
      throw new ConfigError(
        `model "${model}": building it would allocate more than the limit of ${max.toLocaleString('en')} values for parameters, gradients and layer state (at least ${(total + n).toLocaleString('en')})`,
      );
    }
    total += n;
    return backend.alloc(n);
  };
  return { backend: new Proxy(backend, { get: (target, key) => (key === 'alloc' ? alloc : Reflect.get(target, key)) }), allocated: () => total };
}

export interface NamedParam extends Param {
  /** "node.param", e.g. "conv1.weight". */
  path: string;
}

export interface SummaryRow {
  name: string;
  type: string;
  inputs: string[];
  outputShape: Shape;
  params: number;
}

/** Where a backward pass starts and how ReLUs pass gradients (see RunContext.reluRule). */
export interface BackwardOptions {
  /** The node whose output dOutput is the gradient of (default: the output node). */
  from?: string;
  reluRule?: ReluRule;
}

interface Node {
  name: string;
  layer: Layer;
  inputs: number[]; // indices into nodes; -1 = model input
}

/** The layers of a spec, validated and built against `backend` in topological order. */
function buildGraph(spec: ModelSpec, backend: Backend, limits: ModelLimits): { nodes: Node[]; outputIndex: number; builtValues: number } {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new ConfigError(`a model spec must be an object, got ${JSON.stringify(spec)}`);
  refuseUnknownKeys(spec, modelSpecKeys, `model "${spec.name}"`);
  const nodes: Node[] = [];
  const index = new Map<string, number>([[INPUT, -1]]);
  const shapes: Shape[] = [];
  if (!Array.isArray(spec.inputShape) || spec.inputShape.length !== 3 || !spec.inputShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new ConfigError(`model "${spec.name}": inputShape must be [C, H, W] of positive integers, got ${JSON.stringify(spec.inputShape)}`);
  }
  if (!Array.isArray(spec.nodes) || spec.nodes.length === 0) throw new ConfigError(`model "${spec.name}": needs at least one node`);
  const maxActivation = limits.maxActivation ?? MAX_ACTIVATION;
  const checkActivation = (what: string, shape: Shape) => {
    if (shapeSize(shape) > maxActivation) {
      throw new ConfigError(
        `model "${spec.name}": ${what} of ${shapeToString(shape)} per example is ${shapeSize(shape).toExponential(2)} values, more than the limit of ${maxActivation}`,
      );
    }
  };
  checkActivation('the input', spec.inputShape);
  // Layers allocate their parameters in build(); this backend refuses an allocation that would
  // pass the limit, before it happens, so an absurd spec (filters: 1e9) costs nothing.
  const guard = allocationGuard(backend, spec.name, limits.maxValues ?? MAX_BUILD_VALUES);
  for (const nodeSpec of spec.nodes) {
    if (nodeSpec === null || typeof nodeSpec !== 'object' || Array.isArray(nodeSpec))
      throw new ConfigError(`model "${spec.name}": every node must be an object, got ${JSON.stringify(nodeSpec)}`);
    const name = nodeSpec.name;
    refuseUnknownKeys(nodeSpec, nodeSpecKeys, `model "${spec.name}", node ${JSON.stringify(name)}`);
    if (typeof name !== 'string' || name === '' || index.has(name)) {
      throw new ConfigError(`model "${spec.name}": node names must be unique non-empty strings (got ${JSON.stringify(name)})`);
    }
    if (nodeSpec.inputs !== undefined && !Array.isArray(nodeSpec.inputs)) throw new ConfigError(`node "${name}": inputs must be a list of node names`);
    const inputs = (nodeSpec.inputs ?? []).map((inputName) => {
      const i = typeof inputName === 'string' ? index.get(inputName) : undefined;
      if (i === undefined) throw new ConfigError(`node "${name}" reads ${JSON.stringify(inputName)}, which is not 'input' or an earlier node`);
      return i;
    });
    if (inputs.length === 0) throw new ConfigError(`node "${name}" has no inputs`);
    const layer = createLayer(nodeSpec.layer, name);
    const inShapes = inputs.map((i) => (i < 0 ? spec.inputShape : shapes[i]));
    checkActivation(`the output of node "${name}"`, layer.inferShape(inShapes));
    shapes.push(layer.build(inShapes, guard.backend));
    nodes.push({ name, layer, inputs });
    index.set(name, nodes.length - 1);
  }
  const out = index.get(spec.output ?? spec.nodes[spec.nodes.length - 1].name);
  if (out === undefined || out < 0) throw new ConfigError(`model "${spec.name}": output node "${spec.output}" does not exist`);
  return { nodes, outputIndex: out, builtValues: guard.allocated() };
}

/** A convolution's unfolded input for one image (the im2col workspace): C × KH × KW × OH × OW. */
function convWorkspace(layer: Layer): number {
  const weight = layer instanceof Conv2d ? layer.params().find((p) => p.name === 'weight') : undefined;
  if (!weight) return 0;
  const [, OH, OW] = layer.outputShape;
  const [, Cg, KH, KW] = weight.value.shape;
  return (layer as Conv2d).groups * Cg * KH * KW * OH * OW;
}

/** What a graph needs in memory for a batch (see memory.ts). */
function graphEstimate(nodes: Node[], outputIndex: number, inputShape: Shape, builtValues: number, options: MemoryOptions): MemoryEstimate {
  const used = nodes.slice(0, outputIndex + 1);
  const consumers = new Array<number>(used.length).fill(0);
  for (const n of used) for (const j of n.inputs) if (j >= 0) consumers[j]++;
  const footprint: NodeFootprint[] = used.map((n, i) => ({
    name: n.name,
    type: n.layer.type,
    output: shapeSize(n.layer.outputShape),
    consumers: consumers[i],
    workspace: convWorkspace(n.layer),
    // Layers reading only the model input skip its gradient (training never needs it).
    inputs: n.inputs.every((j) => j < 0) ? 0 : n.inputs.reduce((s, j) => s + shapeSize(j < 0 ? inputShape : nodes[j].layer.outputShape), 0),
  }));
  const parameters = used.reduce((s, n) => s + n.layer.params().reduce((t, p) => t + p.value.size, 0), 0);
  return memoryEstimate(footprint, shapeSize(inputShape), builtValues, parameters, shapeSize(nodes[outputIndex].layer.outputShape), options);
}

/**
 * The memory a run of `spec` needs, by shape arithmetic: the layers are built against a backend
 * that only counts (nothing is allocated), so this also validates the spec cheaply — the
 * playground checks a network this way before building it.
 */
export function estimateMemory(spec: ModelSpec, options: MemoryOptions, limits: ModelLimits = {}): MemoryEstimate {
  const graph = buildGraph(spec, countingBackend, limits);
  return graphEstimate(graph.nodes, graph.outputIndex, spec.inputShape, graph.builtValues, options);
}

/** Building only allocates (parameters, gradients, state): a length is all a Tensor checks. */
const countingBackend = { alloc: (n: number) => ({ length: n }) } as unknown as Backend;

/**
 * A network's output shape (per example) and parameter count by shape arithmetic alone:
 * the ShapeError or ConfigError that building the Model would throw, without allocating its
 * memory (to check a definition where the model is not built, e.g. a page's main thread).
 */
export function specShapes(spec: ModelSpec, limits: ModelLimits = {}): { outputShape: Shape; parameters: number } {
  const graph = buildGraph(spec, countingBackend, limits);
  const parameters = graph.nodes.reduce((sum, n) => sum + n.layer.params().reduce((s, p) => s + p.value.size, 0), 0);
  return { outputShape: [...graph.nodes[graph.outputIndex].layer.outputShape], parameters };
}

/**
 * A directed acyclic graph of layers: chains (LeNet), residual adds (ResNet) and channel
 * concats (GoogLeNet, DenseNet) alike. forward() runs nodes in order; backward() runs them in
 * reverse, summing gradients where a node's output feeds several consumers.
 */
export class Model {
  readonly spec: ModelSpec;
  private nodes: Node[] = [];
  private outputIndex: number;
  private outputs: Tensor[] = [];
  private input!: Tensor;
  private gradSums = new Map<number, Tensor>();
  private lastGrads: (Tensor | undefined)[] = [];
  private probs?: Tensor;
  /** Nodes that do not train (fine-tuning): they run as in evaluation mode and skip backward where nothing needs it. */
  private frozen = new Set<number>();
  /** Per node: whether backward must visit it when training (it has trainable parameters upstream of the loss). */
  private needsBackward: boolean[] = [];
  /** Randomness used inside the forward pass (dropout); seeded, part of the training state. */
  readonly rng: Rng;
  /** Values building allocated (parameters, gradients, layer state). */
  private readonly builtValues: number;
  /** Most bytes a batch may need (ModelLimits.memoryBytes); may be changed, e.g. after loading a file. */
  memoryLimit: number;
  /** Batch sizes (negative: inference) whose memory was checked. */
  private checkedBatches = new Set<number>();

  constructor(
    spec: ModelSpec,
    readonly backend: Backend,
    seed = 1,
    limits: ModelLimits = {},
  ) {
    const graph = buildGraph(spec, backend, limits);
    this.spec = structuredClone(spec);
    this.rng = new Rng(seed ^ 0x5bd1e995);
    this.nodes = graph.nodes;
    this.outputIndex = graph.outputIndex;
    this.builtValues = graph.builtValues;
    this.memoryLimit = limits.memoryBytes ?? DEFAULT_MEMORY_LIMIT;
    this.initialize(seed);
  }

  get name(): string {
    return this.spec.name;
  }

  get inputShape(): Shape {
    return this.spec.inputShape;
  }

  get outputShape(): Shape {
    return this.nodes[this.outputIndex].layer.outputShape;
  }

  get layers(): Layer[] {
    return this.nodes.map((n) => n.layer);
  }

  /** Re-draws every parameter from the layers' initialisers with this seed. */
  initialize(seed: number): void {
    const rng = new Rng(seed);
    for (const n of this.nodes) n.layer.initParams(rng);
    this.uploadWeights();
  }

  /** After the host wrote weights (initialisation, a loaded file): make the backend's copies current. */
  uploadWeights(): void {
    for (const t of this.savedTensors()) this.backend.upload(t.value.data);
  }

  /** Makes the host copies of every saved tensor current (before saving or inspecting weights after training). */
  downloadWeights(): Promise<void> {
    return this.backend.download(this.savedTensors().map((t) => t.value.data));
  }

  parameters(): NamedParam[] {
    return this.nodes.flatMap((n) => n.layer.params().map((p) => Object.assign(p, { path: `${n.name}.${p.name}` })));
  }

  /** Non-trainable saved tensors (batch-norm running statistics), as "node.name". */
  stateTensors(): { path: string; value: Tensor }[] {
    return this.nodes.flatMap((n) => n.layer.state().map((t) => ({ path: `${n.name}.${t.name}`, value: t.value })));
  }

  /** Everything a model file stores: parameters, then state tensors. */
  savedTensors(): { path: string; value: Tensor }[] {
    return [...this.parameters(), ...this.stateTensors()];
  }

  parameterCount(): number {
    return this.parameters().reduce((s, p) => s + p.value.size, 0);
  }

  /** Runs the network on a batch [N, C, H, W]; returns the output node's tensor (logits). */
  forward(x: Tensor, training = false): Tensor {
    const expected = [x.shape[0], ...this.spec.inputShape];
    if (x.shape.length !== 4 || x.shape.some((d, i) => d !== expected[i])) {
      throw new ShapeError(`model "${this.name}": expected input [N, ${this.spec.inputShape.join(', ')}], got ${shapeToString(x.shape)}`);
    }
    this.checkBatchMemory(x.shape[0], training);
    this.input = x;
    const ctx = { backend: this.backend, training, rng: this.rng };
    const frozenCtx = { ...ctx, training: false };
    for (let i = 0; i < this.nodes.length; i++) {
      const node = this.nodes[i];
      this.outputs[i] = node.layer.forward(
        node.inputs.map((j) => (j < 0 ? x : this.outputs[j])),
        this.frozen.has(i) ? frozenCtx : ctx,
      );
      if (i === this.outputIndex) break;
    }
    return this.outputs[this.outputIndex];
  }

  /** What a run of this model needs in memory for a batch (see memory.ts). */
  estimateMemory(options: MemoryOptions): MemoryEstimate {
    return graphEstimate(this.nodes, this.outputIndex, this.spec.inputShape, this.builtValues, options);
  }

  /**
   * Refuses, once per new batch size, a batch whose buffers would pass the memory limit — before
   * the layers allocate them. Optimizer state is not counted here (the model does not own it).
   */
  private checkBatchMemory(N: number, training: boolean): void {
    const key = training ? N : -N;
    if (this.checkedBatches.has(key)) return;
    checkMemory(this.estimateMemory({ batchSize: N, training, optimizer: 'none' }), this.memoryLimit, this.name);
    this.checkedBatches.add(key);
  }

  /** The activation of every node from the last forward pass, by node name. */
  activations(): Map<string, Tensor> {
    return new Map(this.nodes.slice(0, this.outputIndex + 1).map((n, i) => [n.name, this.outputs[i]]));
  }

  /**
   * Backpropagates dL/d(output) through the graph, filling every parameter's gradient
   * (or, with options.from, dL/d(that node's output) through the nodes before it).
   * Returns dL/d(input) when `inputGradient` is true; otherwise the layers reading the input
   * skip that product (training never needs it) and the result is undefined.
   */
  backward(dOutput: Tensor, training = true, inputGradient = false, options: BackwardOptions = {}): Tensor | undefined {
    const start = options.from === undefined ? this.outputIndex : this.nodeIndex(options.from);
    const ctx = { backend: this.backend, training, rng: this.rng, reluRule: options.reluRule };
    const inputOnlyCtx = { ...ctx, inputGradient };
    const frozenCtx = { ...ctx, training: false },
      frozenInputOnlyCtx = { ...inputOnlyCtx, training: false };
    // A frozen part that nothing trainable lies behind needs no backward pass at all (unless the input gradient is wanted).
    const skip = (i: number) => training && !inputGradient && this.frozen.size > 0 && !this.needsBackward[i];
    const inputSlot = this.nodes.length;
    const grads: (Tensor | undefined)[] = new Array(this.nodes.length + 1);
    const summed = new Set<number>();
    // A node read by several consumers gets the sum of their gradients, in a buffer the model
    // owns: layers' own gradient buffers are never written by anyone else.
    const addGrad = (slot: number, g: Tensor) => {
      const sofar = grads[slot];
      if (!sofar) {
        grads[slot] = g;
        return;
      }
      const sum = this.sumBuffer(slot, g.shape);
      if (summed.has(slot)) this.backend.axpy(1, g.data, sum.data);
      else {
        this.backend.add(sofar.data, g.data, sum.data);
        summed.add(slot);
      }
      grads[slot] = sum;
    };
    const expected = this.nodes[start].layer.outputShape;
    const shapeMatches = dOutput.shape.length === expected.length + 1 && expected.every((d, k) => d === dOutput.shape[k + 1]);
    if (options.from !== undefined && !shapeMatches) {
      throw new ShapeError(
        `model "${this.name}": the gradient at node "${this.nodes[start].name}" must be [N, ${expected.join(', ')}], got ${shapeToString(dOutput.shape)}`,
      );
    }
    grads[start] = dOutput;
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const dy = grads[i];
      if (!dy) {
        // The output does not depend on this node (a dead branch, a node past the output): its
        // parameters' gradients are 0, and must be written so, or the optimizer would apply stale ones.
        this.zeroGradients(this.nodes[i].layer);
        continue;
      }
      // Frozen, with nothing trainable behind it: the optimizer never reads these gradients.
      if (skip(i)) continue;
      const node = this.nodes[i];
      const readsOnlyInput = node.inputs.every((j) => j < 0);
      const dxs = node.layer.backward(dy, this.frozen.has(i) ? (readsOnlyInput ? frozenInputOnlyCtx : frozenCtx) : readsOnlyInput ? inputOnlyCtx : ctx);
      node.inputs.forEach((j, k) => {
        if (dxs[k]) addGrad(j < 0 ? inputSlot : j, dxs[k]);
      });
    }
    this.lastGrads = grads;
    if (!inputGradient) return undefined;
    return grads[inputSlot] ?? Tensor.zeros(this.input.shape, this.backend.dtype);
  }

  /**
   * Freezes these nodes (replacing any frozen before; [] unfreezes all): in training they run as
   * in evaluation mode — batch norm on its running statistics, which stay as they are; dropout
   * off — and backward skips every node with no trainable parameters behind it. Which
   * parameters the optimizer updates is the trainer's business (trainableParameters()).
   */
  setFrozen(names: Iterable<string>): void {
    this.frozen = new Set([...names].map((n) => this.nodeIndex(n)));
    this.needsBackward = this.nodes.map(() => false);
    this.nodes.forEach((n, i) => {
      const trainable = !this.frozen.has(i) && n.layer.params().length > 0;
      this.needsBackward[i] = trainable || n.inputs.some((j) => j >= 0 && this.needsBackward[j]);
    });
  }

  /** The names of the frozen nodes, in graph order. */
  frozenNodes(): string[] {
    return this.nodes.filter((_, i) => this.frozen.has(i)).map((n) => n.name);
  }

  /** The parameters of nodes that are not frozen: what training updates. */
  trainableParameters(): NamedParam[] {
    return this.nodes.flatMap((n, i) => (this.frozen.has(i) ? [] : n.layer.params().map((p) => Object.assign(p, { path: `${n.name}.${p.name}` }))));
  }

  /** The position of a node in the graph; a ConfigError listing the nodes that exist if there is none of that name. */
  nodeIndex(name: string): number {
    const i = this.nodes.findIndex((n, k) => n.name === name && k <= this.outputIndex);
    if (i < 0)
      throw new ConfigError(
        `model "${this.name}" has no node "${name}" (nodes: ${this.nodes
          .slice(0, this.outputIndex + 1)
          .map((n) => n.name)
          .join(', ')})`,
      );
    return i;
  }

  private zeroGradients(layer: Layer): void {
    for (const p of layer.params()) {
      p.grad.data.fill(0);
      this.backend.upload(p.grad.data);
    }
  }

  /** dL/d(activation) of every node from the last backward pass, by node name (what the playground shows). */
  activationGradients(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    this.nodes.forEach((n, i) => {
      const g = this.lastGrads[i];
      if (g) out.set(n.name, g);
    });
    return out;
  }

  private sumBuffer(slot: number, shape: Shape): Tensor {
    let sum = this.gradSums.get(slot);
    if (!sum || sum.size !== shapeSize(shape)) {
      sum = new Tensor(shape, this.backend.alloc(shapeSize(shape)));
      this.gradSums.set(slot, sum);
    }
    return sum.reshape(shape);
  }

  summary(): SummaryRow[] {
    return this.nodes.map((n) => ({
      name: n.name,
      type: n.layer.type,
      inputs: n.inputs.map((i) => (i < 0 ? INPUT : this.nodes[i].name)),
      outputShape: n.layer.outputShape,
      params: n.layer.params().reduce((s, p) => s + p.value.size, 0),
    }));
  }

  /**
   * Class probabilities for a batch (softmax of the logits), as [N, classes]. Like forward's
   * output, the result lives in a buffer the model reuses: read it before the next call. The
   * caller uploads x after filling it; on a device backend, download the result before reading
   * it (or use predictAsync).
   */
  /** predict(), then wait until the probabilities are readable on the host (a no-op wait on CPU backends). */
  async predictAsync(x: Tensor): Promise<Tensor> {
    const probs = this.predict(x);
    await this.backend.download([probs.data]);
    return probs;
  }

  predict(x: Tensor): Tensor {
    const logits = this.forward(x, false);
    const N = logits.shape[0],
      K = logits.size / N;
    if (this.probs?.size !== N * K) this.probs = new Tensor([N, K], this.backend.alloc(N * K));
    const probs = this.probs.shape[0] === N ? this.probs : this.probs.reshape([N, K]);
    this.backend.softmax(N, K, logits.data, probs.data);
    return probs;
  }
}

/** Builds a chain spec, naming nodes by type and position (conv1, pool1, ...). */
export function sequential(name: string, inputShape: [number, number, number], layers: LayerSpec[], classes?: string[]): ModelSpec {
  const counts = new Map<string, number>();
  let previous = INPUT;
  const nodes = layers.map((layer) => {
    const base = shortName(typeof layer?.type === 'string' ? layer.type : 'layer');
    const k = (counts.get(base) ?? 0) + 1;
    counts.set(base, k);
    const node = { name: `${base}${k}`, layer, inputs: [previous] };
    previous = node.name;
    return node;
  });
  return { name, inputShape, nodes, classes };
}

function shortName(type: string): string {
  return ({ conv2d: 'conv', maxpool2d: 'pool', avgpool2d: 'avgpool', dense: 'fc' } as Record<string, string>)[type] ?? type;
}
