import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
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
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new ConvkitError(`cannot write ${path}: ${(e as Error).message}`);
  }
}

export function saveModel(path: string, model: Model, metadata: Record<string, unknown> = {}): void {
  writeFileAtomic(path, encodeModel(model, metadata));
}

export function loadModel(path: string, backend: Backend): { model: Model; metadata: Record<string, unknown> } {
  return decodeModel(readBytes(path), path, backend);
}
