// Records written by the host into the reserved low memory, read here through unmanaged
// classes so kernels take one pointer instead of a dozen scalars. Fields are 4 bytes each, in
// the order of the record's field list in src/backend/wasm-interface.ts (the one definition:
// assembly/build.mjs fails when a class here differs from it).

/** Conv2dGeometry (src/backend/backend.ts). */
@unmanaged
export class ConvGeometry {
  N: i32; C: i32; H: i32; W: i32;
  O: i32; KH: i32; KW: i32;
  strideH: i32; strideW: i32;
  padH: i32; padW: i32;
  OH: i32; OW: i32;
  groups: i32;
  dilationH: i32; dilationW: i32;
}

/** Pool2dGeometry (src/backend/backend.ts). */
@unmanaged
export class PoolGeometry {
  N: i32; C: i32; H: i32; W: i32;
  KH: i32; KW: i32;
  strideH: i32; strideW: i32;
  padH: i32; padW: i32;
  OH: i32; OW: i32;
}

/**
 * A convolution as the Winograd transforms see it (winograd.ts, winograd5.ts, winogradgrad.ts;
 * written by src/backend/wasm-winograd.ts): source channels per group, source size and
 * padding, output size, the GEMMs' rows per group, channels of source and output, and the
 * tiling: tile rows, tiles per tile row, tiles per image, tile columns of the GEMM (all images,
 * rounded up to NR); for 5×5 the grid of transformed input tiles, one tile larger: tiles per
 * grid row (≥ tw + 1, a multiple of 4) and per image ((th + 1) · twv).
 */
@unmanaged
export class WinogradView {
  Cs: i32; Hs: i32; Ws: i32; pH: i32; pW: i32;
  OH: i32; OW: i32; rows: i32; srcC: i32; dstC: i32;
  th: i32; tw: i32; T: i32; J: i32;
  twv: i32; Tv: i32;
}

/** Batch norm's shape: N images of C channels of HW values; `batchStatistics` (0/1) for the backward. */
@unmanaged
export class BatchNormShape {
  N: i32; C: i32; HW: i32;
  batchStatistics: i32;
}

/** Local response normalisation: C channels of HW values, a window of `size` from c − before. */
@unmanaged
export class LrnParams {
  C: i32; HW: i32;
  size: i32; before: i32;
  alpha: f32; beta: f32; k: f32;
}
