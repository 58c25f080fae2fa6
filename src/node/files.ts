import { type Stats, accessSync, closeSync, constants, fsyncSync, lstatSync, openSync, readlinkSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Backend } from '../backend/backend.js';
import { ConvkitError } from '../errors.js';
import { decodeModel, encodeModel } from '../io/modelfile.js';
import type { Model } from '../model/model.js';
import { fileKind, readBytes } from './mnist.js';

/**
 * Writes a file so that readers see the old content or the new, never half of it: write a
 * temporary file beside it, flush it to disk, then rename over the target. On any error the
 * temporary file is removed and the previous file is untouched. A symbolic link is followed
 * (its target is replaced, the link stays), and anything that exists but is not a regular
 * file — a directory, FIFO, socket or device node — is refused, never replaced.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const target = writableTarget(path);
  const tmp = `${target}.${process.pid}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
    syncDirectory(dirname(target));
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new ConvkitError(`cannot write ${path}: ${(e as Error).message}`);
  }
}

/** Most links followed from a path the user named (the kernel's own limit is 40). */
const MAX_LINKS = 40;

/**
 * The file a write to `path` should replace: the path itself, or, through any chain of symbolic
 * links (dangling ones included), the file they lead to. Throws a ConvkitError naming `path`
 * when that exists and is not a regular file, or when the links loop.
 */
export function writableTarget(path: string): string {
  let target = resolve(path);
  for (let links = 0; ; links++) {
    let stats: Stats;
    try {
      stats = lstatSync(target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return target; // a new file
      throw new ConvkitError(`cannot write ${path}: ${(e as Error).message}`);
    }
    if (!stats.isSymbolicLink()) {
      const kind = fileKind(stats);
      if (kind !== 'file')
        throw new ConvkitError(
          `cannot write ${path}: ${target === resolve(path) ? 'it' : target} is ${kind}, not a regular file (only regular files are replaced)`,
        );
      return target;
    }
    if (links === MAX_LINKS) throw new ConvkitError(`cannot write ${path}: more than ${MAX_LINKS} symbolic links (a loop?)`);
    target = resolve(dirname(target), readlinkSync(target));
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
  } catch {
    /* not supported here */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Fails now, not after hours of training, if `path` cannot be written: its directory must
 * exist and be writable, and the path must not be a directory.
 */
export function checkWritable(path: string): void {
  const dir = dirname(writableTarget(path));
  try {
    if (!statSync(dir).isDirectory()) throw new ConvkitError(`cannot write ${path}: ${dir} is not a directory`);
    accessSync(dir, constants.W_OK);
  } catch (e) {
    if (e instanceof ConvkitError) throw e;
    throw new ConvkitError(
      `cannot write ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? `the directory ${dir} does not exist` : (e as Error).message}`,
    );
  }
}

export function saveModel(path: string, model: Model, metadata: Record<string, unknown> = {}): void {
  writeFileAtomic(path, encodeModel(model, metadata));
}

export function loadModel(path: string, backend: Backend): { model: Model; metadata: Record<string, unknown> } {
  return decodeModel(readBytes(path), path, backend);
}
