/** Turns results into ratios, a readable table, and JSON lines. */
import { ANCHORS } from './libraries.mjs';
import { UNITS } from './works.mjs';

/** Speed of `row` relative to `anchor`, > 1 = faster, whatever the unit (ms is inverted). */
function speedRatio(work, row, anchor) {
  if (row.median == null || anchor?.median == null) return null;
  return UNITS[work.unit].higherIsBetter ? row.median / anchor.median : anchor.median / row.median;
}

/** Adds `ratios: { anchorId: number }` to each row of each work. */
export function addRatios(measured) {
  for (const { work, rows } of measured) {
    for (const row of rows) {
      row.ratios = {};
      for (const a of ANCHORS) {
        const r = speedRatio(
          work,
          row,
          rows.find((x) => x.library === a.id),
        );
        if (r != null) row.ratios[a.id] = r;
      }
    }
  }
}

export function jsonLines(work, rows, load) {
  return rows.map((r) =>
    JSON.stringify({
      work: work.id,
      library: r.library,
      median: round(r.median),
      unit: work.unit,
      min: round(r.min),
      max: round(r.max),
      runs: r.runs,
      ...(r.label ? { label: r.label } : {}),
      ...(work.data ? { data: work.data } : {}),
      ratios: Object.fromEntries(Object.entries(r.ratios ?? {}).map(([k, v]) => [k, round(v)])),
      ...(r.note ? { note: r.note } : {}),
      ...(load != null ? { load1: round(load) } : {}),
    }),
  );
}

function round(x) {
  if (x == null) return null;
  return Number(x.toPrecision(4));
}

/** Three significant digits, thousands separated by a thin space as in the docs. */
export function fmt(x) {
  if (x == null) return '';
  const digits = x >= 100 ? 0 : x >= 10 ? 1 : x >= 1 ? 2 : 3;
  const [int, frac] = x.toFixed(digits).split('.');
  return int.replace(/\B(?=(\d{3})+(?!\d))/g, ' ') + (frac ? `.${frac}` : '');
}

/** A Markdown table (readable as plain text too): one row per work and library. */
export function table(measured) {
  const anchors = ANCHORS.filter((a) => measured.some(({ rows }) => rows.some((r) => r.library === a.id && r.median != null)));
  const head = ['work', 'library', 'median', 'min–max', 'unit', 'runs', ...anchors.map((a) => `× ${a.short}`), 'note'];
  const lines = [head];
  for (const { work, rows } of measured) {
    for (const r of rows) {
      lines.push([
        `${work.id}${work.data ? ` (${work.data})` : ''}`,
        r.label,
        r.median == null ? '—' : fmt(r.median),
        r.median == null ? '' : `${fmt(r.min)}–${fmt(r.max)}`,
        work.unit,
        String(r.runs),
        ...anchors.map((a) => (r.ratios?.[a.id] != null ? fmt(r.ratios[a.id]) : '')),
        r.note ?? '',
      ]);
    }
  }
  const widths = head.map((_, c) => Math.max(...lines.map((l) => l[c].length)));
  const row = (l) => `| ${l.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  return [row(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.slice(1).map(row)].join('\n');
}
