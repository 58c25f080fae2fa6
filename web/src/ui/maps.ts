/**
 * Feature maps in colour: a diverging scale (blue below zero, white at zero, red above, the
 * library's explain.diverging) shared by all maps of a layer, drawn into canvases that are
 * reused from one refresh to the next (a refresh only writes pixels, it creates no elements).
 */
import { explain } from 'convkit';
import { symmetricExtent } from './scales.js';

const LUT_SIZE = 256;
/** diverging() sampled once: painting a map is then a table look-up per pixel. */
const divergingLut = (() => {
  const lut = new Uint8ClampedArray(LUT_SIZE * 3);
  for (let i = 0; i < LUT_SIZE; i++) lut.set(explain.diverging(i / (LUT_SIZE - 1)), i * 3);
  return lut;
})();

export type Palette = 'diverging' | 'grey';

/** Writes an h×w map into `img` at (x0, y0): diverging over ±extent, or grey over [lo, hi]. */
export function paintMap(
  img: ImageData,
  x0: number,
  y0: number,
  values: ArrayLike<number>,
  offset: number,
  h: number,
  w: number,
  scale: { palette: Palette; extent: number; lo?: number; hi?: number },
): void {
  const d = img.data;
  const lo = scale.palette === 'grey' ? (scale.lo ?? 0) : -scale.extent;
  const span = (scale.palette === 'grey' ? (scale.hi ?? 1) : scale.extent) - lo || 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const t = Math.min(1, Math.max(0, (values[offset + y * w + x] - lo) / span));
      const p = ((y0 + y) * img.width + x0 + x) * 4;
      if (scale.palette === 'grey') {
        d[p] = d[p + 1] = d[p + 2] = Math.round(t * 255);
      } else {
        const k = Math.round(t * (LUT_SIZE - 1)) * 3;
        d[p] = divergingLut[k];
        d[p + 1] = divergingLut[k + 1];
        d[p + 2] = divergingLut[k + 2];
      }
      d[p + 3] = 255;
    }
  }
}

/** Sets a canvas's pixel size only when it changes (a change clears it and costs a reallocation). */
function sizeCanvas(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  return canvas.getContext('2d')!;
}

/**
 * All C maps of a [C, H, W] activation tiled into one canvas, `columns` per row with a
 * one-pixel gap; a vector is drawn as a block of cells `columns` wide. CSS scales it by
 * `perCell` (pixelated), so every map of the view has the same screen pixels per value.
 */
export function drawAtlas(
  canvas: HTMLCanvasElement,
  data: ArrayLike<number>,
  shape: number[],
  perCell: number,
  scale: { palette: Palette; extent: number; lo?: number; hi?: number },
  columns?: number,
): void {
  const [C, H, W] = shape.length === 3 ? shape : [1, Math.ceil(data.length / (columns ?? 10)), columns ?? 10];
  const cols = shape.length === 3 ? Math.min(C, columns ?? Math.ceil(Math.sqrt(C))) : 1;
  const rows = Math.ceil(C / cols);
  const gap = shape.length === 3 && C > 1 ? 1 : 0;
  const width = cols * W + (cols - 1) * gap,
    height = rows * H + (rows - 1) * gap;
  const ctx = sizeCanvas(canvas, width, height);
  const img = ctx.createImageData(width, height);
  img.data.fill(255); // the gaps: white
  if (shape.length === 3) {
    for (let c = 0; c < C; c++) paintMap(img, (c % cols) * (W + gap), Math.floor(c / cols) * (H + gap), data, c * H * W, H, W, scale);
  } else {
    const padded = new Float32Array(H * W);
    padded.set(Array.from(data));
    paintMap(img, 0, 0, padded, 0, H, W, scale);
    // Cells past the end of the vector stay white.
    for (let i = data.length; i < H * W; i++) img.data.fill(255, i * 4, i * 4 + 4);
  }
  ctx.putImageData(img, 0, 0);
  canvas.style.width = `${width * perCell}px`;
  canvas.style.height = `${height * perCell}px`;
}

/** One map of a [C, H, W] tensor into its own (reused) canvas. */
export function drawChannel(
  canvas: HTMLCanvasElement,
  data: ArrayLike<number>,
  offset: number,
  h: number,
  w: number,
  scale: { palette: Palette; extent: number; lo?: number; hi?: number },
): void {
  const ctx = sizeCanvas(canvas, w, h);
  const img = ctx.createImageData(w, h);
  paintMap(img, 0, 0, data, offset, h, w, scale);
  ctx.putImageData(img, 0, 0);
}

/** The colour legend of a diverging scale: a bar from −extent (blue) through 0 (white) to +extent (red). */
export function legend(extent: number, caption = ''): HTMLElement {
  const el = document.createElement('div');
  el.className = 'legend';
  el.innerHTML = '<span class="legend-lo"></span><span class="legend-bar"></span><span class="legend-hi"></span>';
  if (caption) el.title = caption;
  setLegend(el, extent);
  return el;
}

export function setLegend(el: HTMLElement, extent: number): void {
  el.querySelector('.legend-lo')!.textContent = formatValue(-extent);
  el.querySelector('.legend-hi')!.textContent = formatValue(extent);
  el.dataset.extent = String(extent);
}

/** CSS gradient of the diverging scale (for legend bars). */
export const divergingGradient = `linear-gradient(to right, ${[0, 0.25, 0.5, 0.75, 1].map((t) => `rgb(${explain.diverging(t).join(',')})`).join(', ')})`;

export function formatValue(v: number): string {
  const a = Math.abs(v);
  return a === 0 ? '0' : a >= 100 || a < 0.01 ? v.toExponential(1) : v.toFixed(a >= 10 ? 1 : 2);
}

export { symmetricExtent };
