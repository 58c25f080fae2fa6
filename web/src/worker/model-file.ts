/**
 * Reads a model file the visitor picked: a .convkit file (the playground's own, or the CLI's)
 * or an ONNX model exported from PyTorch and others. Either must fit MNIST (1×28×28 in, ten
 * classes out — or any number of classes with `newHead`: its classifier head is then replaced
 * by a fresh ten-class one, the library's withNewHead); an ONNX graph is checked on its spec
 * before the model is built, so a network for other images is refused before anything is
 * allocated on the backend.
 */
import { type Backend, ConvkitError, FormatError, Model, type ModelSpec, decodeModel, parseOnnx, withNewHead } from 'convkit';
import { CLASSES, validateNetwork } from '../network-def.js';

export interface ReadOptions {
  /** Replace the classifier head by a fresh ten-class one (a model trained on other classes). */
  newHead?: boolean;
  /** Receives the final spec once it passed validation. */
  checked?: (spec: ModelSpec) => void;
}

export function isOnnxFile(fileName: string): boolean {
  return /\.onnx$/i.test(fileName);
}

/** The model in `bytes`, built on `backend`. */
export function readModelFile(bytes: Uint8Array, fileName: string, backend: Backend, options: ReadOptions = {}): Model {
  const newHead = options.newHead ?? false;
  let model: Model;
  if (isOnnxFile(fileName)) model = readOnnx(bytes, fileName, backend, newHead);
  else {
    model = decodeModel(bytes, fileName, backend).model;
    fitsMnist(model.spec, fileName, newHead);
  }
  if (newHead) {
    // The host arrays hold the file's weights (just written), which is what withNewHead copies.
    model = withNewHead(model, CLASSES);
    fitsMnist(model.spec, fileName);
  }
  options.checked?.(model.spec);
  return model;
}

function readOnnx(bytes: Uint8Array, fileName: string, backend: Backend, newHead: boolean): Model {
  const parsed = parseOnnx(bytes, fileName);
  // The classes are the digits' once the head is (or already was) the ten-class one.
  const spec: ModelSpec = newHead ? parsed.spec : { ...parsed.spec, classes: CLASSES };
  fitsMnist(spec, fileName, newHead);
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

/** The playground's checks (MNIST input, ten outputs unless a new head comes, memory), with the file named. */
function fitsMnist(spec: ModelSpec, fileName: string, anyOutputs = false): void {
  try {
    validateNetwork(spec, 32, anyOutputs);
  } catch (error) {
    // Same error class, with the file named (and the way out when only the classes differ).
    if (error instanceof ConvkitError) {
      const otherClasses = !anyOutputs && fitsWithNewHead(spec);
      error.message = `${fileName}: this network does not fit the playground: ${error.message}${otherClasses ? '; to fine-tune it on the digits, load it with “new 10-class head” ticked' : ''}`;
    }
    throw error;
  }
}

function fitsWithNewHead(spec: ModelSpec): boolean {
  try {
    validateNetwork(spec, 32, true);
    return true;
  } catch {
    return false;
  }
}
