import { ConfigError } from '../errors.js';

/** A 2-D kernel as rows of numbers (rows × columns); applied as cross-correlation, unflipped, like conv2d. */
export type Kernel2d = number[][];
/** A colour (3-D) kernel: one 2-D kernel per input channel (C_in × rows × columns). */
export type Kernel3d = number[][][];

const scaled = (factor: number, rows: number[][]): Kernel2d => rows.map((r) => r.map((v) => v / factor));
const binomial5 = [1, 4, 6, 4, 1];
const outer = (a: number[], b: number[]) => a.map((x) => b.map((y) => x * y));

/**
 * The classic named image kernels with their textbook values. Fractions are written as
 * integer matrices divided by their denominator, so each entry is the correctly rounded
 * double of the exact fraction (1/9, 6/256, ...).
 */
export const namedKernels = {
  identity: [
    [0, 0, 0],
    [0, 1, 0],
    [0, 0, 0],
  ],
  /** Edge (ridge) detection, 4-neighbour Laplacian. */
  edge4: [
    [0, -1, 0],
    [-1, 4, -1],
    [0, -1, 0],
  ],
  /** Edge (ridge) detection, 8-neighbour Laplacian. */
  edge8: [
    [-1, -1, -1],
    [-1, 8, -1],
    [-1, -1, -1],
  ],
  sharpen: [
    [0, -1, 0],
    [-1, 5, -1],
    [0, -1, 0],
  ],
  'box-blur': scaled(9, [
    [1, 1, 1],
    [1, 1, 1],
    [1, 1, 1],
  ]),
  gaussian3: scaled(16, [
    [1, 2, 1],
    [2, 4, 2],
    [1, 2, 1],
  ]),
  gaussian5: scaled(256, outer(binomial5, binomial5)),
  /** Unsharp masking: 2·identity − Gaussian 5×5, i.e. −1/256 · the binomial with −476 at the centre. */
  unsharp5: scaled(
    -256,
    outer(binomial5, binomial5).map((r, i) => r.map((v, j) => (i === 2 && j === 2 ? -476 : v))),
  ),
  /** Horizontal derivative (responds to vertical edges). */
  'sobel-x': [
    [-1, 0, 1],
    [-2, 0, 2],
    [-1, 0, 1],
  ],
  /** Vertical derivative (responds to horizontal edges). */
  'sobel-y': [
    [-1, -2, -1],
    [0, 0, 0],
    [1, 2, 1],
  ],
  emboss: [
    [-2, -1, 0],
    [-1, 1, 1],
    [0, 1, 2],
  ],
} satisfies Record<string, Kernel2d>;

export type KernelName = keyof typeof namedKernels;
export const kernelNames = Object.keys(namedKernels) as KernelName[];

/** A copy of a named kernel; unknown names give an error listing the known ones. */
export function namedKernel(name: string): Kernel2d {
  if (!Object.hasOwn(namedKernels, name)) throw new ConfigError(`unknown kernel "${name}" (known: ${kernelNames.join(', ')})`);
  return namedKernels[name as KernelName].map((r) => [...r]);
}

/**
 * Parses a kernel written as rows separated by ';' and values by ',' (spaces allowed),
 * e.g. "0,-1,0; -1,5,-1; 0,-1,0". Each value must be a finite number and rows must have
 * equal lengths.
 */
export function parseKernelValues(text: string): Kernel2d {
  const rows = text
    .trim()
    .split(';')
    .map((r) => r.trim());
  if (rows.length === 0 || rows.every((r) => r === '')) throw new ConfigError('kernel values are empty (expected rows like "a,b,c;d,e,f;g,h,i")');
  const kernel = rows.map((row, i) =>
    row.split(',').map((cell, j) => {
      const s = cell.trim();
      const v = Number(s);
      if (s === '' || !Number.isFinite(v)) {
        throw new ConfigError(`kernel value ${JSON.stringify(s)} (row ${i + 1}, column ${j + 1}) is not a number`);
      }
      return v;
    }),
  );
  return checkKernel2d(kernel);
}

/** Checks that a kernel is a non-empty rectangular matrix of finite numbers; returns it. */
export function checkKernel2d(kernel: unknown, what = 'kernel'): Kernel2d {
  if (!Array.isArray(kernel) || kernel.length === 0 || !kernel.every((r) => Array.isArray(r) && r.length > 0)) {
    throw new ConfigError(`${what} must be a non-empty matrix (rows of numbers)`);
  }
  const width = (kernel[0] as unknown[]).length;
  kernel.forEach((row: unknown[], i) => {
    if (row.length !== width) throw new ConfigError(`${what}: row ${i + 1} has ${row.length} values, row 1 has ${width}`);
    row.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new ConfigError(`${what}: value ${JSON.stringify(v)} (row ${i + 1}, column ${j + 1}) is not a number`);
    });
  });
  return kernel as Kernel2d;
}

/** Checks a colour kernel: C_in matrices of one common size. */
export function checkKernel3d(kernel: unknown, what = '3-D kernel'): Kernel3d {
  if (!Array.isArray(kernel) || kernel.length === 0) throw new ConfigError(`${what} must be a non-empty array of C_in matrices (C_in × rows × columns)`);
  const slices = kernel.map((k, c) => checkKernel2d(k, `${what}, channel ${c + 1}`));
  const [h, w] = [slices[0].length, slices[0][0].length];
  slices.forEach((k, c) => {
    if (k.length !== h || k[0].length !== w) throw new ConfigError(`${what}: channel ${c + 1} is ${k.length}×${k[0].length}, channel 1 is ${h}×${w}`);
  });
  return slices;
}

/** Normalised 1-D Gaussian of standard deviation sigma, truncated at ±ceil(truncate·sigma). */
export function gaussianKernel1d(sigma: number, truncate = 4): number[] {
  if (!(sigma > 0)) throw new ConfigError(`Gaussian sigma must be positive, got ${sigma}`);
  const radius = Math.max(1, Math.ceil(truncate * sigma));
  const k = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const sum = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / sum);
}
