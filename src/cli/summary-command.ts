import type { Command } from 'commander';
import { createBackend } from '../backend/index.js';
import { ConfigError } from '../errors.js';
import { Model } from '../model/model.js';
import { receptiveFields } from '../model/receptive-field.js';
import { zoo, zooEntry } from '../model/zoo.js';
import { shapeToString } from '../tensor.js';
import { loadAnyModel } from './model-source.js';
import { type CommonOptions, jsonOption } from './options.js';
import { Output, table } from './output.js';

/** `convkit summary`: a model's layers, shapes, parameters and receptive fields. */
export function registerSummaryCommand(program: Command): void {
  program
    .command('summary')
    .description('per-layer table of a model: output shapes and parameter counts')
    .option('--model <name>', 'model from the zoo')
    .option('--model-file <file>', 'a saved model (.convkit) or an ONNX file')
    .addOption(jsonOption())
    .action((o) => summaryCommand(o));
}

export interface SummaryCommandOptions extends CommonOptions {
  model?: string;
  modelFile?: string;
}

export async function summaryCommand(o: SummaryCommandOptions): Promise<void> {
  const out = new Output(!!o.json);
  const backend = await createBackend('ref');
  let model: Model;
  if (o.modelFile) model = loadAnyModel(o.modelFile, backend).model;
  else if (o.model) model = new Model(zooEntry(o.model).build(), backend);
  else throw new ConfigError(`summary needs --model NAME (one of: ${Object.keys(zoo).join(', ')}) or --model-file FILE`);
  const fields = receptiveFields(model);
  const rows = model.summary().map((r) => ({ ...r, receptiveField: fields.get(r.name)! }));
  const isChain = rows.every((r, i) => r.inputs.length === 1 && r.inputs[0] === (i === 0 ? 'input' : rows[i - 1].name));
  const headers = ['Layer (type)', 'Output shape', 'Param #', 'RF size', 'Jump', ...(isChain ? [] : ['Connected to'])];
  // One number when rows and columns agree; jump 0 (no spatial positions left) shows as —.
  const axes = ([h, w]: [number, number]) => (h === w ? String(h) : `${h}×${w}`);
  const jump = (j: [number, number]) => (j[0] === 0 && j[1] === 0 ? '—' : axes(j));
  const body = [
    ['input (input)', shapeToString(['N', ...model.inputShape] as never), 0, '1', '1', ...(isChain ? [] : [''])],
    ...rows.map((r) => [
      `${r.name} (${r.type})`,
      shapeToString(['N', ...r.outputShape] as never),
      r.params.toLocaleString('en'),
      axes(r.receptiveField.size),
      jump(r.receptiveField.jump),
      ...(isChain ? [] : [r.inputs.join(', ')]),
    ]),
  ];
  out.text(`Model: ${model.name}`);
  out.text(table(headers, body, [false, false, true, true, true, false]));
  out.text(`Total params: ${model.parameterCount().toLocaleString('en')}`);
  out.text(
    'RF size: input pixels (rows × columns) one output position sees, padding included; jump: input pixels between neighbouring positions (—: none left).',
  );
  out.event({ type: 'result', model: model.name, inputShape: model.inputShape, layers: rows, totalParams: model.parameterCount() });
}
