/**
 * The convolution explainer: a small binary image, a kernel (or a pooling window) stepped
 * over it one output position at a time, with the arithmetic of each step and the output
 * filling in. Click input cells to flip them; edit kernel values; pick stride and padding.
 */
import { namedKernels } from 'convkit';
import { type Grid, convolve, lectureImage, lectureKernel, pool } from '../explainer/compute.js';
import { type Operation, describeStep, fmt, padGrid, windowSize } from '../explainer/steps.js';
import type { Kernel } from '../protocol.js';

type Mode = 'conv' | 'max' | 'avg';

const kernelChoices: Record<string, Grid | null> = {
  'lecture example': lectureKernel,
  identity: namedKernels.identity,
  blur: namedKernels['box-blur'],
  edge: namedKernels.edge8,
  sharpen: namedKernels.sharpen,
  'learned (first conv layer)': null,
};

export class ConvolutionExplainer {
  private image: Grid = lectureImage.map((r) => [...r]);
  private kernel: Grid = lectureKernel.map((r) => [...r]);
  private mode: Mode = 'conv';
  private stride = 1;
  private padding = 0;
  private poolSize = 2;
  private output: Grid = [];
  /** Output positions revealed so far (0 = none). */
  private shown = 0;
  private timer: number | undefined;
  /** Counts recompute() calls: a result that arrives after a newer request is dropped. */
  private generation = 0;
  private learned: Kernel[] = [];
  private readonly ui: Record<string, HTMLElement>;

  constructor(
    root: HTMLElement,
    private readonly learnedKernels: () => Promise<{ layer: string; kernels: Kernel[] } | null>,
  ) {
    root.innerHTML = `
      <div class="explainer-controls">
        <label>operation <select data-ref="mode"><option value="conv">convolution</option><option value="max">max pooling</option><option value="avg">average pooling</option></select></label>
        <label data-ref="kernelLabel">kernel <select data-ref="kernelChoice">${Object.keys(kernelChoices)
          .map((k) => `<option>${k}</option>`)
          .join('')}</select></label>
        <label data-ref="filterLabel" hidden>filter <input data-ref="filter" type="number" min="1" value="1" style="width:4em"></label>
        <label data-ref="poolLabel" hidden>window <select data-ref="poolSize"><option>2</option><option>3</option></select></label>
        <label>stride <select data-ref="stride"><option>1</option><option>2</option><option>3</option></select></label>
        <label>padding <select data-ref="padding"><option>0</option><option>1</option><option>2</option></select></label>
      </div>
      <div class="explainer-buttons">
        <button type="button" data-ref="restart">restart</button>
        <button type="button" data-ref="back">◀ back</button>
        <button type="button" data-ref="step">step ▶</button>
        <button type="button" data-ref="play">▶ animate</button>
        <button type="button" data-ref="all">fill all</button>
      </div>
      <div class="explainer-grids">
        <figure><figcaption>input (click to flip)</figcaption><div data-ref="input" class="grid"></div></figure>
        <figure data-ref="kernelFigure"><figcaption data-ref="kernelCaption">kernel</figcaption><div data-ref="kernel" class="grid"></div></figure>
        <figure><figcaption>output</figcaption><div data-ref="output" class="grid"></div></figure>
      </div>
      <p class="formula" data-ref="formula"></p>
      <p class="error" data-ref="error"></p>`;
    this.ui = Object.fromEntries([...root.querySelectorAll<HTMLElement>('[data-ref]')].map((e) => [e.dataset.ref!, e]));
    const select = (name: string) => this.ui[name] as HTMLSelectElement;
    select('mode').addEventListener('change', () => {
      this.mode = select('mode').value as Mode;
      // Pooling usually steps by its window (non-overlapping); convolution by one.
      this.setStride(this.mode === 'conv' ? 1 : this.poolSize);
      // A window may not be padded by half its size or more (a learned kernel's padding of 2 would leave no output).
      if (this.mode !== 'conv') this.fitPadding();
      this.recompute();
    });
    select('kernelChoice').addEventListener('change', () => void this.chooseKernel(select('kernelChoice').value));
    this.ui.filter.addEventListener('change', () => this.useLearned());
    select('poolSize').addEventListener('change', () => {
      this.poolSize = Number(select('poolSize').value);
      this.setStride(this.poolSize);
      this.fitPadding();
      this.recompute();
    });
    select('stride').addEventListener('change', () => {
      this.stride = Number(select('stride').value);
      this.recompute();
    });
    select('padding').addEventListener('change', () => {
      this.padding = Number(select('padding').value);
      this.recompute();
    });
    this.ui.restart.addEventListener('click', () => {
      this.stop();
      this.shown = 0;
      this.render();
    });
    this.ui.back.addEventListener('click', () => {
      this.stop();
      this.shown = Math.max(0, this.shown - 1);
      this.render();
    });
    this.ui.step.addEventListener('click', () => {
      this.stop();
      this.advance();
    });
    this.ui.all.addEventListener('click', () => {
      this.stop();
      this.shown = this.positions;
      this.render();
    });
    this.ui.play.addEventListener('click', () => (this.timer === undefined ? this.play() : this.stop()));
    this.recompute();
  }

  private get positions(): number {
    return this.output.length * (this.output[0]?.length ?? 0);
  }

  private get operation(): Operation {
    return this.mode === 'conv' ? { kind: 'conv', kernel: this.kernel } : { kind: this.mode, size: this.poolSize };
  }

  private setStride(stride: number): void {
    this.stride = stride;
    (this.ui.stride as HTMLSelectElement).value = String(stride);
  }

  /** Pooling pads by less than half its window: larger padding goes down to the largest that fits. */
  private fitPadding(): void {
    const most = Math.floor((this.poolSize - 1) / 2);
    if (this.padding > most) (this.ui.padding as HTMLSelectElement).value = String((this.padding = most));
  }

  private async chooseKernel(name: string): Promise<void> {
    const chosen = kernelChoices[name];
    this.ui.filterLabel.hidden = chosen !== null;
    if (chosen) {
      this.kernel = chosen.map((r) => [...r]);
      this.recompute();
      return;
    }
    let learned: Awaited<ReturnType<typeof this.learnedKernels>>;
    try {
      learned = await this.learnedKernels();
    } catch (e) {
      this.ui.error.textContent = `Could not read the network's kernels: ${(e as Error).message}`;
      return;
    }
    if (!learned || learned.kernels.length === 0) {
      this.ui.error.textContent = 'The current network has no conv layer to take a kernel from.';
      return;
    }
    this.learned = learned.kernels;
    (this.ui.filter as HTMLInputElement).max = String(learned.kernels.length);
    this.useLearned();
  }

  private useLearned(): void {
    if (this.learned.length === 0) return;
    const input = this.ui.filter as HTMLInputElement;
    const index = Math.min(this.learned.length, Math.max(1, Number(input.value) || 1)) - 1;
    input.value = String(index + 1);
    const k = this.learned[index];
    this.kernel = Array.from({ length: k.size[0] }, (_, i) => k.values.slice(i * k.size[1], (i + 1) * k.size[1]));
    // A learned 5×5 kernel needs padding 2 to see the whole 7×7 picture.
    if (this.padding < Math.floor(k.size[0] / 2)) (this.ui.padding as HTMLSelectElement).value = String((this.padding = Math.floor(k.size[0] / 2)));
    this.recompute();
  }

  private recompute(): void {
    this.stop();
    const conv = this.mode === 'conv';
    this.ui.kernelLabel.hidden = !conv;
    this.ui.filterLabel.hidden = !conv || kernelChoices[(this.ui.kernelChoice as HTMLSelectElement).value] !== null;
    this.ui.poolLabel.hidden = conv;
    this.ui.error.textContent = '';
    // The library's answer arrives asynchronously (at once on the reference backend); only the latest request's is shown.
    const generation = ++this.generation;
    const settings = { stride: this.stride, padding: this.padding };
    const result = conv ? convolve(this.image, this.kernel, settings) : pool(this.image, this.mode as 'max' | 'avg', this.poolSize, settings);
    void result
      .then(
        (output) => ({ output, error: '' }),
        (e: unknown) => ({ output: [], error: (e as Error).message }),
      )
      .then(({ output, error }) => {
        if (generation !== this.generation) return;
        this.output = output;
        this.ui.error.textContent = error;
        this.shown = Math.min(this.shown, this.positions);
        this.render();
      });
  }

  private advance(): boolean {
    if (this.shown >= this.positions) return false;
    this.shown++;
    this.render();
    return true;
  }

  private play(): void {
    if (this.shown >= this.positions) this.shown = 0;
    this.ui.play.textContent = '⏸ pause';
    this.timer = window.setInterval(() => {
      if (!this.advance()) this.stop();
    }, 600);
  }

  private stop(): void {
    if (this.timer !== undefined) window.clearInterval(this.timer);
    this.timer = undefined;
    this.ui.play.textContent = '▶ animate';
  }

  private render(): void {
    const OW = this.output[0]?.length ?? 0;
    const current =
      this.shown > 0
        ? describeStep(this.image, this.operation, this.stride, this.padding, this.output, Math.floor((this.shown - 1) / OW), (this.shown - 1) % OW)
        : null;
    this.renderInput(current);
    this.renderKernel();
    this.renderOutput(current ? [current.row, current.col] : null);
    this.ui.formula.textContent = current
      ? `output[${current.row}][${current.col}] = ${current.text}`
      : this.positions
        ? `Press “step” to slide the ${this.mode === 'conv' ? 'kernel' : 'window'} over the input: ${this.positions} positions.`
        : '';
  }

  private renderInput(step: ReturnType<typeof describeStep> | null): void {
    const p = this.padding;
    const padded = padGrid(this.image, p);
    const grid = this.ui.input;
    grid.style.gridTemplateColumns = `repeat(${padded[0].length}, 1.8em)`;
    grid.replaceChildren(
      ...padded.flatMap((row, i) =>
        row.map((v, j) => {
          const cell = document.createElement('span');
          const isPad = i < p || j < p || i >= padded.length - p || j >= row.length - p;
          const inWindow = step && i >= step.top && i < step.top + step.height && j >= step.left && j < step.left + step.width;
          cell.className = `cell${isPad ? ' pad' : ''}${v ? ' on' : ''}${inWindow ? ' window' : ''}`;
          cell.textContent = String(v);
          if (!isPad) {
            cell.addEventListener('click', () => {
              this.image[i - p][j - p] = this.image[i - p][j - p] ? 0 : 1;
              this.recompute();
            });
          }
          return cell;
        }),
      ),
    );
  }

  private renderKernel(): void {
    const grid = this.ui.kernel;
    if (this.mode !== 'conv') {
      this.ui.kernelCaption.textContent = `${this.mode === 'max' ? 'max' : 'average'} over ${this.poolSize}×${this.poolSize}`;
      grid.replaceChildren();
      return;
    }
    const [h, w] = windowSize(this.operation);
    this.ui.kernelCaption.textContent = `kernel ${h}×${w} (editable)`;
    grid.style.gridTemplateColumns = `repeat(${w}, 3.2em)`;
    grid.replaceChildren(
      ...this.kernel.flatMap((row, i) =>
        row.map((v, j) => {
          const input = document.createElement('input');
          input.className = 'kernel-cell';
          input.value = fmt(v);
          input.addEventListener('change', () => {
            const value = Number(input.value);
            if (Number.isFinite(value)) this.kernel[i][j] = value;
            this.recompute();
          });
          return input;
        }),
      ),
    );
  }

  private renderOutput(current: [number, number] | null): void {
    const grid = this.ui.output;
    const OW = this.output[0]?.length ?? 0;
    grid.style.gridTemplateColumns = `repeat(${OW}, 2.6em)`;
    grid.dataset.values = this.output.map((r) => r.map(fmt).join(' ')).join('/');
    grid.replaceChildren(
      ...this.output.flatMap((row, i) =>
        row.map((v, j) => {
          const cell = document.createElement('span');
          const revealed = i * OW + j < this.shown;
          cell.className = `cell out${current && current[0] === i && current[1] === j ? ' window' : ''}`;
          cell.textContent = revealed ? fmt(v) : '';
          return cell;
        }),
      ),
    );
  }
}
