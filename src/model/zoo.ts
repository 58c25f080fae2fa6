import { ConfigError } from '../errors.js';
import type { LayerSpec } from '../layers/index.js';
import { type ModelSpec, sequential } from './model.js';
import { alexnet, alexnetTv, densenet121, googlenet, resnet18, resnet50, vgg11, vgg16, zfnet } from './zoo-classic.js';

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

export interface ZooOptions {
  classes?: number;
  /** Per-example input [C, H, W]; each model has its own default. */
  inputShape?: [number, number, number];
  /** Channel multiplier for small versions of the big networks (1 = as published). */
  width?: number;
}

export interface ZooEntry {
  description: string;
  build(options?: ZooOptions): ModelSpec;
}

/**
 * LeNet-5 (LeCun et al. 1998) as it is usually trained today. Departures from the paper:
 * the 28×28 MNIST digit is zero-padded by 2 (the paper padded the images to 32×32, same
 * geometry); ReLU instead of the scaled tanh; max pooling instead of the trainable
 * subsampling; C3 is fully connected to S2 instead of the paper's partial connection table;
 * the output is a plain 10-way linear layer with softmax instead of Euclidean RBF units.
 */
function lenet5({ classes = 10, inputShape = [1, 28, 28] }: ZooOptions = {}): ModelSpec {
  return sequential(
    'lenet5',
    inputShape,
    [
      { type: 'conv2d', filters: 6, kernel: 5, padding: 2 },
      { type: 'relu' },
      { type: 'maxpool2d', kernel: 2, stride: 2 },
      { type: 'conv2d', filters: 16, kernel: 5 },
      { type: 'relu' },
      { type: 'maxpool2d', kernel: 2, stride: 2 },
      { type: 'flatten' },
      { type: 'dense', units: 120 },
      { type: 'relu' },
      { type: 'dense', units: 84 },
      { type: 'relu' },
      { type: 'dense', units: classes },
    ],
    classes === 10 ? DIGITS : undefined,
  );
}

/**
 * The network of ConvNetJS's MNIST demo (Karpathy): 24×24 crops (random in training,
 * central in evaluation), conv 5×5×8 pad 2, max-pool 2/2, conv 5×5×16 pad 2, max-pool 3/3,
 * fully connected to 10 classes.
 */
function convnetjsMnist({ classes = 10, inputShape = [1, 24, 24] }: ZooOptions = {}): ModelSpec {
  return sequential(
    'convnetjs-mnist',
    inputShape,
    [
      { type: 'conv2d', filters: 8, kernel: 5, padding: 2 },
      { type: 'relu' },
      { type: 'maxpool2d', kernel: 2, stride: 2 },
      { type: 'conv2d', filters: 16, kernel: 5, padding: 2 },
      { type: 'relu' },
      { type: 'maxpool2d', kernel: 3, stride: 3 },
      { type: 'flatten' },
      { type: 'dense', units: classes },
    ],
    classes === 10 ? DIGITS : undefined,
  );
}

export const zoo: Record<string, ZooEntry> = {
  lenet5: {
    description: 'LeNet-5 (1998), ReLU and max-pool, 28×28 input',
    build: lenet5,
  },
  'convnetjs-mnist': {
    description: "ConvNetJS's MNIST demo net, 24×24 crops",
    build: convnetjsMnist,
  },
};

/**
 * The strongest MNIST recipe in the zoo: two VGG-style stages of 3×3 convolutions with batch
 * norm (16 and 32 channels), a 128-unit hidden layer with dropout, trained with random shifts.
 */
function mnistBest({ classes = 10, inputShape = [1, 28, 28], width = 1 }: ZooOptions = {}): ModelSpec {
  const c = (n: number) => Math.max(1, Math.round(n * width));
  const convBn = (filters: number): LayerSpec[] => [
    { type: 'conv2d', filters: c(filters), kernel: 3, padding: 1, bias: false },
    { type: 'batchnorm2d' },
    { type: 'relu' },
  ];
  return sequential(
    'mnist-best',
    inputShape,
    [
      ...convBn(16),
      ...convBn(16),
      { type: 'maxpool2d', kernel: 2 },
      ...convBn(32),
      ...convBn(32),
      { type: 'maxpool2d', kernel: 2 },
      { type: 'flatten' },
      { type: 'dense', units: c(128), bias: false },
      { type: 'batchnorm2d' },
      { type: 'relu' },
      { type: 'dropout', rate: 0.3 },
      { type: 'dense', units: classes },
    ],
    classes === 10 ? DIGITS : undefined,
  );
}

zoo['mnist-best'] = {
  description: 'VGG-style net with batch norm and shift augmentation, for ≥ 99.5 % on MNIST',
  build: mnistBest,
};

const classic: [string, string, (o: ZooOptions) => ModelSpec][] = [
  ['alexnet', 'AlexNet (2012): two groups, LRN, 227×227×3, 60 965 224 parameters', alexnet],
  ['alexnet-tv', "AlexNet, torchvision's one-tower variant, 224×224×3, 61 100 840 parameters", alexnetTv],
  ['zfnet', 'ZFNet (2013): 7×7/2 first layer, 224×224×3', zfnet],
  ['vgg11', 'VGG-11 (configuration A), 224×224×3', vgg11],
  ['vgg16', 'VGG-16 (configuration D), 224×224×3, 138 357 544 parameters', vgg16],
  ['googlenet', 'GoogLeNet / Inception v1 without auxiliary heads (torchvision layout), 6 624 904 parameters', googlenet],
  ['resnet18', 'ResNet-18, 11 689 512 parameters', resnet18],
  ['resnet50', 'ResNet-50 (v1.5), 25 557 032 parameters', resnet50],
  ['densenet121', 'DenseNet-121, 7 978 856 parameters', densenet121],
];
for (const [name, description, build] of classic) zoo[name] = { description, build };

export function zooEntry(name: string): ZooEntry {
  // Own entries only: "constructor" or "toString" must not find Object.prototype's.
  const entry = Object.hasOwn(zoo, name) ? zoo[name] : undefined;
  if (!entry) throw new ConfigError(`unknown model "${name}" (available: ${Object.keys(zoo).join(', ')})`);
  return entry;
}
