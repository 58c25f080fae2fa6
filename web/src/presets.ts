/** The network editor's presets: the two zoo nets the library ships, and a stronger one. */
import { type ModelSpec, sequential, zoo } from 'convkit';
import { CLASSES } from './network-def.js';

export interface Preset {
  id: string;
  label: string;
  spec: ModelSpec;
}

/** Twice the filters of the ConvNetJS net plus a hidden layer, regularised with dropout. */
function stronger(): ModelSpec {
  return sequential(
    'stronger',
    [1, 24, 24],
    [
      { type: 'conv2d', filters: 16, kernel: 5, padding: 2 },
      { type: 'relu' },
      { type: 'maxpool2d', kernel: 2, stride: 2 },
      { type: 'conv2d', filters: 32, kernel: 5, padding: 2 },
      { type: 'relu' },
      { type: 'maxpool2d', kernel: 2, stride: 2 },
      { type: 'flatten' },
      { type: 'dropout', rate: 0.25 },
      { type: 'dense', units: 128 },
      { type: 'relu' },
      { type: 'dropout', rate: 0.5 },
      { type: 'dense', units: 10 },
    ],
    CLASSES,
  );
}

export const presets: Preset[] = [
  { id: 'convnetjs', label: 'ConvNetJS demo net', spec: zoo['convnetjs-mnist'].build() },
  { id: 'lenet5', label: 'LeNet-5', spec: zoo.lenet5.build() },
  { id: 'stronger', label: 'Stronger (more filters + dropout)', spec: stronger() },
];
