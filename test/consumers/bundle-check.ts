/**
 * Finds Node built-ins named by an emitted browser bundle: static imports and re-exports,
 * dynamic imports and require() calls of `node:*` or of a bare built-in name (fs,
 * worker_threads, child_process, …). Anything of the kind in a browser bundle either breaks
 * the build of a stricter bundler or fails at run time.
 */
import { builtinModules } from 'node:module';

const names = builtinModules.filter((m) => !m.startsWith('_')).map((m) => m.replace(/[/]/g, '\\/'));
const specifier = `["'\`](?:node:[\\w/]+|(?:${names.join('|')}))["'\`]`;
const patterns = [
  new RegExp(`\\bimport\\s*\\(\\s*${specifier}`, 'g'),
  new RegExp(`\\brequire\\s*\\(\\s*${specifier}`, 'g'),
  new RegExp(`\\b(?:import|export)\\b[^;'"\`]*?\\bfrom\\s*${specifier}`, 'g'),
  new RegExp(`\\bimport\\s*${specifier}`, 'g'),
];

/** Each reference to a Node built-in in `code`, with a little context. */
export function nodeBuiltinReferences(code: string): string[] {
  const found: string[] = [];
  for (const pattern of patterns) {
    for (const m of code.matchAll(pattern)) found.push(code.slice(Math.max(0, m.index - 40), m.index + m[0].length + 10));
  }
  return found;
}
