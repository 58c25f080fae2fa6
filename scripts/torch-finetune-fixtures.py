"""Regenerates test/fixtures/torch-finetune.{onnx,json}: two fine-tuning steps in PyTorch to check convkit's against.

A small CNN (conv-bn-relu-pool twice, conv-bn-relu, global pooling, linear) with random weights and
batch-norm statistics is exported to ONNX (eval mode, batch norm kept as BatchNormalization). Then,
as a PyTorch user fine-tunes it: the linear classifier is replaced by a new one for 4 classes,
everything up to and including pool2 is frozen (requires_grad False, batch norms in eval mode), and
SGD (momentum 0.9, weight decay on conv/linear weights only, as convkit) takes two steps on one
fixed batch of 8 images with two parameter groups: the pretrained conv3/bn3 at lr 0.005 and the
new head at lr 0.05. The JSON holds the batch (bytes, normalised with ImageNet's mean and std),
the labels, the new head's initial weights, and every tensor after the two steps, by the name
convkit gives it on import ("/conv1/Conv" becomes "_conv1_Conv").

Run: /usr/bin/python3 scripts/torch-finetune-fixtures.py   (torch 1.13)
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures')
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1, self.relu1, self.pool1 = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2)
        self.conv2, self.bn2, self.relu2, self.pool2 = nn.Conv2d(8, 12, 3, padding=1, bias=False), nn.BatchNorm2d(12), nn.ReLU(), nn.MaxPool2d(2)
        self.conv3, self.bn3, self.relu3 = nn.Conv2d(12, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU()
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.pool1(self.relu1(self.bn1(self.conv1(x))))
        x = self.pool2(self.relu2(self.bn2(self.conv2(x))))
        x = self.relu3(self.bn3(self.conv3(x)))
        return self.fc(torch.flatten(self.gap(x), 1))


# ONNX name of each PyTorch tensor, as convkit names the imported nodes.
NAMES = {'conv1': '_conv1_Conv', 'bn1': '_bn1_BatchNormalization', 'conv2': '_conv2_Conv', 'bn2': '_bn2_BatchNormalization',
         'conv3': '_conv3_Conv', 'bn3': '_bn3_BatchNormalization', 'fc': '_fc_Gemm'}


def convkit_name(key):
    module, tensor = key.split('.')
    return f'{NAMES[module]}.{tensor}'


def main():
    torch.manual_seed(5)
    net = Net()
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.3, 0.3)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.3, 0.3)
    net.eval()
    path = os.path.join(OUT, 'torch-finetune.onnx')
    torch.onnx.export(net, torch.zeros(1, 3, 16, 16), path, opset_version=13, input_names=['input'], output_names=['output'],
                      dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}}, training=torch.onnx.TrainingMode.PRESERVE)

    # Fine-tuning as in PyTorch: a new head, a frozen front in eval mode, two learning rates.
    net.fc = nn.Linear(16, 4)
    head_init = {k: v.detach().clone() for k, v in net.fc.state_dict().items()}
    frozen = [net.conv1, net.bn1, net.conv2, net.bn2]
    for m in frozen:
        for p in m.parameters():
            p.requires_grad_(False)
    net.train()
    for m in frozen:
        m.eval()
    decay = lambda ps: [p for p in ps if p.dim() > 1]
    no_decay = lambda ps: [p for p in ps if p.dim() <= 1]
    body = list(net.conv3.parameters()) + list(net.bn3.parameters())
    head = list(net.fc.parameters())
    opt = torch.optim.SGD([
        {'params': decay(body), 'lr': 0.005, 'weight_decay': 1e-3}, {'params': no_decay(body), 'lr': 0.005, 'weight_decay': 0},
        {'params': decay(head), 'lr': 0.05, 'weight_decay': 1e-3}, {'params': no_decay(head), 'lr': 0.05, 'weight_decay': 0},
    ], lr=0.05, momentum=0.9)

    rng = np.random.default_rng(7)
    images = rng.integers(0, 256, size=(8, 3, 16, 16), dtype=np.uint8)
    labels = np.array([0, 1, 2, 3, 3, 2, 1, 0])
    x = (torch.from_numpy(images.astype(np.float32)) / 255 - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    y = torch.from_numpy(labels)
    losses = []
    for _ in range(2):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())

    after = {convkit_name(k): v.flatten().tolist() for k, v in net.state_dict().items() if not k.endswith('num_batches_tracked')}
    with open(os.path.join(OUT, 'torch-finetune.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'inputShape': [8, 3, 16, 16], 'mean': MEAN, 'std': STD,
                   'images': images.flatten().tolist(), 'labels': labels.tolist(), 'classes': ['a', 'b', 'c', 'd'],
                   'head': '_fc_Gemm', 'headInit': {f'_fc_Gemm.{k}': v.flatten().tolist() for k, v in head_init.items()},
                   'freezeUntil': '_pool2_MaxPool', 'lr': 0.05, 'lrPretrained': 0.005, 'momentum': 0.9, 'weightDecay': 1e-3,
                   'steps': 2, 'losses': losses, 'after': after}, f)
        f.write('\n')
    print(path, os.path.getsize(path), 'losses', losses)


if __name__ == '__main__':
    main()
