/**
 * The one definition of the WASM kernel interface (assembly/kernels.ts): every export's
 * arguments and result, which exports worker threads may run, and the records the host writes
 * into the reserved low memory for them. The TypeScript types (wasm-kernels.ts) are derived
 * from it; assembly/build.mjs checks the compiled module's exports and assembly/records.ts
 * against it and fails the build on any difference.
 *
 * Argument types: `ptr` a byte offset into the memory; `work` the same, into the running
 * thread's own workspace (pieces give an offset within it: the thread pool adds the base);
 * `flag` 0/1; `i32`, `f32`, `f64` numbers; a record's name: a pointer to that record.
 * Adding a kernel: a row here, the AssemblyScript function (exported from assembly/kernels.ts)
 * and the adapter method that calls it.
 *
 * Plain data only: the build loads this file on its own.
 */

/**
 * Records, each at `at` bytes into the reserved region below the heap (64 bytes a slot, 4 per
 * field): kernels take one pointer instead of a dozen numbers. Records that one call writes
 * together (a convolution's geometry and its Winograd view) need separate slots.
 */
export const kernelRecords = {
  conv: {
    assembly: 'ConvGeometry',
    at: 0,
    fields: [
      ['N', 'i32'],
      ['C', 'i32'],
      ['H', 'i32'],
      ['W', 'i32'],
      ['O', 'i32'],
      ['KH', 'i32'],
      ['KW', 'i32'],
      ['strideH', 'i32'],
      ['strideW', 'i32'],
      ['padH', 'i32'],
      ['padW', 'i32'],
      ['OH', 'i32'],
      ['OW', 'i32'],
      ['groups', 'i32'],
      ['dilationH', 'i32'],
      ['dilationW', 'i32'],
    ],
  },
  pool: {
    assembly: 'PoolGeometry',
    at: 0,
    fields: [
      ['N', 'i32'],
      ['C', 'i32'],
      ['H', 'i32'],
      ['W', 'i32'],
      ['KH', 'i32'],
      ['KW', 'i32'],
      ['strideH', 'i32'],
      ['strideW', 'i32'],
      ['padH', 'i32'],
      ['padW', 'i32'],
      ['OH', 'i32'],
      ['OW', 'i32'],
    ],
  },
  winograd: {
    assembly: 'WinogradView',
    at: 64,
    fields: [
      ['Cs', 'i32'],
      ['Hs', 'i32'],
      ['Ws', 'i32'],
      ['pH', 'i32'],
      ['pW', 'i32'],
      ['OH', 'i32'],
      ['OW', 'i32'],
      ['rows', 'i32'],
      ['srcC', 'i32'],
      ['dstC', 'i32'],
      ['th', 'i32'],
      ['tw', 'i32'],
      ['T', 'i32'],
      ['J', 'i32'],
      ['twv', 'i32'],
      ['Tv', 'i32'],
    ],
  },
  batchNorm: {
    assembly: 'BatchNormShape',
    at: 0,
    fields: [
      ['N', 'i32'],
      ['C', 'i32'],
      ['HW', 'i32'],
      ['batchStatistics', 'i32'],
    ],
  },
  lrn: {
    assembly: 'LrnParams',
    at: 0,
    fields: [
      ['C', 'i32'],
      ['HW', 'i32'],
      ['size', 'i32'],
      ['before', 'i32'],
      ['alpha', 'f32'],
      ['beta', 'f32'],
      ['k', 'f32'],
    ],
  },
} as const satisfies Record<string, RecordSpec>;

/** Bytes of the reserved region that holds the records. */
export const RECORD_REGION_BYTES = 256;
/** Bytes of one record slot. */
export const RECORD_SLOT_BYTES = 64;

export const kernelTable = {
  dataEnd: { args: [], returns: 'i32' },
  gemmWorkspaceBytes: { args: [], returns: 'i32' },
  gemm: {
    threaded: true,
    args: [
      ['transA', 'flag'],
      ['transB', 'flag'],
      ['M', 'i32'],
      ['N', 'i32'],
      ['K', 'i32'],
      ['alpha', 'f32'],
      ['A', 'ptr'],
      ['lda', 'i32'],
      ['B', 'ptr'],
      ['ldb', 'i32'],
      ['beta', 'f32'],
      ['C', 'ptr'],
      ['ldc', 'i32'],
      ['work', 'work'],
    ],
  },
  /** Packs strips [s0, s1) (NR columns, all of K) of op(B) for gemmPacked. */
  gemmPackB: {
    threaded: true,
    args: [
      ['transB', 'flag'],
      ['K', 'i32'],
      ['N', 'i32'],
      ['B', 'ptr'],
      ['ldb', 'i32'],
      ['s0', 'i32'],
      ['s1', 'i32'],
      ['packed', 'ptr'],
    ],
  },
  /** gemm on a block of rows with B packed whole by gemmPackB. */
  gemmPacked: {
    threaded: true,
    args: [
      ['transA', 'flag'],
      ['M', 'i32'],
      ['N', 'i32'],
      ['K', 'i32'],
      ['alpha', 'f32'],
      ['A', 'ptr'],
      ['lda', 'i32'],
      ['packedB', 'ptr'],
      ['beta', 'f32'],
      ['C', 'ptr'],
      ['ldc', 'i32'],
      ['work', 'work'],
    ],
  },
  convWorkspaceBytes: { args: [['geometry', 'conv']], returns: 'f64' },
  /** Images [n0, n1); `packed`: the filters packed by directPack when usesDirect, else 0. */
  conv2dForward: {
    threaded: true,
    args: [
      ['geometry', 'conv'],
      ['n0', 'i32'],
      ['n1', 'i32'],
      ['x', 'ptr'],
      ['w', 'ptr'],
      ['bias', 'ptr'],
      ['y', 'ptr'],
      ['work', 'work'],
      ['packed', 'ptr'],
    ],
  },
  conv2dBackwardInput: {
    threaded: true,
    args: [
      ['geometry', 'conv'],
      ['n0', 'i32'],
      ['n1', 'i32'],
      ['dy', 'ptr'],
      ['w', 'ptr'],
      ['dx', 'ptr'],
      ['work', 'work'],
      ['packed', 'ptr'],
    ],
  },
  conv2dBackwardWeights: {
    threaded: true,
    args: [
      ['geometry', 'conv'],
      ['n0', 'i32'],
      ['n1', 'i32'],
      ['x', 'ptr'],
      ['dy', 'ptr'],
      ['dw', 'ptr'],
      ['dbias', 'ptr'],
      ['work', 'work'],
    ],
  },
  /** Whether the forward (or input gradient, `flip`) runs by the direct kernel, whose filters the host packs once per call. */
  usesDirect: {
    args: [
      ['geometry', 'conv'],
      ['flip', 'flag'],
    ],
    returns: 'i32',
  },
  directPackedBytes: {
    args: [
      ['geometry', 'conv'],
      ['flip', 'flag'],
    ],
    returns: 'f64',
  },
  directPack: {
    args: [
      ['geometry', 'conv'],
      ['flip', 'flag'],
      ['w', 'ptr'],
      ['packed', 'ptr'],
    ],
  },
  /** Convolution as GEMM (assembly/convgemm.ts): images [n0, n1), output positions [j0, j1) of each. */
  convGemmForward: {
    threaded: true,
    args: [
      ['geometry', 'conv'],
      ['flip', 'flag'],
      ['n0', 'i32'],
      ['n1', 'i32'],
      ['j0', 'i32'],
      ['j1', 'i32'],
      ['src', 'ptr'],
      ['packed', 'ptr'],
      ['bias', 'ptr'],
      ['dst', 'ptr'],
      ['work', 'work'],
    ],
  },
  /** Floats convPackWeights writes: rows are filters, or input channels when `flip` (input gradient). */
  convPackedWeightsFloats: {
    args: [
      ['geometry', 'conv'],
      ['flip', 'flag'],
    ],
    returns: 'f64',
  },
  /** Strips (of MR rows, over all groups) that convPackWeights packs; it covers strips [q0, q1). */
  convPackedStrips: {
    args: [
      ['geometry', 'conv'],
      ['flip', 'flag'],
    ],
    returns: 'i32',
  },
  convPackWeights: {
    threaded: true,
    args: [
      ['geometry', 'conv'],
      ['flip', 'flag'],
      ['q0', 'i32'],
      ['q1', 'i32'],
      ['w', 'ptr'],
      ['packed', 'ptr'],
    ],
  },
  /**
   * Weight gradient columns (taps) [j0, j1) of groups [g0, g1) over the whole batch
   * (assembly/convgemmweights.ts), from dy packed by convPackGradient; dbias from the piece with j0 = 0.
   */
  convGemmWeights: {
    threaded: true,
    args: [
      ['geometry', 'conv'],
      ['g0', 'i32'],
      ['g1', 'i32'],
      ['j0', 'i32'],
      ['j1', 'i32'],
      ['x', 'ptr'],
      ['dy', 'ptr'],
      ['packedDy', 'ptr'],
      ['dw', 'ptr'],
      ['dbias', 'ptr'],
      ['work', 'work'],
    ],
  },
  convPackedGradientFloats: { args: [['geometry', 'conv']], returns: 'f64' },
  /** Packs strips [q0, q1) (MR rows of a group, group-major) of dy for convGemmWeights. */
  convPackGradient: {
    threaded: true,
    args: [
      ['geometry', 'conv'],
      ['q0', 'i32'],
      ['q1', 'i32'],
      ['dy', 'ptr'],
      ['packed', 'ptr'],
    ],
  },
  /** Winograd F(2×2, 3×3) (assembly/winograd.ts). */
  winogradWeights: {
    threaded: true,
    args: [
      ['geometry', 'conv'],
      ['flip', 'flag'],
      ['q0', 'i32'],
      ['q1', 'i32'],
      ['w', 'ptr'],
      ['U', 'ptr'],
      ['view', 'winograd'],
    ],
  },
  winogradInput: {
    threaded: true,
    args: [
      ['geometry', 'conv'],
      ['p0', 'i32'],
      ['p1', 'i32'],
      ['src', 'ptr'],
      ['V', 'ptr'],
      ['work', 'work'],
      ['view', 'winograd'],
    ],
  },
  winogradMultiply: {
    threaded: true,
    args: [
      ['geometry', 'conv'],
      ['group', 'i32'],
      ['r0', 'i32'],
      ['r1', 'i32'],
      ['s0', 'i32'],
      ['s1', 'i32'],
      ['U', 'ptr'],
      ['V', 'ptr'],
      ['bias', 'ptr'],
      ['dst', 'ptr'],
      ['work', 'work'],
      ['view', 'winograd'],
    ],
  },
  winogradProductsBytes: { args: [], returns: 'i32' },
  /** Bytes of per-thread workspace for winogradInput and winogradGradInput: a zero-bordered plane. */
  winogradInputBytes: { args: [['view', 'winograd']], returns: 'f64' },
  /** Winograd weight gradient of 3×3 convolutions (assembly/winogradgrad.ts, and winograd.ts for the input). */
  winogradGradInput: {
    threaded: true,
    args: [
      ['geometry', 'conv'],
      ['p0', 'i32'],
      ['p1', 'i32'],
      ['x', 'ptr'],
      ['V', 'ptr'],
      ['work', 'work'],
      ['view', 'winograd'],
    ],
  },
  winogradGradOutput: {
    threaded: true,
    args: [
      ['geometry', 'conv'],
      ['p0', 'i32'],
      ['p1', 'i32'],
      ['dy', 'ptr'],
      ['D', 'ptr'],
      ['work', 'work'],
      ['view', 'winograd'],
    ],
  },
  winogradGradOutputBytes: { args: [['view', 'winograd']], returns: 'f64' },
  winogradGradProducts: {
    threaded: true,
    args: [
      ['geometry', 'conv'],
      ['q0', 'i32'],
      ['q1', 'i32'],
      ['D', 'ptr'],
      ['V', 'ptr'],
      ['dU', 'ptr'],
      ['work', 'work'],
      ['view', 'winograd'],
    ],
  },
  winogradGradWeights: {
    threaded: true,
    args: [
      ['geometry', 'conv'],
      ['o0', 'i32'],
      ['o1', 'i32'],
      ['dU', 'ptr'],
      ['dy', 'ptr'],
      ['dw', 'ptr'],
      ['dbias', 'ptr'],
      ['view', 'winograd'],
    ],
  },
  /** Winograd for 5×5 kernels from F(3×3, 3×3) on four sub-kernels (assembly/winograd5.ts); arguments as for 3×3. */
  winograd5Weights: {
    threaded: true,
    args: [
      ['geometry', 'conv'],
      ['flip', 'flag'],
      ['q0', 'i32'],
      ['q1', 'i32'],
      ['w', 'ptr'],
      ['U', 'ptr'],
      ['view', 'winograd'],
    ],
  },
  winograd5Input: {
    threaded: true,
    args: [
      ['geometry', 'conv'],
      ['p0', 'i32'],
      ['p1', 'i32'],
      ['src', 'ptr'],
      ['V', 'ptr'],
      ['work', 'work'],
      ['view', 'winograd'],
    ],
  },
  winograd5Multiply: {
    threaded: true,
    args: [
      ['geometry', 'conv'],
      ['group', 'i32'],
      ['r0', 'i32'],
      ['r1', 'i32'],
      ['s0', 'i32'],
      ['s1', 'i32'],
      ['U', 'ptr'],
      ['V', 'ptr'],
      ['bias', 'ptr'],
      ['dst', 'ptr'],
      ['work', 'work'],
      ['view', 'winograd'],
    ],
  },
  winograd5ProductsBytes: { args: [['view', 'winograd']], returns: 'f64' },
  winograd5InputBytes: { args: [['view', 'winograd']], returns: 'f64' },
  /** Pooling kernels cover planes (n, c) in [p0, p1). */
  maxPool2dForward: {
    threaded: true,
    args: [
      ['geometry', 'pool'],
      ['p0', 'i32'],
      ['p1', 'i32'],
      ['x', 'ptr'],
      ['y', 'ptr'],
      ['argmax', 'ptr'],
    ],
  },
  maxPool2dBackward: {
    threaded: true,
    args: [
      ['geometry', 'pool'],
      ['p0', 'i32'],
      ['p1', 'i32'],
      ['dy', 'ptr'],
      ['argmax', 'ptr'],
      ['dx', 'ptr'],
    ],
  },
  avgPool2dForward: {
    threaded: true,
    args: [
      ['geometry', 'pool'],
      ['p0', 'i32'],
      ['p1', 'i32'],
      ['x', 'ptr'],
      ['y', 'ptr'],
      ['countPad', 'flag'],
    ],
  },
  avgPool2dBackward: {
    threaded: true,
    args: [
      ['geometry', 'pool'],
      ['p0', 'i32'],
      ['p1', 'i32'],
      ['dy', 'ptr'],
      ['dx', 'ptr'],
      ['countPad', 'flag'],
    ],
  },
  adaptiveAvgPool2dForward: {
    threaded: true,
    args: [
      ['geometry', 'pool'],
      ['p0', 'i32'],
      ['p1', 'i32'],
      ['x', 'ptr'],
      ['y', 'ptr'],
    ],
  },
  adaptiveAvgPool2dBackward: {
    threaded: true,
    args: [
      ['geometry', 'pool'],
      ['p0', 'i32'],
      ['p1', 'i32'],
      ['dy', 'ptr'],
      ['dx', 'ptr'],
    ],
  },
  /** Batch-norm statistics and backward cover channels [c0, c1); apply covers planes (n, c) in [p0, p1). */
  batchNormStats: {
    threaded: true,
    args: [
      ['shape', 'batchNorm'],
      ['c0', 'i32'],
      ['c1', 'i32'],
      ['x', 'ptr'],
      ['mean', 'ptr'],
      ['variance', 'ptr'],
    ],
  },
  batchNormApply: {
    threaded: true,
    args: [
      ['shape', 'batchNorm'],
      ['p0', 'i32'],
      ['p1', 'i32'],
      ['x', 'ptr'],
      ['mean', 'ptr'],
      ['invStd', 'ptr'],
      ['gamma', 'ptr'],
      ['beta', 'ptr'],
      ['y', 'ptr'],
    ],
  },
  batchNormBackward: {
    threaded: true,
    args: [
      ['shape', 'batchNorm'],
      ['c0', 'i32'],
      ['c1', 'i32'],
      ['x', 'ptr'],
      ['dy', 'ptr'],
      ['mean', 'ptr'],
      ['invStd', 'ptr'],
      ['gamma', 'ptr'],
      ['dx', 'ptr'],
      ['dgamma', 'ptr'],
      ['dbeta', 'ptr'],
    ],
  },
  /** LRN kernels cover planes (n, c) in [p0, p1); the window is [c − before, c − before + size − 1]. */
  lrnForward: {
    threaded: true,
    args: [
      ['params', 'lrn'],
      ['p0', 'i32'],
      ['p1', 'i32'],
      ['x', 'ptr'],
      ['scale', 'ptr'],
      ['y', 'ptr'],
    ],
  },
  lrnBackward: {
    threaded: true,
    args: [
      ['params', 'lrn'],
      ['p0', 'i32'],
      ['p1', 'i32'],
      ['x', 'ptr'],
      ['y', 'ptr'],
      ['scale', 'ptr'],
      ['dy', 'ptr'],
      ['dx', 'ptr'],
    ],
  },
  add: {
    threaded: true,
    args: [
      ['a', 'ptr'],
      ['b', 'ptr'],
      ['out', 'ptr'],
      ['n', 'i32'],
    ],
  },
  mul: {
    threaded: true,
    args: [
      ['a', 'ptr'],
      ['b', 'ptr'],
      ['out', 'ptr'],
      ['n', 'i32'],
    ],
  },
  axpy: {
    threaded: true,
    args: [
      ['alpha', 'f32'],
      ['x', 'ptr'],
      ['y', 'ptr'],
      ['n', 'i32'],
    ],
  },
  addBias: {
    args: [
      ['rows', 'i32'],
      ['cols', 'i32'],
      ['x', 'ptr'],
      ['b', 'ptr'],
      ['y', 'ptr'],
    ],
  },
  sumRows: {
    args: [
      ['rows', 'i32'],
      ['cols', 'i32'],
      ['dy', 'ptr'],
      ['db', 'ptr'],
    ],
  },
  relu: {
    threaded: true,
    args: [
      ['x', 'ptr'],
      ['y', 'ptr'],
      ['n', 'i32'],
    ],
  },
  reluBackward: {
    threaded: true,
    args: [
      ['x', 'ptr'],
      ['dy', 'ptr'],
      ['dx', 'ptr'],
      ['n', 'i32'],
    ],
  },
  leakyRelu: {
    threaded: true,
    args: [
      ['x', 'ptr'],
      ['y', 'ptr'],
      ['n', 'i32'],
      ['slope', 'f32'],
      ['cap', 'f32'],
    ],
  },
  leakyReluBackward: {
    threaded: true,
    args: [
      ['x', 'ptr'],
      ['dy', 'ptr'],
      ['dx', 'ptr'],
      ['n', 'i32'],
      ['slope', 'f32'],
      ['cap', 'f32'],
    ],
  },
  tanh: {
    threaded: true,
    args: [
      ['x', 'ptr'],
      ['y', 'ptr'],
      ['n', 'i32'],
    ],
  },
  tanhBackward: {
    threaded: true,
    args: [
      ['y', 'ptr'],
      ['dy', 'ptr'],
      ['dx', 'ptr'],
      ['n', 'i32'],
    ],
  },
  sigmoid: {
    threaded: true,
    args: [
      ['x', 'ptr'],
      ['y', 'ptr'],
      ['n', 'i32'],
    ],
  },
  sigmoidBackward: {
    threaded: true,
    args: [
      ['y', 'ptr'],
      ['dy', 'ptr'],
      ['dx', 'ptr'],
      ['n', 'i32'],
    ],
  },
  hardSigmoid: {
    threaded: true,
    args: [
      ['x', 'ptr'],
      ['y', 'ptr'],
      ['n', 'i32'],
      ['alpha', 'f32'],
      ['beta', 'f32'],
    ],
  },
  hardSigmoidBackward: {
    threaded: true,
    args: [
      ['x', 'ptr'],
      ['dy', 'ptr'],
      ['dx', 'ptr'],
      ['n', 'i32'],
      ['alpha', 'f32'],
      ['beta', 'f32'],
    ],
  },
  /** Per-plane scale kernels cover planes [p0, p1). */
  channelScale: {
    threaded: true,
    args: [
      ['HW', 'i32'],
      ['p0', 'i32'],
      ['p1', 'i32'],
      ['x', 'ptr'],
      ['s', 'ptr'],
      ['y', 'ptr'],
    ],
  },
  channelScaleBackward: {
    threaded: true,
    args: [
      ['HW', 'i32'],
      ['p0', 'i32'],
      ['p1', 'i32'],
      ['x', 'ptr'],
      ['s', 'ptr'],
      ['dy', 'ptr'],
      ['dx', 'ptr'],
      ['ds', 'ptr'],
    ],
  },
  /** Layer norm over channels (assembly/layernorm.ts): positions [p0, p1) of N·HW; its parameter gradients channels [c0, c1). */
  layerNormForward: {
    threaded: true,
    args: [
      ['C', 'i32'],
      ['HW', 'i32'],
      ['p0', 'i32'],
      ['p1', 'i32'],
      ['x', 'ptr'],
      ['gamma', 'ptr'],
      ['beta', 'ptr'],
      ['eps', 'f32'],
      ['mean', 'ptr'],
      ['invStd', 'ptr'],
      ['y', 'ptr'],
    ],
  },
  layerNormBackward: {
    threaded: true,
    args: [
      ['C', 'i32'],
      ['HW', 'i32'],
      ['p0', 'i32'],
      ['p1', 'i32'],
      ['x', 'ptr'],
      ['dy', 'ptr'],
      ['mean', 'ptr'],
      ['invStd', 'ptr'],
      ['gamma', 'ptr'],
      ['dx', 'ptr'],
    ],
  },
  layerNormParamGrads: {
    threaded: true,
    args: [
      ['N', 'i32'],
      ['C', 'i32'],
      ['HW', 'i32'],
      ['c0', 'i32'],
      ['c1', 'i32'],
      ['x', 'ptr'],
      ['dy', 'ptr'],
      ['mean', 'ptr'],
      ['invStd', 'ptr'],
      ['dgamma', 'ptr'],
      ['dbeta', 'ptr'],
    ],
  },
  gelu: {
    threaded: true,
    args: [
      ['x', 'ptr'],
      ['y', 'ptr'],
      ['n', 'i32'],
    ],
  },
  geluBackward: {
    threaded: true,
    args: [
      ['x', 'ptr'],
      ['dy', 'ptr'],
      ['dx', 'ptr'],
      ['n', 'i32'],
    ],
  },
  softmax: {
    args: [
      ['N', 'i32'],
      ['K', 'i32'],
      ['x', 'ptr'],
      ['y', 'ptr'],
    ],
  },
  softmaxBackward: {
    args: [
      ['N', 'i32'],
      ['K', 'i32'],
      ['y', 'ptr'],
      ['dy', 'ptr'],
      ['dx', 'ptr'],
    ],
  },
  softmaxCrossEntropy: {
    args: [
      ['N', 'i32'],
      ['K', 'i32'],
      ['logits', 'ptr'],
      ['labels', 'ptr'],
      ['probs', 'ptr'],
      ['dlogits', 'ptr'],
    ],
    returns: 'f64',
  },
  /** Σ x² in double precision. */
  sumOfSquares: {
    args: [
      ['x', 'ptr'],
      ['n', 'i32'],
    ],
    returns: 'f64',
  },
  /** Whether `bytes` bytes at a and b are bit-for-bit equal. */
  sameBytes: {
    args: [
      ['a', 'ptr'],
      ['b', 'ptr'],
      ['bytes', 'i32'],
    ],
    returns: 'i32',
  },
  sgdStep: {
    threaded: true,
    args: [
      ['w', 'ptr'],
      ['g', 'ptr'],
      ['v', 'ptr'],
      ['n', 'i32'],
      ['lr', 'f32'],
      ['momentum', 'f32'],
      ['weightDecay', 'f32'],
      ['nesterov', 'flag'],
    ],
  },
  adamStep: {
    threaded: true,
    args: [
      ['w', 'ptr'],
      ['g', 'ptr'],
      ['m', 'ptr'],
      ['v', 'ptr'],
      ['n', 'i32'],
      ['lr', 'f32'],
      ['beta1', 'f32'],
      ['beta2', 'f32'],
      ['eps', 'f32'],
      ['weightDecay', 'f32'],
      ['decoupled', 'flag'],
      ['c1', 'f32'],
      ['c2', 'f32'],
    ],
  },
} as const satisfies Record<string, KernelSpec>;

export type RecordName = keyof typeof kernelRecords;
export type ArgType = 'ptr' | 'work' | 'flag' | 'i32' | 'f32' | 'f64' | RecordName;

export interface KernelSpec {
  readonly args: readonly (readonly [name: string, type: ArgType])[];
  readonly returns?: 'i32' | 'f64';
  /** Worker threads may run it (as pieces of a job). */
  readonly threaded?: boolean;
}

export interface RecordSpec {
  /** The @unmanaged class in assembly/records.ts. */
  readonly assembly: string;
  /** Byte offset of its slot in the reserved region. */
  readonly at: number;
  readonly fields: readonly (readonly [name: string, type: 'i32' | 'f32'])[];
}
