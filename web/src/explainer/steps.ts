/**
 * One step of the explainer: where the window sits on the zero-padded input for an output
 * position, and the arithmetic written out (the terms come from the grids; the result shown
 * is the library's output value).
 */
import type { Grid, PoolKind } from './compute.js';

export type Operation = { kind: 'conv'; kernel: Grid } | { kind: PoolKind; size: number };

export interface Step {
  /** Output position. */
  row: number;
  col: number;
  /** Window's top-left corner in padded-input coordinates. */
  top: number;
  left: number;
  height: number;
  width: number;
  text: string;
}

export function windowSize(op: Operation): [number, number] {
  return op.kind === 'conv' ? [op.kernel.length, op.kernel[0].length] : [op.size, op.size];
}

/** The input with `padding` zeros around it (what the explainer draws). */
export function padGrid(image: Grid, padding: number): Grid {
  const W = image[0].length + 2 * padding;
  const blank = () => new Array<number>(W).fill(0);
  return [
    ...Array.from({ length: padding }, blank),
    ...image.map((row) => [...new Array<number>(padding).fill(0), ...row, ...new Array<number>(padding).fill(0)]),
    ...Array.from({ length: padding }, blank),
  ];
}

export function describeStep(image: Grid, op: Operation, stride: number, padding: number, output: Grid, row: number, col: number): Step {
  const [h, w] = windowSize(op);
  const top = row * stride,
    left = col * stride;
  const padded = padGrid(image, padding);
  const H = image.length,
    W = image[0].length;
  const value = output[row][col];
  const inside = (i: number, j: number) => i >= padding && i < padding + H && j >= padding && j < padding + W;
  const cells: { v: number; i: number; j: number }[] = [];
  for (let i = top; i < top + h; i++) for (let j = left; j < left + w; j++) cells.push({ v: padded[i]?.[j] ?? 0, i, j });
  let text: string;
  if (op.kind === 'conv') {
    const terms = cells.map((c, k) => `${fmt(c.v)}·${signed(op.kernel[Math.floor(k / w)][k % w])}`);
    text = `${terms.join(' + ')} = ${fmt(value)}`;
  } else if (op.kind === 'max') {
    text = `max(${cells.map((c) => fmt(c.v)).join(', ')}) = ${fmt(value)}`;
  } else {
    // Average pooling divides by the positions inside the image (padding not counted).
    const real = cells.filter((c) => inside(c.i, c.j));
    text = `(${real.map((c) => fmt(c.v)).join(' + ')}) / ${real.length} = ${fmt(value)}`;
  }
  return { row, col, top, left, height: h, width: w, text };
}

/** A number for a grid cell: integers as they are, others to two decimals (no "-0.00"). */
export function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v === 0 ? 0 : v);
  const s = Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
  return /^-0\.0+$/.test(s) ? s.slice(1) : s;
}

/** Negative factors in parentheses, so "1·(-0.5)" reads as a product. */
function signed(v: number): string {
  const s = fmt(v);
  return s.startsWith('-') ? `(${s})` : s;
}
