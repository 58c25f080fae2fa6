/**
 * Packs convkit once (`npm pack`, from the current dist/ and dist-wasm/) and installs the
 * tarball into a fresh project OFFLINE, the way a user's `npm install convkit` would lay it out.
 *
 * npm ≥ 11 resolves every dependency from full registry metadata, which the local npm cache
 * does not hold (it keeps the abbreviated metadata and the tarballs), so a bare
 * `npm install --offline convkit-0.1.0.tgz` fails with ENOTCACHED. The project therefore gets a
 * package-lock.json: convkit from the tarball (with its integrity), and its runtime dependencies
 * pinned to the versions, URLs and integrities of the repository's own lock — exactly what CI
 * installed — so `npm install --offline` takes every tarball from the cache by integrity and
 * never asks the registry.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface LockEntry {
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  [key: string]: unknown;
}

export interface Consumer {
  /** The temporary project (its node_modules/convkit came from the tarball). */
  dir: string;
  tarball: string;
  /** What `npm pack` said it packed: paths relative to the package root. */
  files: string[];
}

/** npm pack into a temporary folder, then an offline install into a fresh project there. */
export function packAndInstall(): Consumer {
  for (const built of ['dist/index.js', 'dist/index.d.ts', 'dist-wasm/kernels-simd.js']) {
    if (!existsSync(join(repoRoot, built))) throw new Error(`${built} is missing: run npm run build first`);
  }
  const root = mkdtempSync(join(tmpdir(), 'convkit-consumer-'));
  // --ignore-scripts: "prepare" would rebuild; the test packs the build that is there.
  const packed = JSON.parse(execFileSync(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', root], { cwd: repoRoot, encoding: 'utf8' })) as {
    filename: string;
    integrity: string;
    files: { path: string }[];
  }[];
  const tarball = join(root, packed[0].filename);

  const dir = join(root, 'project');
  mkdirSync(dir);
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  const repoLock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const spec = `file:../${packed[0].filename}`;
  const packages: Record<string, unknown> = {
    '': { name: 'convkit-consumer', dependencies: { convkit: spec } },
    'node_modules/convkit': {
      version: pkg.version,
      resolved: spec,
      integrity: packed[0].integrity,
      license: pkg.license,
      dependencies: pkg.dependencies,
      optionalDependencies: pkg.optionalDependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  // Every package the repository installs for convkit's own runtime (not only for development).
  for (const [path, entry] of Object.entries(repoLock.packages)) {
    if (path === '' || entry.dev) continue;
    const { devOptional, ...rest } = entry;
    packages[path] = devOptional ? { ...rest, optional: true } : rest;
  }
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'convkit-consumer', private: true, type: 'module', dependencies: { convkit: spec } }, null, 2),
  );
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'convkit-consumer', lockfileVersion: 3, requires: true, packages }, null, 2));
  execFileSync(npm, ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'pipe' });
  return { dir, tarball, files: packed[0].files.map((f) => f.path) };
}
