import { Option } from 'commander';
import { ConvkitError } from '../errors.js';

export const debugOption = () => new Option('--debug', 'on an unexpected error, print its stack trace');

interface CommanderError {
  code: string;
  exitCode?: number;
  message: string;
}

function isCommanderError(e: unknown): e is CommanderError {
  return !!e && typeof e === 'object' && 'code' in e && typeof e.code === 'string' && e.code.startsWith('commander.');
}

/**
 * How a failed command ends: one `convkit: error: …` line on stderr (commander has already
 * printed its own usage errors there), with --json also an {"type":"error"} line on stdout, and
 * the exit code — 2 for bad usage, 1 for everything else. Errors convkit raises on purpose
 * (ConvkitError) are the whole message; anything else is a bug or an environment failure, shown
 * as one line with its stack trace only under --debug.
 */
export class ErrorReport {
  private readonly json: boolean;
  private readonly debug: boolean;

  constructor(argv: string[]) {
    // Flags are read from the raw arguments: a usage error can stop parsing before them.
    this.json = argv.includes('--json');
    this.debug = argv.includes('--debug');
  }

  /** Reports the error; returns the exit code. */
  fail(e: unknown): number {
    if (isCommanderError(e)) {
      const code = e.exitCode ?? 2;
      if (code === 0) return 0; // --help, --version
      if (e.code === 'commander.help') this.jsonLine('no command given (see convkit --help)', 'usage', 2);
      else this.jsonLine(e.message.replace(/^error: /, ''), 'usage', 2);
      return 2;
    }
    if (e instanceof ConvkitError) {
      process.stderr.write(`convkit: error: ${e.message}\n`);
      this.jsonLine(e.message, e.name, 1);
      return 1;
    }
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    if (this.debug && e instanceof Error && e.stack) process.stderr.write(`convkit: error: ${e.stack}\n`);
    else process.stderr.write(`convkit: error: ${firstLine(message)} (unexpected; run with --debug for the stack trace)\n`);
    this.jsonLine(message, 'internal', 1);
    return 1;
  }

  private jsonLine(error: string, kind: string, exitCode: number): void {
    if (this.json) process.stdout.write(JSON.stringify({ type: 'error', error, kind, exitCode }) + '\n');
  }
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}
