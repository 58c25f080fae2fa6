// Builds the WASM kernels (assembly/kernels.ts) into dist-wasm/, four variants:
//   kernels-simd.wasm / kernels-relaxed.wasm                     shared memory, for worker threads
//   kernels-simd-unshared.wasm / kernels-relaxed-unshared.wasm   plain memory, where SharedArrayBuffer is unavailable
// "relaxed" adds relaxed-SIMD FMA; the backend picks it at run time when the engine validates it.
// Usage: node assembly/build.mjs
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist-wasm');

const common = ['assembly/kernels.ts', '--runtime', 'stub', '-O3', '--noAssert', '--importMemory', '--noExportMemory'];
// Shared memory must declare a maximum; 65536 pages (4 GiB) lets the host choose any size.
const shared = ['--enable', 'threads', '--sharedMemory', '--maximumMemory', '65536'];
const variants = [
  { file: 'kernels-simd.wasm', flags: ['--enable', 'simd', ...shared] },
  { file: 'kernels-relaxed.wasm', flags: ['--enable', 'simd', '--enable', 'relaxed-simd', ...shared] },
  { file: 'kernels-simd-unshared.wasm', flags: ['--enable', 'simd'] },
  { file: 'kernels-relaxed-unshared.wasm', flags: ['--enable', 'simd', '--enable', 'relaxed-simd'] },
];

await mkdir(outDir, { recursive: true });
for (const v of variants) {
  // Written under a temporary name and renamed: a process loading the kernels meanwhile sees
  // the old file or the new one, never none or half of one.
  const tmp = `.${v.file}.${process.pid}.tmp`;
  const { error, stderr } = await asc.main([...common, ...v.flags, '--outFile', join('dist-wasm', tmp), '--baseDir', root]);
  if (error) {
    await rm(join(outDir, tmp), { force: true });
    console.error(stderr.toString());
    console.error(`assembly/build.mjs: ${v.file} failed: ${error.message}`);
    process.exit(1);
  }
  await rename(join(outDir, tmp), join(outDir, v.file));
  const { size } = await stat(join(outDir, v.file));
  console.log(`dist-wasm/${v.file}  ${(size / 1024).toFixed(1)} KiB`);
}

// The host owns all of linear memory above the static data: a kernel that allocated (`new`,
// arrays, strings) would pull in the runtime's bump allocator and overwrite host tensors.
const wat = join(tmpdir(), `convkit-kernels-${process.pid}.wat`);
const check = await asc.main([...common, '--enable', 'simd', '--textFile', wat, '--baseDir', root]);
const text = check.error ? '' : await readFile(wat, 'utf8');
await rm(wat, { force: true });
if (check.error || /~lib\/rt\/|\(global \$/.test(text)) {
  console.error('assembly/build.mjs: the kernels must not allocate or keep global state (found runtime code or globals)');
  process.exit(1);
}
