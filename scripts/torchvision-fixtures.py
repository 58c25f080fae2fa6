"""Regenerates test/fixtures/torchvision/: one ONNX file per torchvision CNN family, with PyTorch's output.

Each family is built by its torchvision 0.14 constructor (weights=None), then made
narrower by dividing every channel count by a factor (group counts too, where a group keeps its
width), so the files stay small while the family keeps its structure: its blocks, depth, branches,
groups, squeeze-excitation and activations. Weights are set as torchvision initialises them, with
a fixed seed; batch-norm running statistics come from forward passes in training mode, so batch
norm is exercised. Exported with torch.onnx.export at opset 13 as a PyTorch user would. The JSON holds PyTorch's
parameter count (`parameters`) and that of the network as exported (`exportedParameters`: the
exporter folds batch norms into the convolutions before them), which an import must reproduce.

The input is not stored: x[i] = ((i * 7919) % 2003) / 1001.5 - 1 over the flattened [N, C, H, W]
tensor, computed in float64 and rounded to float32 (exactly reproducible in JavaScript).

Run: /usr/bin/python3 scripts/torchvision-fixtures.py [family ...]   (torch 1.13, torchvision 0.14)
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision
import torchvision.models as tvm

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'torchvision')
CLASSES = 10

# family: (constructor, channel divisor, input height/width, batch)
FAMILIES = {
    'vgg11_bn': (tvm.vgg11_bn, 32, 224, 1),
    'resnet18': (tvm.resnet18, 16, 64, 2),
    'resnet50': (tvm.resnet50, 16, 64, 2),
    'resnext50_32x4d': (tvm.resnext50_32x4d, 16, 64, 2),
    'wide_resnet50_2': (tvm.wide_resnet50_2, 32, 64, 2),
    'googlenet': (lambda **kw: tvm.googlenet(aux_logits=False, init_weights=True, **kw), 8, 64, 2),
    'inception_v3': (lambda **kw: tvm.inception_v3(aux_logits=False, init_weights=True, **kw), 16, 75, 2),
    'densenet121': (tvm.densenet121, 16, 64, 2),
    'squeezenet1_0': (tvm.squeezenet1_0, 8, 64, 2),
    'squeezenet1_1': (tvm.squeezenet1_1, 8, 64, 2),
    'mobilenet_v2': (tvm.mobilenet_v2, 8, 64, 2),
    'regnet_x_400mf': (tvm.regnet_x_400mf, 8, 64, 2),
    'mobilenet_v3_small': (tvm.mobilenet_v3_small, 8, 64, 2),
    'mobilenet_v3_large': (tvm.mobilenet_v3_large, 8, 64, 2),
    'efficientnet_b0': (tvm.efficientnet_b0, 8, 64, 2),
    'regnet_y_400mf': (tvm.regnet_y_400mf, 8, 64, 2),
    'mnasnet0_5': (tvm.mnasnet0_5, 8, 64, 2),
    'shufflenet_v2_x0_5': (tvm.shufflenet_v2_x0_5, 4, 64, 2),
    'convnext_tiny': (tvm.convnext_tiny, 16, 64, 2),
}


def narrow(c, f, keep=()):
    return c if c in keep else max(1, c // f)


def shrink(model, f):
    """Divides every channel count by f, module by module (the forward code never names a width)."""
    for parent in list(model.modules()):
        for name, m in list(parent.named_children()):
            if isinstance(m, nn.Conv2d):
                cin, cout = narrow(m.in_channels, f, (3,)), narrow(m.out_channels, f)
                if m.groups == 1:
                    g = 1
                elif m.groups == m.in_channels:
                    g = cin  # depthwise stays depthwise
                else:
                    g = max(1, m.groups // f)  # grouped: same group width where it divides
                    if cin % g or cout % g:
                        g = math.gcd(m.groups, math.gcd(cin, cout))
                new = nn.Conv2d(cin, cout, m.kernel_size, m.stride, m.padding, m.dilation, g, m.bias is not None)
            elif isinstance(m, nn.BatchNorm2d):
                new = nn.BatchNorm2d(narrow(m.num_features, f), m.eps, m.momentum)
            elif isinstance(m, nn.Linear):
                new = nn.Linear(narrow(m.in_features, f), narrow(m.out_features, f), m.bias is not None)
            elif isinstance(m, nn.LayerNorm):
                new = type(m)([narrow(m.normalized_shape[0], f)], m.eps)
            else:
                continue
            setattr(parent, name, new)
        # ConvNeXt's per-channel layer scale, shaped [C, 1, 1].
        if hasattr(parent, 'layer_scale') and isinstance(parent.layer_scale, nn.Parameter):
            c = parent.layer_scale.shape[0]
            parent.layer_scale = nn.Parameter(torch.full((narrow(c, f), 1, 1), 0.5) + 0.1 * torch.rand(narrow(c, f), 1, 1))
    return model


def initialise(model):
    """torchvision's own initialisation scheme (zero biases, unit batch-norm scales)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.LayerNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)


def settle_batchnorm(model, shape):
    """A few training-mode passes give every batch norm real running statistics."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None  # cumulative average over the passes
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(4, *shape[1:]) * 1.5 + 0.3)
    model.eval()


def exported_parameters(model, x):
    """PyTorch's parameter count of the network as torch.onnx.export writes it in eval mode: each
    batch norm that reads a convolution's output is folded into that convolution (its scale and
    shift become the convolution's weights and bias), so it loses the batch norm's 2·C parameters
    and gains a bias of C where the convolution had none. Found with forward hooks, so it works
    for models that torch.fx cannot trace (ShuffleNet)."""
    conv_of = {}
    folded = []
    hooks = [m.register_forward_hook(lambda m, i, o: conv_of.__setitem__(id(o), (m, o))) for m in model.modules() if isinstance(m, nn.Conv2d)]
    hooks += [m.register_forward_hook(lambda m, i, o: folded.append((conv_of[id(i[0])][0], m)) if id(i[0]) in conv_of else None)
              for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    total = sum(p.numel() for p in model.parameters())
    for conv, bn in folded:
        total -= bn.weight.numel() + bn.bias.numel()
        if conv.bias is None:
            total += conv.out_channels
    return total


def fixed_input(shape):
    i = np.arange(int(np.prod(shape)), dtype=np.float64)
    return torch.from_numpy((((i * 7919) % 2003) / 1001.5 - 1).astype(np.float32).reshape(shape))


def build(family):
    make, f, hw, batch = FAMILIES[family]
    torch.manual_seed(0)
    # f times the classes, so that the narrowing leaves CLASSES outputs.
    model = shrink(make(weights=None, num_classes=CLASSES * f), f)
    torch.manual_seed(1)
    initialise(model)
    shape = (batch, 3, hw, hw)
    settle_batchnorm(model, shape)
    return model, shape


def export(family):
    model, shape = build(family)
    x = fixed_input(shape)
    path = os.path.join(OUT, f'{family}.onnx')
    torch.onnx.export(model, x, path, opset_version=13, input_names=['input'], output_names=['output'],
                      dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}})
    with torch.no_grad():
        y = model(x)
    params = sum(p.numel() for p in model.parameters())
    with open(os.path.join(OUT, f'{family}.json'), 'w') as f:
        json.dump({'family': family, 'torch': torch.__version__, 'torchvision': torchvision.__version__,
                   'channelDivisor': FAMILIES[family][1], 'parameters': params,
                   'exportedParameters': exported_parameters(model, x), 'inputShape': list(shape),
                   'input': 'x[i] = ((i * 7919) % 2003) / 1001.5 - 1', 'output': y.flatten().tolist()}, f)
        f.write('\n')
    print(f'{family}: {params} parameters, {os.path.getsize(path)} bytes')


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    for family in sys.argv[1:] or FAMILIES:
        export(family)
