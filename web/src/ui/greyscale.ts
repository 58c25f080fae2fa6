/** Drawing numbers as grey pixels on canvases: feature maps, filters, digits. */

/** A canvas showing an h×w map, each value scaled between the map's own min (black) and max (white). */
export function mapCanvas(
  values: ArrayLike<number>,
  offset: number,
  h: number,
  w: number,
  scale: number,
  range?: { lo: number; hi: number },
): HTMLCanvasElement {
  let lo = Infinity,
    hi = -Infinity;
  if (range) ({ lo, hi } = range);
  else {
    for (let i = 0; i < h * w; i++) {
      const v = values[offset + i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const span = hi - lo || 1;
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  canvas.style.width = `${w * scale}px`;
  canvas.style.height = `${h * scale}px`;
  canvas.className = 'pixelated';
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < h * w; i++) {
    const g = Math.round(255 * Math.min(1, Math.max(0, (values[offset + i] - lo) / span)));
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = g;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  canvas.title = `min ${lo.toPrecision(3)}, max ${hi.toPrecision(3)}`;
  return canvas;
}

/** A canvas for a digit of 0–255 bytes (white ink on black, as MNIST stores it). */
export function digitCanvas(pixels: Uint8Array, size: number, scale: number): HTMLCanvasElement {
  return mapCanvas(pixels, 0, size, size, scale, { lo: 0, hi: 255 });
}

/** Symmetric range around zero, for signed maps such as gradients and weights (grey = 0). */
export function symmetricRange(values: ArrayLike<number>, offset = 0, n = values.length): { lo: number; hi: number } {
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(values[offset + i]));
  return { lo: -m || -1, hi: m || 1 };
}
