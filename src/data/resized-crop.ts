import { ConfigError } from '../errors.js';
import type { Rng } from '../rng.js';

/**
 * Random resized crops, the augmentation ImageNet models are trained and fine-tuned with
 * (torchvision's RandomResizedCrop): a box covering a random fraction `scale` of the image's
 * area with a random aspect ratio (log-uniform in `ratio`), resized to the model's input.
 */
export interface ResizedCropOptions {
  /** Fraction of the image's area the box covers, [min, max]; default [0.08, 1] as torchvision. */
  scale?: [number, number];
  /** Width / height of the box, [min, max], drawn log-uniformly; default [3/4, 4/3]. */
  ratio?: [number, number];
}

export const RESIZED_CROP_DEFAULTS: Required<ResizedCropOptions> = { scale: [0.08, 1], ratio: [3 / 4, 4 / 3] };

export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** Settings with defaults filled in; a ConfigError for ranges that make no sense. */
export function resizedCropSettings(o: ResizedCropOptions | true): Required<ResizedCropOptions> {
  const s = { ...RESIZED_CROP_DEFAULTS, ...(o === true ? {} : o) };
  const ok = (r: unknown, max: number) => Array.isArray(r) && r.length === 2 && r.every((v) => Number.isFinite(v) && v > 0 && v <= max) && r[0] <= r[1];
  if (!ok(s.scale, 1)) throw new ConfigError(`resized crop scale must be [min, max] with 0 < min ≤ max ≤ 1, got ${JSON.stringify(s.scale)}`);
  if (!ok(s.ratio, Infinity)) throw new ConfigError(`resized crop ratio must be [min, max] with 0 < min ≤ max, got ${JSON.stringify(s.ratio)}`);
  return s;
}

/** torchvision's RandomResizedCrop.get_params: ten tries at a random box, else the largest central box within the ratios. */
export function resizedCropBox(rng: Rng, H: number, W: number, o: Required<ResizedCropOptions>): CropBox {
  const area = H * W,
    logLo = Math.log(o.ratio[0]),
    logHi = Math.log(o.ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * rng.uniform(o.scale[0], o.scale[1]);
    const aspect = Math.exp(rng.uniform(logLo, logHi));
    const width = Math.round(Math.sqrt(target * aspect)),
      height = Math.round(Math.sqrt(target / aspect));
    if (width > 0 && width <= W && height > 0 && height <= H) {
      return { top: rng.int(H - height + 1), left: rng.int(W - width + 1), height, width };
    }
  }
  const inRatio = W / H;
  let width = W,
    height = H;
  if (inRatio < o.ratio[0]) height = Math.round(W / o.ratio[0]);
  else if (inRatio > o.ratio[1]) width = Math.round(H * o.ratio[1]);
  return { top: (H - height) >> 1, left: (W - width) >> 1, height, width };
}

/**
 * Bilinear resampling of a box of one byte plane (H×W at `src`) to h×w floats at `dst`, pixel
 * centres aligned (align_corners = false), optionally mirrored left-right; each value v becomes
 * v·scale − offset (the normalisation).
 */
export function sampleBox(
  images: Uint8Array,
  src: number,
  W: number,
  box: CropBox,
  out: Float32Array | Float64Array,
  dst: number,
  h: number,
  w: number,
  mirror: boolean,
  scale: number,
  offset: number,
): void {
  const sy = box.height / h,
    sx = box.width / w;
  for (let i = 0; i < h; i++) {
    const y = Math.min(Math.max(box.top + (i + 0.5) * sy - 0.5, box.top), box.top + box.height - 1);
    const y0 = Math.floor(y),
      y1 = Math.min(y0 + 1, box.top + box.height - 1),
      fy = y - y0;
    for (let j = 0; j < w; j++) {
      const jj = mirror ? w - 1 - j : j;
      const x = Math.min(Math.max(box.left + (jj + 0.5) * sx - 0.5, box.left), box.left + box.width - 1);
      const x0 = Math.floor(x),
        x1 = Math.min(x0 + 1, box.left + box.width - 1),
        fx = x - x0;
      const top = images[src + y0 * W + x0] * (1 - fx) + images[src + y0 * W + x1] * fx;
      const bottom = images[src + y1 * W + x0] * (1 - fx) + images[src + y1 * W + x1] * fx;
      out[dst + i * w + j] = (top * (1 - fy) + bottom * fy) * scale - offset;
    }
  }
}
