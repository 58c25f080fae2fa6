"""A small colour CNN trained in PyTorch and exported to ONNX, for docs/EXPLAIN.md.

Each 64x64 picture holds one red and one blue shape (circle, square or triangle) on a noisy
grey background; the class is the shape of the RED one, so a model that explains itself well
looks at the red shape and ignores the blue. Trained with ImageNet normalisation (what convkit
assumes for a colour ONNX model of at least 64 pixels). Writes FOLDER/shapes.onnx and a test
folder FOLDER/shapes/<class>/*.png (convkit's folder dataset layout).

    /usr/bin/python3 scripts/explain-shapes.py FOLDER
"""
import os
import sys

import cv2
import numpy as np
import torch
from torch import nn

CLASSES = ['circle', 'square', 'triangle']
MEAN, STD = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])


def draw(rng, kind, colour, img, avoid):
    for _ in range(50):
        r = int(rng.integers(7, 11))
        cx, cy = (int(v) for v in rng.integers(r + 2, 64 - r - 2, size=2))
        if avoid is None or abs(cx - avoid[0]) > 2 * r + 4 or abs(cy - avoid[1]) > 2 * r + 4:
            break
    if kind == 'circle':
        cv2.circle(img, (cx, cy), r, colour, -1)
    elif kind == 'square':
        cv2.rectangle(img, (cx - r, cy - r), (cx + r, cy + r), colour, -1)
    else:
        cv2.fillPoly(img, [np.array([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], np.int32)], colour)
    return cx, cy


def picture(rng, label):
    img = (rng.normal(150, 12, size=(64, 64, 3))).clip(0, 255).astype(np.uint8)  # RGB
    other = CLASSES[int(rng.integers(3))]
    red = tuple(int(v) for v in (rng.integers(180, 240), rng.integers(20, 60), rng.integers(20, 60)))
    blue = tuple(int(v) for v in (rng.integers(20, 60), rng.integers(40, 90), rng.integers(180, 240)))
    at = draw(rng, other, blue, img, None)
    draw(rng, CLASSES[label], red, img, at)
    return img


def dataset(rng, n):
    labels = rng.integers(3, size=n)
    images = np.stack([picture(rng, int(l)) for l in labels])
    x = ((images / 255.0 - MEAN) / STD).transpose(0, 3, 1, 2).astype(np.float32)
    return images, torch.from_numpy(x), torch.from_numpy(labels)


def main(folder):
    torch.manual_seed(1)
    torch.set_num_threads(1)
    rng = np.random.default_rng(1)
    _, x, y = dataset(rng, 3000)
    test_images, tx, ty = dataset(rng, 300)
    model = nn.Sequential(
        nn.Conv2d(3, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 3))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for epoch in range(8):
        perm = torch.randperm(len(x))
        for i in range(0, len(x), 64):
            b = perm[i:i + 64]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x[b]), y[b])
            loss.backward()
            opt.step()
        with torch.no_grad():
            acc = (model(tx).argmax(1) == ty).float().mean().item()
        print(f'epoch {epoch + 1}: loss {loss.item():.3f}, test accuracy {100 * acc:.1f} %')
    model.eval()
    os.makedirs(folder, exist_ok=True)
    torch.onnx.export(model, tx[:1], os.path.join(folder, 'shapes.onnx'), opset_version=13, input_names=['input'], output_names=['logits'])
    for c in CLASSES:
        os.makedirs(os.path.join(folder, 'shapes', c), exist_ok=True)
    for i, (img, label) in enumerate(zip(test_images, ty)):
        cv2.imwrite(os.path.join(folder, 'shapes', CLASSES[int(label)], f'{i:03d}.png'), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))


if __name__ == '__main__':
    main(sys.argv[1])
