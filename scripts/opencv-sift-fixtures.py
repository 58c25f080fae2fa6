"""Regenerates the OpenCV SIFT fixture in test/fixtures/ (needs Debian's python3-opencv and python3-skimage).

The image is scikit-image's `camera` photograph, downscaled to 256 x 256 (saved as
test/fixtures/camera-256.png). convkit detects its keypoints (scripts/sift-keypoints.ts), and
OpenCV's SIFT `compute` describes those same keypoints from its own scale space, so the test
compares descriptor layouts and not two detectors. Run from the repository root:

    /usr/bin/python3 scripts/opencv-sift-fixtures.py
"""
import base64
import json
import math
import os
import subprocess

import cv2
import numpy as np
import skimage.data

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
OUT = os.path.join(ROOT, 'test', 'fixtures')
IMAGE = os.path.join(OUT, 'camera-256.png')
SCALES_PER_OCTAVE = 3


def opencv_keypoint(k):
    """convkit's keypoint in OpenCV's conventions.

    - pt: the same pixel coordinates (x right, y down, pixel centres at integers).
    - size: the diameter OpenCV uses, 2 sigma.
    - angle: degrees in [0, 360). OpenCV measures gradients with y up and stores
      360 - (their angle), which is the angle with y down: convkit's, in degrees.
    - octave: OpenCV packs octave | layer << 8, with octave -1 for the doubled image (convkit's
      octave 0 when it upsamples) and layer the Gaussian image the descriptor is computed on.
    """
    layer = min(max(round(k['layer']), 0), SCALES_PER_OCTAVE + 2)
    octave = k['octave'] - 1
    angle = math.degrees(k['angle']) % 360.0
    if angle >= 360.0:
        angle = 0.0
    return cv2.KeyPoint(x=k['x'], y=k['y'], size=2 * k['sigma'], angle=angle, response=0, octave=(octave & 255) | (layer << 8))


def main():
    image = cv2.resize(skimage.data.camera(), (256, 256), interpolation=cv2.INTER_AREA)
    cv2.imwrite(IMAGE, image)
    listed = subprocess.run(['node', '--import', 'tsx', 'scripts/sift-keypoints.ts', IMAGE], cwd=ROOT, check=True, capture_output=True, text=True)
    keypoints = json.loads(listed.stdout)
    sift = cv2.SIFT_create(nOctaveLayers=SCALES_PER_OCTAVE, sigma=1.6)
    described, descriptors = sift.compute(image, [opencv_keypoint(k) for k in keypoints])
    assert len(described) == len(keypoints), f'OpenCV described {len(described)} of {len(keypoints)} keypoints'
    # OpenCV scales each descriptor by 512 and rounds it to bytes (stored as float32).
    assert np.all(descriptors == np.round(descriptors)) and descriptors.max() <= 255
    # A check of the conventions that needs no descriptor: OpenCV's own detector should find
    # many of the same keypoints, with the same position, size and angle.
    detected = sift.detect(image, None)
    agree = 0
    for k in keypoints:
        for d in detected:
            turn = (math.degrees(k['angle']) - d.angle + 180) % 360 - 180
            if math.hypot(d.pt[0] - k['x'], d.pt[1] - k['y']) < 1 and abs(d.size / (2 * k['sigma']) - 1) < 0.1 and abs(turn) < 10:
                agree += 1
                break
    print(f'{len(keypoints)} convkit keypoints, {len(detected)} OpenCV keypoints, {agree} of convkit\'s found by OpenCV too (within 1 px, 10 % size, 10 degrees)')
    fixture = {
        'about': 'OpenCV SIFT descriptors of convkit keypoints on camera-256.png; made by scripts/opencv-sift-fixtures.py',
        'opencv': cv2.__version__,
        'image': 'camera-256.png',
        'keypoints': keypoints,
        'descriptorsBase64': base64.b64encode(descriptors.astype(np.uint8).tobytes()).decode('ascii'),
    }
    with open(os.path.join(OUT, 'opencv-sift-camera.json'), 'w') as f:
        json.dump(fixture, f)
        f.write('\n')


if __name__ == '__main__':
    main()
