"""Regenerates test/fixtures/torch-layers.json: PyTorch's own float64 results for layers convkit
checks against it directly (no ONNX in between), forward and gradients.

- dilated conv2d (torch.nn.functional.conv2d with dilation): y, dL/dx, dL/dw, dL/dbias for L = Σ y·dy
- batch norm without affine parameters (nn.BatchNorm2d(affine=False)): training-mode y and dL/dx
  with the updated running statistics, and evaluation-mode y and dL/dx
- the layers ShuffleNet v2 and ConvNeXt need, as those models write them: channel shuffle
  (view, transpose, view), channel slice (x[:, a:b]), layer norm over channels (permute,
  F.layer_norm, permute back) and exact GELU (F.gelu): y, dL/dx and the parameter gradients

Run: /usr/bin/python3 scripts/torch-layer-fixtures.py
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'torch-layers.json')
torch.manual_seed(20261207)
torch.set_default_dtype(torch.float64)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1)]


def pair(v):
    return list(v) if isinstance(v, (list, tuple)) else [v, v]


def conv_case(name, N, C, H, W, filters, kernel, stride=1, padding=0, dilation=1, groups=1, bias=True):
    kh, kw = pair(kernel)
    x = torch.randn(N, C, H, W, requires_grad=True)
    w = torch.randn(filters, C // groups, kh, kw, requires_grad=True)
    b = torch.randn(filters, requires_grad=True) if bias else None
    y = F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    spec = {'type': 'conv2d', 'filters': filters, 'kernel': [kh, kw], 'stride': pair(stride), 'padding': pair(padding),
            'dilation': pair(dilation), 'groups': groups, 'bias': bias}
    return {'name': name, 'spec': spec, 'inputShape': [N, C, H, W], 'outputShape': list(y.shape),
            'x': flat(x), 'weight': flat(w), 'bias': flat(b) if bias else None, 'dy': flat(dy),
            'y': flat(y), 'dx': flat(x.grad), 'dweight': flat(w.grad), 'dbias': flat(b.grad) if bias else None}


def batchnorm_case(name, N, C, H, W, momentum=0.1, eps=1e-5):
    bn = nn.BatchNorm2d(C, affine=False, momentum=momentum, eps=eps)
    with torch.no_grad():
        bn.running_mean.copy_(torch.randn(C) * 0.5)
        bn.running_var.copy_(torch.rand(C) + 0.5)
    start_mean, start_var = bn.running_mean.clone(), bn.running_var.clone()
    out = {'name': name, 'spec': {'type': 'batchnorm2d', 'affine': False, 'momentum': momentum, 'eps': eps},
           'inputShape': [N, C, H, W], 'runningMean': flat(start_mean), 'runningVar': flat(start_var)}
    for mode in ('train', 'eval'):
        bn.running_mean.copy_(start_mean)
        bn.running_var.copy_(start_var)
        bn.train(mode == 'train')
        x = (torch.randn(N, C, H, W) * 2 + 1).requires_grad_()
        y = bn(x)
        dy = torch.randn_like(y)
        (y * dy).sum().backward()
        out[mode] = {'x': flat(x), 'dy': flat(dy), 'y': flat(y), 'dx': flat(x.grad),
                     'runningMean': flat(bn.running_mean), 'runningVar': flat(bn.running_var)}
    return out


def shuffle(x, groups):
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).contiguous().view(n, c, h, w)


def layer_case(name, spec, shape, forward, params=None, spread=1.0):
    x = (torch.randn(*shape) * spread).requires_grad_()
    params = {k: v.clone().requires_grad_() for k, v in (params or {}).items()}
    y = forward(x, params)
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    return {'name': name, 'spec': spec, 'inputShape': list(shape), 'outputShape': list(y.shape), 'x': flat(x), 'dy': flat(dy),
            'y': flat(y), 'dx': flat(x.grad), 'params': {k: flat(v) for k, v in params.items()},
            'paramGrads': {k: flat(v.grad) for k, v in params.items()}}


def two_input_case(name, spec, shape_a, shape_b, forward):
    a = torch.randn(*shape_a).requires_grad_()
    b = torch.randn(*shape_b).requires_grad_()
    y = forward(a, b)
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    return {'name': name, 'spec': spec, 'inputShape': list(shape_a), 'inputShape2': list(shape_b), 'outputShape': list(y.shape),
            'x': flat(a), 'x2': flat(b), 'dy': flat(dy), 'y': flat(y), 'dx': flat(a.grad), 'dx2': flat(b.grad),
            'params': {}, 'paramGrads': {}}


def layer_norm_channels(x, p, eps):
    return F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), p['weight'], p['bias'], eps).permute(0, 3, 1, 2)


fixture = {
    'source': f'PyTorch {torch.__version__}, float64, scripts/torch-layer-fixtures.py',
    'conv2d': [
        conv_case('dilation 2, padding 2', 2, 3, 9, 8, 4, 3, padding=2, dilation=2),
        conv_case('dilation (2, 3), kernel 3×2, stride 2, padding (1, 2), groups 2', 2, 4, 11, 12, 6, (3, 2),
                  stride=2, padding=(1, 2), dilation=(2, 3), groups=2),
        conv_case('dilation 3, stride (1, 2), no bias', 1, 2, 10, 9, 3, 3, stride=(1, 2), padding=1, dilation=3, bias=False),
    ],
    'batchnorm2d': [batchnorm_case('affine false', 3, 4, 3, 5)],
    'layers': [
        layer_case('channelshuffle, 2 groups', {'type': 'channelshuffle', 'groups': 2}, (2, 6, 3, 4), lambda x, p: shuffle(x, 2)),
        layer_case('channelshuffle, 3 groups', {'type': 'channelshuffle', 'groups': 3}, (2, 12, 2, 3), lambda x, p: shuffle(x, 3)),
        layer_case('channelslice', {'type': 'channelslice', 'start': 2, 'channels': 3}, (2, 6, 3, 4), lambda x, p: x[:, 2:5]),
        layer_case('layernorm2d, eps 1e-6', {'type': 'layernorm2d', 'eps': 1e-6}, (2, 5, 3, 4),
                   lambda x, p: layer_norm_channels(x, p, 1e-6), {'weight': torch.randn(5), 'bias': torch.randn(5)}),
        layer_case('layernorm2d on 1×1 positions', {'type': 'layernorm2d', 'eps': 1e-5}, (3, 7, 1, 1),
                   lambda x, p: layer_norm_channels(x, p, 1e-5), {'weight': torch.randn(7), 'bias': torch.randn(7)}),
        layer_case('gelu (inputs spread over both tails)', {'type': 'gelu'}, (2, 3, 4, 5), lambda x, p: F.gelu(x), spread=3.0),
        # PyTorch 1.13's hardsigmoid backward multiplies by 1.0f / 6 even in float64: its dx is float32-exact only.
        {**layer_case('hardsigmoid (PyTorch: alpha 1/6, beta 1/2)', {'type': 'hardsigmoid'}, (2, 3, 4, 5), lambda x, p: F.hardsigmoid(x), spread=5.0),
         'tolerance': 1e-7},
        layer_case('hardsigmoid (ONNX: alpha 0.2, beta 0.5)', {'type': 'hardsigmoid', 'alpha': 0.2, 'beta': 0.5}, (2, 3, 4, 5),
                   lambda x, p: torch.clamp(0.2 * x + 0.5, 0, 1), spread=4.0),
    ],
    'twoInputs': [
        two_input_case('mul, equal shapes (x · sigmoid(x) as SiLU writes it)', {'type': 'mul'}, (2, 3, 4, 5), (2, 3, 4, 5), lambda a, b: a * b),
        two_input_case('mul by a per-channel [C, 1, 1] scale (squeeze-excitation)', {'type': 'mul'}, (2, 4, 3, 5), (2, 4, 1, 1), lambda a, b: a * b),
    ],
}
with open(OUT, 'w') as f:
    json.dump(fixture, f)
    f.write('\n')
print(f'wrote {OUT}')
