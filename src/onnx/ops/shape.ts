import type { ImportContext } from './context.js';

/** Constant nodes are read before the walk (like initializers); nothing to do in order. */
export function Constant(_cx: ImportContext): void {}

/** The shape of a computed tensor, with the batch size left symbolic. */
export function Shape(cx: ImportContext): void {
  cx.setKnown(['N', ...cx.input(0).shape]);
}

/** Picks pieces of a shape known at import time. */
export function Gather(cx: ImportContext): void {
  const n = cx.node;
  const [data, indices] = [cx.known(0), cx.known(1)];
  if (!data || !indices) cx.fail(`Gather "${n.name}": only indexing a shape known at import time is supported`);
  cx.setKnown(
    indices.map((i) => {
      const v = data[Number(i) < 0 ? data.length + Number(i) : Number(i)];
      if (v === undefined) cx.fail(`Gather "${n.name}": index ${i} out of range`);
      return v;
    }),
  );
}

/** Cast of a shape value or a file tensor (PyTorch casts shape arithmetic between integer types). */
export function Cast(cx: ImportContext): void {
  const n = cx.node;
  const to = cx.at.int('to');
  const toFloat = to === 1 || to === 10 || to === 11;
  const known = cx.known(0);
  if (known && !cx.isConstant(0)) return cx.setKnown(toFloat ? known : known.map((v) => (v === 'N' ? v : Math.trunc(v))));
  if (cx.isConstant(0)) {
    const c = cx.constant(0, 'input');
    return cx.setConstant(
      toFloat ? { dims: c.dims, values: Float32Array.from(c.values, Number) } : { dims: c.dims, values: Array.from(c.values, (v) => Math.trunc(Number(v))) },
    );
  }
  // A computed tensor is float32 already: casting it to float changes nothing.
  if (to === 1) return cx.setProduced(cx.view(0));
  cx.fail(`Cast "${n.name}": only casts of shape values known at import time, and of computed tensors to float32, are supported (to ${to})`);
}

/**
 * Add, Sub, Mul, Div of shape values known at import time (the pieces of a Reshape's target):
 * evaluated here, integer division truncating unless an operand is a float tensor from the file.
 * Returns false when an operand is a computed tensor.
 */
export function foldShapeArithmetic(cx: ImportContext): boolean {
  const n = cx.node;
  if (n.input.length !== 2) return false;
  const [a, b] = [cx.known(0), cx.known(1)];
  if (!a || !b) return false;
  if (a.includes('N') || b.includes('N'))
    cx.fail(`${n.opType} "${n.name}": arithmetic on the batch size is not supported (the batch size is not known at import time)`);
  if (a.length !== b.length && a.length !== 1 && b.length !== 1)
    cx.fail(`${n.opType} "${n.name}": operands of ${a.length} and ${b.length} values do not broadcast`);
  const isFloat = (i: number) => cx.isConstant(i) && cx.constant(i, 'operand').values instanceof Float32Array;
  const integer = !isFloat(0) && !isFloat(1);
  const at = (v: (number | 'N')[], i: number) => v[v.length === 1 ? 0 : i] as number;
  const op = (x: number, y: number): number => {
    switch (n.opType) {
      case 'Add':
        return x + y;
      case 'Sub':
        return x - y;
      case 'Mul':
        return x * y;
      default:
        if (y === 0) cx.fail(`Div "${n.name}": division by zero in shape arithmetic`);
        return integer ? Math.trunc(x / y) : x / y;
    }
  };
  cx.setKnown(Array.from({ length: Math.max(a.length, b.length) }, (_, i) => op(at(a, i), at(b, i))));
  return true;
}
