"""Regenerates the PyTorch-exported ONNX fixtures in test/fixtures/ (needs Debian's python3-torch).

Each network is exported with torch.onnx.export exactly as a PyTorch user would, and PyTorch's
own output on a fixed input is saved beside it, so the tests check convkit's import against
PyTorch itself. Run: /usr/bin/python3 scripts/torch-fixtures.py
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures')


class LeNet5(nn.Module):
    """The classic LeNet-5 as PyTorch tutorials write it (flattening with view)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class MiniInceptionResNet(nn.Module):
    """Residual add, an inception-style concat, grouped conv, ceil-mode and average pooling, global pooling."""

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

    def forward(self, x):
        x = self.pool(F.relu(self.stem(x)))
        r = F.relu(self.res1(x))
        x = F.relu(x + self.res2(r))
        x = torch.cat([self.b1(x), self.b3(x), self.bp(x)], 1)
        x = F.adaptive_avg_pool2d(x, 1)
        x = torch.flatten(x, 1)
        return self.fc(x)


class BatchNormZoo(nn.Module):
    """Batch norm (2-D and 1-D, non-trivial running statistics), LeakyReLU, ReLU6, a residual block.

    (PyTorch 1.13 exports nn.LocalResponseNorm as a dozen elementary operators, not as LRN, so it
    is left out here; convkit's LRN import is checked against its own exports and ONNX Runtime.)
    """

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 6)
        self.bn3 = nn.BatchNorm1d(6)
        self.fc2 = nn.Linear(6, 4)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.leaky_relu(x + self.bn2(self.conv2(x)), 0.1)
        x = F.max_pool2d(x, 2)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc2(F.relu6(self.bn3(self.fc(x))))


def randomize_bn(model):
    """Gives every batch norm non-trivial statistics, as after training."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    return model


def export(name, model, shape):
    torch.manual_seed(0)
    model.eval()
    x = torch.rand(*shape) * 2 - 1
    path = os.path.join(OUT, f'torch-{name}.onnx')
    torch.onnx.export(model, x, path, opset_version=13, input_names=['input'], output_names=['output'],
                      dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}})
    with torch.no_grad():
        y = model(x)
    with open(os.path.join(OUT, f'torch-{name}.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'inputShape': list(shape), 'input': x.flatten().tolist(),
                   'output': y.flatten().tolist()}, f)
    print(path, os.path.getsize(path))


if __name__ == '__main__':
    torch.manual_seed(1)
    export('lenet5', LeNet5(), (2, 1, 28, 28))
    torch.manual_seed(2)
    export('mini-inception-resnet', MiniInceptionResNet(), (2, 3, 32, 32))
    torch.manual_seed(3)
    export('batchnorm-zoo', randomize_bn(BatchNormZoo()), (3, 3, 16, 16))
