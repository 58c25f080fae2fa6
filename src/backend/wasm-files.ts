/**
 * Where the wasm backend gets its kernel builds. By default from modules that hold each build's
 * bytes (generated next to the .wasm files by assembly/build.mjs), imported with literal
 * specifiers: Node, Vite, esbuild, webpack and Rollup all load or bundle them with no
 * configuration, and only the build that is used is fetched. With `wasmPaths` they are read
 * from where the user serves the .wasm files instead (a CDN, a static folder).
 */
import { ConvkitError } from '../errors.js';

/** Where the .wasm files are served: a base URL (ending in /) or a function of the file name. */
export type WasmPaths = string | URL | ((file: string) => string | URL);

type Base64Module = () => Promise<{ default: string }>;
const bundled: Record<string, Base64Module> = {
  'kernels-relaxed.wasm': () => import('../../dist-wasm/kernels-relaxed.js'),
  'kernels-simd.wasm': () => import('../../dist-wasm/kernels-simd.js'),
  'kernels-relaxed-unshared.wasm': () => import('../../dist-wasm/kernels-relaxed-unshared.js'),
  'kernels-simd-unshared.wasm': () => import('../../dist-wasm/kernels-simd-unshared.js'),
};

/** The bytes of one kernel build (a file name of dist-wasm/). */
export async function kernelBytes(
  file: string,
  paths?: WasmPaths,
  readUrl: (url: URL) => Promise<Uint8Array<ArrayBuffer>> = fetchBytes,
): Promise<Uint8Array<ArrayBuffer>> {
  if (paths !== undefined) {
    const where = typeof paths === 'function' ? paths(file) : new URL(file, paths);
    return readUrl(where instanceof URL ? where : new URL(where, (globalThis as { location?: { href: string } }).location?.href));
  }
  const load = Object.hasOwn(bundled, file) ? bundled[file] : undefined;
  if (!load) throw new ConvkitError(`wasm backend: no kernel build named ${file}`);
  let base64: string;
  try {
    base64 = (await load()).default;
  } catch (e) {
    throw new ConvkitError(`wasm backend: ${file} is missing from dist-wasm/ (build it with: node assembly/build.mjs): ${(e as Error).message}`);
  }
  return decodeBase64(base64);
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

async function fetchBytes(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  const response = await fetch(url);
  if (!response.ok) throw new ConvkitError(`wasm backend: could not fetch ${url.href} (HTTP ${response.status})`);
  return new Uint8Array(await response.arrayBuffer());
}
