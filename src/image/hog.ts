import { ConfigError, ShapeError } from '../errors.js';
import { drawLine } from './draw.js';
import { imageGradients } from './gradients.js';
import { type PlanarImage, createImage } from './image.js';
import { l2Hys } from './normalise.js';

/**
 * Histograms of oriented gradients (Dalal & Triggs, CVPR 2005): centred [-1, 0, 1]
 * gradients; each pixel votes its gradient magnitude into an orientation histogram of its
 * cell, split linearly between the two nearest orientation bins and bilinearly between the
 * four nearest cells (their trilinear interpolation); cells are grouped into overlapping
 * blocks and each block is L2-Hys normalised (L2, clip, L2 again).
 */
export interface HogOptions {
  /** Cell side in pixels (default 8; 4 or 7 for 28×28 digits). */
  cellSize?: number;
  /** Block side in cells (default 2). */
  blockSize?: number;
  /** Step between blocks in cells (default 1: blocks overlap). */
  blockStride?: number;
  /** Orientation bins (default 9). */
  bins?: number;
  /** Signed orientations 0–360° instead of unsigned 0–180° (default false, as Dalal & Triggs found best). */
  signed?: boolean;
  /** The L2-Hys clipping threshold (default 0.2). */
  clip?: number;
  /** Spread votes bilinearly over neighbouring cells (default true). */
  spatialInterpolation?: boolean;
}

type Resolved = Required<HogOptions>;

function resolve(o: HogOptions): Resolved {
  const r: Resolved = { cellSize: 8, blockSize: 2, blockStride: 1, bins: 9, signed: false, clip: 0.2, spatialInterpolation: true, ...o };
  for (const key of ['cellSize', 'blockSize', 'blockStride', 'bins'] as const) {
    if (!Number.isInteger(r[key]) || r[key] < 1) throw new ConfigError(`HOG ${key} must be a positive integer, got ${r[key]}`);
  }
  if (!(r.clip > 0)) throw new ConfigError(`HOG clip must be positive, got ${r.clip}`);
  return r;
}

/** Per-cell orientation histograms, before block normalisation. */
export interface HogCells {
  cellsX: number;
  cellsY: number;
  bins: number;
  signed: boolean;
  cellSize: number;
  /** cellsY × cellsX × bins, row-major. */
  histograms: Float64Array;
}

/**
 * The gradient direction (radians, y down) at the centre of orientation bin `bin`: b · range / bins,
 * so bin 0 is centred on 0°, the horizontal gradient. scikit-image and OpenCV centre their bins
 * half a bin later, at (b + ½) · range / bins.
 */
export function hogBinCentre(bin: number, bins: number, signed = false): number {
  return (bin * (signed ? 2 * Math.PI : Math.PI)) / bins;
}

/** Each pixel's vote is split between the two bins whose centres (`hogBinCentre`) surround its gradient direction. */
export function hogCells(img: PlanarImage, options: HogOptions = {}): HogCells {
  const o = resolve(options);
  const { width: W, height: H } = img;
  const cellsX = Math.floor(W / o.cellSize),
    cellsY = Math.floor(H / o.cellSize);
  if (cellsX < 1 || cellsY < 1) throw new ShapeError(`a ${W}×${H} image is smaller than one ${o.cellSize}-pixel HOG cell`);
  const { gx, gy } = imageGradients(img);
  const hist = new Float64Array(cellsX * cellsY * o.bins);
  const range = o.signed ? 2 * Math.PI : Math.PI;
  const binWidth = range / o.bins;
  const vote = (cx: number, cy: number, b0: number, b1: number, m0: number, m1: number) => {
    if (cx < 0 || cy < 0 || cx >= cellsX || cy >= cellsY) return;
    const base = (cy * cellsX + cx) * o.bins;
    hist[base + b0] += m0;
    hist[base + b1] += m1;
  };
  for (let y = 0; y < cellsY * o.cellSize; y++) {
    for (let x = 0; x < cellsX * o.cellSize; x++) {
      const i = y * W + x;
      const magnitude = Math.hypot(gx[i], gy[i]);
      if (magnitude === 0) continue;
      let angle = Math.atan2(gy[i], gx[i]);
      angle = ((angle % range) + range) % range;
      const p = angle / binWidth;
      const f = Math.floor(p),
        frac = p - f;
      const b0 = f % o.bins,
        b1 = (f + 1) % o.bins;
      const m0 = magnitude * (1 - frac),
        m1 = magnitude * frac;
      if (!o.spatialInterpolation) {
        vote(Math.floor(x / o.cellSize), Math.floor(y / o.cellSize), b0, b1, m0, m1);
        continue;
      }
      // Position in cell units relative to cell centres.
      const fx = (x + 0.5) / o.cellSize - 0.5,
        fy = (y + 0.5) / o.cellSize - 0.5;
      const cx = Math.floor(fx),
        cy = Math.floor(fy);
      const wx = fx - cx,
        wy = fy - cy;
      for (const [dx, dy, w] of [
        [0, 0, (1 - wx) * (1 - wy)],
        [1, 0, wx * (1 - wy)],
        [0, 1, (1 - wx) * wy],
        [1, 1, wx * wy],
      ]) {
        if (w > 0) vote(cx + dx, cy + dy, b0, b1, m0 * w, m1 * w);
      }
    }
  }
  return { cellsX, cellsY, bins: o.bins, signed: o.signed, cellSize: o.cellSize, histograms: hist };
}

/** Number of values in the HOG descriptor of a width × height image. */
export function hogLength(width: number, height: number, options: HogOptions = {}): number {
  const o = resolve(options);
  const cellsX = Math.floor(width / o.cellSize),
    cellsY = Math.floor(height / o.cellSize);
  const bx = Math.floor((cellsX - o.blockSize) / o.blockStride) + 1;
  const by = Math.floor((cellsY - o.blockSize) / o.blockStride) + 1;
  return bx < 1 || by < 1 ? 0 : bx * by * o.blockSize * o.blockSize * o.bins;
}

/** The HOG descriptor: every block's cell histograms, L2-Hys normalised, blocks in row-major order. */
export function hogDescriptor(img: PlanarImage, options: HogOptions = {}): Float64Array {
  const o = resolve(options);
  const cells = hogCells(img, o);
  const length = hogLength(img.width, img.height, o);
  if (length === 0)
    throw new ShapeError(`a ${img.width}×${img.height} image is too small for ${o.blockSize}×${o.blockSize} blocks of ${o.cellSize}-pixel cells`);
  return normaliseBlocks(cells, o, length);
}

function normaliseBlocks(cells: HogCells, o: Resolved, length: number): Float64Array {
  const out = new Float64Array(length);
  const blockLength = o.blockSize * o.blockSize * o.bins;
  let offset = 0;
  for (let by = 0; by + o.blockSize <= cells.cellsY; by += o.blockStride) {
    for (let bx = 0; bx + o.blockSize <= cells.cellsX; bx += o.blockStride) {
      const block = out.subarray(offset, offset + blockLength);
      let k = 0;
      for (let cy = by; cy < by + o.blockSize; cy++) {
        for (let cx = bx; cx < bx + o.blockSize; cx++) {
          const base = (cy * cells.cellsX + cx) * o.bins;
          for (let b = 0; b < o.bins; b++) block[k++] = cells.histograms[base + b];
        }
      }
      l2Hys(block, o.clip);
      offset += blockLength;
    }
  }
  return out;
}

/**
 * A picture of the cell histograms: in each cell a star of lines through its centre, one per
 * bin, drawn along the edge direction (perpendicular to the gradient) with brightness
 * proportional to the bin's share of the largest bin anywhere. White on black, grey.
 */
export function hogVisualisation(cells: HogCells, pixelsPerCell = 16): PlanarImage {
  const img = createImage(cells.cellsX * pixelsPerCell, cells.cellsY * pixelsPerCell, 1);
  let max = 0;
  for (const v of cells.histograms) max = Math.max(max, v);
  if (max === 0) return img;
  const half = 0.45 * pixelsPerCell;
  for (let cy = 0; cy < cells.cellsY; cy++) {
    for (let cx = 0; cx < cells.cellsX; cx++) {
      const x = (cx + 0.5) * pixelsPerCell - 0.5,
        y = (cy + 0.5) * pixelsPerCell - 0.5;
      for (let b = 0; b < cells.bins; b++) {
        const v = cells.histograms[(cy * cells.cellsX + cx) * cells.bins + b] / max;
        if (v < 0.02) continue;
        const theta = hogBinCentre(b, cells.bins, cells.signed);
        // The edge runs perpendicular to the gradient (cos θ, sin θ).
        const ex = -Math.sin(theta) * half,
          ey = Math.cos(theta) * half;
        drawLine(img, x - ex, y - ey, x + ex, y + ey, [255 * v], { blend: 'max', width: Math.max(1, pixelsPerCell / 12) });
      }
    }
  }
  return img;
}
