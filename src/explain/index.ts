/** See what a CNN learned: attributions, class activation maps, reconstructions, feature visualisation. */
export {
  saliency,
  smoothGrad,
  gradientTimesInput,
  guidedBackprop,
  classScores,
  type Attribution,
  type ClassOptions,
  type SmoothGradOptions,
} from './saliency.js';
export { gradCam, type GradCam, type GradCamOptions } from './gradcam.js';
export { occlusion, type Occlusion, type OcclusionOptions } from './occlusion.js';
export { reconstruct, channelActivations, topActivatingImages, type ReconstructOptions, type TopImagesOptions, type UnitChoice } from './reconstruct.js';
export { maximizeActivation, maximizeLayer, type MaximizeOptions, type MaximizedInput } from './maximize.js';
export { topActivatingPatches, type TopPatch } from './top-patches.js';
export { unitBox, type Box } from './patch-box.js';
export { scoreNode, defaultCamNode, spatialNode, spatialNodes, nodeShape, resolveClass, classCount } from './target.js';
export { resizeBilinear } from './upsample.js';
export { viridis, diverging, greys, type ColourMap } from './colormap.js';
export { convFilters, convNodes, filterPictures, signedColour, signedToRgba, type ConvFilters } from './filters.js';
export { labelledCells, labelledRows, type GridLayout } from './labelled-grid.js';
export {
  checkPictureSize,
  createRgba,
  mapRange,
  heatmapToRgba,
  imageToRgba,
  overlayHeatmap,
  upscale,
  grid,
  paste,
  withLegend,
  formatValue,
  drawText,
  type RgbaImage,
} from './render.js';
