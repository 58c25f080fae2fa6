#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';

// Node 20 keeps WebAssembly relaxed SIMD (fused multiply-add) behind a flag; turning it on
// before any module is compiled lets the wasm backend load its faster build.
setFlagsFromString('--experimental-wasm-relaxed-simd');
const { main } = await import('../dist/cli/main.js');

// Output piped into `head` and closed early is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  else throw e;
});
process.exitCode = await main(process.argv);
