import type { Constant, OnnxNode } from './graph.js';
import { onnx } from './proto.js';

const A = onnx.AttributeProto.AttributeType;

/**
 * Subgraphs that exporters write for one operation convkit has as one layer, found before the
 * importer's walk and replaced by that operation's own ONNX node: PyTorch's decomposed layer
 * norm (LayerNormalization exists only from opset 17), exact GELU (Gelu from opset 20), and a
 * MatMul followed by its bias (a Linear layer on tensors of rank > 2, where PyTorch writes no Gemm). A
 * match must own its intermediate tensors (no other node or graph output reads them); what
 * does not match is left alone, and the operators it uses (Pow, Sqrt, Erf) are then refused by
 * their importers with what they are supported in.
 */
export function fusePatterns(nodes: readonly OnnxNode[], constant: (name: string) => Constant | undefined, graphOutputs: ReadonlySet<string>): OnnxNode[] {
  const producer = new Map<string, OnnxNode>();
  const consumers = new Map<string, Set<OnnxNode>>();
  for (const n of nodes) {
    for (const o of n.output) producer.set(o, n);
    for (const i of n.input) {
      if (!consumers.has(i)) consumers.set(i, new Set());
      consumers.get(i)!.add(n);
    }
  }
  const readers = (name: string) => [...(consumers.get(name) ?? [])];
  /** The one node reading `name`, if it is of this type and nothing else (no graph output) reads it. */
  const sole = (name: string, opType: string): OnnxNode | undefined => {
    const r = readers(name);
    return r.length === 1 && r[0].opType === opType && !graphOutputs.has(name) ? r[0] : undefined;
  };
  const scalar = (name: string): number | undefined => {
    const c = constant(name);
    return c && c.values.length === 1 ? Number(c.values[0]) : undefined;
  };
  /** The input of a two-input node other than `name`. */
  const other = (n: OnnxNode, name: string): string | undefined => (n.input.length === 2 ? (n.input[0] === name ? n.input[1] : n.input[0]) : undefined);

  const replaced = new Map<OnnxNode, OnnxNode>();
  const removed = new Set<OnnxNode>();
  const claim = (parts: OnnxNode[], last: OnnxNode, fused: OnnxNode) => {
    if (parts.some((p) => removed.has(p))) return;
    for (const p of parts) removed.add(p);
    replaced.set(last, fused);
  };
  const free = (n: OnnxNode) => !removed.has(n);

  for (const r1 of nodes) {
    if (r1.opType !== 'ReduceMean' || !free(r1)) continue;
    const m = layerNorm(r1);
    if (m) claim(m.parts, m.parts[m.parts.length - 1], m.fused);
  }
  for (const e of nodes) {
    if (e.opType !== 'Erf' || !free(e)) continue;
    const m = gelu(e);
    if (m) claim(m.parts, m.parts[m.parts.length - 1], m.fused);
  }
  for (const mm of nodes) {
    if ((mm.opType !== 'MatMul' && mm.opType !== 'Gemm') || !free(mm)) continue;
    const m = biasAdd(mm);
    if (m) claim(m.parts, m.parts[m.parts.length - 1], m.fused);
  }
  return nodes.flatMap((n) => (replaced.has(n) ? [replaced.get(n)!] : removed.has(n) ? [] : [n]));

  /** mean → x − mean → (x − mean)² → mean → + eps → √ → (x − mean)/√ [→ · γ] [→ + β] */
  function layerNorm(r1: OnnxNode): { parts: OnnxNode[]; fused: OnnxNode } | undefined {
    const x = r1.input[0];
    const axes = reduceAxes(r1);
    if (!axes) return undefined;
    const sub = sole(r1.output[0], 'Sub');
    if (!sub || sub.input[0] !== x || sub.input[1] !== r1.output[0]) return undefined;
    const d = sub.output[0];
    const subReaders = readers(d);
    if (subReaders.length !== 2 || graphOutputs.has(d)) return undefined;
    const square = subReaders.find(
      (n) => (n.opType === 'Pow' && n.input[0] === d && scalar(n.input[1]) === 2) || (n.opType === 'Mul' && n.input[0] === d && n.input[1] === d),
    );
    if (!square) return undefined;
    const r2 = sole(square.output[0], 'ReduceMean');
    const r2Axes = r2 && reduceAxes(r2);
    if (!r2 || !r2Axes || r2Axes.join() !== axes.join()) return undefined;
    const addEps = sole(r2.output[0], 'Add');
    const eps = addEps && scalar(other(addEps, r2.output[0]) ?? '');
    if (!addEps || eps === undefined || !(eps > 0)) return undefined;
    const sqrt = sole(addEps.output[0], 'Sqrt');
    const div = sqrt && sole(sqrt.output[0], 'Div');
    if (!div || div.input[0] !== d || div.input[1] !== sqrt.output[0] || !subReaders.includes(div)) return undefined;
    const parts = [r1, sub, square, r2, addEps, sqrt, div];
    let last = div,
      scale = '',
      bias = '';
    const mul = sole(last.output[0], 'Mul');
    const gamma = mul && other(mul, last.output[0]);
    if (mul && gamma && constant(gamma)) {
      parts.push(mul);
      last = mul;
      scale = gamma;
    }
    const add = sole(last.output[0], 'Add');
    const beta = add && other(add, last.output[0]);
    if (add && beta && constant(beta)) {
      parts.push(add);
      last = add;
      bias = beta;
    }
    return {
      parts,
      fused: {
        name: blockName(r1.name, 'LayerNorm'),
        opType: 'LayerNormalization',
        input: [x, scale, bias],
        output: [last.output[0]],
        // `axes` (not an ONNX attribute) keeps exactly the reduced axes: ONNX's `axis` means that axis and all after it.
        attribute: [
          { name: 'axis', type: A.INT, i: axes[0] },
          { name: 'epsilon', type: A.FLOAT, f: eps },
          { name: 'axes', type: A.INTS, ints: axes },
        ],
      },
    };
  }

  /**
   * MatMul (or Gemm without a bias) by a constant [features, units], then + a constant bias of
   * one value per unit ([units], [1, …, 1, units]): a Linear layer as PyTorch writes it on
   * tensors of rank > 2 (ConvNeXt's channels-last blocks). One node with the bias as its third
   * input, so that the bias is the layer's own parameter rather than a layer of its own.
   */
  function biasAdd(mm: OnnxNode): { parts: OnnxNode[]; fused: OnnxNode } | undefined {
    const gemm = mm.opType === 'Gemm';
    if (gemm && (mm.input[2] || mm.attribute.some((a) => a.name !== 'transB' && a.name !== 'alpha'))) return undefined;
    const w = constant(mm.input[1] ?? '');
    if (w?.dims.length !== 2) return undefined;
    const transB = gemm && mm.attribute.some((a) => a.name === 'transB' && Number(a.i) === 1);
    const units = transB ? w.dims[0] : w.dims[1];
    const add = sole(mm.output[0], 'Add');
    const b = add && other(add, mm.output[0]);
    const bias = b !== undefined ? constant(b) : undefined;
    if (!add || !bias || bias.values.length !== units || bias.dims.at(-1) !== units || bias.dims.slice(0, -1).some((d) => d !== 1)) return undefined;
    return { parts: [mm, add], fused: { ...mm, input: [mm.input[0], mm.input[1], b!], output: [add.output[0]] } };
  }

  /** ReduceMean's axes (attribute, or a constant input from opset 18) when it keeps dimensions. */
  function reduceAxes(n: OnnxNode): number[] | undefined {
    const keep = n.attribute.find((a) => a.name === 'keepdims');
    if (keep && Number(keep.i) !== 1) return undefined;
    const attr = n.attribute.find((a) => a.name === 'axes');
    const axes = attr ? (attr.ints ?? []).map(Number) : n.input[1] ? Array.from(constant(n.input[1])?.values ?? [], Number) : [];
    return axes.length ? axes : undefined;
  }

  /** x / √2 → erf → + 1 → x · … → · 0.5 (or 0.5·x first) */
  function gelu(e: OnnxNode): { parts: OnnxNode[]; fused: OnnxNode } | undefined {
    const scaled = producer.get(e.input[0]);
    if (!scaled || readers(scaled.output[0]).length !== 1 || graphOutputs.has(scaled.output[0])) return undefined;
    const c = scalar(scaled.input[1] ?? '');
    const byRoot2 =
      scaled.opType === 'Div'
        ? c !== undefined && Math.abs(c - Math.SQRT2) < 1e-6
        : scaled.opType === 'Mul' && c !== undefined && Math.abs(c - Math.SQRT1_2) < 1e-6;
    if (!byRoot2) return undefined;
    const x = scaled.input[0];
    const plusOne = sole(e.output[0], 'Add');
    if (!plusOne || scalar(other(plusOne, e.output[0]) ?? '') !== 1) return undefined;
    const times = sole(plusOne.output[0], 'Mul');
    const factor = times && other(times, plusOne.output[0]);
    if (!times || !factor) return undefined;
    const parts = [scaled, e, plusOne, times];
    let last = times;
    if (factor === x) {
      const half = sole(times.output[0], 'Mul');
      if (!half || scalar(other(half, times.output[0]) ?? '') !== 0.5) return undefined;
      parts.push(half);
      last = half;
    } else {
      const half = producer.get(factor);
      if (
        half?.opType !== 'Mul' ||
        other(half, x) === undefined ||
        !half.input.includes(x) ||
        scalar(other(half, x)!) !== 0.5 ||
        readers(factor).length !== 1 ||
        graphOutputs.has(factor)
      )
        return undefined;
      parts.unshift(half);
    }
    return { parts, fused: { name: blockName(e.name, 'Gelu'), opType: 'Gelu', input: [x], output: [last.output[0]], attribute: [] } };
  }
}

/** PyTorch names nodes by module path ("/features/features.1/…/block.2/ReduceMean"): the fused node takes the module's. */
function blockName(name: string, op: string): string {
  const slash = name.lastIndexOf('/');
  return slash > 0 ? `${name.slice(0, slash)}/${op}` : `${name || 'node'}_${op}`;
}
