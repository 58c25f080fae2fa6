import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RefBackend } from '../src/backend/ref.js';
import { downsample } from '../src/image/downsample.js';
import { type Border, type Padding, convolve3d, filterImage, gaussianBlur, padImage } from '../src/image/filter.js';
import { type PlanarImage, clampByte, fromPixels, toGreyImage, toPixels } from '../src/image/image.js';
import { type Kernel2d, checkKernel3d, gaussianKernel1d, kernelNames, namedKernel, namedKernels, parseKernelValues } from '../src/image/kernels.js';
import { Rng } from '../src/rng.js';

const frac = (d: number, rows: number[][]) => rows.map((r) => r.map((v) => v / d));

describe('named kernels', () => {
  const binomial = [1, 4, 6, 4, 1];
  const expected: Record<string, Kernel2d> = {
    identity: [
      [0, 0, 0],
      [0, 1, 0],
      [0, 0, 0],
    ],
    edge4: [
      [0, -1, 0],
      [-1, 4, -1],
      [0, -1, 0],
    ],
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
    'box-blur': frac(9, [
      [1, 1, 1],
      [1, 1, 1],
      [1, 1, 1],
    ]),
    gaussian3: frac(16, [
      [1, 2, 1],
      [2, 4, 2],
      [1, 2, 1],
    ]),
    gaussian5: frac(256, [
      [1, 4, 6, 4, 1],
      [4, 16, 24, 16, 4],
      [6, 24, 36, 24, 6],
      [4, 16, 24, 16, 4],
      [1, 4, 6, 4, 1],
    ]),
    unsharp5: frac(-256, [
      [1, 4, 6, 4, 1],
      [4, 16, 24, 16, 4],
      [6, 24, -476, 24, 6],
      [4, 16, 24, 16, 4],
      [1, 4, 6, 4, 1],
    ]),
    'sobel-x': [
      [-1, 0, 1],
      [-2, 0, 2],
      [-1, 0, 1],
    ],
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
  };

  it('each has its textbook values exactly', () => {
    assert.deepEqual([...kernelNames].sort(), Object.keys(expected).sort());
    for (const name of kernelNames) assert.deepEqual(namedKernel(name), expected[name], name);
    // The 5×5 Gaussian is the outer product of the binomial row.
    assert.deepEqual(
      namedKernels.gaussian5,
      binomial.map((a) => binomial.map((b) => (a * b) / 256)),
    );
    assert.equal(namedKernels.unsharp5[2][2], 476 / 256);
    assert.equal(namedKernels['box-blur'][1][1], 1 / 9);
  });

  it('Gaussian kernels (and blur, sharpen, unsharp masking) sum to 1; edge detectors and Sobel to 0', () => {
    const sum = (k: Kernel2d) => k.flat().reduce((a, b) => a + b, 0);
    for (const name of ['gaussian3', 'gaussian5', 'box-blur', 'sharpen', 'unsharp5', 'identity', 'emboss'] as const) {
      assert.ok(Math.abs(sum(namedKernels[name]) - 1) < 1e-15, `${name} sums to ${sum(namedKernels[name])}`);
    }
    for (const name of ['edge4', 'edge8', 'sobel-x', 'sobel-y'] as const) assert.equal(sum(namedKernels[name]), 0, name);
    for (const sigma of [0.5, 1, 1.6, 3]) assert.ok(Math.abs(gaussianKernel1d(sigma).reduce((a, b) => a + b, 0) - 1) < 1e-12);
  });

  it('namedKernel returns a copy and rejects unknown names', () => {
    namedKernel('identity')[1][1] = 7;
    assert.equal(namedKernels.identity[1][1], 1);
    assert.throws(() => namedKernel('blurry'), /unknown kernel "blurry".*gaussian3/);
  });

  it('parses user kernels and rejects bad ones', () => {
    assert.deepEqual(parseKernelValues('0,-1,0; -1,5,-1 ;0,-1,0'), namedKernels.sharpen);
    assert.deepEqual(parseKernelValues('1,2'), [[1, 2]]);
    assert.deepEqual(parseKernelValues('0.5,1e-1;-2,3'), [
      [0.5, 0.1],
      [-2, 3],
    ]);
    assert.throws(() => parseKernelValues('1,x,1;1,1,1'), /kernel value "x" \(row 1, column 2\) is not a number/);
    assert.throws(() => parseKernelValues('1,,1'), /kernel value "" \(row 1, column 2\)/);
    assert.throws(() => parseKernelValues('1,2;3'), /row 2 has 1 values, row 1 has 2/);
    assert.throws(() => parseKernelValues(''), /empty/);
    assert.throws(() => checkKernel3d([[[1, 2]], [[1, 2, 3]]]), /channel 2 is 1×3, channel 1 is 1×2/);
  });
});

/** A direct double loop: the definition of cross-correlation with stride, padding and border rule. */
function reference(img: PlanarImage, kernel: Kernel2d, stride: number, padding: Padding, border: Border): PlanarImage {
  const KH = kernel.length,
    KW = kernel[0].length;
  const [pH, pW] = padding === 'same' ? [(KH - 1) / 2, (KW - 1) / 2] : padding === 'valid' ? [0, 0] : [padding, padding];
  const OH = Math.floor((img.height + 2 * pH - KH) / stride) + 1,
    OW = Math.floor((img.width + 2 * pW - KW) / stride) + 1;
  const out: PlanarImage = { width: OW, height: OH, channels: img.channels, data: new Float64Array(img.channels * OH * OW) };
  const fold = (i: number, n: number): number => {
    if (border === 'clamp') return Math.min(Math.max(i, 0), n - 1);
    while (i < 0 || i >= n) i = n === 1 ? 0 : i < 0 ? -i : 2 * (n - 1) - i;
    return i;
  };
  for (let c = 0; c < img.channels; c++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        let sum = 0;
        for (let ky = 0; ky < KH; ky++) {
          for (let kx = 0; kx < KW; kx++) {
            let y = oy * stride - pH + ky,
              x = ox * stride - pW + kx;
            const outside = y < 0 || y >= img.height || x < 0 || x >= img.width;
            if (outside && border === 'zero') continue;
            y = fold(y, img.height);
            x = fold(x, img.width);
            sum += img.data[(c * img.height + y) * img.width + x] * kernel[ky][kx];
          }
        }
        out.data[(c * OH + oy) * OW + ox] = sum;
      }
    }
  }
  return out;
}

function randomImage(rng: Rng, width: number, height: number, channels: number): PlanarImage {
  return { width, height, channels, data: Float64Array.from({ length: width * height * channels }, () => rng.int(256)) };
}

function assertClose(actual: PlanarImage, expected: PlanarImage, what: string, tolerance = 1e-9): void {
  assert.deepEqual([actual.width, actual.height, actual.channels], [expected.width, expected.height, expected.channels], `${what}: shape`);
  for (let i = 0; i < expected.data.length; i++) {
    if (Math.abs(actual.data[i] - expected.data[i]) > tolerance) assert.fail(`${what}: value ${i} is ${actual.data[i]}, expected ${expected.data[i]}`);
  }
}

describe('filterImage against a direct double loop', () => {
  const rng = new Rng(5);
  const kernels: Kernel2d[] = [
    namedKernels.sharpen,
    namedKernels.gaussian5,
    namedKernels.unsharp5,
    namedKernels['sobel-x'],
    [[1, -2, 3]],
    [[0.5], [-1], [2]],
    parseKernelValues('1,2,3,4,5;-1,0,1,0,-1;2,2,2,2,2'),
  ];
  const sizes: [number, number][] = [
    [7, 9],
    [11, 5],
    [13, 13],
    [3, 5],
    [1, 7],
  ];
  const borders: Border[] = ['zero', 'clamp', 'reflect'];

  it('every kernel × odd size × stride × padding × border, per channel, unclamped and clamped', () => {
    let cases = 0;
    for (const kernel of kernels) {
      for (const [w, h] of sizes) {
        for (const stride of [1, 2, 3]) {
          for (const padding of ['same', 'valid', 1, 2, 4] as Padding[]) {
            for (const border of borders) {
              const img = randomImage(rng, w, h, cases % 2 ? 3 : 1);
              const KH = kernel.length,
                KW = kernel[0].length;
              const [pH, pW] = padding === 'same' ? [(KH - 1) / 2, (KW - 1) / 2] : padding === 'valid' ? [0, 0] : [padding, padding];
              if (h + 2 * pH < KH || w + 2 * pW < KW) {
                assert.throws(() => filterImage(img, kernel, { stride, padding, border }), /does not fit/);
                continue;
              }
              const expected = reference(img, kernel, stride, padding, border);
              const what = `${JSON.stringify(kernel)} on ${w}×${h}×${img.channels}, stride ${stride}, padding ${padding}, border ${border}`;
              assertClose(filterImage(img, kernel, { stride, padding, border, clamp: false }), expected, what);
              const clamped = filterImage(img, kernel, { stride, padding, border });
              assert.deepEqual(Array.from(clamped.data), Array.from(expected.data, clampByte), `${what}, clamped`);
              cases++;
            }
          }
        }
      }
    }
    assert.ok(cases > 1000, `${cases} cases`);
  });

  it('grey mode filters the luma image', () => {
    const img = randomImage(rng, 9, 7, 3);
    const expected = reference(toGreyImage(img), namedKernels.edge8, 1, 'same', 'reflect');
    assertClose(filterImage(img, namedKernels.edge8, { mode: 'grey', border: 'reflect', clamp: false }), expected, 'grey');
  });

  it('gives the same result through a float32 backend, within float32 precision', () => {
    const img = randomImage(rng, 11, 9, 3);
    const k = namedKernels.gaussian5;
    assertClose(filterImage(img, k, { clamp: false, backend: new RefBackend('float32') }), reference(img, k, 1, 'same', 'zero'), 'float32', 1e-3);
  });

  it('3-D colour convolution sums a C_in × k × k kernel over all channels into one map', () => {
    const img = randomImage(rng, 9, 11, 3);
    const kernel = [
      namedKernels['sobel-x'],
      namedKernels.identity,
      frac(1, [
        [0, 0, 0],
        [0, -2, 0],
        [0, 0, 1],
      ]),
    ];
    for (const [stride, padding, border] of [
      [1, 'same', 'zero'],
      [2, 'valid', 'zero'],
      [2, 1, 'reflect'],
      [3, 2, 'clamp'],
    ] as [number, Padding, Border][]) {
      const expected = { width: 0, height: 0, channels: 1, data: new Float64Array() } as PlanarImage;
      for (let c = 0; c < 3; c++) {
        const one = reference({ ...img, channels: 1, data: img.data.subarray(c * 99, (c + 1) * 99) }, kernel[c], stride, padding, border);
        if (c === 0) Object.assign(expected, one, { data: new Float64Array(one.data.length) });
        one.data.forEach((v, i) => {
          expected.data[i] += v;
        });
      }
      assertClose(convolve3d(img, kernel, { stride, padding, border, clamp: false }), expected, `3-D stride ${stride} padding ${padding} ${border}`);
    }
    // A grey image is expanded to RGB for a 3-deep kernel: the result is the sum of the three slices' filters.
    const grey = randomImage(rng, 5, 5, 1);
    const summed = filterImage(
      grey,
      [
        [1, 1, 1],
        [1, 1, 1],
        [1, 1, 1],
      ],
      { clamp: false },
    );
    const ones = [
      [1, 1, 1],
      [1, 1, 1],
      [1, 1, 1],
    ];
    assertClose(
      convolve3d(grey, [namedKernels.identity, namedKernels.identity, ones], { clamp: false }),
      { ...summed, data: summed.data.map((v, i) => v + 2 * grey.data[i]) },
      'grey to RGB',
    );
  });

  it('pads with zeros, the edge pixel, or the mirror image', () => {
    const img: PlanarImage = { width: 3, height: 1, channels: 1, data: Float64Array.from([1, 2, 3]) };
    assert.deepEqual(Array.from(padImage(img, 0, 4, 'zero').data), [0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0]);
    assert.deepEqual(Array.from(padImage(img, 0, 4, 'clamp').data), [1, 1, 1, 1, 1, 2, 3, 3, 3, 3, 3]);
    assert.deepEqual(Array.from(padImage(img, 0, 4, 'reflect').data), [1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3]);
  });

  it('rejects an even kernel with same padding, a bad stride and bad padding', () => {
    const img = randomImage(rng, 5, 5, 1);
    assert.throws(
      () =>
        filterImage(img, [
          [1, 1],
          [1, 1],
        ]),
      /padding 'same' needs a kernel of odd size, got 2×2/,
    );
    assert.throws(() => filterImage(img, [[1, 1, 1]], { stride: 0 }), /stride must be a positive integer/);
    assert.throws(() => filterImage(img, [[1, 1, 1]], { padding: -1 }), /padding must be/);
    assert.throws(() => filterImage(img, [[1, Number.NaN, 1]]), /not a number/);
  });
});

describe('properties of the classic filters', () => {
  const constant = (w: number, h: number, v: number, channels = 1): PlanarImage => ({
    width: w,
    height: h,
    channels,
    data: new Float64Array(w * h * channels).fill(v),
  });

  it('box blur of a constant image is constant away from the border (and everywhere with clamp or reflect)', () => {
    const img = constant(9, 7, 90, 3);
    const zero = filterImage(img, namedKernels['box-blur'], { clamp: false });
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 7; y++) {
        for (let x = 0; x < 9; x++) {
          const v = zero.data[(c * 7 + y) * 9 + x];
          const interior = x > 0 && y > 0 && x < 8 && y < 6;
          if (interior) assert.ok(Math.abs(v - 90) < 1e-12, `(${x}, ${y}) = ${v}`);
          else assert.ok(v < 90, 'zeros leak in at the border');
        }
      }
    }
    for (const border of ['clamp', 'reflect'] as const) {
      assert.ok(
        filterImage(img, namedKernels['box-blur'], { border, clamp: false }).data.every((v) => Math.abs(v - 90) < 1e-12),
        border,
      );
    }
  });

  it('edge detection of a constant image is zero', () => {
    const img = constant(8, 6, 200);
    for (const name of ['edge4', 'edge8', 'sobel-x', 'sobel-y'] as const) {
      assert.ok(
        filterImage(img, namedKernels[name], { padding: 'valid', clamp: false }).data.every((v) => v === 0),
        `${name} valid`,
      );
      assert.ok(
        filterImage(img, namedKernels[name], { border: 'reflect', clamp: false }).data.every((v) => v === 0),
        `${name} reflect`,
      );
    }
  });

  it('identity changes nothing; Gaussian blur keeps the mean and lowers the variance', () => {
    const rng = new Rng(2);
    const img = randomImage(rng, 15, 13, 3);
    assert.deepEqual(filterImage(img, namedKernels.identity).data, img.data);
    const blurred = gaussianBlur(img, 1.5, 'reflect');
    const stats = (a: Float64Array) => {
      const m = a.reduce((s, v) => s + v, 0) / a.length;
      return [m, a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length];
    };
    const [m0, v0] = stats(img.data),
      [m1, v1] = stats(blurred.data);
    assert.ok(Math.abs(m0 - m1) < 3, `mean ${m0} → ${m1}`);
    assert.ok(v1 < v0 / 4, `variance ${v0} → ${v1}`);
  });
});

describe('downsampling by pooling', () => {
  it('average and max over factor × factor blocks, partial blocks at the edge included', () => {
    const rng = new Rng(9);
    for (const [w, h, f] of [
      [7, 5, 2],
      [9, 9, 3],
      [6, 4, 2],
      [5, 7, 4],
      [3, 3, 1],
    ]) {
      const img = randomImage(rng, w, h, 3);
      const avg = downsample(img, { mode: 'average', factor: f }),
        max = downsample(img, { mode: 'max', factor: f });
      assert.deepEqual([avg.width, avg.height, avg.channels], [Math.ceil(w / f), Math.ceil(h / f), 3]);
      for (let c = 0; c < 3; c++) {
        for (let oy = 0; oy < avg.height; oy++) {
          for (let ox = 0; ox < avg.width; ox++) {
            const values: number[] = [];
            for (let y = oy * f; y < Math.min(h, oy * f + f); y++)
              for (let x = ox * f; x < Math.min(w, ox * f + f); x++) values.push(img.data[(c * h + y) * w + x]);
            const i = (c * avg.height + oy) * avg.width + ox;
            assert.ok(Math.abs(avg.data[i] - values.reduce((a, b) => a + b, 0) / values.length) < 1e-9);
            assert.equal(max.data[i], Math.max(...values));
          }
        }
      }
    }
    assert.throws(() => downsample(randomImage(rng, 4, 4, 1), { factor: 0 }), /positive integer/);
  });
});

describe('planar images from decoded pixels', () => {
  it('keeps colour, collapses all-grey RGB to one channel and composites alpha over white', () => {
    const rgba = Uint8Array.from([10, 20, 30, 255, 40, 50, 60, 255]);
    const colour = fromPixels(rgba, 2, 1, 4);
    assert.equal(colour.channels, 3);
    assert.deepEqual(Array.from(colour.data), [10, 40, 20, 50, 30, 60]);
    const grey = fromPixels(Uint8Array.from([7, 7, 7, 255, 9, 9, 9, 0]), 2, 1, 4);
    assert.equal(grey.channels, 1);
    assert.deepEqual(Array.from(grey.data), [7, 255]);
    // Planar R, G, B → interleaved, rounded and clamped.
    assert.deepEqual(Array.from(toPixels({ ...colour, data: Float64Array.from([-5, 300, 1.4, 1.6, 255.2, 0]) })), [0, 1, 255, 255, 2, 0]);
  });
});
