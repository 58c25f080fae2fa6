/** The trainer settings form: read and checked as a TrainSettings, editable only while paused. */
import { ConfigError } from 'convkit';
import type { OptimizerName, ScheduleName, TrainSettings } from '../protocol.js';

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

  /** The settings in the form; throws ConfigError naming the first bad field. */
  read(): TrainSettings {
    const num = (name: string, label: string, ok: (v: number) => boolean, rule: string) => {
      const v = Number(this.field(name).value);
      if (this.field(name).value.trim() === '' || !Number.isFinite(v) || !ok(v)) throw new ConfigError(`${label} must be ${rule}`);
      return v;
    };
    return {
      optimizer: this.field('optimizer').value as OptimizerName,
      lr: num('lr', 'learning rate', (v) => v > 0 && v <= 10, 'a number above 0 (e.g. 0.01)'),
      momentum: num('momentum', 'momentum', (v) => v >= 0 && v < 1, 'in [0, 1)'),
      batchSize: num('batchSize', 'batch size', (v) => Number.isInteger(v) && v >= 1 && v <= 1024, 'a whole number from 1 to 1024'),
      weightDecay: num('weightDecay', 'weight decay', (v) => v >= 0 && v < 1, 'in [0, 1)'),
      augment: (this.field('augment') as HTMLInputElement).checked,
      schedule: this.field('schedule').value as ScheduleName,
      scheduleEpochs: num('scheduleEpochs', 'schedule length', (v) => v > 0 && v <= 100, 'between 0 and 100 epochs'),
    };
  }

  setEnabled(enabled: boolean): void {
    for (const el of this.form.elements) (el as HTMLInputElement).disabled = !enabled;
    this.form.classList.toggle('locked', !enabled);
  }

  /** Momentum applies to SGD only; the schedule length to the cosine schedule only. */
  syncVisibility(): void {
    this.field('momentum').closest('label')!.hidden = this.field('optimizer').value !== 'sgd';
    this.field('scheduleEpochs').closest('label')!.hidden = this.field('schedule').value !== 'cosine';
  }
}
