import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { convolve3d, filterImage } from '../src/image/filter.js';
import { fromPixels } from '../src/image/image.js';
import { namedKernels } from '../src/image/kernels.js';
import { readImage, writePng } from '../src/node/image.js';

// These run the built CLI (dist/): `npm test` builds first; alone, run `npx tsc -p .` before.
const dir = mkdtempSync(join(tmpdir(), 'convkit-image-cli-'));
const cli = (...args: string[]) => spawnSync(process.execPath, [join(process.cwd(), 'bin/convkit.js'), ...args], { encoding: 'utf8', cwd: dir });
const path = (name: string) => join(dir, name);

/** Writes a grey PNG whose pixel values are the digits of the rows times `scale`. */
function writeDigits(name: string, rows: string[], scale = 1): string {
  writePng(path(name), { width: rows[0].length, height: rows.length, channels: 1, pixels: Uint8Array.from(rows.join(''), (c) => Number(c) * scale) });
  return name;
}

/** The raw pixel values of a grey PNG as rows of numbers. */
function readGrid(name: string): number[][] {
  const img = readImage(path(name));
  return Array.from({ length: img.height }, (_, y) => Array.from({ length: img.width }, (_, x) => img.pixels[(y * img.width + x) * img.channels]));
}

const digits = (rows: string[]) => rows.map((r) => r.split('').map(Number));
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);

const seven = ['0000000', '0111110', '0100100', '0101000', '0110000', '0100000', '0000000'];
const six = ['111110', '100100', '101000', '110000', '100000', '000000'];

// PNG pixels are 0–255; the binary images are stored as 0/1 (0/4 for averaging, so that
// quarters stay whole numbers) and the outputs read back raw, unscaled.
describe("convkit filter / downsample: the lecture's worked examples on PNG files", () => {
  it('7×7 binary image ⊛ [[0,0,0],[0,1,1],[0,1,0]], valid padding → 32231 / 20210 / 22100 / 31000 / 10000', () => {
    const r = cli('filter', '--kernel-values', '0,0,0;0,1,1;0,1,0', '--padding', 'valid', writeDigits('seven.png', seven), 'seven-out.png', '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(lastJson(r.stdout), { type: 'result', width: 5, height: 5, channels: 1, output: 'seven-out.png' });
    assert.deepEqual(readGrid('seven-out.png'), digits(['32231', '20210', '22100', '31000', '10000']));
  });

  it('stride 2 with a 2×2 kernel of ones on the 6×6 image → 331 / 310 / 100', () => {
    const r = cli('filter', '--kernel-values', '1,1;1,1', '--stride', '2', '--padding', 'valid', writeDigits('six.png', six), 'six-stride2.png');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /six-stride2\.png: 3×3, 1 channel/);
    assert.deepEqual(readGrid('six-stride2.png'), digits(['331', '310', '100']));
  });

  it('average downsampling of it → ¾ ¾ ¼ / ¾ ¼ 0 / ¼ 0 0 (image stored ×4, so 3 3 1 / 3 1 0 / 1 0 0); max → 1 1 1 / 1 1 0 / 1 0 0', () => {
    writeDigits('six4.png', six, 4);
    const avg = cli('downsample', '--mode', 'average', '--factor', '2', 'six4.png', 'six-avg.png', '--json');
    assert.equal(avg.status, 0, avg.stderr);
    assert.deepEqual(lastJson(avg.stdout), { type: 'result', width: 3, height: 3, channels: 1, output: 'six-avg.png' });
    assert.deepEqual(readGrid('six-avg.png'), [
      [3, 3, 1],
      [3, 1, 0],
      [1, 0, 0],
    ]);
    const max = cli('downsample', '--mode', 'max', 'six4.png', 'six-max.png');
    assert.equal(max.status, 0, max.stderr);
    assert.deepEqual(readGrid('six-max.png'), [
      [4, 4, 4],
      [4, 4, 0],
      [4, 0, 0],
    ]);
  });

  it('the same 7×7 example through the library kernel, with stride and the other paddings', () => {
    const img = fromPixels(Uint8Array.from(seven.join(''), Number), 7, 7, 1);
    const k = [
      [0, 0, 0],
      [0, 1, 1],
      [0, 1, 0],
    ];
    assert.deepEqual(Array.from(filterImage(img, k, { padding: 'valid', stride: 2 }).data), [3, 2, 1, 2, 1, 0, 1, 0, 0]);
    const same = filterImage(img, k, { padding: 'same' });
    assert.equal(same.width, 7);
    assert.equal(same.data[8], 3); // the 'valid' result's top-left sits at (1, 1)
  });
});

describe('convkit filter on colour images', () => {
  const W = 9,
    H = 7;
  const rgb = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 53 + (i % 3) * 17) % 256);
  writePng(path('colour.png'), { width: W, height: H, channels: 3, pixels: rgb });
  const image = fromPixels(rgb, W, H, 3);

  it('filters every channel, or the grey image, and reports the output shape', () => {
    const per = cli('filter', '--kernel', 'gaussian3', '--border', 'reflect', 'colour.png', 'blur.png', '--json');
    assert.equal(per.status, 0, per.stderr);
    assert.deepEqual(lastJson(per.stdout), { type: 'result', width: 9, height: 7, channels: 3, output: 'blur.png' });
    const expected = filterImage(image, namedKernels.gaussian3, { border: 'reflect' });
    const got = readImage(path('blur.png'));
    for (let c = 0; c < 3; c++) for (let i = 0; i < W * H; i++) assert.equal(got.pixels[i * 4 + c], expected.data[c * W * H + i]);
    const grey = cli('filter', '--kernel', 'sharpen', '--grey', '--stride', '2', 'colour.png', 'grey.png', '--json');
    assert.equal(grey.status, 0, grey.stderr);
    assert.deepEqual(lastJson(grey.stdout), { type: 'result', width: 5, height: 4, channels: 1, output: 'grey.png' });
  });

  it('--kernel-3d applies a C_in × k × k kernel given as JSON and gives one feature map', () => {
    const kernel = [
      namedKernels['sobel-x'],
      namedKernels.identity,
      [
        [0, 0, 0],
        [0, -1, 0],
        [0, 0, 0],
      ],
    ];
    writeFileSync(path('k3.json'), JSON.stringify(kernel));
    const r = cli('filter', '--kernel-3d', 'k3.json', '--padding', '1', '--border', 'clamp', 'colour.png', 'k3.png', '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(lastJson(r.stdout), { type: 'result', width: 9, height: 7, channels: 1, output: 'k3.png' });
    const expected = convolve3d(image, kernel, { padding: 1, border: 'clamp' });
    assert.deepEqual(Array.from(readImage(path('k3.png')).pixels.filter((_, i) => i % 4 === 0)), Array.from(expected.data));
  });
});

describe('convkit filter / downsample: bad input', () => {
  writeDigits('ok.png', seven);
  const png = readFileSync(path('ok.png'));
  writeFileSync(path('truncated.png'), png.subarray(0, Math.floor(png.length / 2)));
  writeFileSync(path('k-bad.json'), '[[[1, 2], [3]]]');

  const cases: [string, string[], RegExp][] = [
    ['a missing file', ['filter', '--kernel', 'edge4', 'missing.png', 'out1.png'], /cannot read missing\.png: no such file/],
    ['a truncated PNG', ['filter', '--kernel', 'edge4', 'truncated.png', 'out2.png'], /truncated\.png: cannot decode PNG image: the file is truncated/],
    ['an even kernel with same padding', ['filter', '--kernel-values', '1,1;1,1', 'ok.png', 'out3.png'], /padding 'same' needs a kernel of odd size, got 2×2/],
    [
      'a non-numeric kernel value',
      ['filter', '--kernel-values', '1,2,3;4,five,6;7,8,9', 'ok.png', 'out4.png'],
      /kernel value "five" \(row 2, column 2\) is not a number/,
    ],
    ['no kernel', ['filter', 'ok.png', 'out5.png'], /needs exactly one of --kernel/],
    ['two kernels', ['filter', '--kernel', 'edge4', '--kernel-values', '1', 'ok.png', 'out6.png'], /needs exactly one of --kernel/],
    ['an unknown kernel name', ['filter', '--kernel', 'blurry', 'ok.png', 'out7.png'], /invalid.*blurry|Allowed choices/],
    ['a ragged 3-D kernel', ['filter', '--kernel-3d', 'k-bad.json', 'ok.png', 'out8.png'], /k-bad\.json: 3-D kernel, channel 1: row 2 has 1 values/],
    [
      'a kernel larger than the image',
      ['filter', '--kernel-values', '1,1,1,1,1,1,1,1,1', '--padding', 'valid', 'ok.png', 'out9.png'],
      /does not fit a 7×7 image/,
    ],
    ['a bad stride', ['filter', '--kernel', 'edge4', '--stride', '0', 'ok.png', 'out10.png'], /stride must be an integer ≥ 1/],
    ['a missing file to downsample', ['downsample', 'missing.png', 'out11.png'], /cannot read missing\.png: no such file/],
    ['a truncated PNG to downsample', ['downsample', 'truncated.png', 'out12.png'], /truncated\.png: cannot decode PNG/],
  ];
  for (const [what, args, message] of cases) {
    it(`${what}: a clear error, non-zero exit, no output file`, () => {
      const r = cli(...args);
      assert.notEqual(r.status, 0, `${what}: exit 0`);
      assert.match(r.stderr, message);
      assert.ok(!existsSync(path(args.at(-1)!)), `${args.at(-1)} was written`);
    });
  }

  it('leaves no temporary files behind', () => {
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
    );
  });

  it('--json reports an error as a JSON line too', () => {
    const r = cli('filter', '--kernel', 'edge4', 'missing.png', 'out.png', '--json');
    assert.equal(r.status, 1);
    assert.equal(lastJson(r.stdout).type, 'error');
  });
});
