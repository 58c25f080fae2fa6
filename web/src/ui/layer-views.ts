/**
 * A LayerReport as rows, one per layer: its output shape and parameter count, its activations
 * (one atlas canvas per layer, a diverging scale shared by the layer's maps, with its legend),
 * the gradients on them (when known) and, for conv layers, the filters. The rows are built once
 * per network and repainted in place: a refresh while training creates no elements.
 */
import type { LayerReport } from '../protocol.js';
import { drawAtlas, legend, setLegend, symmetricExtent } from './maps.js';
import { pixelsPerCell } from './scales.js';

export interface LayerViewOptions {
  gradients: boolean;
  filters: boolean;
}

type Block = { el: HTMLElement; canvas: HTMLCanvasElement; legend: HTMLElement };
type Row = { activations: Block; gradients: Block; filters: Block };

export class LayerViews {
  private structure = '';
  private rows: Row[] = [];

  constructor(private readonly root: HTMLElement) {}

  render(report: LayerReport, options: LayerViewOptions): void {
    const key = JSON.stringify([report.input.shape, report.layers.map((l) => [l.name, l.type, l.outputShape])]);
    if (key !== this.structure) this.build(report, key);
    const perCell = pixelsPerCell(Math.max(report.input.shape[1], report.input.shape[2]), 56);
    const input = this.rows[0].activations;
    drawAtlas(input.canvas, report.input.data, report.input.shape, perCell, {
      palette: 'grey',
      extent: 1,
      lo: Math.min(...report.input.data),
      hi: Math.max(...report.input.data),
    });
    report.layers.forEach((layer, i) => {
      const row = this.rows[i + 1];
      const vector = layer.outputShape.length !== 3;
      const columns = vector ? (layer.activation.length <= 10 ? layer.activation.length : 20) : 8;
      const cell = vector ? (layer.activation.length <= 10 ? 16 : 6) : perCell;
      paint(row.activations, layer.activation, layer.outputShape, cell, columns);
      row.gradients.el.hidden = !(options.gradients && layer.gradient);
      if (!row.gradients.el.hidden) paint(row.gradients, layer.gradient!, layer.outputShape, cell, columns);
      row.filters.el.hidden = !(options.filters && layer.weights);
      if (!row.filters.el.hidden) {
        const [O, C, KH, KW] = layer.weights!.shape;
        // Filters [O, C, KH, KW] as O·C small maps: one row of C per output filter.
        paint(row.filters, layer.weights!.data, [O * C, KH, KW], Math.max(2, Math.round(18 / KH)), C === 1 ? Math.min(O, 16) : C);
      }
    });
  }

  private build(report: LayerReport, key: string): void {
    this.structure = key;
    const elements: HTMLElement[] = [];
    const make = (title: string): Block => {
      const el = document.createElement('div');
      el.className = 'maps-block';
      el.innerHTML = '<div class="maps-title"></div><div class="maps"></div>';
      el.querySelector('.maps-title')!.textContent = title;
      const canvas = document.createElement('canvas');
      canvas.className = 'pixelated';
      const lg = legend(1);
      el.querySelector('.maps')!.append(canvas, lg);
      return { el, canvas, legend: lg };
    };
    const heads = [
      { name: 'input', type: 'image', shape: report.input.shape, params: 0 },
      ...report.layers.map((l) => ({ name: l.name, type: l.type, shape: l.outputShape, params: l.params })),
    ];
    this.rows = heads.map((h, i) => {
      const row: Row = {
        activations: make(i === 0 ? 'as the network sees it' : 'activations'),
        gradients: make('gradients dL/d(activation)'),
        filters: make('filters (one row per output filter)'),
      };
      if (i === 0) row.activations.legend.hidden = true;
      row.gradients.el.hidden = row.filters.el.hidden = true;
      const el = document.createElement('div');
      el.className = 'layer-row';
      el.dataset.layer = h.name;
      el.innerHTML = '<div class="layer-meta"><strong></strong><span></span><span></span><span></span></div><div class="layer-body"></div>';
      const spans = el.querySelectorAll('.layer-meta span');
      el.querySelector('strong')!.textContent = h.name;
      spans[0].textContent = h.type;
      spans[1].textContent = `output [${h.shape.join(' × ')}]`;
      spans[2].textContent = `${h.params.toLocaleString('en')} parameters`;
      el.querySelector('.layer-body')!.append(row.activations.el, row.gradients.el, row.filters.el);
      elements.push(el);
      return row;
    });
    this.root.replaceChildren(...elements);
  }
}

function paint(block: Block, data: Float32Array, shape: number[], perCell: number, columns: number): void {
  const extent = symmetricExtent(data);
  drawAtlas(block.canvas, data, shape, perCell, { palette: 'diverging', extent }, columns);
  setLegend(block.legend, extent);
}
