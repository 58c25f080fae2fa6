import type { Command } from 'commander';
import { createBackend } from '../backend/index.js';
import { toOnnx } from '../onnx/export.js';
import { loadModel, writeFileAtomic } from '../node/files.js';
import { checkCommandMemory } from './memory-option.js';
import { jsonOption, memoryLimitOption } from './options.js';
import { Output } from './output.js';

/** `convkit export`: a saved model as an ONNX file. */
export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('export a saved model to ONNX (opset 13) for ONNX Runtime, PyTorch and others')
    .requiredOption('--model-file <file>', 'model saved by convkit')
    .requiredOption('--out <file>', 'ONNX file to write')
    .addOption(jsonOption('print the result as JSON'))
    .addOption(memoryLimitOption())
    .action(async (o: { modelFile: string; out: string; json?: boolean; memoryLimit?: number }) => {
      const out = new Output(!!o.json);
      const { model } = loadModel(o.modelFile, await createBackend('ref'));
      // What is exported should run: one image must fit the same budget as predict.
      checkCommandMemory(model.estimateMemory({ batchSize: 1, training: false }), o.memoryLimit, model.name);
      const bytes = toOnnx(model);
      writeFileAtomic(o.out, bytes);
      out.text(`${o.out}: ${model.name} as ONNX (opset 13), ${bytes.length.toLocaleString('en')} bytes; input "input" [N, ${model.inputShape.join(', ')}]`);
      out.event({ type: 'result', out: o.out, bytes: bytes.length, model: model.name, inputShape: model.inputShape });
    });
}
