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
  | Conv2dSpec
  | Pool2dSpec
  | DenseSpec
  | ActivationSpec
  | FlattenSpec
  | DropoutSpec
  | AddSpec
  | ConcatSpec
  | BatchNormSpec
  | LrnSpec
  | AdaptiveAvgPoolSpec
  | MulSpec
  | LayerNormSpec
  | ChannelShuffleSpec
  | ChannelSliceSpec;

/** How each layer type is built and which spec keys it takes: one row a type, the one list of layer types. */
interface LayerEntry {
  keys: readonly string[];
  create(spec: LayerSpec, name: string): Layer;
}
const entries = <K extends string>(keys: Record<K, readonly string[]>, create: LayerEntry['create']) =>
  Object.fromEntries(Object.entries(keys).map(([type, k]) => [type, { keys: k as readonly string[], create }])) as Record<K, LayerEntry>;

const registry = {
  conv2d: { keys: conv2dKeys, create: (s, n) => new Conv2d(s as Conv2dSpec, n) },
  ...entries(pool2dKeys, (s, n) => new Pool2d(s as Pool2dSpec, n)),
  ...entries(adaptiveAvgPoolKeys, (s, n) => new AdaptiveAvgPool2d(s as AdaptiveAvgPoolSpec, n)),
  dense: { keys: denseKeys, create: (s, n) => new Dense(s as DenseSpec, n) },
  ...entries(activationKeys, (s, n) => new Activation(s as ActivationSpec, n)),
  flatten: { keys: flattenKeys, create: (s, n) => new Flatten(s as FlattenSpec, n) },
  dropout: { keys: dropoutKeys, create: (s, n) => new Dropout(s as DropoutSpec, n) },
  batchnorm2d: { keys: batchNormKeys, create: (s, n) => new BatchNorm(s as BatchNormSpec, n) },
  layernorm2d: { keys: layerNormKeys, create: (s, n) => new LayerNorm2d(s as LayerNormSpec, n) },
  lrn: { keys: lrnKeys, create: (s, n) => new Lrn(s as LrnSpec, n) },
  add: { keys: addKeys, create: (s, n) => new Add(s as AddSpec, n) },
  mul: { keys: mulKeys, create: (s, n) => new Mul(s as MulSpec, n) },
  concat: { keys: concatKeys, create: (s, n) => new Concat(s as ConcatSpec, n) },
  channelshuffle: { keys: channelShuffleKeys, create: (s, n) => new ChannelShuffle(s as ChannelShuffleSpec, n) },
  channelslice: { keys: channelSliceKeys, create: (s, n) => new ChannelSlice(s as ChannelSliceSpec, n) },
} satisfies Record<LayerSpec['type'], LayerEntry>;

export type LayerType = keyof typeof registry;
export const layerTypes = Object.keys(registry) as LayerType[];

/** The keys each layer type's spec may hold (each declared beside its Spec type); any other key is refused. */
export const layerSpecKeys = Object.fromEntries(layerTypes.map((t) => [t, registry[t].keys])) as Record<LayerType, readonly string[]>;

/** Creates a layer from its JSON spec; the spec is what model files store. */
export function createLayer(spec: LayerSpec, name: string): Layer {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new ConfigError(`layer "${name}": spec must be an object`);
  const entry: LayerEntry | undefined = Object.hasOwn(registry, spec.type) ? registry[spec.type as LayerType] : undefined;
  if (!entry)
    throw new ConfigError(`layer "${name}": unknown layer type ${JSON.stringify((spec as { type: unknown }).type)} (known: ${layerTypes.join(', ')})`);
  refuseUnknownKeys(spec, entry.keys, `layer "${name}" (${spec.type})`);
  return entry.create(spec, name);
}

export { Layer, type Param, type ReluRule, type RunContext, type StateTensor } from './layer.js';
export type {
  Conv2dSpec,
  Pool2dSpec,
  DenseSpec,
  ActivationSpec,
  FlattenSpec,
  DropoutSpec,
  AddSpec,
  ConcatSpec,
  BatchNormSpec,
  LrnSpec,
  AdaptiveAvgPoolSpec,
  MulSpec,
  LayerNormSpec,
  ChannelShuffleSpec,
  ChannelSliceSpec,
};
export { Conv2d, Pool2d, AdaptiveAvgPool2d, Dense, Activation, Flatten, Dropout, Add, Mul, Concat, BatchNorm, Lrn, LayerNorm2d, ChannelShuffle, ChannelSlice };
