/**
 * `node:fs` and `node:child_process` for the browser bundle of test/backend.test.ts: its
 * build-the-kernels-if-missing block becomes a no-op, since the runner (run.ts) builds dist-wasm/
 * before bundling and the page fetches the kernels from the server. Only these two functions
 * exist, so a test that starts using more of either module fails to bundle instead of passing.
 */

export function existsSync(_path: unknown): boolean {
  return true;
}

export function execFileSync(file: string): never {
  throw new Error(`execFileSync(${file}) cannot run in a browser (test/browser/node-stubs.ts)`);
}
