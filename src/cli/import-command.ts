import type { Command } from 'commander';
import { createBackend } from '../backend/index.js';
import { loadOnnx } from '../onnx/import.js';
import { saveModel } from '../node/files.js';
import { readBytes } from '../node/mnist.js';
import { checkCommandMemory } from './memory-option.js';
import { jsonOption, memoryLimitOption } from './options.js';
import { Output } from './output.js';

/** `convkit import`: an ONNX CNN as a convkit model file. */
export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description('import an ONNX CNN (e.g. from torch.onnx.export) as a convkit model file')
    .argument('<onnx-file>', 'ONNX model')
    .requiredOption('--out <file>', 'convkit model file to write')
    .addOption(jsonOption('print the result as JSON'))
    .addOption(memoryLimitOption())
    .action(async (file: string, o: { out: string; json?: boolean; memoryLimit?: number }) => {
      const out = new Output(!!o.json);
      const model = loadOnnx(readBytes(file), await createBackend('ref'), file);
      // A small graph can demand huge activations (a padding of thousands): refuse to import what cannot run on one image.
      checkCommandMemory(model.estimateMemory({ batchSize: 1, training: false }), o.memoryLimit, model.name);
      saveModel(o.out, model, { importedFrom: file });
      out.text(
        `${o.out}: imported ${model.summary().length} layers, ${model.parameterCount().toLocaleString('en')} parameters, input [N, ${model.inputShape.join(', ')}]`,
      );
      out.event({ type: 'result', out: o.out, layers: model.summary().length, parameters: model.parameterCount(), inputShape: model.inputShape });
    });
}
