/**
 * The README's library sections, run: every ```ts, ```js and ```sh block of "The library" (with
 * its subsections) and "See what a CNN learned" runs in document order in one scratch folder,
 * so the docs cannot drift from the package. Blocks import 'convkit' as users do; inside the
 * repository that resolves to the built package (dist/, the package's self-reference), and
 * TypeScript runs through tsx. `convkit` in shell blocks is bin/convkit.js.
 *
 * A comment on the line before a block changes how it runs:
 *   <!-- doctest: skip (why) -->   not run; the reason is required, and skips are counted
 *   <!-- doctest: file NAME -->    also saved as NAME, for a later shell block to use
 *   <!-- doctest: setup NAME -->   test/doc-setup/NAME.ts is put in front (what the block takes as given)
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SECTIONS = ['The library', 'See what a CNN learned'];
/** Blocks that cannot run here (the network, a browser page); keep this small. */
const MAX_SKIPS = 2;

export interface DocBlock {
  section: string;
  line: number;
  lang: string;
  code: string;
  marker?: { kind: 'skip' | 'file' | 'setup'; value: string };
}

/** The fenced blocks of the README's level-2 sections named in `sections`, with their markers. */
export function docBlocks(markdown: string, sections: string[]): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const heading = /^## (.+)$/.exec(lines[i]);
    if (heading) {
      section = heading[1].trim();
      continue;
    }
    const fence = /^```(\w*)\s*$/.exec(lines[i]);
    if (!fence) continue;
    const start = i;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    i = end;
    if (!sections.includes(section)) continue;
    let before = start - 1;
    while (before >= 0 && lines[before].trim() === '') before--;
    const m = /^<!-- doctest: (skip|file|setup)\s*(.*?)\s*-->$/.exec(lines[before]?.trim() ?? '');
    blocks.push({
      section,
      line: start + 1,
      lang: fence[1],
      code: lines.slice(start + 1, end).join('\n') + '\n',
      marker: m ? { kind: m[1] as 'skip' | 'file' | 'setup', value: m[2] } : undefined,
    });
  }
  return blocks;
}

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = docBlocks(readme, SECTIONS).filter((b) => ['ts', 'js', 'sh'].includes(b.lang));
// Inside the repository, so that 'convkit' resolves to the package itself (out/ is ignored by git).
const work = join(root, 'out', `readme-${process.pid}`);

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    return execFileSync(command, args, { cwd: work, encoding: 'utf8', stdio: 'pipe', env: { ...process.env, ...env }, timeout: 120_000 });
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

describe("README's library sections run as written", { concurrency: false }, () => {
  after(() => rmSync(work, { recursive: true, force: true }));

  test('the sections exist, every block is run or skipped with a reason, and skips are few', () => {
    for (const s of SECTIONS) assert.match(readme, new RegExp(`^## ${s}$`, 'm'), `README has no "## ${s}" section`);
    assert.ok(blocks.length >= 5, `only ${blocks.length} blocks found`);
    const skips = blocks.filter((b) => b.marker?.kind === 'skip');
    for (const b of skips) assert.match(b.marker!.value, /^\(.+\)$/, `README.md:${b.line}: a skip needs a reason in parentheses`);
    assert.ok(skips.length <= MAX_SKIPS, `${skips.length} skipped blocks (at most ${MAX_SKIPS})`);
  });

  for (const [index, block] of blocks.entries()) {
    const name = `README.md:${block.line} (${block.section}, ${block.lang})`;
    test(name, { skip: block.marker?.kind === 'skip' ? block.marker.value : false }, (t) => {
      mkdirSync(work, { recursive: true });
      let code = block.code;
      if (block.marker?.kind === 'setup') code = readFileSync(join(root, 'test', 'doc-setup', `${block.marker.value}.ts`), 'utf8') + code;
      if (block.marker?.kind === 'file') writeFileSync(join(work, block.marker.value), code);
      let out: string;
      if (block.lang === 'sh') {
        const bin = join(work, '.bin');
        if (!existsSync(join(bin, 'convkit'))) {
          mkdirSync(bin, { recursive: true });
          writeFileSync(join(bin, 'convkit'), `#!/bin/sh\nexec "${process.execPath}" "${join(root, 'bin', 'convkit.js')}" "$@"\n`);
          chmodSync(join(bin, 'convkit'), 0o755);
        }
        out = run('bash', ['-euo', 'pipefail', '-c', code], { PATH: `${bin}:${process.env.PATH}` });
      } else {
        const file = join(work, `block-${index}.${block.lang === 'ts' ? 'mts' : 'mjs'}`);
        writeFileSync(file, code);
        out = block.lang === 'ts' ? run(process.execPath, ['--import', 'tsx', file]) : run(process.execPath, [file]);
      }
      if (out.trim()) t.diagnostic(out.trim().split('\n').slice(-3).join(' | '));
    });
  }
});

describe('the README block reader', () => {
  test('finds blocks of the named sections only, with their markers', () => {
    const md = ['## A', '```ts', 'a()', '```', '## B', '<!-- doctest: skip (no network) -->', '', '```sh', 'npm i', '```', '```js', 'b()', '```'].join('\n');
    const found = docBlocks(md, ['B']);
    assert.deepEqual(
      found.map((b) => [b.lang, b.code, b.marker?.kind, b.line]),
      [
        ['sh', 'npm i\n', 'skip', 8],
        ['js', 'b()\n', undefined, 11],
      ],
    );
  });
});
