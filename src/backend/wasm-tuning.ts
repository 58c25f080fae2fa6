/**
 * The wasm backend's tuning: when work is split across threads, and the thresholds of the
 * convolution routes (wasm-routes.ts). Measured on the machines in docs/BENCHMARKS.md.
 */

/** Below this many multiply-adds a kernel runs on the calling thread: waking workers would cost more. */
export const PARALLEL_MIN_MACS = 1 << 18;
/** The same for memory-bound kernels (pooling, element-wise), in elements touched. */
export const PARALLEL_MIN_ELEMENTS = 1 << 15;
/** The GEMM micro-kernel's tile (assembly/gemm.ts): MR rows × NR columns. */
export const MR = 4,
  NR = 8;
/** Pieces per thread for batch and element splits: more lets threads balance when one runs late. */
export const PIECES_PER_THREAD = 4;
/** Most compute threads: a job's pieces (threads × PIECES_PER_THREAD) must stay within the pool's MAX_PIECES. */
export const MAX_THREADS = 64;
/** Memory for per-range partial weight gradients, beyond one per thread. */
export const PARTIALS_BYTES = 8 << 20;
/** Work of a GEMM piece at least, in multiply-adds: each piece re-packs the operand it shares. */
export const GEMM_PIECE_MACS = 1 << 22;
/** Rows (filters, or input channels for the input gradient) from which convolutions run as GEMMs (convgemm.ts). */
export const CONV_GEMM_MIN_ROWS = 32;
/** Source channels (the GEMMs' K) from which 3×3 stride-1 convolutions run by Winograd. */
export const WINOGRAD_MIN_CHANNELS = 32;
/** The same for 5×5 (K = 4 × channels). */
export const WINOGRAD5_MIN_CHANNELS = 16;
/**
 * And outputs over the batch for 5×5: its weight transform writes 4× the weights, paid back
 * only over enough tiles (measured: 13×13 at batch 1 and 8×8 at batch 8 run slower than the
 * GEMM, 27×27 at batch 1 and 14×14 at batch 4 as fast or faster).
 */
export const WINOGRAD5_MIN_OUTPUTS = 729;
/** Tiles over the batch (the weight-gradient GEMMs' reduction) from which 3×3 weight gradients run by Winograd. */
export const WINOGRAD_GRAD_MIN_TILES = 64;
/** At most this much memory for the weight gradient's transformed input and dy (16 values per tile each); larger layers take the GEMM route. */
export const WINOGRAD_GRAD_MAX_BYTES = 256 << 20;
/** Memory for Winograd-transformed weights kept between calls (with a copy of the weights each came from). */
export const TRANSFORMED_BYTES = 256 << 20;
