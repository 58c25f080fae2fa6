import { Command, InvalidArgumentError, Option } from 'commander';
import { backendNames } from '../backend/index.js';
import { ConvkitError } from '../errors.js';
import { closeBackends, evalCommand, infoCommand, predictCommand, summaryCommand, trainCommand } from './commands.js';
import { registerOnnxCommands } from './onnx-commands.js';
import { registerImageCommands } from './image-commands.js';
import { registerExplainCommand } from './explain-command.js';
import { registerVisualizeCommand } from './visualize-command.js';

function int(name: string, min = 0) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    return n;
  };
}

function positiveNumber(name: string, allowZero = false) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new InvalidArgumentError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number`);
    return n;
  };
}

const jsonOption = () => new Option('--json', 'print one JSON object per line: progress events, then the result');
const backendOption = () => new Option('--backend <name>', 'compute backend: auto (WebGPU on a hardware GPU, else wasm), wasm (SIMD kernels, threads), webgpu (GPU; in Node through the webgpu package) or ref (plain reference)').choices(backendNames).default('auto');
const threadsOption = () => new Option('--threads <n>', 'compute threads for the wasm backend (default: all cores)').argParser(int('threads', 1));

export function buildProgram(): Command {
  const program = new Command('convkit')
    .description('Convolutional neural networks in TypeScript: train, evaluate and run CNNs on the CPU')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(s) });

  program.command('train')
    .description('train a model on a dataset and save it (defaults: LeNet-5 on MNIST)')
    .option('--model <name>', 'model from the zoo (see convkit summary)', 'lenet5')
    .option('--dataset <name>', 'mnist, fashion-mnist or folder:PATH (PATH/<class>/*.png|jpg)', 'mnist')
    .option('--epochs <n>', 'passes over the training set (model default)', int('epochs', 1))
    .option('--batch <n>', 'minibatch size (model default: 64)', int('batch', 1))
    .option('--lr <x>', 'base learning rate (model default)', positiveNumber('lr'))
    .addOption(new Option('--optimizer <name>', 'optimizer (model default: sgd)').choices(['sgd', 'adam', 'adamw']))
    .option('--momentum <x>', 'SGD momentum (default 0.9)', positiveNumber('momentum', true))
    .option('--weight-decay <x>', 'L2 weight decay on weights (default 5e-4)', positiveNumber('weight decay', true))
    .addOption(new Option('--schedule <name>', 'learning-rate schedule (default cosine)').choices(['cosine', 'step', 'constant']))
    .option('--seed <n>', 'random seed: same seed, same run bit for bit', int('seed'), 1)
    .option('--train-limit <n>', 'use only the first N training images', int('train-limit', 1))
    .option('--test-limit <n>', 'use only the first N test images', int('test-limit', 1))
    .option('--shift <px>', 'augment with random translations of up to this many pixels (model default, usually 0)', int('shift'))
    .option('--flip', 'augment with random horizontal flips (natural images)')
    .option('--input-size <n>', 'model input side in pixels (model default; folder images are resized to it)', int('input-size', 8))
    .option('--channels <n>', 'image channels for folder datasets: 1 or 3 (default 3)', (v: string) => {
      if (v !== '1' && v !== '3') throw new InvalidArgumentError('channels must be 1 or 3');
      return Number(v);
    })
    .option('--clip-grad-norm <x>', 'rescale gradients whose global L2 norm exceeds x', positiveNumber('clip-grad-norm'))
    .option('--out <file>', 'where to save the trained model (default: MODEL.convkit)')
    .option('--checkpoint-dir <dir>', 'write resumable checkpoints here (atomically; the previous one is kept)')
    .option('--checkpoint-every <n>', 'also checkpoint every N batches (default: each epoch)', int('checkpoint-every', 1))
    .option('--resume <dir>', 'continue the run checkpointed in DIR with its saved settings (--epochs may extend it)')
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(jsonOption())
    .action((o) => trainCommand(o));

  program.command('eval')
    .description('test accuracy and confusion matrix of a saved model')
    .requiredOption('--model-file <file>', 'model saved by convkit train')
    .option('--dataset <name>', 'dataset (default: the one it was trained on)')
    .option('--test-limit <n>', 'use only the first N test images', int('test-limit', 1))
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(jsonOption())
    .action((o) => evalCommand(o));

  program.command('predict')
    .description('top classes with probabilities for PNG or JPEG images')
    .requiredOption('--model-file <file>', 'model saved by convkit train')
    .argument('<images...>', 'image files (any size; converted to grey and fitted to the model input)')
    .option('--top <k>', 'how many classes to show', int('top', 1), 3)
    .addOption(new Option('--preprocess <how>', 'mnist: centre the ink by mass in a 20×20 box like MNIST; resize: plain resize').choices(['mnist', 'resize']).default('mnist'))
    .addOption(new Option('--invert <when>', 'invert dark-on-light pictures (auto: when the mean is light)').choices(['auto', 'yes', 'no']).default('auto'))
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(jsonOption())
    .action((images, o) => predictCommand({ ...o, images }));

  program.command('summary')
    .description('per-layer table of a model: output shapes and parameter counts')
    .option('--model <name>', 'model from the zoo')
    .option('--model-file <file>', 'a saved model')
    .addOption(jsonOption())
    .action((o) => summaryCommand(o));

  program.command('info')
    .description('the backend, its capabilities, and what is available')
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(jsonOption())
    .action((o) => infoCommand(o));

  registerImageCommands(program);
  registerOnnxCommands(program);
  registerExplainCommand(program);
  registerVisualizeCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0; // e.g. 130 after an interrupted run
  } catch (e) {
    if (e && typeof e === 'object' && 'code' in e && typeof e.code === 'string' && e.code.startsWith('commander.')) {
      const code = (e as { exitCode?: number }).exitCode ?? 2;
      return code === 0 ? 0 : 2; // help and version exit 0; usage errors 2
    }
    const message = e instanceof ConvkitError ? e.message : (e as Error)?.stack ?? String(e);
    process.stderr.write(`convkit: error: ${message}\n`);
    if (argv.includes('--json')) process.stdout.write(JSON.stringify({ type: 'error', error: e instanceof Error ? e.message : String(e) }) + '\n');
    return 1;
  } finally {
    closeBackends();
  }
}
