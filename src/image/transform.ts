import { type PlanarImage, createImage } from './image.js';

/** A 2-D affine map: (x, y) → (a·x + b·y + c, d·x + e·y + f), in pixel coordinates (x right, y down). */
export interface Affine {
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  f: number;
}

export function applyAffine(m: Affine, x: number, y: number): [number, number] {
  return [m.a * x + m.b * y + m.c, m.d * x + m.e * y + m.f];
}

export function invertAffine(m: Affine): Affine {
  const det = m.a * m.e - m.b * m.d;
  const a = m.e / det,
    b = -m.b / det,
    d = -m.d / det,
    e = m.a / det;
  return { a, b, d, e, c: -(a * m.c + b * m.f), f: -(d * m.c + e * m.f) };
}

/** Rotation by `degrees` (clockwise on screen, since y runs down) and scaling by `scale` about (cx, cy). */
export function rotationAbout(degrees: number, scale: number, cx: number, cy: number): Affine {
  const t = (degrees * Math.PI) / 180;
  const a = scale * Math.cos(t),
    b = -scale * Math.sin(t),
    d = scale * Math.sin(t),
    e = scale * Math.cos(t);
  return { a, b, d, e, c: cx - a * cx - b * cy, f: cy - d * cx - e * cy };
}

/** Bilinear sample of channel c at (x, y); positions outside the image read the nearest edge pixel. */
export function sampleBilinear(img: PlanarImage, c: number, x: number, y: number): number {
  const { width: W, height: H } = img;
  x = Math.min(Math.max(x, 0), W - 1);
  y = Math.min(Math.max(y, 0), H - 1);
  const x0 = Math.floor(x),
    y0 = Math.floor(y);
  const x1 = Math.min(x0 + 1, W - 1),
    y1 = Math.min(y0 + 1, H - 1);
  const fx = x - x0,
    fy = y - y0,
    base = c * W * H;
  const top = img.data[base + y0 * W + x0] * (1 - fx) + img.data[base + y0 * W + x1] * fx;
  const bottom = img.data[base + y1 * W + x0] * (1 - fx) + img.data[base + y1 * W + x1] * fx;
  return top * (1 - fy) + bottom * fy;
}

/**
 * The image moved by an affine map: output pixel p shows the input at m⁻¹(p), bilinearly
 * interpolated; pixels that come from outside the input get `fill`.
 */
export function warpAffine(img: PlanarImage, m: Affine, width = img.width, height = img.height, fill = 0): PlanarImage {
  const inv = invertAffine(m);
  const out = createImage(width, height, img.channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [sx, sy] = applyAffine(inv, x, y);
      const inside = sx >= 0 && sy >= 0 && sx <= img.width - 1 && sy <= img.height - 1;
      for (let c = 0; c < img.channels; c++) out.data[(c * height + y) * width + x] = inside ? sampleBilinear(img, c, sx, sy) : fill;
    }
  }
  return out;
}

/** Resize by bilinear interpolation with output pixel X reading input X / factor (the SIFT ×2 upsampling). */
export function upsample(img: PlanarImage, factor = 2): PlanarImage {
  const out = createImage(img.width * factor, img.height * factor, img.channels);
  for (let c = 0; c < img.channels; c++) {
    for (let y = 0; y < out.height; y++) {
      for (let x = 0; x < out.width; x++) out.data[(c * out.height + y) * out.width + x] = sampleBilinear(img, c, x / factor, y / factor);
    }
  }
  return out;
}

/** Every second pixel in both directions: pixel X of the result is pixel 2X of the input. */
export function decimate(img: PlanarImage): PlanarImage {
  const out = createImage(Math.max(1, Math.floor((img.width + 1) / 2)), Math.max(1, Math.floor((img.height + 1) / 2)), img.channels);
  for (let c = 0; c < img.channels; c++) {
    for (let y = 0; y < out.height; y++) {
      for (let x = 0; x < out.width; x++) out.data[(c * out.height + y) * out.width + x] = img.data[(c * img.height + 2 * y) * img.width + 2 * x];
    }
  }
  return out;
}
