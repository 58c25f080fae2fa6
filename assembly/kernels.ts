// Entry point of the convkit WASM kernels: every export is called from src/backend/wasm*.ts
// (and its worker threads) with pointers into the one imported linear memory. Each export is
// a row of the kernel table in src/backend/wasm-interface.ts (assembly/build.mjs checks them).
// The module keeps no state and allocates nothing: the host owns all memory.

export { gemm, gemmPackB, gemmPacked, gemmWorkspaceBytes } from './gemm';
export { conv2dForward, conv2dBackwardInput, conv2dBackwardWeights, convWorkspaceBytes, directPack, directPackedBytes, usesDirect } from './conv';
export { winogradGradInput, winogradInput, winogradInputBytes, winogradMultiply, winogradProductsBytes, winogradWeights } from './winograd';
export { winogradGradOutput, winogradGradOutputBytes, winogradGradProducts, winogradGradWeights } from './winogradgrad';
export { winograd5Input, winograd5InputBytes, winograd5Multiply, winograd5ProductsBytes, winograd5Weights } from './winograd5';
export { convGemmForward, convPackWeights, convPackedStrips, convPackedWeightsFloats } from './convgemm';
export { convGemmWeights, convPackGradient, convPackedGradientFloats } from './convgemmweights';
export { maxPool2dForward, maxPool2dBackward, avgPool2dForward, avgPool2dBackward, adaptiveAvgPool2dForward, adaptiveAvgPool2dBackward } from './pool';
export { batchNormStats, batchNormApply, batchNormBackward, lrnForward, lrnBackward } from './norm';
export { add, mul, axpy, addBias, sumRows, relu, reluBackward, leakyRelu, leakyReluBackward, tanh, tanhBackward, sigmoid, sigmoidBackward, sumOfSquares, sameBytes } from './elementwise';
export { hardSigmoid, hardSigmoidBackward, channelScale, channelScaleBackward } from './elementwise';
export { layerNormForward, layerNormBackward, layerNormParamGrads, gelu, geluBackward } from './layernorm';
export { softmax, softmaxBackward, softmaxCrossEntropy } from './softmax';
export { sgdStep, adamStep } from './optim';

/** End of the module's static data (math tables); the host allocates only above it. */
export function dataEnd(): usize {
  return __heap_base;
}
