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
  cx.setKnown(indices.map((i) => {
    const v = data[Number(i) < 0 ? data.length + Number(i) : Number(i)];
    if (v === undefined) cx.fail(`Gather "${n.name}": index ${i} out of range`);
    return v;
  }));
}
