/**
 * Renders a LayerReport: for every layer its output shape and parameter count, its
 * activations as a grid of greyscale maps, the gradients on them (when known) and, for conv
 * layers, the filters as images.
 */
import type { LayerReport, LayerView } from '../protocol.js';
import { mapCanvas, symmetricRange } from './greyscale.js';

/** At most this many maps per row kind, so wide layers stay readable. */
const MAX_MAPS = 32;
const MAX_FILTER_CHANNELS = 8;

export function renderLayers(container: HTMLElement, report: LayerReport, options: { gradients: boolean; filters: boolean }): void {
  const rows: HTMLElement[] = [];
  rows.push(layerRow('input', 'image', report.input.shape, 0, [mapsBlock('as the network sees it', report.input.data, report.input.shape)]));
  for (const layer of report.layers) {
    const blocks = [mapsBlock('activations', layer.activation, layer.outputShape)];
    if (options.gradients && layer.gradient) blocks.push(mapsBlock('gradients dL/d(activation)', layer.gradient, layer.outputShape, true));
    if (options.filters && layer.weights) blocks.push(filtersBlock(layer));
    rows.push(layerRow(layer.name, layer.type, layer.outputShape, layer.params, blocks));
  }
  container.replaceChildren(...rows);
}

function layerRow(name: string, type: string, shape: number[], params: number, blocks: HTMLElement[]): HTMLElement {
  const row = document.createElement('div');
  row.className = 'layer-row';
  row.dataset.layer = name;
  const meta = document.createElement('div');
  meta.className = 'layer-meta';
  meta.innerHTML = `<strong></strong><span class="type"></span><span class="shape"></span><span class="params"></span>`;
  meta.querySelector('strong')!.textContent = name;
  meta.querySelector('.type')!.textContent = type;
  meta.querySelector('.shape')!.textContent = `output [${shape.join(' × ')}]`;
  meta.querySelector('.params')!.textContent = `${params.toLocaleString('en')} parameters`;
  const body = document.createElement('div');
  body.className = 'layer-body';
  body.append(...blocks);
  row.append(meta, body);
  return row;
}

/** A [C, H, W] tensor as C maps; a vector as one map wrapped into rows. */
function mapsBlock(title: string, data: Float32Array, shape: number[], signed = false): HTMLElement {
  const block = labelledBlock(title);
  const grid = block.querySelector('.maps')!;
  if (shape.length === 3) {
    const [C, H, W] = shape;
    const scale = Math.max(1, Math.round(40 / Math.max(H, W)));
    for (let c = 0; c < Math.min(C, MAX_MAPS); c++) {
      grid.append(mapCanvas(data, c * H * W, H, W, scale, signed ? symmetricRange(data, c * H * W, H * W) : undefined));
    }
    if (C > MAX_MAPS) grid.append(note(`+${C - MAX_MAPS} more`));
  } else {
    const n = data.length;
    const w = Math.min(n, n <= 16 ? n : Math.ceil(Math.sqrt(n * 4)));
    const h = Math.ceil(n / w);
    const padded = new Float32Array(w * h);
    padded.set(data);
    const scale = n <= 16 ? 16 : Math.max(2, Math.round(160 / w));
    grid.append(mapCanvas(padded, 0, h, w, scale, signed ? symmetricRange(data) : undefined));
  }
  return block;
}

/** Filters [O, C, KH, KW]: one row per output filter, its first input channels side by side. */
function filtersBlock(layer: LayerView): HTMLElement {
  const { shape, data } = layer.weights!;
  const [O, C, KH, KW] = shape;
  const block = labelledBlock(C > 1 ? `filters (${O} × ${C} channels${C > MAX_FILTER_CHANNELS ? `, first ${MAX_FILTER_CHANNELS} shown` : ''})` : `filters (${O})`);
  const grid = block.querySelector('.maps')!;
  const range = symmetricRange(data);
  const scale = Math.max(2, Math.round(24 / KH));
  for (let o = 0; o < Math.min(O, MAX_MAPS); o++) {
    const group = document.createElement('span');
    group.className = 'filter';
    for (let c = 0; c < Math.min(C, MAX_FILTER_CHANNELS); c++) group.append(mapCanvas(data, (o * C + c) * KH * KW, KH, KW, scale, range));
    grid.append(group);
  }
  return block;
}

function labelledBlock(title: string): HTMLElement {
  const block = document.createElement('div');
  block.className = 'maps-block';
  const label = document.createElement('div');
  label.className = 'maps-title';
  label.textContent = title;
  const grid = document.createElement('div');
  grid.className = 'maps';
  block.append(label, grid);
  return block;
}

function note(text: string): HTMLElement {
  const span = document.createElement('span');
  span.className = 'note';
  span.textContent = text;
  return span;
}
