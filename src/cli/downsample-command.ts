import { type Command, Option } from 'commander';
import { type DownsampleMode, downsample } from '../image/downsample.js';
import { readPlanar, writePlanar } from './image-files.js';
import { integer, jsonOption } from './options.js';
import { Output } from './output.js';

/** `convkit downsample`: an image shrunk by an integer factor. */
export function registerDownsampleCommand(program: Command): void {
  program
    .command('downsample')
    .description('shrink an image by an integer factor, averaging or taking the maximum of each block')
    .argument('<in>', 'PNG or JPEG image')
    .argument('<out>', 'PNG file to write')
    .addOption(new Option('--mode <mode>', 'how a block becomes one pixel').choices(['average', 'max']).default('average'))
    .option('--factor <n>', 'block size', integer('factor', 1), 2)
    .addOption(jsonOption('print the result as one JSON object'))
    .action((input: string, output: string, o) => downsampleCommand({ ...o, input, output }));
}

export interface DownsampleCommandOptions {
  input: string;
  output: string;
  mode: DownsampleMode;
  factor: number;
  json?: boolean;
}

export function downsampleCommand(o: DownsampleCommandOptions): void {
  const out = new Output(!!o.json);
  const result = downsample(readPlanar(o.input), { mode: o.mode, factor: o.factor });
  writePlanar(o.output, result);
  out.text(`${o.output}: ${result.width}×${result.height}, ${result.channels} channel(s)`);
  out.event({ type: 'result', width: result.width, height: result.height, channels: result.channels, output: o.output });
}
