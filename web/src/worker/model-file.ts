/**
 * Reads a model file the visitor picked: a .convkit file (the playground's own, or the CLI's)
 * or an ONNX model exported from PyTorch and others. Either must fit MNIST (1×28×28 in, ten
 * classes out); an ONNX graph is checked on its spec before the model is built, so a network
 * for other images is refused before anything is allocated on the backend.
 */
import { type Backend, ConvkitError, FormatError, Model, type ModelSpec, decodeModel, parseOnnx } from 'convkit';
import { CLASSES, validateNetwork } from '../network-def.js';

export function isOnnxFile(fileName: string): boolean {
  return /\.onnx$/i.test(fileName);
}

/** The model in `bytes`, built on `backend`; `checked` receives its spec once it passed validation. */
export function readModelFile(bytes: Uint8Array, fileName: string, backend: Backend, checked?: (spec: ModelSpec) => void): Model {
  if (isOnnxFile(fileName)) return readOnnx(bytes, fileName, backend, checked);
  const { model } = decodeModel(bytes, fileName, backend);
  fitsMnist(model.spec, fileName);
  checked?.(model.spec);
  return model;
}

function readOnnx(bytes: Uint8Array, fileName: string, backend: Backend, checked?: (spec: ModelSpec) => void): Model {
  const parsed = parseOnnx(bytes, fileName);
  const spec: ModelSpec = { ...parsed.spec, classes: CLASSES };
  fitsMnist(spec, fileName);
  checked?.(spec);
  // The same limit as the library's loadOnnx: building may not allocate more than the file's weights can fill.
  let stored = 0;
  for (const w of parsed.weights.values()) stored += w.length;
  const model = new Model(spec, backend, 1, { maxValues: 3 * stored + 4096 });
  for (const p of model.savedTensors()) {
    const w = parsed.weights.get(p.path);
    if (!w || w.length !== p.value.size) throw new FormatError(`${fileName}: weights for "${p.path}" are missing or of the wrong size`);
    p.value.data.set(w);
  }
  model.uploadWeights();
  return model;
}

/** The playground's checks (MNIST input, ten outputs, memory), with the file named. */
function fitsMnist(spec: ModelSpec, fileName: string): void {
  try {
    validateNetwork(spec);
  } catch (error) {
    // Same error class, with the file named.
    if (error instanceof ConvkitError) error.message = `${fileName}: this network does not fit the playground: ${error.message}`;
    throw error;
  }
}
