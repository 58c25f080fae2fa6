/**
 * Turning an arbitrary picture of a digit into an MNIST-like 28×28 image, the way the MNIST
 * authors prepared theirs: white digit on black, the ink's bounding box scaled to fit 20×20
 * (keeping the aspect ratio), then placed so that its centre of mass is at the centre of the
 * 28×28 field. Used by `convkit predict` and the playground's drawing canvas.
 */

/** A single-channel image, values 0–1 row by row. */
export interface GreyImage {
  width: number;
  height: number;
  data: Float32Array;
}

/** Luma (ITU-R BT.601) of interleaved 8-bit pixels with 1–4 channels; alpha composites over white. */
export function toGrey(pixels: Uint8Array | Uint8ClampedArray, width: number, height: number, channels: number): GreyImage {
  const data = new Float32Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const p = i * channels;
    let v: number;
    if (channels >= 3) v = (0.299 * pixels[p] + 0.587 * pixels[p + 1] + 0.114 * pixels[p + 2]) / 255;
    else v = pixels[p] / 255;
    if (channels === 2 || channels === 4) {
      const a = pixels[p + channels - 1] / 255;
      v = v * a + (1 - a);
    }
    data[i] = v;
  }
  return { width, height, data };
}

/** Area-averaging resize (each output pixel is the mean of the input area it covers). */
export function resizeArea(img: GreyImage, width: number, height: number): GreyImage {
  const out = new Float32Array(width * height);
  const sx = img.width / width,
    sy = img.height / height;
  for (let oy = 0; oy < height; oy++) {
    const y0 = oy * sy,
      y1 = y0 + sy;
    for (let ox = 0; ox < width; ox++) {
      const x0 = ox * sx,
        x1 = x0 + sx;
      let sum = 0,
        area = 0;
      for (let y = Math.floor(y0); y < Math.min(Math.ceil(y1), img.height); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        for (let x = Math.floor(x0); x < Math.min(Math.ceil(x1), img.width); x++) {
          const w = wy * (Math.min(x + 1, x1) - Math.max(x, x0));
          sum += w * img.data[y * img.width + x];
          area += w;
        }
      }
      out[oy * width + ox] = area > 0 ? sum / area : 0;
    }
  }
  return { width, height, data: out };
}

/** Mean brightness; pictures brighter than mid-grey are taken to be dark ink on light paper. */
export function meanValue(img: GreyImage): number {
  let s = 0;
  for (const v of img.data) s += v;
  return s / img.data.length;
}

export function invert(img: GreyImage): GreyImage {
  return { ...img, data: img.data.map((v) => 1 - v) };
}

/**
 * MNIST-style normalisation of a white-on-black digit to `size`×`size` (28) with the ink
 * scaled into a `box`×`box` (20) box and centred by centre of mass. Returns bytes 0–255.
 */
export function mnistStyle(img: GreyImage, size = 28, box = 20, threshold = 0.1): Uint8Array {
  let x0 = img.width,
    y0 = img.height,
    x1 = -1,
    y1 = -1;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (img.data[y * img.width + x] > threshold) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  const out = new Uint8Array(size * size);
  if (x1 < 0) return out; // blank picture
  const bw = x1 - x0 + 1,
    bh = y1 - y0 + 1;
  const scale = box / Math.max(bw, bh);
  const w = Math.max(1, Math.round(bw * scale)),
    h = Math.max(1, Math.round(bh * scale));
  const crop: GreyImage = { width: bw, height: bh, data: new Float32Array(bw * bh) };
  for (let y = 0; y < bh; y++) for (let x = 0; x < bw; x++) crop.data[y * bw + x] = img.data[(y0 + y) * img.width + x0 + x];
  const small = resizeArea(crop, w, h);
  // Centre of mass of the scaled digit, to be moved to the field's centre.
  let m = 0,
    cx = 0,
    cy = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = small.data[y * w + x];
      m += v;
      cx += v * (x + 0.5);
      cy += v * (y + 0.5);
    }
  const left = Math.round(size / 2 - cx / m),
    top = Math.round(size / 2 - cy / m);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const ty = top + y,
        tx = left + x;
      if (ty >= 0 && ty < size && tx >= 0 && tx < size) out[ty * size + tx] = Math.round(Math.min(1, Math.max(0, small.data[y * w + x])) * 255);
    }
  }
  return out;
}
