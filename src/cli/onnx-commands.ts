import type { Command } from 'commander';
import { createBackend } from '../backend/index.js';
import { toOnnx } from '../onnx/export.js';
import { loadOnnx } from '../onnx/import.js';
import { loadModel, saveModel, writeFileAtomic } from '../node/files.js';
import { readBytes } from '../node/mnist.js';
import { checkCommandMemory, memoryLimitOption } from './memory-option.js';
import { Output } from './output.js';

/** `convkit export` and `convkit import`: moving models to and from ONNX. */
export function registerOnnxCommands(program: Command): void {
  program.command('export')
    .description('export a saved model to ONNX (opset 13) for ONNX Runtime, PyTorch and others')
    .requiredOption('--model-file <file>', 'model saved by convkit')
    .requiredOption('--out <file>', 'ONNX file to write')
    .option('--json', 'print the result as JSON')
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

  program.command('import')
    .description('import an ONNX CNN (e.g. from torch.onnx.export) as a convkit model file')
    .argument('<onnx-file>', 'ONNX model')
    .requiredOption('--out <file>', 'convkit model file to write')
    .option('--json', 'print the result as JSON')
    .addOption(memoryLimitOption())
    .action(async (file: string, o: { out: string; json?: boolean; memoryLimit?: number }) => {
      const out = new Output(!!o.json);
      const model = loadOnnx(readBytes(file), await createBackend('ref'), file);
      // A small graph can demand huge activations (a padding of thousands): refuse to import what cannot run on one image.
      checkCommandMemory(model.estimateMemory({ batchSize: 1, training: false }), o.memoryLimit, model.name);
      saveModel(o.out, model, { importedFrom: file });
      out.text(`${o.out}: imported ${model.summary().length} layers, ${model.parameterCount().toLocaleString('en')} parameters, input [N, ${model.inputShape.join(', ')}]`);
      out.event({ type: 'result', out: o.out, layers: model.summary().length, parameters: model.parameterCount(), inputShape: model.inputShape });
    });
}
