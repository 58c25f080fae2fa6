/** Image processing and hand-made features; no Node API, so it runs in browsers too. */
export {
  type PlanarImage,
  createImage,
  channel,
  fromPixels,
  toPixels,
  clampByte,
  clampImage,
  toGreyImage,
  toRgbImage,
  withChannels,
  greyImage,
} from './image.js';
export {
  type Kernel2d,
  type Kernel3d,
  type KernelName,
  namedKernels,
  kernelNames,
  namedKernel,
  parseKernelValues,
  checkKernel2d,
  checkKernel3d,
  gaussianKernel1d,
} from './kernels.js';
export {
  type Padding,
  type Border,
  type ConvolveOptions,
  type FilterOptions,
  borders,
  filterImage,
  convolve3d,
  gaussianBlur,
  padImage,
  paddingAmount,
  borderIndex,
} from './filter.js';
export { type DownsampleMode, type DownsampleOptions, downsample } from './downsample.js';
export { type Gradients, imageGradients, polarGradients } from './gradients.js';
export { type HogOptions, type HogCells, hogBinCentre, hogCells, hogDescriptor, hogLength, hogVisualisation } from './hog.js';
export { l2Hys } from './normalise.js';
export { type SiftOptions, type Keypoint, type SiftFeature, sift, siftKeypoints } from './sift.js';
export { type GradientField, type PatchOptions, siftDescriptorAt, SIFT_LENGTH } from './sift-descriptor.js';
export { type DenseSiftOptions, denseSift, denseSiftLength } from './dense-sift.js';
export { type Match, matchDescriptors } from './match.js';
export { drawKeypoints, drawMatches } from './sift-draw.js';
export { type Colour, type StrokeOptions, drawLine, drawCircle, fillCircle, upscaleNearest, sideBySide } from './draw.js';
export { type Affine, applyAffine, invertAffine, rotationAbout, sampleBilinear, warpAffine, upsample, decimate } from './transform.js';
export { type SceneOptions, syntheticScene } from './synthetic.js';
export { type FeatureKind, type FeatureMatrix, featureKinds, digitHog, digitDenseSift, extractFeatures, standardise } from './features.js';
export { type LinearOptions, linearDefaults, trainLinear, linearAccuracy } from './linear.js';
