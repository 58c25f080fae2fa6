/**
 * An explanation drawn over the digit: the network input in grey with a heat map on top
 * (saliency: where a change of a pixel would move the winning score most; Grad-CAM: which
 * regions of the last conv layer's maps drove the winning score). Computed on the page's copy
 * of the network (page-model.ts).
 */
import { explain } from 'convkit';
import type { OverlayKind, PageModel } from '../page-model.js';

/** Heat map opacity over the grey digit. */
const ALPHA = 0.55;

export async function drawOverlay(
  canvas: HTMLCanvasElement,
  model: PageModel | null,
  kind: OverlayKind | 'none',
  input: { shape: number[]; data: Float32Array },
): Promise<number | null> {
  const [, h, w] = input.shape;
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(w, h);
  let lo = Infinity,
    hi = -Infinity;
  for (let i = 0; i < h * w; i++) {
    lo = Math.min(lo, input.data[i]);
    hi = Math.max(hi, input.data[i]);
  }
  const heat = kind === 'none' || !model ? null : await model.overlay(kind, input);
  let top = 0;
  if (heat) for (const v of heat.map) top = Math.max(top, v);
  for (let i = 0; i < h * w; i++) {
    const g = ((input.data[i] - lo) / (hi - lo || 1)) * 255;
    let rgb: [number, number, number] = [g, g, g];
    if (heat && top > 0) {
      const [r, gg, b] = explain.viridis(heat.map[i] / top);
      rgb = [(1 - ALPHA) * g + ALPHA * r, (1 - ALPHA) * g + ALPHA * gg, (1 - ALPHA) * g + ALPHA * b];
    }
    img.data.set([rgb[0], rgb[1], rgb[2], 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
  canvas.dataset.overlay = kind;
  return heat ? heat.classIndex : null;
}
