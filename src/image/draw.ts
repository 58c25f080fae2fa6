import { ShapeError } from '../errors.js';
import { type PlanarImage, createImage, toRgbImage } from './image.js';

/** A colour as one value per channel (0–255): [r, g, b] for RGB images, [v] for grey. */
export type Colour = readonly number[];

export interface StrokeOptions {
  /** Line width in pixels (default 1). */
  width?: number;
  /** 'over' paints the colour over the image (default); 'max' keeps the brighter value, so overlapping glyphs do not darken each other. */
  blend?: 'over' | 'max';
  /** 0–1 (default 1). */
  opacity?: number;
}

/**
 * Paints pixels by their distance to a shape: full colour within half the line width,
 * fading out over one more pixel (cheap anti-aliasing), only inside the given bounding box.
 */
function paint(img: PlanarImage, box: [number, number, number, number], distance: (x: number, y: number) => number, colour: Colour, o: StrokeOptions): void {
  if (colour.length !== img.channels) throw new ShapeError(`colour has ${colour.length} values, image has ${img.channels} channels`);
  const half = (o.width ?? 1) / 2,
    opacity = o.opacity ?? 1;
  const n = img.width * img.height;
  const x0 = Math.max(0, Math.floor(box[0] - half - 1)),
    x1 = Math.min(img.width - 1, Math.ceil(box[2] + half + 1));
  const y0 = Math.max(0, Math.floor(box[1] - half - 1)),
    y1 = Math.min(img.height - 1, Math.ceil(box[3] + half + 1));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const coverage = Math.min(1, Math.max(0, half + 0.5 - distance(x, y)));
      if (coverage <= 0) continue;
      const a = coverage * opacity;
      for (let c = 0; c < img.channels; c++) {
        const i = c * n + y * img.width + x;
        img.data[i] = o.blend === 'max' ? Math.max(img.data[i], colour[c] * a) : img.data[i] * (1 - a) + colour[c] * a;
      }
    }
  }
}

/** Draws a straight segment from (xa, ya) to (xb, yb), in pixel coordinates (x right, y down). */
export function drawLine(img: PlanarImage, xa: number, ya: number, xb: number, yb: number, colour: Colour, o: StrokeOptions = {}): void {
  const dx = xb - xa,
    dy = yb - ya,
    len2 = dx * dx + dy * dy;
  paint(
    img,
    [Math.min(xa, xb), Math.min(ya, yb), Math.max(xa, xb), Math.max(ya, yb)],
    (x, y) => {
      const t = len2 === 0 ? 0 : Math.min(1, Math.max(0, ((x - xa) * dx + (y - ya) * dy) / len2));
      return Math.hypot(x - (xa + t * dx), y - (ya + t * dy));
    },
    colour,
    o,
  );
}

/** Draws the outline of a circle. */
export function drawCircle(img: PlanarImage, cx: number, cy: number, r: number, colour: Colour, o: StrokeOptions = {}): void {
  paint(img, [cx - r, cy - r, cx + r, cy + r], (x, y) => Math.abs(Math.hypot(x - cx, y - cy) - r), colour, o);
}

/** Draws a filled disc. */
export function fillCircle(img: PlanarImage, cx: number, cy: number, r: number, colour: Colour, o: StrokeOptions = {}): void {
  paint(img, [cx - r, cy - r, cx + r, cy + r], (x, y) => Math.max(0, Math.hypot(x - cx, y - cy) - r), colour, { ...o, width: 0 });
}

/** Each pixel repeated factor × factor times, to show small images (digits, feature maps) large. */
export function upscaleNearest(img: PlanarImage, factor: number): PlanarImage {
  const out = createImage(img.width * factor, img.height * factor, img.channels);
  for (let c = 0; c < img.channels; c++) {
    for (let y = 0; y < out.height; y++) {
      for (let x = 0; x < out.width; x++) {
        out.data[(c * out.height + y) * out.width + x] = img.data[(c * img.height + Math.floor(y / factor)) * img.width + Math.floor(x / factor)];
      }
    }
  }
  return out;
}

/** Two images next to each other (RGB, top-aligned, the gap filled with `background`). */
export function sideBySide(a: PlanarImage, b: PlanarImage, gap = 0, background = 0): PlanarImage {
  const left = toRgbImage(a),
    right = toRgbImage(b);
  const out = createImage(a.width + gap + b.width, Math.max(a.height, b.height), 3);
  out.data.fill(background);
  for (const [img, x0] of [
    [left, 0],
    [right, a.width + gap],
  ] as const) {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < img.height; y++) {
        for (let x = 0; x < img.width; x++) out.data[(c * out.height + y) * out.width + x0 + x] = img.data[(c * img.height + y) * img.width + x];
      }
    }
  }
  return out;
}
