import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { buildProgram } from '../src/cli/main.ts';

/**
 * The CLI's flags are a public contract: every command's name, arguments, options, defaults,
 * choices and help texts, read from commander's own objects, must stay as the snapshot in
 * test/fixtures/cli-contract.json records them (extend it deliberately when adding a flag).
 */
/** Values every option parser is tried on: what it accepts (and as what) is part of the contract, its wording is not. */
const probes = ['0', '1', '-1', '2.5', '1e3', 'abc', ''];

function parsed(parse: (value: string, previous: unknown) => unknown, v: string): unknown {
  try {
    return parse(v, undefined);
  } catch {
    return 'rejected';
  }
}

function describeCommand(c: Command) {
  return {
    name: c.name(),
    description: c.description(),
    arguments: c.registeredArguments.map((a) => ({
      name: a.name(),
      required: a.required,
      variadic: a.variadic,
      description: a.description,
      defaultValue: a.defaultValue,
    })),
    options: c.options.map((o) => ({
      flags: o.flags,
      description: o.description,
      defaultValue: o.defaultValue,
      choices: o.argChoices,
      mandatory: o.mandatory,
      negate: o.negate,
      conflicts: (o as typeof o & { conflictsWith?: string[] }).conflictsWith, // set by commander, missing from its types
      accepts: o.parseArg ? Object.fromEntries(probes.map((v) => [v, parsed(o.parseArg!, v)])) : undefined,
    })),
  };
}

export function describeProgram(program: Command) {
  return { ...describeCommand(program), commands: program.commands.map(describeCommand) };
}

const snapshot = new URL('./fixtures/cli-contract.json', import.meta.url);

test('every command keeps its flags, defaults, choices and help texts', () => {
  const now = JSON.parse(JSON.stringify(describeProgram(buildProgram())));
  if (process.env.CONVKIT_WRITE_CLI_SNAPSHOT) {
    // Regenerating is a deliberate act: the diff of the fixture is the contract change under review.
    writeFileSync(snapshot, JSON.stringify(now, null, 1) + '\n');
  }
  const expected = JSON.parse(readFileSync(snapshot, 'utf8'));
  assert.deepEqual(
    now.commands.map((c: { name: string }) => c.name),
    expected.commands.map((c: { name: string }) => c.name),
    'command list',
  );
  for (const [i, c] of expected.commands.entries()) assert.deepEqual(now.commands[i], c, `convkit ${c.name}`);
  assert.deepEqual(now, expected);
});
