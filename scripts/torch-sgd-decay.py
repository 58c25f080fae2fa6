"""Fixture for convkit's weight-decay option: a few SGD steps in PyTorch 1.13.

A small net (conv 3x3 with bias, batch norm, ReLU, dense with bias) takes three SGD steps
(momentum 0.9, weight decay 0.01, lr 0.1) on a fixed batch, twice: with weight decay on every
parameter (torch.optim.SGD(model.parameters())) and with decay on the conv and dense weights
only (two parameter groups, convkit's default). test/trust-training.test.ts replays both.

Run: /usr/bin/python3 scripts/torch-sgd-decay.py  (writes test/fixtures/torch-sgd-decay.json)
"""
import json
import os

import torch
import torch.nn as nn

torch.manual_seed(20261207)
LR, MOMENTUM, DECAY, STEPS = 0.1, 0.9, 0.01, 3


def make_net():
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(18, 3))


# convkit's names for the parameters, in the same order as net.parameters().
NAMES = ['conv1.weight', 'conv1.bias', 'batchnorm2d1.weight', 'batchnorm2d1.bias', 'fc1.weight', 'fc1.bias']
DECAYED_BY_DEFAULT = {'conv1.weight', 'fc1.weight'}

start = make_net()
with torch.no_grad():
    # Non-trivial batch-norm parameters, so that decaying them shows.
    start[1].weight.uniform_(0.5, 1.5)
    start[1].bias.uniform_(-0.5, 0.5)
x = torch.randn(4, 1, 5, 5)
labels = torch.tensor([0, 2, 1, 2])


def run(decay_all):
    net = make_net()
    net.load_state_dict(start.state_dict())
    named = list(zip(NAMES, net.parameters()))
    if decay_all:
        opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=DECAY)
    else:
        opt = torch.optim.SGD([
            {'params': [p for n, p in named if n in DECAYED_BY_DEFAULT], 'weight_decay': DECAY},
            {'params': [p for n, p in named if n not in DECAYED_BY_DEFAULT], 'weight_decay': 0.0},
        ], lr=LR, momentum=MOMENTUM)
    net.train()
    for _ in range(STEPS):
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), labels).backward()
        opt.step()
    return {n: p.detach().flatten().tolist() for n, p in named}


fixture = {
    'generator': 'scripts/torch-sgd-decay.py, PyTorch ' + torch.__version__,
    'lr': LR, 'momentum': MOMENTUM, 'weightDecay': DECAY, 'steps': STEPS,
    'input': x.flatten().tolist(), 'inputShape': list(x.shape), 'labels': labels.tolist(),
    'start': {n: p.detach().flatten().tolist() for n, p in zip(NAMES, start.parameters())},
    'afterDecayAll': run(True),
    'afterDecayWeights': run(False),
}
out = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'torch-sgd-decay.json')
with open(out, 'w') as f:
    json.dump(fixture, f)
print('wrote', out)
