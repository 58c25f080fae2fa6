/**
 * Preloaded into a child process (node --import ./test/inject-enospc.mjs ...) to simulate a
 * full disk: writes to files whose path matches ENOSPC_MATCH (a regular expression; by default
 * temporary files, *.tmp, what writeFileAtomic writes before renaming) fail with ENOSPC once
 * ENOSPC_AFTER_BYTES bytes have gone to them. Other files are untouched.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const limit = Number(process.env.ENOSPC_AFTER_BYTES ?? 0);
const match = new RegExp(process.env.ENOSPC_MATCH ?? '\\.tmp$');
const tmpFds = new Set();
let written = 0;
const { openSync, writeSync, closeSync } = fs;

fs.openSync = (path, ...rest) => {
  const fd = openSync(path, ...rest);
  if (match.test(String(path))) tmpFds.add(fd);
  return fd;
};
fs.writeSync = (fd, buffer, offset, length, ...rest) => {
  if (!tmpFds.has(fd)) return writeSync(fd, buffer, offset, length, ...rest);
  const room = Math.max(0, limit - written);
  if (room === 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  const n = writeSync(fd, buffer, offset, Math.min(length ?? buffer.length, room), ...rest);
  written += n;
  return n;
};
fs.closeSync = (fd) => {
  tmpFds.delete(fd);
  return closeSync(fd);
};
// ES module imports of node:fs (import { writeSync } from 'node:fs') see the patched functions.
syncBuiltinESMExports();
