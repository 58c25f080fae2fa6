import { Command, InvalidArgumentError, Option } from 'commander';
import { availableParallelism } from 'node:os';
import { backendNames } from '../backend/index.js';
import { MAX_THREADS, checkThreads } from '../backend/wasm.js';
import { ConvkitError } from '../errors.js';
import { statisticsProblem } from '../io/data-info.js';
import { type SettingName, describeRule, satisfies, settingRules, weightDecayTargets } from '../train/settings.js';
import { closeBackends, evalCommand, infoCommand, predictCommand, summaryCommand, trainCommand } from './commands.js';
import { registerOnnxCommands } from './onnx-commands.js';
import { registerImageCommands } from './image-commands.js';
import { ErrorReport, debugOption } from './errors.js';
import { registerExplainCommand } from './explain-command.js';
import { memoryLimitOption } from './memory-option.js';
import { registerVisualizeCommand } from './visualize-command.js';

function int(name: string, min = 0) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    return n;
  };
}

/** A training setting's flag, checked by the same rule as train() and resumed checkpoints. */
function setting(name: SettingName, flag: string) {
  const rule = settingRules[name];
  return (v: string) => {
    const n = v.trim() === '' ? NaN : Number(v);
    if (!satisfies(n, rule)) throw new InvalidArgumentError(`${flag} must be ${describeRule(rule)}`);
    return n;
  };
}

/** --mean/--std: comma-separated numbers in the range a model file may record (a run must not save a file that cannot be loaded). */
function statistics(key: 'mean' | 'std') {
  const example = key === 'mean' ? '0.485,0.456,0.406' : '0.229,0.224,0.225';
  return (v: string) => {
    const parts = v.split(',').map((x) => x.trim());
    const values = parts.map((x) => (x === '' ? NaN : Number(x)));
    const bad = values.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new InvalidArgumentError(`--${key} must be comma-separated numbers, one per channel (e.g. ${example}); "${parts[bad]}" is not a number`);
    const problem = statisticsProblem(key, values);
    if (problem) throw new InvalidArgumentError(`--${key}: ${problem} (statistics of pixel values scaled to 0–1, e.g. ${example})`);
    return values;
  };
}

const jsonOption = () => new Option('--json', 'print one JSON object per line: progress events, then the result');
const backendOption = () => new Option('--backend <name>', 'compute backend: auto (WebGPU on a hardware GPU, else wasm), wasm (SIMD kernels, threads), webgpu (GPU; in Node through the webgpu package) or ref (plain reference)').choices(backendNames).default('auto');
const threadsOption = () => new Option('--threads <n>', `compute threads for the wasm backend: 1 to the number of cores, at most ${MAX_THREADS} (default: all cores)`)
  .argParser((v: string) => {
    try {
      return checkThreads(Number(v), availableParallelism());
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  });

export function buildProgram(): Command {
  const program = new Command('convkit')
    .description('Convolutional neural networks in TypeScript: train, evaluate and run CNNs on the CPU')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(s) });

  program.command('train')
    .description('train a model on a dataset and save it (defaults: LeNet-5 on MNIST)')
    .option('--model <name>', 'model from the zoo (see convkit summary; default lenet5)')
    .option('--from <file>', 'fine-tune or continue the model in this .convkit or .onnx file instead of a zoo model')
    .option('--new-head <n>', 'with --from: replace the classifier by a new one for the dataset\'s N classes', int('new-head', 2))
    .option('--freeze <node>', 'with --from: freeze every node up to and including this one (names as convkit summary --model-file shows)')
    .option('--lr-pretrained <x>', 'with --from: learning rate of the pretrained layers (default lr/10 with --new-head, else lr)', setting('lr', '--lr-pretrained'))
    .option('--mean <list>', 'with --from: per-channel mean of pixel/255 to normalise with (default: the model file\'s; ImageNet\'s for imported 3-channel models of input ≥ 64)', statistics('mean'))
    .option('--std <list>', 'with --from: per-channel standard deviation to normalise with', statistics('std'))
    .option('--resized-crop', 'augment with random resized crops (torchvision RandomResizedCrop; default with --from on colour folder datasets)')
    .option('--no-resized-crop', 'no random resized crops')
    .option('--dataset <name>', 'mnist, fashion-mnist or folder:PATH (PATH/<class>/*.png|jpg)', 'mnist')
    .option('--epochs <n>', 'passes over the training set (model default)', setting('epochs', '--epochs'))
    .option('--batch <n>', 'minibatch size (model default: 64)', setting('batchSize', '--batch'))
    .option('--lr <x>', 'base learning rate (model default)', setting('lr', '--lr'))
    .addOption(new Option('--optimizer <name>', 'optimizer (model default: sgd)').choices(['sgd', 'adam', 'adamw']))
    .option('--momentum <x>', 'SGD momentum (default 0.9)', setting('momentum', '--momentum'))
    .option('--weight-decay <x>', 'L2 weight decay (default 5e-4)', setting('weightDecay', '--weight-decay'))
    .addOption(new Option('--weight-decay-on <params>', 'what weight decay applies to: weights (conv and dense weights; default) or all (every parameter, as PyTorch)').choices([...weightDecayTargets]))
    .addOption(new Option('--schedule <name>', 'learning-rate schedule (default cosine)').choices(['cosine', 'step', 'constant']))
    .option('--seed <n>', 'random seed: same seed, same run bit for bit', setting('seed', '--seed'), 1)
    .option('--train-limit <n>', 'use only the first N training images', setting('trainLimit', '--train-limit'))
    .option('--test-limit <n>', 'use only the first N test images', setting('testLimit', '--test-limit'))
    .option('--shift <px>', 'augment with random translations of up to this many pixels (model default, usually 0)', setting('shift', '--shift'))
    .option('--flip', 'augment with random horizontal flips (natural images; default with --from on colour folder datasets)')
    .option('--no-flip', 'no random flips')
    .option('--input-size <n>', 'model input side in pixels (model default; folder images are resized to it)', setting('inputSize', '--input-size'))
    .option('--channels <n>', 'image channels for folder datasets: 1 or 3 (default 3)', (v: string) => {
      if (v !== '1' && v !== '3') throw new InvalidArgumentError('channels must be 1 or 3');
      return Number(v);
    })
    .option('--clip-grad-norm <x>', 'rescale gradients whose global L2 norm exceeds x', setting('clipGradNorm', '--clip-grad-norm'))
    .option('--out <file>', 'where to save the trained model (default: MODEL.convkit)')
    .option('--checkpoint-dir <dir>', 'write resumable checkpoints here (atomically; the previous one is kept)')
    .option('--checkpoint-every <n>', 'also checkpoint every N batches (default: each epoch)', setting('checkpointEvery', '--checkpoint-every'))
    .option('--resume <dir>', 'continue the run checkpointed in DIR with its saved settings (--epochs may extend it)')
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(jsonOption())
    .addOption(memoryLimitOption())
    .action((o) => trainCommand(o));

  program.command('eval')
    .description('test accuracy and confusion matrix of a saved model')
    .requiredOption('--model-file <file>', 'model saved by convkit train, or an ONNX file (.onnx)')
    .option('--dataset <name>', 'dataset (default: the one it was trained on; needed for .onnx files)')
    .option('--test-limit <n>', 'use only the first N test images', setting('testLimit', '--test-limit'))
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(jsonOption())
    .addOption(memoryLimitOption())
    .action((o) => evalCommand(o));

  program.command('predict')
    .description('top classes with probabilities for PNG or JPEG images')
    .requiredOption('--model-file <file>', 'model saved by convkit train')
    .argument('<images...>', 'image files (any size; converted to grey and fitted to the model input)')
    .option('--top <k>', 'how many classes to show', int('top', 1), 3)
    .option('--labels <file>', 'class names, one a line (e.g. the 1000 ImageNet classes), instead of those the model file keeps')
    .addOption(new Option('--preprocess <how>', 'mnist: centre the ink by mass in a 20×20 box like MNIST; resize: plain resize').choices(['mnist', 'resize']).default('mnist'))
    .addOption(new Option('--invert <when>', 'invert dark-on-light pictures (auto: when the mean is light)').choices(['auto', 'yes', 'no']).default('auto'))
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(jsonOption())
    .addOption(memoryLimitOption())
    .action((images, o) => predictCommand({ ...o, images }));

  program.command('summary')
    .description('per-layer table of a model: output shapes and parameter counts')
    .option('--model <name>', 'model from the zoo')
    .option('--model-file <file>', 'a saved model (.convkit) or an ONNX file')
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
  // --debug is accepted before or after the command name.
  program.addOption(debugOption());
  for (const command of program.commands) command.addOption(debugOption());
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const report = new ErrorReport(argv);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0; // e.g. 130 after an interrupted run
  } catch (e) {
    return report.fail(e);
  } finally {
    closeBackends();
  }
}
