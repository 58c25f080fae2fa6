/** Ten horizontal bars, one per digit, the most probable highlighted. */
export function renderProbabilities(container: HTMLElement, probs: number[]): void {
  const best = probs.indexOf(Math.max(...probs));
  container.replaceChildren(...probs.map((p, cls) => {
    const row = document.createElement('div');
    row.className = `prob-row${cls === best ? ' best' : ''}`;
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
  }));
  container.dataset.prediction = String(best);
}
