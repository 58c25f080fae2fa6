/**
 * The network definition editor: a textarea with the JSON layer stack, presets, and Apply.
 * A definition is checked here (parse + build with the library) before the worker sees it;
 * an invalid one shows the library's message and leaves the running network alone.
 */
import type { ModelSpec } from 'convkit';
import { networkText, parseNetwork, validateNetwork } from '../network-def.js';
import { presets } from '../presets.js';

export interface EditorElements {
  text: HTMLTextAreaElement;
  preset: HTMLSelectElement;
  apply: HTMLButtonElement;
  error: HTMLElement;
}

export class NetworkEditor {
  constructor(
    private readonly el: EditorElements,
    private readonly onApply: (spec: ModelSpec) => Promise<void>,
  ) {
    el.preset.replaceChildren(new Option('presets…', ''), ...presets.map((p) => new Option(p.label, p.id)));
    el.preset.addEventListener('change', () => {
      const preset = presets.find((p) => p.id === el.preset.value);
      if (preset) this.show(preset.spec);
      el.preset.value = '';
    });
    el.apply.addEventListener('click', () => void this.apply());
    el.text.addEventListener('input', () => this.setError(''));
  }

  show(spec: ModelSpec): void {
    this.el.text.value = networkText(spec);
    this.setError('');
  }

  private async apply(): Promise<void> {
    let spec: ModelSpec;
    try {
      spec = parseNetwork(this.el.text.value);
      validateNetwork(spec);
    } catch (e) {
      this.setError((e as Error).message);
      return;
    }
    try {
      await this.onApply(spec);
    } catch (e) {
      this.setError((e as Error).message);
    }
  }

  private setError(message: string): void {
    this.el.error.textContent = message;
    this.el.error.hidden = message === '';
  }
}
