"""Regenerates test/fixtures/torch-explain.json: reference explanations computed by PyTorch in float64.

The networks are the two PyTorch-exported ONNX fixtures (LeNet-5 and the small residual net of
scripts/torch-fixtures.py); their weights are read back from the .onnx files, so convkit (which
imports the same files) and PyTorch compute with identical weights. For the first input of each
fixture (the first example of test/fixtures/torch-NAME.json) this records the class logits and:
  - saliency: d logit[c] / d input (the logit, before softmax)
  - Grad-CAM and Grad-CAM++ at one node, at the node's resolution and bilinearly upsampled
    (align_corners=False) to the input size
  - guided backpropagation of the class logit, and a deconvnet reconstruction of one channel
    (the sum of its activation) of an intermediate node
Run: /usr/bin/python3 scripts/torch-explain-fixtures.py
"""
import json
import os

import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(__file__)
FIXTURES = os.path.join(HERE, '..', 'test', 'fixtures')


class GuidedRelu(torch.autograd.Function):
    """ReLU whose backward passes only positive gradients where the input was positive."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy.clamp(min=0) * (x > 0).to(dy.dtype)


class DeconvRelu(torch.autograd.Function):
    """ReLU whose backward is the ReLU of the gradient (Zeiler and Fergus's deconvnet)."""

    @staticmethod
    def forward(ctx, x):
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, dy):
        return dy.clamp(min=0)


RULES = {'gradient': F.relu, 'guided': GuidedRelu.apply, 'deconvnet': DeconvRelu.apply}


class LeNet5(nn.Module):
    """scripts/torch-fixtures.py's LeNet5, with the ReLU swappable and named intermediate outputs."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x, relu, seen):
        x = F.max_pool2d(relu(self.conv1(x)), 2)
        x = seen('_conv2_Conv', self.conv2(x))
        x = F.max_pool2d(seen('_Relu_1', relu(x)), 2)
        x = x.reshape(x.size(0), -1)
        x = relu(self.fc1(x))
        x = relu(self.fc2(x))
        return self.fc3(x)


class MiniInceptionResNet(nn.Module):
    """scripts/torch-fixtures.py's MiniInceptionResNet (residual add and concat), likewise."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.pool = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.res1 = nn.Conv2d(8, 8, 3, padding=1)
        self.res2 = nn.Conv2d(8, 8, 3, padding=1, groups=2)
        self.b1 = nn.Conv2d(8, 4, 1)
        self.b3 = nn.Conv2d(8, 6, 3, padding=1)
        self.bp = nn.AvgPool2d(3, stride=1, padding=1)
        self.fc = nn.Linear(18, 5)

    def forward(self, x, relu, seen):
        x = self.pool(relu(self.stem(x)))
        r = relu(self.res1(x))
        x = seen('_Relu_2', relu(seen('_Add', x + self.res2(r))))
        x = torch.cat([self.b1(x), self.b3(x), self.bp(x)], 1)
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))


def load_onnx_weights(model, path):
    weights = {i.name: torch.from_numpy(onnx.numpy_helper.to_array(i).copy()).double() for i in onnx.load(path).graph.initializer}
    state = model.state_dict()
    assert set(state) == set(weights), (set(state) ^ set(weights))
    model.load_state_dict(weights)
    return model.double().eval()


def run(model, x, rule='gradient'):
    """Forward pass with the given ReLU rule; returns the logits and the named intermediate outputs."""
    seen = {}

    def keep(name, t):
        t.retain_grad()
        seen[name] = t
        return t

    x = x.clone().requires_grad_(True)
    return x, model(x, RULES[rule], keep), seen


def grad_cam(a, g, plus_plus):
    """Grad-CAM (channel weights = mean gradient) or Grad-CAM++ (pytorch-grad-cam's closed form)."""
    if plus_plus:
        g2, g3 = g ** 2, g ** 3
        sum_a = a.sum(dim=(1, 2), keepdim=True)
        alpha = g2 / (2 * g2 + sum_a * g3 + 1e-7)
        alpha = torch.where(g != 0, alpha, torch.zeros_like(alpha))
        weights = (alpha * g.clamp(min=0)).sum(dim=(1, 2))
    else:
        weights = g.mean(dim=(1, 2))
    return F.relu((weights[:, None, None] * a).sum(0))


def values(t):
    """A tensor's values to 9 significant digits: exact for the float32 inputs, 1e-9 relative for the rest."""
    return [float('%.9g' % v) for v in t.flatten().tolist()]


def explain(name, model, cam_node, deconv_node, deconv_channel):
    io = json.load(open(os.path.join(FIXTURES, f'torch-{name}.json')))
    shape = io['inputShape'][1:]
    n = shape[0] * shape[1] * shape[2]
    x0 = torch.tensor(io['input'][:n], dtype=torch.float64).reshape(1, *shape)
    load_onnx_weights(model, os.path.join(FIXTURES, f'torch-{name}.onnx'))

    x, logits, seen = run(model, x0)
    c = int(logits[0].argmax())
    logits[0, c].backward()
    a, g = seen[cam_node][0].detach(), seen[cam_node].grad[0]
    cams = {}
    for key, pp in (('gradcam', False), ('gradcamPlusPlus', True)):
        cam = grad_cam(a, g, pp)
        up = F.interpolate(cam[None, None], size=tuple(shape[1:]), mode='bilinear', align_corners=False)[0, 0]
        cams[key] = {'map': values(cam), 'mapShape': list(cam.shape), 'upsampled': values(up)}
    saliency = x.grad[0]

    xg, logits_g, _ = run(model, x0, 'guided')
    logits_g[0, c].backward()

    xd, _, seen_d = run(model, x0, 'deconvnet')
    seen_d[deconv_node][0, deconv_channel].sum().backward()

    return {
        'inputShape': shape,
        'logits': values(logits[0].detach()),
        'classIndex': c,
        'saliency': values(saliency),
        'camNode': cam_node,
        **cams,
        'guided': values(xg.grad[0]),
        'deconvnet': {'node': deconv_node, 'channel': deconv_channel, 'reconstruction': values(xd.grad[0])},
    }


if __name__ == '__main__':
    out = {
        'torch': torch.__version__,
        'lenet5': explain('lenet5', LeNet5(), '_conv2_Conv', '_Relu_1', 3),
        'mini-inception-resnet': explain('mini-inception-resnet', MiniInceptionResNet(), '_Relu_2', '_Add', 5),
    }
    path = os.path.join(FIXTURES, 'torch-explain.json')
    with open(path, 'w') as f:
        json.dump(out, f)
    print(path, os.path.getsize(path))
