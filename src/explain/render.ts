import { ConfigError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { type ColourMap, viridis } from './colormap.js';

/** 8-bit RGBA pixels, row by row (the layout of a canvas ImageData). */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/** The largest picture drawn: 2^26 pixels (256 MiB of RGBA). */
export const MAX_PICTURE_PIXELS = 2 ** 26;

/** Refuses a picture size before anything is allocated: sizes come from user choices (scale, channels, k) multiplied together. */
export function checkPictureSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0 || width * height > MAX_PICTURE_PIXELS) {
    throw new ConfigError(
      `a picture of ${width}×${height} pixels is too large to draw (at most ${MAX_PICTURE_PIXELS.toLocaleString('en')} pixels): choose a smaller scale or fewer channels`,
    );
  }
}

export function createRgba(width: number, height: number, background: readonly [number, number, number] = [0, 0, 0]): RgbaImage {
  checkPictureSize(width, height);
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([...background, 255], i * 4);
  return { width, height, data };
}

/** The [low, high] a heat map is drawn over: its minimum (or 0 if that is larger) to its maximum. */
export function mapRange(values: ArrayLike<number>): [number, number] {
  let lo = 0,
    hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) continue;
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  return hi > lo ? [lo, hi] : [lo, lo + 1];
}

/** A heat map [h, w] in viridis colours (or another map) over `range` (default mapRange). */
export function heatmapToRgba(map: Tensor, range: readonly [number, number] = mapRange(map.data), colours: ColourMap = viridis): RgbaImage {
  const [h, w] = map.shape;
  const out = createRgba(w, h);
  for (let i = 0; i < w * h; i++) out.data.set(colours((map.data[i] - range[0]) / (range[1] - range[0])), i * 4);
  return out;
}

/** An image tensor [C, H, W] (1 channel: grey, 3: RGB) scaled from `range` (default: its min..max) to bytes. */
export function imageToRgba(image: Tensor, range?: readonly [number, number]): RgbaImage {
  const s = image.shape.length === 4 ? image.shape.slice(1) : image.shape;
  const [C, H, W] = s;
  if (s.length !== 3 || (C !== 1 && C !== 3))
    throw new ConfigError(`only grey [1, H, W] or colour [3, H, W] images can be drawn, got [${image.shape.join(', ')}]`);
  let [lo, hi] = range ?? [Infinity, -Infinity];
  if (!range)
    for (const v of image.data) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  const out = createRgba(W, H);
  for (let p = 0; p < H * W; p++) {
    for (let k = 0; k < 3; k++) out.data[p * 4 + k] = (image.data[(C === 3 ? k : 0) * H * W + p] - lo) * scale;
  }
  return out;
}

/** The heat map [H, W] over the image (same size), drawn in grey so the colours read: alpha is the heat map's weight. */
export function overlayHeatmap(base: RgbaImage, map: Tensor, o: { alpha?: number; range?: readonly [number, number] } = {}): RgbaImage {
  const [h, w] = map.shape;
  if (h !== base.height || w !== base.width) throw new ConfigError(`overlay: heat map ${w}×${h} does not match the image ${base.width}×${base.height}`);
  const alpha = o.alpha ?? 0.5;
  const heat = heatmapToRgba(map, o.range);
  const out = createRgba(w, h);
  for (let p = 0; p < w * h; p++) {
    const grey = 0.299 * base.data[p * 4] + 0.587 * base.data[p * 4 + 1] + 0.114 * base.data[p * 4 + 2];
    for (let k = 0; k < 3; k++) out.data[p * 4 + k] = (1 - alpha) * grey + alpha * heat.data[p * 4 + k];
  }
  return out;
}

/** Nearest-neighbour enlargement by an integer factor (small inputs such as 28×28 digits). */
export function upscale(img: RgbaImage, factor: number): RgbaImage {
  if (!Number.isInteger(factor) || factor < 1) throw new ConfigError(`upscale factor must be a positive integer, got ${factor}`);
  const out = createRgba(img.width * factor, img.height * factor);
  for (let y = 0; y < out.height; y++) {
    for (let x = 0; x < out.width; x++) {
      const from = (Math.floor(y / factor) * img.width + Math.floor(x / factor)) * 4;
      out.data.set(img.data.subarray(from, from + 4), (y * out.width + x) * 4);
    }
  }
  return out;
}

/** Images in rows of `columns`, each cell as large as the largest image, separated by `gap` pixels. */
export function grid(images: RgbaImage[], o: { columns?: number; gap?: number; background?: readonly [number, number, number] } = {}): RgbaImage {
  if (images.length === 0) throw new ConfigError('a grid needs at least one image');
  const columns = o.columns ?? Math.ceil(Math.sqrt(images.length)),
    gap = o.gap ?? 2;
  const cw = Math.max(...images.map((i) => i.width)),
    ch = Math.max(...images.map((i) => i.height));
  const rows = Math.ceil(images.length / columns);
  const out = createRgba(columns * cw + (columns - 1) * gap, rows * ch + (rows - 1) * gap, o.background ?? [255, 255, 255]);
  images.forEach((img, i) => paste(out, img, (i % columns) * (cw + gap), Math.floor(i / columns) * (ch + gap)));
  return out;
}

export function paste(dst: RgbaImage, src: RgbaImage, left: number, top: number): void {
  for (let y = 0; y < src.height; y++) {
    if (top + y < 0 || top + y >= dst.height) continue;
    for (let x = 0; x < src.width; x++) {
      if (left + x < 0 || left + x >= dst.width) continue;
      dst.data.set(src.data.subarray((y * src.width + x) * 4, (y * src.width + x) * 4 + 4), ((top + y) * dst.width + left + x) * 4);
    }
  }
}

/**
 * The image with a legend below it: the colour bar from low (left) to high (right), with the
 * two values written at its ends in a 3×5 pixel font, enlarged with the image (default: one
 * font pixel per 100 image pixels of width, at least 1). The bar is viridis unless `colours` says otherwise.
 */
export function withLegend(
  img: RgbaImage,
  range: readonly [number, number],
  textScale = Math.max(1, Math.floor(img.width / 100)),
  colours: ColourMap = viridis,
): RgbaImage {
  const s = textScale,
    barHeight = 6 * s,
    textHeight = 5 * s,
    pad = 2 * s;
  const out = createRgba(img.width, img.height + pad + barHeight + pad + textHeight + pad, [255, 255, 255]);
  paste(out, img, 0, 0);
  const top = img.height + pad;
  for (let x = 0; x < img.width; x++) {
    const colour = colours(img.width > 1 ? x / (img.width - 1) : 0);
    for (let y = 0; y < barHeight; y++) out.data.set(colour, ((top + y) * img.width + x) * 4);
  }
  const labelTop = top + barHeight + pad;
  const low = formatValue(range[0]),
    high = formatValue(range[1]);
  drawText(out, low, 0, labelTop, s);
  drawText(out, high, Math.max((low.length + 1) * 4 * s, img.width - (high.length * 4 - 1) * s), labelTop, s);
  return out;
}

/** A short decimal or exponential form of a value (at most 3 significant digits). */
export function formatValue(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e-2 && a < 1e4 ? String(Number(v.toPrecision(3))) : v.toExponential(1).replace('e+', 'e');
}

// 3×5 glyphs, one row of three bits per number, top first.
const GLYPHS: Record<string, number[]> = {
  0: [7, 5, 5, 5, 7],
  1: [2, 6, 2, 2, 7],
  2: [7, 1, 7, 4, 7],
  3: [7, 1, 7, 1, 7],
  4: [5, 5, 7, 1, 1],
  5: [7, 4, 7, 1, 7],
  6: [7, 4, 7, 5, 7],
  7: [7, 1, 1, 2, 2],
  8: [7, 5, 7, 5, 7],
  9: [7, 5, 7, 1, 7],
  '-': [0, 0, 7, 0, 0],
  '.': [0, 0, 0, 0, 2],
  e: [0, 7, 7, 4, 7],
};

/** Writes digits (and - . e) in the 3×5 pixel font, black, each font pixel `scale` image pixels wide. */
export function drawText(img: RgbaImage, text: string, left: number, top: number, scale: number): void {
  [...text].forEach((ch, i) => {
    const rows = GLYPHS[ch] ?? [0, 0, 0, 0, 0];
    for (let y = 0; y < 5 * scale; y++) {
      for (let x = 0; x < 3 * scale; x++) {
        const px = left + i * 4 * scale + x,
          py = top + y;
        if (rows[Math.floor(y / scale)] & (4 >> Math.floor(x / scale)) && px < img.width && py < img.height)
          img.data.set([0, 0, 0, 255], (py * img.width + px) * 4);
      }
    }
  });
}
