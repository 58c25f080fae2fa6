import { type Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError } from '../errors.js';
import { type Border, type Padding, convolve3d, filterImage, paddingAmount } from '../image/filter.js';
import type { PlanarImage } from '../image/image.js';
import { type Kernel2d, checkKernel3d, kernelNames, namedKernel, parseKernelValues } from '../image/kernels.js';
import { parseJsonLimited } from '../io/json.js';
import { readBytes } from '../node/mnist.js';
import { readPlanar, writePlanar } from './image-files.js';
import { checkCommandBytes } from './memory-option.js';
import { integer, jsonOption, memoryLimitOption } from './options.js';
import { Output } from './output.js';

function padding(v: string): Padding {
  if (v === 'same' || v === 'valid') return v;
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`padding must be same, valid or a non-negative integer`);
  return n;
}

/** `convkit filter`: an image convolved with a kernel, written as a PNG. */
export function registerFilterCommand(program: Command): void {
  program
    .command('filter')
    .description('convolve an image with a kernel (named, given inline, or a 3-D colour kernel) and write a PNG')
    .argument('<in>', 'PNG or JPEG image')
    .argument('<out>', 'PNG file to write')
    .addOption(new Option('--kernel <name>', 'a named kernel').choices(kernelNames))
    .option('--kernel-values <rows>', 'your own kernel: rows separated by ";", values by ",", e.g. "0,-1,0;-1,5,-1;0,-1,0"')
    .option('--kernel-3d <file>', 'a colour kernel as JSON, C_in × rows × columns (gives one feature map)')
    .option('--stride <s>', 'step between kernel positions (2 halves the size)', integer('stride', 1), 1)
    .option('--padding <p>', 'same (keep the size; odd kernels), valid (none) or N pixels each side', padding, 'same' as Padding)
    .addOption(new Option('--border <how>', 'what lies outside the image').choices(['zero', 'clamp', 'reflect']).default('zero'))
    .addOption(new Option('--per-channel', 'filter each colour channel (default)').conflicts('grey'))
    .addOption(new Option('--grey', 'filter the grey (luma) image instead'))
    .addOption(memoryLimitOption())
    .addOption(jsonOption('print the result as one JSON object'))
    .action((input: string, output: string, o) => filterCommand({ ...o, input, output }));
}

export interface FilterCommandOptions {
  input: string;
  output: string;
  kernel?: string;
  kernelValues?: string;
  kernel3d?: string;
  stride: number;
  padding: Padding;
  border: Border;
  perChannel?: boolean;
  grey?: boolean;
  json?: boolean;
  memoryLimit?: number;
}

export function filterCommand(o: FilterCommandOptions): void {
  const out = new Output(!!o.json);
  const given = [o.kernel, o.kernelValues, o.kernel3d].filter((k) => k !== undefined).length;
  if (given !== 1) throw new ConfigError('filter needs exactly one of --kernel NAME, --kernel-values "a,b,c;…" or --kernel-3d FILE');
  // Everything is checked and computed before the output file is touched.
  const image = readPlanar(o.input);
  const conv = { stride: o.stride, padding: o.padding, border: o.border };
  let result: PlanarImage;
  if (o.kernel3d !== undefined) {
    if (o.grey || o.perChannel) throw new ConfigError('--grey and --per-channel do not apply to --kernel-3d (it always gives one feature map)');
    const kernel = readKernel3d(o.kernel3d);
    checkFilterMemory(image, image.channels, 1, kernel[0].length, kernel[0][0].length, o);
    result = convolve3d(image, kernel, conv);
  } else {
    const kernel: Kernel2d = o.kernel !== undefined ? namedKernel(o.kernel) : parseKernelValues(o.kernelValues!);
    const channels = o.grey ? 1 : image.channels;
    checkFilterMemory(image, channels, channels, kernel.length, kernel[0]?.length ?? 0, o);
    result = filterImage(image, kernel, { ...conv, mode: o.grey ? 'grey' : 'per-channel' });
  }
  writePlanar(o.output, result);
  out.text(`${o.output}: ${result.width}×${result.height}, ${result.channels} channel(s)`);
  out.event({ type: 'result', width: result.width, height: result.height, channels: result.channels, output: o.output });
}

/**
 * A large padding makes a small image huge (--padding 6000 on 100×100 is 12 100 × 12 100 per
 * channel): the filter works in float64 on the padded input and its output, and the output is
 * encoded from 8-bit pixels. Refuse before any of it is allocated.
 */
function checkFilterMemory(image: PlanarImage, inChannels: number, outChannels: number, KH: number, KW: number, o: FilterCommandOptions): void {
  if (!(KH > 0 && KW > 0)) return; // the kernel's own check names the problem
  const [ph, pw] = paddingAmount(o.padding, KH, KW);
  const H = image.height + 2 * ph,
    W = image.width + 2 * pw;
  const OH = Math.max(0, Math.floor((H - KH) / o.stride) + 1),
    OW = Math.max(0, Math.floor((W - KW) / o.stride) + 1);
  const bytes = 8 * (inChannels * H * W + outChannels * OH * OW) + 2 * outChannels * OH * OW;
  checkCommandBytes(bytes, o.memoryLimit, `filter: ${o.input} (${image.width}×${image.height}) padded by ${ph}×${pw} gives a ${OW}×${OH} output that`);
}

function readKernel3d(path: string) {
  const text = new TextDecoder().decode(readBytes(path));
  const value = parseJsonLimited(text, (problem) => new ConfigError(`${path}: ${problem}`));
  return checkKernel3d(value, `${path}: 3-D kernel`);
}
