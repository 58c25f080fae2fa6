/**
 * Prints convkit's SIFT keypoints of an image as JSON (one object per keypoint: x, y, sigma,
 * angle, octave, layer), for scripts/opencv-sift-fixtures.py to describe with OpenCV.
 *
 *   node --import tsx scripts/sift-keypoints.ts image.png
 */
import { fromPixels } from '../src/image/image.js';
import { siftKeypoints } from '../src/image/sift.js';
import { readImage } from '../src/node/image.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: node --import tsx scripts/sift-keypoints.ts image.png');
  process.exit(2);
}
const decoded = readImage(file);
const keypoints = siftKeypoints(fromPixels(decoded.pixels, decoded.width, decoded.height, decoded.channels));
console.log(JSON.stringify(keypoints.map(({ x, y, sigma, angle, octave, layer }) => ({ x, y, sigma, angle, octave, layer }))));
