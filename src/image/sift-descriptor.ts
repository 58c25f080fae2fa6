import { l2Hys } from './normalise.js';

/** Gradient magnitude and direction per pixel of one (smoothed) image. */
export interface GradientField {
  width: number;
  height: number;
  magnitude: Float64Array;
  angle: Float64Array;
}

export interface PatchOptions {
  /** Weight samples by a Gaussian of half the descriptor width, as Lowe does (default true). */
  gaussianWindow?: boolean;
  /** Clipping threshold after the first normalisation (default 0.2). */
  clip?: number;
}

/** Spatial cells per side and orientation bins: 4 × 4 × 8 = 128 values. */
export const SIFT_CELLS = 4;
export const SIFT_BINS = 8;
export const SIFT_LENGTH = SIFT_CELLS * SIFT_CELLS * SIFT_BINS;

/**
 * The SIFT descriptor (Lowe 2004, section 6) of the patch centred at (x, y): a 4×4 grid of
 * cells, each `cellWidth` pixels wide, rotated to the direction `theta`; every pixel votes
 * its gradient magnitude, trilinearly split between the neighbouring cells in both
 * directions and the neighbouring orientation bins (orientation relative to theta), so the
 * descriptor changes smoothly as the patch shifts or turns. Then L2-normalised, clipped at
 * 0.2 and renormalised. Rotating the image rotates theta and the gradients with it, which
 * leaves the descriptor unchanged.
 *
 * The layout is OpenCV's: value (r · 4 + c) · 8 + o is row r, column c of the grid in the
 * keypoint's frame (columns along theta) and orientation bin o, gradients turned o · 45°
 * counter-clockwise on screen (y up) from theta.
 */
export function siftDescriptorAt(
  field: GradientField,
  x: number,
  y: number,
  cellWidth: number,
  theta: number,
  opts: PatchOptions = {},
  out = new Float32Array(SIFT_LENGTH),
): Float32Array {
  const d = SIFT_CELLS,
    n = SIFT_BINS;
  const { width: W, height: H, magnitude, angle } = field;
  // Half the diagonal of the rotated (d + 1)-cell square: every pixel that can vote.
  const radius = Math.min(Math.round(cellWidth * Math.SQRT2 * (d + 1) * 0.5), Math.ceil(Math.hypot(W, H)));
  const cos = Math.cos(theta) / cellWidth,
    sin = Math.sin(theta) / cellWidth;
  const gaussian = opts.gaussianWindow ?? true;
  const windowScale = -1 / (2 * (0.5 * d) ** 2);
  // One cell of padding on each side catches the interpolation spill-over at the edges.
  const side = d + 2;
  const hist = new Float64Array(side * side * n);
  const x0 = Math.round(x),
    y0 = Math.round(y);
  for (let py = Math.max(1, y0 - radius); py <= Math.min(H - 2, y0 + radius); py++) {
    for (let px = Math.max(1, x0 - radius); px <= Math.min(W - 2, x0 + radius); px++) {
      const dx = px - x,
        dy = py - y;
      // Offset in the keypoint's frame, in cells.
      const cRot = dx * cos + dy * sin,
        rRot = -dx * sin + dy * cos;
      const rbin = rRot + d / 2 - 0.5,
        cbin = cRot + d / 2 - 0.5;
      if (rbin <= -1 || rbin >= d || cbin <= -1 || cbin >= d) continue;
      const i = py * W + px;
      const m = magnitude[i];
      if (m === 0) continue;
      const weight = gaussian ? Math.exp((cRot * cRot + rRot * rRot) * windowScale) : 1;
      // Bins count counter-clockwise on screen from theta (y up, as OpenCV and Lowe do);
      // with y down that is theta minus the gradient's angle.
      let rel = theta - angle[i];
      rel -= 2 * Math.PI * Math.floor(rel / (2 * Math.PI));
      const obin = (rel * n) / (2 * Math.PI);
      const r0 = Math.floor(rbin),
        c0 = Math.floor(cbin),
        o0 = Math.floor(obin);
      const fr = rbin - r0,
        fc = cbin - c0,
        fo = obin - o0;
      const v = m * weight;
      for (let a = 0; a < 2; a++) {
        const vr = v * (a ? fr : 1 - fr);
        for (let b = 0; b < 2; b++) {
          const vc = vr * (b ? fc : 1 - fc);
          const base = ((r0 + 1 + a) * side + (c0 + 1 + b)) * n;
          hist[base + (o0 % n)] += vc * (1 - fo);
          hist[base + ((o0 + 1) % n)] += vc * fo;
        }
      }
    }
  }
  let k = 0;
  for (let r = 0; r < d; r++) {
    for (let c = 0; c < d; c++) {
      const base = ((r + 1) * side + (c + 1)) * n;
      for (let o = 0; o < n; o++) out[k++] = hist[base + o];
    }
  }
  l2Hys(out, opts.clip ?? 0.2);
  return out;
}
