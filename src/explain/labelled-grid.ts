import { ConfigError } from '../errors.js';
import { type RgbaImage, createRgba, drawText, paste } from './render.js';

/** Layout of a labelled grid: white gaps of `gap` pixels, labels in the 3×5 font at `textScale`. */
export interface GridLayout {
  gap?: number;
  textScale?: number;
}

const WHITE = [255, 255, 255] as const;

/** Width in pixels of a label in the 3×5 font (4 columns per character, the last without its space). */
function labelWidth(text: string, scale: number): number {
  return text.length === 0 ? 0 : (text.length * 4 - 1) * scale;
}

/**
 * Cells in rows of `columns`, each with its label (a channel number) written above it:
 * feature visualisations and filters, one cell per channel.
 */
export function labelledCells(cells: { label: string; image: RgbaImage }[], o: GridLayout & { columns?: number } = {}): RgbaImage {
  if (cells.length === 0) throw new ConfigError('a grid needs at least one image');
  const s = o.textScale ?? 1,
    gap = o.gap ?? 2 * s;
  const columns = Math.min(o.columns ?? Math.ceil(Math.sqrt(cells.length)), cells.length);
  const cw = Math.max(...cells.map((c) => Math.max(c.image.width, labelWidth(c.label, s))));
  const ch = Math.max(...cells.map((c) => c.image.height));
  const labelHeight = 5 * s + s;
  const rowHeight = labelHeight + ch;
  const rows = Math.ceil(cells.length / columns);
  const out = createRgba(gap + columns * (cw + gap), gap + rows * (rowHeight + gap), WHITE);
  cells.forEach((c, i) => {
    const left = gap + (i % columns) * (cw + gap),
      top = gap + Math.floor(i / columns) * (rowHeight + gap);
    drawText(out, c.label, left, top, s);
    paste(out, c.image, left, top + labelHeight);
  });
  return out;
}

/**
 * Rows of images, each row with its label (a channel number) on the left: the top patches or
 * images of one channel per row, or one deep filter's slices per row.
 */
export function labelledRows(rows: { label: string; images: RgbaImage[] }[], o: GridLayout = {}): RgbaImage {
  if (rows.length === 0 || rows.every((r) => r.images.length === 0)) throw new ConfigError('a grid needs at least one image');
  const s = o.textScale ?? 1,
    gap = o.gap ?? 2 * s;
  const all = rows.flatMap((r) => r.images);
  const cw = Math.max(...all.map((i) => i.width)),
    ch = Math.max(...all.map((i) => i.height));
  const labelColumn = Math.max(...rows.map((r) => labelWidth(r.label, s))) + 2 * s;
  const columns = Math.max(...rows.map((r) => r.images.length));
  const out = createRgba(gap + labelColumn + columns * (cw + gap), gap + rows.length * (ch + gap), WHITE);
  rows.forEach((r, j) => {
    const top = gap + j * (ch + gap);
    drawText(out, r.label, gap, top + Math.max(0, Math.floor((ch - 5 * s) / 2)), s);
    r.images.forEach((img, i) => paste(out, img, gap + labelColumn + i * (cw + gap), top));
  });
  return out;
}
