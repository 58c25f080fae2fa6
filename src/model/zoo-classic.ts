import type { LayerSpec } from '../layers/index.js';
import { GraphBuilder } from './graph-builder.js';
import type { ModelSpec } from './model.js';

/**
 * The classic ImageNet architectures, layer for layer as published, with the parameter
 * counts of their usual reference implementations. Every builder takes the number of classes,
 * the input shape, and a width multiplier (channels scaled, at least 1) so that small versions
 * can be trained in tests.
 */
export interface ClassicOptions {
  classes?: number;
  inputShape?: [number, number, number];
  /** Channel multiplier for small test versions (1 = as published). */
  width?: number;
}

const conv = (filters: number, kernel: number, stride = 1, padding = 0, extra: Partial<LayerSpec & { groups: number; bias: boolean }> = {}): LayerSpec =>
  ({ type: 'conv2d', filters, kernel, stride, padding, ...extra }) as LayerSpec;
const relu: LayerSpec = { type: 'relu' };
const maxpool = (kernel: number, stride: number, padding = 0, ceil = false): LayerSpec => ({ type: 'maxpool2d', kernel, stride, padding, ceil });
const dense = (units: number): LayerSpec => ({ type: 'dense', units });
const dropout = (rate: number): LayerSpec => ({ type: 'dropout', rate });
const bn = (eps = 1e-5): LayerSpec => ({ type: 'batchnorm2d', eps });

function scaler(width = 1) {
  return (c: number) => Math.max(1, Math.round(c * width));
}

/**
 * AlexNet (Krizhevsky, Sutskever & Hinton 2012) on 227×227×3: five convolutions, conv2/4/5 in
 * two groups (the two-GPU split), LRN after conv1 and conv2 (paper constants k = 2, n = 5,
 * α = 1e-4, β = 0.75), overlapping max-pool 3/2, dropout 0.5, fc 4096-4096-classes.
 * 60 965 224 parameters, as Caffe's reference model.
 */
export function alexnet({ classes = 1000, inputShape = [3, 227, 227], width }: ClassicOptions = {}): ModelSpec {
  const c = scaler(width),
    even = (n: number) => 2 * Math.max(1, Math.round((n * (width ?? 1)) / 2));
  const g = new GraphBuilder('alexnet', inputShape);
  const lrn: LayerSpec = { type: 'lrn', size: 5, alpha: 1e-4, beta: 0.75, k: 2 };
  const out = g.chain(g.input, [
    conv(even(96), 11, 4),
    relu,
    lrn,
    maxpool(3, 2),
    conv(even(256), 5, 1, 2, { groups: 2 }),
    relu,
    lrn,
    maxpool(3, 2),
    conv(even(384), 3, 1, 1),
    relu,
    conv(even(384), 3, 1, 1, { groups: 2 }),
    relu,
    conv(even(256), 3, 1, 1, { groups: 2 }),
    relu,
    maxpool(3, 2),
    { type: 'flatten' },
    dense(c(4096)),
    relu,
    dropout(0.5),
    dense(c(4096)),
    relu,
    dropout(0.5),
    dense(classes),
  ]);
  return g.build(out);
}

/** The one-tower AlexNet of torchvision ("One weird trick", 2014) on 224×224: 61 100 840 parameters. */
export function alexnetTv({ classes = 1000, inputShape = [3, 224, 224], width }: ClassicOptions = {}): ModelSpec {
  const c = scaler(width);
  const g = new GraphBuilder('alexnet-tv', inputShape);
  const out = g.chain(g.input, [
    conv(c(64), 11, 4, 2),
    relu,
    maxpool(3, 2),
    conv(c(192), 5, 1, 2),
    relu,
    maxpool(3, 2),
    conv(c(384), 3, 1, 1),
    relu,
    conv(c(256), 3, 1, 1),
    relu,
    conv(c(256), 3, 1, 1),
    relu,
    maxpool(3, 2),
    { type: 'adaptiveavgpool2d', output: 6 },
    { type: 'flatten' },
    dropout(0.5),
    dense(c(4096)),
    relu,
    dropout(0.5),
    dense(c(4096)),
    relu,
    dense(classes),
  ]);
  return g.build(out);
}

/**
 * ZFNet (Zeiler & Fergus 2013) on 224×224: AlexNet with a 7×7 stride-2 first layer and a
 * stride-2 conv2, one tower. Sizes follow the paper's figure (110 → 55 → 26 → 13 → 6); the
 * paper does not give padding, so conv1 and the first two pools pad by 1 to reproduce them.
 */
export function zfnet({ classes = 1000, inputShape = [3, 224, 224], width }: ClassicOptions = {}): ModelSpec {
  const c = scaler(width);
  const g = new GraphBuilder('zfnet', inputShape);
  const lrn: LayerSpec = { type: 'lrn', size: 5, alpha: 1e-4, beta: 0.75, k: 2 };
  const out = g.chain(g.input, [
    conv(c(96), 7, 2, 1),
    relu,
    maxpool(3, 2, 1),
    lrn,
    conv(c(256), 5, 2, 0),
    relu,
    maxpool(3, 2, 1),
    lrn,
    conv(c(384), 3, 1, 1),
    relu,
    conv(c(384), 3, 1, 1),
    relu,
    conv(c(256), 3, 1, 1),
    relu,
    maxpool(3, 2),
    { type: 'flatten' },
    dense(c(4096)),
    relu,
    dropout(0.5),
    dense(c(4096)),
    relu,
    dropout(0.5),
    dense(classes),
  ]);
  return g.build(out);
}

/** VGG (Simonyan & Zisserman 2014), configurations A (vgg11) and D (vgg16), as torchvision (no batch norm). */
function vgg(name: string, config: (number | 'M')[], { classes = 1000, inputShape = [3, 224, 224], width }: ClassicOptions): ModelSpec {
  const c = scaler(width);
  const layers: LayerSpec[] = config.flatMap((v): LayerSpec[] => (v === 'M' ? [maxpool(2, 2)] : [conv(c(v), 3, 1, 1), relu]));
  const g = new GraphBuilder(name, inputShape);
  const out = g.chain(g.input, [
    ...layers,
    { type: 'adaptiveavgpool2d', output: 7 },
    { type: 'flatten' },
    dense(c(4096)),
    relu,
    dropout(0.5),
    dense(c(4096)),
    relu,
    dropout(0.5),
    dense(classes),
  ]);
  return g.build(out);
}

export const vgg11 = (o: ClassicOptions = {}) => vgg('vgg11', [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'], o);
export const vgg16 = (o: ClassicOptions = {}) => vgg('vgg16', [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'], o);

/**
 * GoogLeNet / Inception v1 (Szegedy et al. 2014) in torchvision's layout without the auxiliary
 * heads: every convolution is conv (no bias) + batch norm (eps 0.001) + ReLU, the "5×5" branch
 * uses a 3×3 kernel as torchvision does, max-pools use ceil mode. 6 624 904 parameters.
 */
export function googlenet({ classes = 1000, inputShape = [3, 224, 224], width }: ClassicOptions = {}): ModelSpec {
  const c = scaler(width);
  const g = new GraphBuilder('googlenet', inputShape);
  const basic = (from: string, filters: number, kernel: number, stride = 1, padding = 0, name = '') =>
    g.chain(from, [conv(filters, kernel, stride, padding, { bias: false }), bn(0.001), relu], name || undefined);
  const inception = (from: string, name: string, b1: number, b2r: number, b2: number, b3r: number, b3: number, b4: number) => {
    const x1 = basic(from, c(b1), 1, 1, 0, `${name}.b1`);
    const x2 = basic(basic(from, c(b2r), 1, 1, 0, `${name}.b2r`), c(b2), 3, 1, 1, `${name}.b2`);
    const x3 = basic(basic(from, c(b3r), 1, 1, 0, `${name}.b3r`), c(b3), 3, 1, 1, `${name}.b3`);
    const x4 = basic(g.add(maxpool(3, 1, 1, true), from, `${name}.pool`), c(b4), 1, 1, 0, `${name}.b4`);
    return g.add({ type: 'concat' }, [x1, x2, x3, x4], `${name}.concat`);
  };
  let x = basic(g.input, c(64), 7, 2, 3, 'conv1');
  x = g.add(maxpool(3, 2, 0, true), x, 'pool1');
  x = basic(x, c(64), 1, 1, 0, 'conv2');
  x = basic(x, c(192), 3, 1, 1, 'conv3');
  x = g.add(maxpool(3, 2, 0, true), x, 'pool2');
  x = inception(x, 'inception3a', 64, 96, 128, 16, 32, 32);
  x = inception(x, 'inception3b', 128, 128, 192, 32, 96, 64);
  x = g.add(maxpool(3, 2, 0, true), x, 'pool3');
  x = inception(x, 'inception4a', 192, 96, 208, 16, 48, 64);
  x = inception(x, 'inception4b', 160, 112, 224, 24, 64, 64);
  x = inception(x, 'inception4c', 128, 128, 256, 24, 64, 64);
  x = inception(x, 'inception4d', 112, 144, 288, 32, 64, 64);
  x = inception(x, 'inception4e', 256, 160, 320, 32, 128, 128);
  x = g.add(maxpool(2, 2, 0, true), x, 'pool4');
  x = inception(x, 'inception5a', 256, 160, 320, 32, 128, 128);
  x = inception(x, 'inception5b', 384, 192, 384, 48, 128, 128);
  x = g.chain(x, [{ type: 'globalavgpool2d' }, { type: 'flatten' }, dropout(0.2), dense(classes)], 'head');
  return g.build(x);
}

/**
 * ResNet (He et al. 2015) as torchvision builds it: 7×7/2 stem with batch norm and max-pool,
 * basic blocks (resnet18: 2-2-2-2) or bottlenecks with the stride on the 3×3 conv ("v1.5",
 * resnet50: 3-4-6-3), 1×1 projection shortcuts where the shape changes, global average pool.
 * 11 689 512 and 25 557 032 parameters.
 */
function resnet(name: string, blocks: number[], bottleneck: boolean, { classes = 1000, inputShape = [3, 224, 224], width }: ClassicOptions): ModelSpec {
  const c = scaler(width);
  const g = new GraphBuilder(name, inputShape);
  const convBn = (from: string, filters: number, kernel: number, stride: number, padding: number, prefix: string, withRelu: boolean) =>
    g.chain(from, [conv(filters, kernel, stride, padding, { bias: false }), bn(), ...(withRelu ? [relu] : [])], prefix);
  let x = convBn(g.input, c(64), 7, 2, 3, 'stem', true);
  x = g.add(maxpool(3, 2, 1), x, 'stem.pool');
  let channels = c(64);
  blocks.forEach((count, stage) => {
    const planes = c(64 * 2 ** stage);
    const out = bottleneck ? planes * 4 : planes;
    for (let b = 0; b < count; b++) {
      const stride = b === 0 && stage > 0 ? 2 : 1;
      const p = `layer${stage + 1}.${b}`;
      let y: string;
      if (bottleneck) {
        y = convBn(x, planes, 1, 1, 0, `${p}.a`, true);
        y = convBn(y, planes, 3, stride, 1, `${p}.b`, true);
        y = convBn(y, out, 1, 1, 0, `${p}.c`, false);
      } else {
        y = convBn(x, planes, 3, stride, 1, `${p}.a`, true);
        y = convBn(y, planes, 3, 1, 1, `${p}.b`, false);
      }
      const shortcut = stride !== 1 || channels !== out ? convBn(x, out, 1, stride, 0, `${p}.down`, false) : x;
      x = g.add(relu, g.add({ type: 'add' }, [y, shortcut], `${p}.add`), `${p}.relu`);
      channels = out;
    }
  });
  x = g.chain(x, [{ type: 'globalavgpool2d' }, { type: 'flatten' }, dense(classes)], 'head');
  return g.build(x);
}

export const resnet18 = (o: ClassicOptions = {}) => resnet('resnet18', [2, 2, 2, 2], false, o);
export const resnet50 = (o: ClassicOptions = {}) => resnet('resnet50', [3, 4, 6, 3], true, o);

/**
 * DenseNet-121 (Huang et al. 2017) as torchvision: growth rate 32, blocks 6-12-24-16, bottleneck
 * width 4×growth, transitions halving the channels with a 2×2 average pool; BN-ReLU-conv order.
 * 7 978 856 parameters.
 */
export function densenet121({ classes = 1000, inputShape = [3, 224, 224], width }: ClassicOptions = {}): ModelSpec {
  const c = scaler(width);
  const growth = c(32);
  const g = new GraphBuilder('densenet121', inputShape);
  let x = g.chain(g.input, [conv(c(64), 7, 2, 3, { bias: false }), bn(), relu, maxpool(3, 2, 1)], 'stem');
  let channels = c(64);
  [6, 12, 24, 16].forEach((layers, block) => {
    const features = [x];
    for (let l = 0; l < layers; l++) {
      const p = `block${block + 1}.${l}`;
      const inp = features.length === 1 ? features[0] : g.add({ type: 'concat' }, features.slice(), `${p}.cat`);
      const y = g.chain(inp, [bn(), relu, conv(4 * growth, 1, 1, 0, { bias: false }), bn(), relu, conv(growth, 3, 1, 1, { bias: false })], p);
      features.push(y);
      channels += growth;
    }
    x = g.add({ type: 'concat' }, features, `block${block + 1}.out`);
    if (block < 3) {
      channels = Math.floor(channels / 2);
      x = g.chain(x, [bn(), relu, conv(channels, 1, 1, 0, { bias: false }), { type: 'avgpool2d', kernel: 2, stride: 2 }], `transition${block + 1}`);
    }
  });
  x = g.chain(x, [bn(), relu, { type: 'globalavgpool2d' }, { type: 'flatten' }, dense(classes)], 'head');
  return g.build(x);
}
