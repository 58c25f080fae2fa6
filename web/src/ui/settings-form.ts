/**
 * The trainer settings form, read and checked as a TrainSettings. While training runs only the
 * live settings (learning rate, momentum) stay editable: they apply from the next batch.
 */
import type { TrainSettings } from '../protocol.js';
import { settingsFromText } from '../settings-query.js';

/** Settings that may change while training runs, as in ConvNetJS's demo. */
export const LIVE_SETTINGS = ['lr', 'momentum'];

export class SettingsForm {
  constructor(private readonly form: HTMLFormElement) {}

  private field(name: string): HTMLInputElement | HTMLSelectElement {
    const el = this.form.elements.namedItem(name);
    if (!el) throw new Error(`settings form has no field "${name}"`);
    return el as HTMLInputElement | HTMLSelectElement;
  }

  write(s: TrainSettings): void {
    this.field('optimizer').value = s.optimizer;
    this.field('lr').value = String(s.lr);
    this.field('momentum').value = String(s.momentum);
    this.field('batchSize').value = String(s.batchSize);
    this.field('weightDecay').value = String(s.weightDecay);
    (this.field('augment') as HTMLInputElement).checked = s.augment;
    this.field('schedule').value = s.schedule;
    this.field('scheduleEpochs').value = String(s.scheduleEpochs);
    this.syncVisibility();
  }

  /** The settings in the form; throws ConfigError naming the first bad field and its limits. */
  read(): TrainSettings {
    return settingsFromText((name) => {
      const f = this.field(name);
      return f instanceof HTMLInputElement && f.type === 'checkbox' ? String(f.checked) : f.value;
    });
  }

  /** While training, only the live settings stay editable. */
  setRunning(running: boolean): void {
    for (const el of this.form.elements) {
      const name = (el as HTMLInputElement).name;
      (el as HTMLInputElement).disabled = running && !LIVE_SETTINGS.includes(name);
    }
    this.form.classList.toggle('running', running);
  }

  /** Momentum applies to SGD only; the schedule length to the cosine schedule only. */
  syncVisibility(): void {
    this.field('momentum').closest('label')!.hidden = this.field('optimizer').value !== 'sgd';
    this.field('scheduleEpochs').closest('label')!.hidden = this.field('schedule').value !== 'cosine';
  }
}
