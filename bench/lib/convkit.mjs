/** Loads convkit from the root package's build (dist/), with a clear message when it is missing. */
import { existsSync } from 'node:fs';

export const rootUrl = new URL('../../', import.meta.url);

export async function loadConvkit() {
  if (!existsSync(new URL('dist/index.js', rootUrl))) {
    throw new Error('convkit is not built: run `npm run build` in the repository root (npm run bench does it for you)');
  }
  const [core, node, onnx, onnxProto] = await Promise.all([
    import(new URL('dist/index.js', rootUrl).href),
    import(new URL('dist/node/index.js', rootUrl).href),
    import(new URL('dist/onnx/export.js', rootUrl).href),
    import(new URL('dist/onnx/proto.js', rootUrl).href),
  ]);
  return { ...core, loadMnist: node.loadMnist, toOnnx: onnx.toOnnx, onnxProto };
}
