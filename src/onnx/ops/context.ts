import type { LayerSpec } from '../../layers/index.js';
import type { Attributes, Constant, OnnxNode, Produced, StaticValue } from '../graph.js';

/** What an operator importer can see and do while the importer walks the graph in order. */
export interface ImportContext {
  readonly node: OnnxNode;
  readonly at: Attributes;
  /** Throws a FormatError naming the file. */
  fail(problem: string): never;
  /** Input i as a tensor some earlier node produced; refuses a pending Pad unless `allowPad`, and any view. */
  input(i: number, allowPad?: boolean): Produced;
  /** Input i as `input` gives it, but also as a view (channels-last, channel groups): for importers that handle views. */
  view(i: number): Produced;
  /** Whether input i is a tensor known from the file (initializer, Constant, or folded). */
  isConstant(i: number): boolean;
  /** Input i as a tensor known from the file; `what` names it in the error otherwise. */
  constant(i: number, what: string): Constant;
  /** Input i as a small integer vector known at import time, if it is one. */
  known(i: number): StaticValue | undefined;
  /** Records output `o` as a tensor the graph computes. */
  setProduced(p: Produced, o?: number): void;
  /** Records output `o` as a tensor known from the file. */
  setConstant(c: Constant, o?: number): void;
  /** Records output `o` as a small integer vector known at import time. */
  setKnown(v: StaticValue, o?: number): void;
  /**
   * Adds a convkit layer reading `inputs`, with its parameters (by suffix: weight, bias…), as
   * output 0, and returns it (an operator that becomes several layers emits each in turn).
   */
  emit(layer: LayerSpec, inputs: Produced[], weights?: Record<string, Float32Array>): Produced;
}

/** Imports one ONNX operator: records its outputs through the context. */
export type OpImporter = (cx: ImportContext) => void;
