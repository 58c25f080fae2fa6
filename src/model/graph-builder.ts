import type { LayerSpec } from '../layers/index.js';
import { INPUT, type ModelSpec, type NodeSpec } from './model.js';

/**
 * Builds a ModelSpec graph in code, the way networks are written in papers: each call adds a
 * node reading earlier ones and returns its name. Names are given or derived (prefix + count).
 */
export class GraphBuilder {
  private nodes: NodeSpec[] = [];
  private counts = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly inputShape: [number, number, number],
  ) {}

  get input(): string {
    return INPUT;
  }

  add(layer: LayerSpec, inputs: string | string[], name?: string): string {
    const base = name ?? layer.type;
    let unique = base;
    if (name === undefined || this.nodes.some((n) => n.name === name)) {
      const k = (this.counts.get(base) ?? 0) + 1;
      this.counts.set(base, k);
      unique = `${base}${k}`;
    }
    this.nodes.push({ name: unique, layer, inputs: Array.isArray(inputs) ? inputs : [inputs] });
    return unique;
  }

  /** Adds layers one after another from `from`; returns the last node's name. */
  chain(from: string, layers: LayerSpec[], prefix?: string): string {
    let at = from;
    layers.forEach((layer, i) => {
      at = this.add(layer, at, prefix ? `${prefix}.${i}` : undefined);
    });
    return at;
  }

  build(output?: string, classes?: string[]): ModelSpec {
    return { name: this.name, inputShape: this.inputShape, nodes: this.nodes, output: output ?? this.nodes.at(-1)?.name, classes };
  }
}
