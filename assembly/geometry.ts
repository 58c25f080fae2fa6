// Geometry records written by the host into linear memory (one i32 per field, in this order),
// read here through unmanaged classes so kernels take one pointer instead of 16 scalars.

/** Mirrors Conv2dGeometry in src/backend/backend.ts. */
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

/** Mirrors Pool2dGeometry in src/backend/backend.ts. */
@unmanaged
export class PoolGeometry {
  N: i32; C: i32; H: i32; W: i32;
  KH: i32; KW: i32;
  strideH: i32; strideW: i32;
  padH: i32; padW: i32;
  OH: i32; OW: i32;
}
