/**
 * Which algorithm runs a convolution on the wasm backend. Dilated convolutions always take the
 * kernel's own route (assembly/conv.ts, whose im2col handles spread taps): the direct,
 * convgemm and Winograd kernels gather adjacent taps.
 */

import type { Conv2dGeometry } from './backend.js';
import { roundUp } from './wasm-split.js';
import {
  CONV_GEMM_MIN_ROWS,
  MR,
  WINOGRAD5_MIN_CHANNELS,
  WINOGRAD5_MIN_OUTPUTS,
  WINOGRAD_GRAD_MAX_BYTES,
  WINOGRAD_GRAD_MIN_TILES,
  WINOGRAD_MIN_CHANNELS,
} from './wasm-tuning.js';

export type ConvDirection = 'forward' | 'input' | 'weights';
/**
 * `winograd`: F(2×2, 3×3) or, for 5×5, F(3×3, 3×3) (wasm-winograd.ts); `convgemm`: a packed
 * GEMM over the image (assembly/convgemm.ts, convgemmweights.ts); `kernel`: conv.ts, which
 * picks its direct kernel or im2col + GEMM itself (usesDirect).
 */
export type ConvRoute = 'winograd' | 'convgemm' | 'kernel';

export function convRoute(g: Conv2dGeometry, direction: ConvDirection): ConvRoute {
  if (direction === 'weights' ? useWinogradWeights(g) : useWinograd(g, direction === 'input')) return 'winograd';
  if (useConvGemm(g, direction)) return 'convgemm';
  return 'kernel';
}

/**
 * Whether a convolution runs as a GEMM with the image packed straight into the micro-kernel's
 * panels (convgemm.ts) rather than the direct kernel or im2col (conv.ts). The GEMM's rows are
 * filters (forward, weight gradient) or input channels (input gradient): each packed panel of
 * the image serves all of them, so few rows (LeNet's 6 or 16 filters, one input channel) waste
 * most of the 4-row tiles and repack the image for little work; the direct kernel wins there.
 * The input gradient runs as a stride-1 convolution of dy, so only for stride 1.
 */
function useConvGemm(g: Conv2dGeometry, direction: ConvDirection): boolean {
  if (dilated(g)) return false; // its image packing gathers adjacent taps
  const Cg = g.C / g.groups,
    Og = g.O / g.groups;
  if (direction === 'input') {
    return g.strideH === 1 && g.strideW === 1 && g.padH < g.KH && g.padW < g.KW && Cg >= CONV_GEMM_MIN_ROWS && Og * g.KH * g.KW >= MR;
  }
  return Og >= CONV_GEMM_MIN_ROWS && Cg * g.KH * g.KW >= MR;
}

/**
 * Whether a convolution (or its input gradient, `inputGradient`) runs by Winograd: stride 1,
 * 3×3 (F(2×2, 3×3), 2.25× fewer multiplications than the GEMM) or 5×5 (F(3×3, 3×3) on four
 * sub-kernels, 2.25× fewer too), padding up to the kernel size − 1, and enough rows and
 * channels for its GEMMs (K = source channels, × 4 for 5×5) and, for 5×5, enough outputs.
 */
function useWinograd(g: Conv2dGeometry, inputGradient: boolean): boolean {
  const k = g.KH;
  if (dilated(g)) return false;
  if ((k !== 3 && k !== 5) || g.KW !== k || g.strideH !== 1 || g.strideW !== 1 || g.padH > k - 1 || g.padW > k - 1) return false;
  const Cg = g.C / g.groups,
    Og = g.O / g.groups;
  const rows = inputGradient ? Cg : Og,
    Cs = inputGradient ? Og : Cg;
  if (k === 5 && g.N * (inputGradient ? g.H * g.W : g.OH * g.OW) < WINOGRAD5_MIN_OUTPUTS) return false;
  return rows >= CONV_GEMM_MIN_ROWS && Cs >= (k === 5 ? WINOGRAD5_MIN_CHANNELS : WINOGRAD_MIN_CHANNELS);
}

/**
 * Whether a 3×3 convolution's weight gradient runs by Winograd (winogradgrad.ts): the forward's
 * conditions, enough tiles over the batch for the GEMMs' reduction, and not so many that the
 * transformed input and dy would take more memory than the budget.
 */
function useWinogradWeights(g: Conv2dGeometry): boolean {
  if (g.KH !== 3 || !useWinograd(g, false)) return false;
  const tiles = g.N * Math.ceil(g.OH / 2) * roundUp(Math.ceil(g.OW / 2), 4);
  return tiles >= WINOGRAD_GRAD_MIN_TILES && 16 * (g.C + g.O) * tiles * 4 <= WINOGRAD_GRAD_MAX_BYTES;
}

/** Whether the kernel's taps are spread out: only the im2col route handles that (assembly/conv.ts). */
function dilated(g: Conv2dGeometry): boolean {
  return g.dilationH !== 1 || g.dilationW !== 1;
}
