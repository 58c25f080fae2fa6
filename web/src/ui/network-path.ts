/**
 * The path of one image through the network: every layer's output as a small labelled tile
 * with a caption, a diverging colour scale shared by the layer's maps and its legend. The
 * tiles are built once per network and repainted in place on each refresh.
 */
import type { LayerReport } from '../protocol.js';
import { layerCaption } from './captions.js';
import { drawAtlas, legend, setLegend, symmetricExtent } from './maps.js';
import { pixelsPerCell } from './scales.js';

/** Screen pixels the largest map (the input) may take. */
const INPUT_BUDGET = 56;
/** Screen pixels per output unit: wide enough for its digit label. */
const OUTPUT_CELL = 16;

export class NetworkPath {
  private structure = '';
  private tiles: { canvas: HTMLCanvasElement; legend: HTMLElement | null; out?: HTMLElement }[] = [];

  constructor(private readonly root: HTMLElement) {}

  render(report: LayerReport): void {
    const key = JSON.stringify([report.input.shape, report.layers.map((l) => [l.name, l.type, l.outputShape])]);
    if (key !== this.structure) this.build(report, key);
    const largest = Math.max(report.input.shape[1], report.input.shape[2]);
    const perCell = pixelsPerCell(largest, INPUT_BUDGET);
    const inputExtent = symmetricExtent(report.input.data);
    drawAtlas(this.tiles[0].canvas, report.input.data, report.input.shape, perCell, {
      palette: 'grey',
      extent: inputExtent,
      lo: Math.min(...report.input.data),
      hi: Math.max(...report.input.data),
    });
    report.layers.forEach((layer, i) => {
      const tile = this.tiles[i + 1];
      const extent = symmetricExtent(layer.activation);
      const vector = layer.outputShape.length !== 3;
      drawAtlas(
        tile.canvas,
        layer.activation,
        layer.outputShape,
        vector ? (tile.out ? OUTPUT_CELL : 6) : perCell,
        { palette: 'diverging', extent },
        vector ? (layer.activation.length <= 10 ? layer.activation.length : 12) : undefined,
      );
      if (tile.legend) setLegend(tile.legend, extent);
      if (tile.out) {
        tile.out.querySelectorAll<HTMLElement>('.out-cell').forEach((cell, k) => {
          cell.dataset.p = String(report.probs[k]);
          cell.querySelector('.out-p')!.textContent = `${(report.probs[k] * 100).toFixed(0)}%`;
        });
      }
    });
  }

  private build(report: LayerReport, key: string): void {
    this.structure = key;
    this.tiles = [];
    const cards: HTMLElement[] = [];
    const inputCanvas = document.createElement('canvas');
    cards.push(card('input', `[${report.input.shape.join('×')}]`, 'input: your drawing, centred and scaled like the MNIST digits.', inputCanvas, null));
    this.tiles.push({ canvas: inputCanvas, legend: null });
    let previous = 'the input';
    report.layers.forEach((layer, i) => {
      const canvas = document.createElement('canvas');
      const isLast = i === report.layers.length - 1;
      const lg = legend(1, 'colour scale of this layer: blue negative, white zero, red positive');
      const c = card(layer.name, `${layer.type} [${layer.outputShape.join('×')}]`, layerCaption(layer, previous, isLast), canvas, lg);
      let out: HTMLElement | undefined;
      if (isLast && layer.activation.length === report.probs.length) {
        out = document.createElement('div');
        out.className = 'out-labels';
        out.style.gridTemplateColumns = `repeat(${report.probs.length}, ${OUTPUT_CELL}px)`;
        out.innerHTML = report.probs.map((_, k) => `<span class="out-cell" data-class="${k}"><b>${k}</b><span class="out-p"></span></span>`).join('');
        c.querySelector('.path-maps')!.append(out);
        c.classList.add('output');
      }
      cards.push(c);
      this.tiles.push({ canvas, legend: lg, out });
      previous = layer.name;
    });
    this.root.replaceChildren(...cards);
  }
}

function card(name: string, shape: string, caption: string, canvas: HTMLCanvasElement, lg: HTMLElement | null): HTMLElement {
  const el = document.createElement('figure');
  el.className = 'path-layer';
  el.dataset.layer = name;
  canvas.className = 'pixelated';
  el.innerHTML = '<figcaption><strong></strong> <span class="shape"></span></figcaption><div class="path-maps"></div><p class="caption"></p>';
  el.querySelector('strong')!.textContent = name;
  el.querySelector('.shape')!.textContent = shape;
  el.querySelector('.caption')!.textContent = caption;
  el.querySelector('.path-maps')!.append(canvas);
  if (lg) el.append(lg);
  return el;
}
