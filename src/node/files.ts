import { accessSync, closeSync, constants, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Backend } from '../backend/backend.js';
import { ConvkitError } from '../errors.js';
import { decodeModel, encodeModel } from '../io/modelfile.js';
import type { Model } from '../model/model.js';
import { readBytes } from './mnist.js';

/**
 * Writes a file so that readers see the old content or the new, never half of it: write a
 * temporary file beside it, flush it to disk, then rename over the target. On any error the
 * temporary file is removed and the previous file is untouched.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
    syncDirectory(dirname(resolve(path)));
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new ConvkitError(`cannot write ${path}: ${(e as Error).message}`);
  }
}

/**
 * Flushes a directory's entries (a rename is only durable once its directory is), where the
 * platform allows opening a directory; elsewhere (Windows) this is a no-op.
 */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch { /* not supported here */ } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Fails now, not after hours of training, if `path` cannot be written: its directory must
 * exist and be writable, and the path must not be a directory.
 */
export function checkWritable(path: string): void {
  const dir = dirname(resolve(path));
  try {
    if (!statSync(dir).isDirectory()) throw new ConvkitError(`cannot write ${path}: ${dir} is not a directory`);
    accessSync(dir, constants.W_OK);
  } catch (e) {
    if (e instanceof ConvkitError) throw e;
    throw new ConvkitError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? `the directory ${dir} does not exist` : (e as Error).message}`);
  }
  if (existsSync(path) && statSync(path).isDirectory()) throw new ConvkitError(`cannot write ${path}: it is a directory`);
}

export function saveModel(path: string, model: Model, metadata: Record<string, unknown> = {}): void {
  writeFileAtomic(path, encodeModel(model, metadata));
}

export function loadModel(path: string, backend: Backend): { model: Model; metadata: Record<string, unknown> } {
  return decodeModel(readBytes(path), path, backend);
}
