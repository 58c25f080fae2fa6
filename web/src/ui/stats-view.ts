/** The live numbers: each element gets its text and, in data-value, the raw number (for tests). */
import type { Stats } from '../protocol.js';

export function renderStats(root: HTMLElement, s: Stats): void {
  const set = (key: string, value: number | null, text: string) => {
    const el = root.querySelector<HTMLElement>(`[data-stat="${key}"]`);
    if (!el) return;
    el.textContent = text;
    el.dataset.value = value === null || !Number.isFinite(value) ? '' : String(value);
  };
  const pct = (v: number | null) => (v === null || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(1)} %`);
  const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(v < 1 ? 2 : 1)} ms` : '–');
  set('examples', s.examples, s.examples.toLocaleString('en'));
  set('epoch', s.epoch, s.epoch.toFixed(2));
  set('imagesPerSecond', s.imagesPerSecond, s.imagesPerSecond > 0 ? Math.round(s.imagesPerSecond).toLocaleString('en') : '–');
  set('forwardMs', s.forwardMs, ms(s.forwardMs));
  set('backwardMs', s.backwardMs, ms(s.backwardMs));
  set('updateMs', s.updateMs, ms(s.updateMs));
  set('waitMs', s.waitMs, ms(s.waitMs));
  set('loss', s.loss, Number.isFinite(s.loss) ? s.loss.toFixed(3) : '–');
  set('accuracy', s.accuracy, pct(s.accuracy));
  set('testAccuracy', s.testAccuracy, s.testAccuracy === null ? '–' : `${pct(s.testAccuracy)} (last ${s.testWindow})`);
  set('lr', s.lr, s.lr.toPrecision(3));
}
