/** The test-set report: a strip of digits with top-3 guesses, the confusion matrix, the worst mistakes. */
import type { EvaluationReport, TestExample } from '../protocol.js';
import { digitCanvas } from './greyscale.js';

export interface PredictionElements {
  summary: HTMLElement;
  strip: HTMLElement;
  confusion: HTMLElement;
  wrong: HTMLElement;
}

export function renderPredictions(el: PredictionElements, report: EvaluationReport, onPick: (index: number) => void): void {
  const errors = report.confusion.reduce((s, row, i) => s + row.reduce((t, v, j) => t + (i === j ? 0 : v), 0), 0);
  el.summary.textContent =
    `Test accuracy ${(report.accuracy * 100).toFixed(2)} % on ${report.count === 10000 ? 'all 10,000' : `the first ${report.count.toLocaleString('en')}`} test digits (${errors} wrong), ` +
    `with the weights after ${report.examples.toLocaleString('en')} training examples in this session.`;
  el.summary.dataset.accuracy = String(report.accuracy);
  renderStrip(el.strip, report.strip, report.examples, onPick);
  el.wrong.replaceChildren(...report.wrong.map((e) => exampleCard(e, onPick)));
  el.confusion.replaceChildren(confusionTable(report.confusion));
}

/** The strip of test digits with their top-3 guesses; `examples`: the training examples the weights had seen. */
export function renderStrip(strip: HTMLElement, examples: TestExample[], seen: number, onPick: (index: number) => void): void {
  strip.replaceChildren(...examples.map((e) => exampleCard(e, onPick)));
  strip.dataset.examples = String(seen);
}

function exampleCard(e: TestExample, onPick: (index: number) => void): HTMLElement {
  const card = document.createElement('button');
  card.type = 'button';
  const wrong = e.top[0].cls !== e.label;
  card.className = `example${wrong ? ' wrong' : ''}`;
  card.title = `test digit #${e.index}, labelled ${e.label}: click to see it in the layer views`;
  card.append(digitCanvas(e.pixels, 28, 2));
  const lines = document.createElement('span');
  lines.className = 'top3';
  for (const t of e.top) {
    const line = document.createElement('span');
    line.className = t.cls === e.label ? 'right' : '';
    line.textContent = `${t.cls}  ${(t.p * 100).toFixed(1)}%`;
    lines.append(line);
  }
  const label = document.createElement('span');
  label.className = 'label';
  label.textContent = `label ${e.label}`;
  card.append(lines, label);
  card.addEventListener('click', () => onPick(e.index));
  return card;
}

function confusionTable(confusion: number[][]): HTMLTableElement {
  const table = document.createElement('table');
  table.className = 'confusion';
  const K = confusion.length;
  const max = Math.max(1, ...confusion.flatMap((row, i) => row.filter((_, j) => j !== i)));
  const head = table.createTHead().insertRow();
  head.insertCell().textContent = 'actual ↓ predicted →';
  for (let j = 0; j < K; j++) head.insertCell().textContent = String(j);
  const body = table.createTBody();
  confusion.forEach((row, i) => {
    const tr = body.insertRow();
    tr.insertCell().textContent = String(i);
    row.forEach((v, j) => {
      const td = tr.insertCell();
      td.textContent = String(v);
      // Off-diagonal cells shaded by how common the mistake is; the diagonal is the correct count.
      if (i === j) td.className = 'diagonal';
      else if (v > 0) td.style.background = `rgba(224, 49, 49, ${(0.15 + (0.85 * v) / max).toFixed(2)})`;
    });
  });
  return table;
}
