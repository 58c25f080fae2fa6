import type { Confidence } from './scales.js';

/** Ten horizontal bars labelled 0–9, the most probable highlighted; a low-confidence prediction is marked as such. */
export function renderProbabilities(container: HTMLElement, probs: number[], confidence: Confidence = { level: 'ok' }): void {
  const best = probs.indexOf(Math.max(...probs));
  container.replaceChildren(
    ...probs.map((p, cls) => {
      const row = document.createElement('div');
      row.className = `prob-row${cls === best ? ' best' : ''}`;
      row.dataset.class = String(cls);
      const label = document.createElement('span');
      label.className = 'prob-class';
      label.textContent = String(cls);
      const bar = document.createElement('span');
      bar.className = 'prob-bar';
      bar.style.width = `${(p * 100).toFixed(1)}%`;
      const value = document.createElement('span');
      value.className = 'prob-value';
      value.textContent = `${(p * 100).toFixed(1)} %`;
      const track = document.createElement('span');
      track.className = 'prob-track';
      track.append(bar);
      row.append(label, track, value);
      return row;
    }),
  );
  container.dataset.prediction = String(best);
  container.dataset.confidence = confidence.level;
  container.classList.toggle('unsure', confidence.level === 'low');
}
