import { Command } from 'commander';
import { registerBaselineCommand } from './baseline-command.js';
import { closeBackends } from './backends.js';
import { registerDownsampleCommand } from './downsample-command.js';
import { ErrorReport, debugOption } from './errors.js';
import { registerEvalCommand } from './eval-command.js';
import { registerExplainCommand } from './explain-command.js';
import { registerExportCommand } from './export-command.js';
import { registerFilterCommand } from './filter-command.js';
import { registerImportCommand } from './import-command.js';
import { registerInfoCommand } from './info-command.js';
import { registerPredictCommand } from './predict-command.js';
import { registerSummaryCommand } from './summary-command.js';
import { registerTrainCommand } from './train-command.js';
import { registerVisualizeCommand } from './visualize-command.js';

/** Every command, in the order `convkit --help` lists them; each module adds its options and action. */
const commands: ((program: Command) => void)[] = [
  registerTrainCommand,
  registerEvalCommand,
  registerPredictCommand,
  registerSummaryCommand,
  registerInfoCommand,
  registerFilterCommand,
  registerDownsampleCommand,
  registerBaselineCommand,
  registerExportCommand,
  registerImportCommand,
  registerExplainCommand,
  registerVisualizeCommand,
];

export function buildProgram(): Command {
  const program = new Command('convkit')
    .description('Convolutional neural networks in TypeScript: train, evaluate and run CNNs on the CPU')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(s) });
  for (const register of commands) register(program);
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
