"""Regenerates the scikit-image HOG fixture in test/fixtures/ (needs Debian's python3-skimage).

scikit-image's HOG cell histograms of test/fixtures/camera-256.png (made by
scripts/opencv-sift-fixtures.py): 8-pixel cells, 9 unsigned bins, one-cell blocks with L1
normalisation, so each cell's histogram is only rescaled. scikit-image votes each pixel into
one bin, [20 b, 20 (b + 1)) degrees, centred at 20 (b + 0.5); the test accounts for that.
Run from the repository root:

    /usr/bin/python3 scripts/skimage-hog-fixtures.py
"""
import json
import os

import skimage
import skimage.io
from skimage.feature import hog

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')


def main():
    image = skimage.io.imread(os.path.join(OUT, 'camera-256.png')).astype(float)
    cells = hog(image, orientations=9, pixels_per_cell=(8, 8), cells_per_block=(1, 1), block_norm='L1', feature_vector=False)
    cells_y, cells_x = cells.shape[:2]
    fixture = {
        'about': 'scikit-image HOG cell histograms (L1-normalised) of camera-256.png; made by scripts/skimage-hog-fixtures.py',
        'skimage': skimage.__version__,
        'cellSize': 8,
        'bins': 9,
        'cellsX': cells_x,
        'cellsY': cells_y,
        'histograms': [round(float(v), 5) for v in cells.reshape(-1)],
    }
    with open(os.path.join(OUT, 'skimage-hog-camera.json'), 'w') as f:
        json.dump(fixture, f)
        f.write('\n')


if __name__ == '__main__':
    main()
