import { ConfigError, refuseUnknownKeys } from '../errors.js';
import { Activation, type ActivationSpec, activationKeys } from './activation.js';
import { ChannelShuffle, type ChannelShuffleSpec, ChannelSlice, type ChannelSliceSpec, channelShuffleKeys, channelSliceKeys } from './channels.js';
import { Conv2d, type Conv2dSpec, conv2dKeys } from './conv2d.js';
import { Dense, type DenseSpec, denseKeys } from './dense.js';
import type { Layer } from './layer.js';
import { Add, type AddSpec, Concat, type ConcatSpec, Mul, type MulSpec, addKeys, concatKeys, mulKeys } from './merge.js';
import { BatchNorm, type BatchNormSpec, LayerNorm2d, type LayerNormSpec, Lrn, type LrnSpec, batchNormKeys, layerNormKeys, lrnKeys } from './normalization.js';
import { AdaptiveAvgPool2d, type AdaptiveAvgPoolSpec, Pool2d, type Pool2dSpec, adaptiveAvgPoolKeys, pool2dKeys } from './pool2d.js';
import { Dropout, type DropoutSpec, Flatten, type FlattenSpec, dropoutKeys, flattenKeys } from './reshape.js';

export type LayerSpec =
  | Conv2dSpec | Pool2dSpec | DenseSpec | ActivationSpec | FlattenSpec | DropoutSpec | AddSpec | ConcatSpec
  | BatchNormSpec | LrnSpec | AdaptiveAvgPoolSpec | MulSpec | LayerNormSpec | ChannelShuffleSpec | ChannelSliceSpec;

export const layerTypes = ['conv2d', 'maxpool2d', 'avgpool2d', 'adaptiveavgpool2d', 'globalavgpool2d', 'dense',
  'relu', 'leakyrelu', 'relu6', 'tanh', 'sigmoid', 'hardsigmoid', 'gelu', 'softmax', 'flatten', 'dropout', 'batchnorm2d', 'layernorm2d', 'lrn', 'add', 'mul', 'concat',
  'channelshuffle', 'channelslice'] as const;

export type LayerType = (typeof layerTypes)[number];

/** The keys each layer type's spec may hold (each declared beside its Spec type); any other key is refused. */
export const layerSpecKeys: Record<LayerType, readonly string[]> = {
  conv2d: conv2dKeys, ...pool2dKeys, ...adaptiveAvgPoolKeys, dense: denseKeys, ...activationKeys,
  flatten: flattenKeys, dropout: dropoutKeys, batchnorm2d: batchNormKeys, lrn: lrnKeys, add: addKeys, mul: mulKeys, concat: concatKeys,
  layernorm2d: layerNormKeys, channelshuffle: channelShuffleKeys, channelslice: channelSliceKeys,
};

/** Creates a layer from its JSON spec; the spec is what model files store. */
export function createLayer(spec: LayerSpec, name: string): Layer {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new ConfigError(`layer "${name}": spec must be an object`);
  const keys = Object.hasOwn(layerSpecKeys, spec.type) ? layerSpecKeys[spec.type] : undefined;
  if (keys) refuseUnknownKeys(spec, keys, `layer "${name}" (${spec.type})`);
  switch (spec.type) {
    case 'conv2d': return new Conv2d(spec, name);
    case 'maxpool2d':
    case 'avgpool2d': return new Pool2d(spec, name);
    case 'dense': return new Dense(spec, name);
    case 'adaptiveavgpool2d':
    case 'globalavgpool2d': return new AdaptiveAvgPool2d(spec, name);
    case 'batchnorm2d': return new BatchNorm(spec, name);
    case 'layernorm2d': return new LayerNorm2d(spec, name);
    case 'lrn': return new Lrn(spec, name);
    case 'relu':
    case 'leakyrelu':
    case 'relu6':
    case 'tanh':
    case 'sigmoid':
    case 'hardsigmoid':
    case 'gelu':
    case 'softmax': return new Activation(spec, name);
    case 'flatten': return new Flatten(spec, name);
    case 'dropout': return new Dropout(spec, name);
    case 'add': return new Add(spec, name);
    case 'mul': return new Mul(spec, name);
    case 'concat': return new Concat(spec, name);
    case 'channelshuffle': return new ChannelShuffle(spec, name);
    case 'channelslice': return new ChannelSlice(spec, name);
    default:
      throw new ConfigError(`layer "${name}": unknown layer type ${JSON.stringify((spec as { type: unknown }).type)} (known: ${layerTypes.join(', ')})`);
  }
}

export { Layer, type Param, type ReluRule, type RunContext, type StateTensor } from './layer.js';
export type {
  Conv2dSpec, Pool2dSpec, DenseSpec, ActivationSpec, FlattenSpec, DropoutSpec, AddSpec, ConcatSpec,
  BatchNormSpec, LrnSpec, AdaptiveAvgPoolSpec, MulSpec, LayerNormSpec, ChannelShuffleSpec, ChannelSliceSpec,
};
export { Conv2d, Pool2d, AdaptiveAvgPool2d, Dense, Activation, Flatten, Dropout, Add, Mul, Concat, BatchNorm, Lrn, LayerNorm2d, ChannelShuffle, ChannelSlice };
