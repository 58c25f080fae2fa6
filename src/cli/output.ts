import cliProgress from 'cli-progress';

/**
 * Everything a command prints goes through here: human-readable text, or with --json one JSON
 * object per line on stdout (progress events first, the result last).
 */
export class Output {
  constructor(readonly json: boolean) {}

  /** A progress or result event: a JSON line in --json mode, otherwise nothing. */
  event(obj: Record<string, unknown>): void {
    if (this.json) process.stdout.write(JSON.stringify(obj) + '\n');
  }

  /** Human-readable text: stdout normally, suppressed in --json mode. */
  text(line = ''): void {
    if (!this.json) process.stdout.write(line + '\n');
  }

  /** A progress bar on stderr (only on a terminal-ish human run). */
  progressBar(format: string): cliProgress.SingleBar | null {
    if (this.json) return null;
    return new cliProgress.SingleBar(
      {
        format,
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
        fps: 5,
        noTTYOutput: false,
      },
      cliProgress.Presets.shades_classic,
    );
  }
}

export function percent(x: number | undefined, digits = 2): string {
  return x === undefined ? '–' : `${(100 * x).toFixed(digits)} %`;
}

/** A plain text table with right-aligned numeric columns. */
export function table(headers: string[], rows: (string | number)[][], rightAlign: boolean[] = []): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  const line = (r: string[]) =>
    r
      .map((v, c) => (rightAlign[c] ? v.padStart(widths[c]) : v.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('──');
  return [line(cells[0]), rule, ...cells.slice(1).map(line)].join('\n');
}
