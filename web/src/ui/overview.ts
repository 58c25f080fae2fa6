/**
 * The network at a glance, in the spirit of CNN Explainer, on the current drawing: every layer
 * as a column of its channels, lines for what feeds what (hover a channel: its inputs light
 * up), and a click opens the arithmetic of that channel on the real input: a convolution as
 * the input channels times their kernels summed with the bias, then ReLU, pooling and softmax.
 * Hovering a unit of the opened map outlines its receptive field on the input.
 */
import { type ModelSpec, type ReceptiveField, fieldBounds } from 'convkit';
import { fieldsOf } from '../page-model.js';
import type { ChannelPatches, LayerReport, LayerView } from '../protocol.js';
import { layerCaption } from './captions.js';
import { drawChannel, formatValue, legend, setLegend, symmetricExtent } from './maps.js';
import { pixelsPerCell } from './scales.js';
import { type Cells, type Windows, convPartials, windowCells, windowValues, windowsOf } from './window-arithmetic.js';

const NODE_BUDGET = 56;
type Column = { name: string; type: string; shape: number[]; nodes: HTMLCanvasElement[]; el: HTMLElement; legend?: HTMLElement };
/** A column's values for one image: the input, or a layer's output. */
type Values = { name: string; activation: Float32Array; outputShape: number[] };

export class NetworkOverview {
  private structure = '';
  private columns: Column[] = [];
  private report: LayerReport | null = null;
  private spec: ModelSpec | null = null;
  private fields: Map<string, ReceptiveField> | null = null;
  private selected: { column: number; channel: number } | null = null;
  private readonly stage: HTMLElement;
  private readonly svg: SVGSVGElement;
  private readonly detail: HTMLElement;
  private readonly fieldBox: HTMLElement;

  /** Found patches by "node:channel", for the current network (a new drawing does not search again). */
  private patchesFound = new Map<string, Promise<ChannelPatches>>();

  /** `findPatches`: the test digits where a channel responds most (the worker searches them). */
  constructor(
    root: HTMLElement,
    private readonly findPatches?: (node: string, channel: number) => Promise<ChannelPatches>,
  ) {
    root.innerHTML = '<div class="ov-scroll"><div class="ov-stage"><svg class="ov-links"></svg></div></div><div class="ov-detail" aria-live="polite"></div>';
    this.stage = root.querySelector('.ov-stage')!;
    this.svg = root.querySelector('svg')!;
    this.detail = root.querySelector('.ov-detail')!;
    this.fieldBox = document.createElement('div');
    this.fieldBox.className = 'field-box';
    this.fieldBox.hidden = true;
    new ResizeObserver(() => this.link()).observe(this.stage);
  }

  setSpec(spec: ModelSpec): void {
    this.spec = spec;
    this.fields = null;
    this.selected = null;
    this.patchesFound.clear();
    this.detail.replaceChildren();
  }

  render(report: LayerReport): void {
    this.report = report;
    const key = JSON.stringify([report.input.shape, report.layers.map((l) => [l.name, l.outputShape])]);
    if (key !== this.structure) this.build(report, key);
    const perCell = pixelsPerCell(Math.max(report.input.shape[1], report.input.shape[2]), NODE_BUDGET);
    const all = [{ activation: report.input.data, outputShape: report.input.shape }, ...report.layers];
    all.forEach((layer, i) => {
      const col = this.columns[i];
      const extent = symmetricExtent(layer.activation);
      if (col.legend) setLegend(col.legend, extent);
      const scale =
        i === 0
          ? { palette: 'grey' as const, extent, lo: Math.min(...layer.activation), hi: Math.max(...layer.activation) }
          : { palette: 'diverging' as const, extent };
      if (layer.outputShape.length === 3) {
        const [, H, W] = layer.outputShape;
        col.nodes.forEach((canvas, c) => {
          drawChannel(canvas, layer.activation, c * H * W, H, W, scale);
          canvas.style.width = `${W * perCell}px`;
          canvas.style.height = `${H * perCell}px`;
        });
      } else if (col.nodes.length === 1) {
        drawChannel(col.nodes[0], layer.activation, 0, layer.activation.length, 1, scale);
        col.nodes[0].style.width = '10px';
        col.nodes[0].style.height = `${Math.min(300, Math.max(40, layer.activation.length * 2.5))}px`;
      } else {
        col.nodes.forEach((canvas, k) => {
          drawChannel(canvas, layer.activation, k, 1, 1, scale);
          canvas.parentElement!.querySelector('.ov-p')!.textContent = `${(report.probs[k] * 100).toFixed(1)}%`;
          canvas.parentElement!.dataset.p = String(report.probs[k]);
        });
      }
    });
    requestAnimationFrame(() => this.link());
    if (this.selected) this.explain(this.selected.column, this.selected.channel);
  }

  private build(report: LayerReport, key: string): void {
    this.structure = key;
    this.selected = null;
    this.detail.innerHTML = '<p class="hint">Click any channel above to see how it is computed from the layer before it.</p>';
    const cols: Column[] = [];
    const heads = [
      { name: 'input', type: 'image', shape: report.input.shape },
      ...report.layers.map((l) => ({ name: l.name, type: l.type, shape: l.outputShape })),
    ];
    heads.forEach((h, i) => {
      const el = document.createElement('div');
      el.className = 'ov-col';
      el.dataset.layer = h.name;
      el.innerHTML = '<div class="ov-head"><strong></strong><span></span></div><div class="ov-nodes"></div>';
      el.querySelector('strong')!.textContent = h.name;
      el.querySelector('.ov-head span')!.textContent = `${h.type} [${h.shape.join('×')}]`;
      const holder = el.querySelector('.ov-nodes')!;
      const last = i === heads.length - 1;
      const count = h.shape.length === 3 ? h.shape[0] : last && h.shape[0] <= 10 ? h.shape[0] : 1;
      const nodes: HTMLCanvasElement[] = [];
      for (let c = 0; c < count; c++) {
        const canvas = document.createElement('canvas');
        canvas.className = 'pixelated ov-node';
        canvas.dataset.channel = String(c);
        canvas.tabIndex = 0;
        canvas.setAttribute('aria-label', `${h.name} channel ${c}`);
        if (h.shape.length !== 3 && count > 1) {
          const unit = document.createElement('span');
          unit.className = 'ov-unit';
          unit.dataset.class = String(c);
          unit.innerHTML = `<b>${c}</b>`;
          unit.prepend(canvas);
          const p = document.createElement('span');
          p.className = 'ov-p';
          unit.append(p);
          holder.append(unit);
          canvas.style.width = canvas.style.height = '14px';
        } else holder.append(canvas);
        canvas.addEventListener('mouseenter', () => this.highlight(i, c, true));
        canvas.addEventListener('mouseleave', () => this.highlight(i, c, false));
        canvas.addEventListener('click', () => this.explain(i, c));
        canvas.addEventListener('keydown', (e) => {
          if (e.key === 'Enter') this.explain(i, c);
        });
        nodes.push(canvas);
      }
      const column: Column = { ...h, nodes, el };
      if (i > 0) el.append((column.legend = legend(1)));
      cols.push(column);
    });
    this.columns = cols;
    this.stage.replaceChildren(this.svg, ...cols.map((c) => c.el));
    cols[0].el.querySelector('.ov-nodes')!.append(this.fieldBox);
  }

  /** The columns whose values column i reads (its node's inputs in the graph; the column before it for a chain). */
  private inputColumns(i: number): number[] {
    const node = this.spec?.nodes.find((n) => n.name === this.columns[i].name);
    const found = node?.inputs.map((name) => this.columns.findIndex((col, k) => k < i && (col.name === name || (k === 0 && name === 'input'))));
    return found && found.length > 0 && found.every((j) => j >= 0) ? found : [i - 1];
  }

  /** Which nodes feed node c of column i, as [column, node]: every channel for a convolution (its group's), dense or flatten layer, the same channel otherwise. */
  private sources(i: number, c: number): [number, number][] {
    const col = this.columns[i];
    const inputs = this.inputColumns(i);
    if (col.type === 'concat') {
      let offset = 0;
      for (const j of inputs) {
        const n = this.columns[j].nodes.length;
        if (c >= offset && c < offset + n) return [[j, c - offset]];
        offset += n;
      }
      return [];
    }
    return inputs.flatMap((j) => {
      const prev = this.columns[j];
      const all = prev.nodes.map((_, k): [number, number] => [j, k]);
      if (col.type === 'conv2d') {
        const groups = this.windows(col.name)?.groups ?? 1;
        const per = prev.nodes.length / groups;
        const first = Math.floor(c / (col.nodes.length / groups)) * per;
        return all.slice(first, first + per);
      }
      if (col.type === 'dense' || col.type === 'flatten' || prev.nodes.length !== col.nodes.length) return all;
      return [[j, c]];
    });
  }

  /** Column j's values on the current image. */
  private values(j: number): Values {
    const report = this.report!;
    return j === 0 ? { name: 'input', activation: report.input.data, outputShape: report.input.shape } : report.layers[j - 1];
  }

  /** Draws the connections (after layout: positions come from the rendered nodes). */
  private link(): void {
    if (this.columns.length === 0) return;
    const base = this.stage.getBoundingClientRect();
    this.svg.setAttribute('width', String(this.stage.scrollWidth));
    this.svg.setAttribute('height', String(this.stage.scrollHeight));
    const lines: string[] = [];
    for (let i = 1; i < this.columns.length; i++) {
      this.columns[i].nodes.forEach((node, c) => {
        const to = node.getBoundingClientRect();
        for (const [j, s] of this.sources(i, c)) {
          const from = this.columns[j].nodes[s].getBoundingClientRect();
          lines.push(
            `<line data-to="${i}:${c}" data-from="${j}:${s}" x1="${from.right - base.left}" y1="${from.top + from.height / 2 - base.top}" x2="${to.left - base.left}" y2="${to.top + to.height / 2 - base.top}"/>`,
          );
        }
      });
    }
    this.svg.innerHTML = lines.join('');
  }

  private highlight(i: number, c: number, on: boolean): void {
    for (const line of this.svg.querySelectorAll(`line[data-to="${i}:${c}"]`)) line.classList.toggle('hot', on);
    for (const [j, s] of this.sources(i, c)) this.columns[j].nodes[s].classList.toggle('source', on);
    this.columns[i].nodes[c].classList.toggle('hovered', on);
  }

  /** The arithmetic of channel c of column i on the current image. */
  private explain(i: number, c: number): void {
    const report = this.report;
    if (!report || i === 0) return;
    this.selected = { column: i, channel: c };
    for (const col of this.columns) for (const n of col.nodes) n.classList.remove('selected');
    this.columns[i].nodes[c].classList.add('selected');
    const layer = report.layers[i - 1];
    const prev = this.values(this.inputColumns(i)[0]);
    const isLast = i === this.columns.length - 1;
    const parts: HTMLElement[] = [];
    const title = document.createElement('h3');
    title.textContent = this.columns[i].nodes.length > 1 ? `${layer.name}, channel ${c}` : layer.name;
    const caption = document.createElement('p');
    caption.className = 'hint';
    caption.textContent = layerCaption(layer, prev.name, isLast);
    parts.push(title, caption);
    if (layer.type === 'conv2d' && layer.weights && prev.outputShape.length === 3) parts.push(...this.convDetail(layer, prev, c));
    else if (layer.outputShape.length === 3 && prev.outputShape.length === 3) parts.push(...this.mapDetail(layer, prev, c));
    else if (isLast) parts.push(softmaxTable(layer.activation, report.probs));
    else parts.push(text(`${layer.outputShape[0]} values; hover the column above to see what feeds them.`));
    if (layer.outputShape.length === 3 && this.findPatches) parts.push(this.patchesOf(layer.name, c));
    this.detail.replaceChildren(...parts);
  }

  /** The test digits where channel c of a layer responds most, cut at the receptive field of its strongest unit. */
  private patchesOf(node: string, c: number): HTMLElement {
    const box = document.createElement('div');
    box.className = 'ov-patches';
    box.innerHTML = '<h4></h4><div class="ov-patch-row"></div>';
    const title = box.querySelector('h4')!;
    title.textContent = `Where ${node}, channel ${c} responds most in the test digits: searching…`;
    const key = `${node}:${c}`;
    let found = this.patchesFound.get(key);
    if (!found) {
      found = this.findPatches!(node, c);
      this.patchesFound.set(key, found);
      found.catch(() => this.patchesFound.delete(key));
    }
    found.then(
      (p) => {
        title.textContent = `Where ${node}, channel ${c} responds most in the first ${p.searched.toLocaleString('en')} test digits (each cut at the receptive field of its strongest unit):`;
        const extent = Math.max(...p.patches.map((q) => symmetricExtent(q.data)), 1e-9);
        box.querySelector('.ov-patch-row')!.replaceChildren(
          ...p.patches.map((q) => {
            const [, h, w] = q.shape;
            const figure = mapFigure(`#${q.index} (a ${q.label}): ${formatValue(q.activation)}`, q.data, 0, h, w, extent, true);
            figure.dataset.activation = String(q.activation);
            figure.dataset.box = `${q.box.top},${q.box.left},${q.box.height},${q.box.width}`;
            return figure;
          }),
        );
        box.dataset.searched = String(p.searched);
      },
      (e: Error) => {
        title.textContent = `The test digits could not be searched: ${e.message}`;
      },
    );
    return box;
  }

  private windows(name: string): Windows | null {
    return this.spec ? windowsOf(this.spec, name) : null;
  }

  private convDetail(layer: LayerView, prev: Values, o: number): HTMLElement[] {
    const [, Hi, Wi] = prev.outputShape;
    const [, Ho, Wo] = layer.outputShape;
    const [, Cg, K, KW] = layer.weights!.shape;
    const w = layer.weights!.data;
    const g = this.windows(layer.name) ?? { kernel: [K, KW], stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 };
    // With groups, filter o reads only its group's Cg input channels, from `first` on.
    const { first, partials } = convPartials(prev.activation, prev.outputShape, layer.weights!, layer.outputShape, g, o);
    const out = layer.activation.subarray(o * Ho * Wo, (o + 1) * Ho * Wo);
    // The bias is what the output adds to the summed products (the same at every position).
    let bias = 0;
    for (let q = 0; q < Ho * Wo; q++) bias += out[q] - partials.reduce((s, p) => s + p[q], 0);
    bias /= Ho * Wo;
    const extent = Math.max(symmetricExtent(out), ...partials.map(symmetricExtent));
    const wExtent = symmetricExtent(w.subarray(o * Cg * K * KW, (o + 1) * Cg * K * KW));
    const shown = Math.min(Cg, 16);
    const rows = document.createElement('div');
    rows.className = 'conv-rows';
    const inputFigures: HTMLElement[] = [];
    const productFigures: HTMLElement[] = [];
    for (let c = 0; c < shown; c++) {
      const row = document.createElement('div');
      row.className = 'conv-row';
      const input = mapFigure(
        `${prev.name} ch ${first + c}`,
        prev.activation,
        (first + c) * Hi * Wi,
        Hi,
        Wi,
        symmetricExtent(prev.activation),
        prev.name === 'input',
      );
      const products = mapFigure('products summed', partials[c], 0, Ho, Wo, extent);
      inputFigures.push(input);
      productFigures.push(products);
      row.append(input, op('×'), kernelFigure(w, (o * Cg + c) * K * KW, K, KW, wExtent), op('='), products);
      rows.append(row);
    }
    const sum = document.createElement('div');
    sum.className = 'conv-sum';
    const outFigure = mapFigure(`${layer.name} ch ${o}`, out, 0, Ho, Wo, extent);
    outFigure.classList.add('conv-out');
    const field = this.fieldFigure();
    const which = g.groups > 1 ? `its group's ${Cg} maps above (channels ${first}–${first + Cg - 1})` : `the ${Cg} maps above`;
    sum.append(
      text(`Σ of ${which}${Cg > shown ? ` (first ${shown} shown)` : ''} + bias ${formatValue(bias)} =`),
      outFigure,
      legend(extent),
      ...(field ? [field] : []),
    );
    const arithmetic = text('Hover the output map: the sum at that position, the window each kernel covers, and the receptive field on the input.');
    arithmetic.className = 'formula';
    this.onHover(outFigure, Ho, Wo, (y, x) => {
      const terms = partials.slice(0, 6).map((p) => formatValue(p[y * Wo + x]));
      arithmetic.textContent = `${layer.name}[${o}][${y}][${x}] = ${terms.join(' + ')}${Cg > 6 ? ` + … (${Cg} channels)` : ''} + ${formatValue(bias)} = ${formatValue(out[y * Wo + x])}`;
      const window = windowCells(g, y, x);
      for (const f of inputFigures) outline(f, Hi, Wi, window);
      for (const f of [...productFigures, outFigure]) outline(f, Ho, Wo, { top: y, left: x, bottom: y, right: x });
      this.showField(layer.name, y, x, field);
    });
    return [rows, sum, arithmetic];
  }

  /** Calls `show(y, x)` for the cell under the pointer on a map figure; the outlines and receptive fields go when it leaves. */
  private onHover(figure: HTMLElement, H: number, W: number, show: (y: number, x: number) => void): void {
    const canvas = figure.querySelector('canvas')!;
    canvas.addEventListener('mousemove', (e) => {
      const r = canvas.getBoundingClientRect();
      show(Math.min(H - 1, Math.floor(((e.clientY - r.top) / r.height) * H)), Math.min(W - 1, Math.floor(((e.clientX - r.left) / r.width) * W)));
    });
    canvas.addEventListener('mouseleave', () => {
      this.fieldBox.hidden = true;
      for (const box of this.detail.querySelectorAll<HTMLElement>('.cell-box')) box.hidden = true;
    });
  }

  /** The network input, beside an opened map, for its receptive field (the input column may be scrolled away). */
  private fieldFigure(): HTMLElement | null {
    const report = this.report;
    if (report?.input.shape.length !== 3) return null;
    const [, H, W] = report.input.shape;
    const values = report.input.data;
    return mapFigure('receptive field on the input', values, 0, H, W, symmetricExtent(values), true);
  }

  private mapDetail(layer: LayerView, prev: Values, c: number): HTMLElement[] {
    const [, Hi, Wi] = prev.outputShape;
    const [, Ho, Wo] = layer.outputShape;
    const extent = Math.max(symmetricExtent(prev.activation.subarray(c * Hi * Wi, (c + 1) * Hi * Wi)), 1e-9);
    const row = document.createElement('div');
    row.className = 'conv-row';
    const what =
      layer.type === 'relu' ? 'max(0, x)' : layer.type === 'maxpool2d' ? 'max of each window' : layer.type === 'avgpool2d' ? 'mean of each window' : layer.type;
    const outFigure = mapFigure(`${layer.name} ch ${c}`, layer.activation, c * Ho * Wo, Ho, Wo, extent);
    row.append(mapFigure(`${prev.name} ch ${c}`, prev.activation, c * Hi * Wi, Hi, Wi, extent), op(`→ ${what} →`), outFigure, legend(extent));
    const field = this.fieldFigure();
    if (field) row.append(field);
    const formula = text('Hover the output map: the value, the input cells it comes from, and its receptive field on the input.');
    formula.className = 'formula';
    const inputFigure = row.firstElementChild as HTMLElement;
    const g = this.windows(layer.name);
    const value = (yy: number, xx: number) => prev.activation[(c * Hi + yy) * Wi + xx];
    this.onHover(outFigure, Ho, Wo, (y, x) => {
      const v = layer.activation[(c * Ho + y) * Wo + x];
      let cells: Cells = { top: y, left: x, bottom: y, right: x };
      if (g) {
        cells = windowCells(g, y, x);
        const { values, padded } = windowValues(g, prev.activation.subarray(c * Hi * Wi, (c + 1) * Hi * Wi), Hi, Wi, y, x);
        formula.textContent = `${layer.type === 'maxpool2d' ? 'max' : 'mean'}(${values.map(formatValue).join(', ')}) = ${formatValue(v)}${padded ? ' (the window reaches into the padding)' : ''}`;
      } else if (Hi === Ho && Wi === Wo) formula.textContent = `${layer.type}(${formatValue(value(y, x))}) = ${formatValue(v)}`;
      else formula.textContent = `${layer.name}[${c}][${y}][${x}] = ${formatValue(v)}`;
      if (g || (Hi === Ho && Wi === Wo)) outline(inputFigure, Hi, Wi, cells);
      outline(outFigure, Ho, Wo, { top: y, left: x, bottom: y, right: x });
      this.showField(layer.name, y, x, field);
    });
    return [row, formula];
  }

  /** Outlines the input pixels that unit (y, x) of a layer sees, on the input column and on `figure` (the input beside the opened map). */
  private showField(name: string, y: number, x: number, figure: HTMLElement | null = null): void {
    if (!this.spec) return;
    try {
      this.fields ??= fieldsOf(this.spec);
    } catch {
      return;
    }
    const field = this.fields.get(name);
    const input = this.columns[0].nodes[0];
    if (!field || !input || !this.report) return;
    const [, H, W] = this.report.input.shape;
    const b = fieldBounds(field, y, x);
    if (figure) outline(figure, H, W, b);
    place(this.fieldBox, input, H, W, b);
    this.fieldBox.dataset.bounds = `${b.top},${b.left},${b.bottom},${b.right}`;
  }
}

function mapFigure(label: string, data: Float32Array, offset: number, h: number, w: number, extent: number, grey = false): HTMLElement {
  const fig = document.createElement('figure');
  fig.className = 'map-figure';
  const canvas = document.createElement('canvas');
  canvas.className = 'pixelated';
  const slice = data.subarray(offset, offset + h * w);
  drawChannel(
    canvas,
    data,
    offset,
    h,
    w,
    grey ? { palette: 'grey', extent, lo: Math.min(...slice), hi: Math.max(...slice) } : { palette: 'diverging', extent },
  );
  const per = pixelsPerCell(Math.max(h, w), 84);
  canvas.style.width = `${w * per}px`;
  canvas.style.height = `${h * per}px`;
  const cap = document.createElement('figcaption');
  cap.textContent = label;
  fig.append(canvas, cap);
  return fig;
}

/** Outlines `cells` (clipped to the map; hidden if wholly outside) on a figure's h×w map. */
function outline(figure: HTMLElement, h: number, w: number, cells: Cells): void {
  let box = figure.querySelector<HTMLElement>('.cell-box');
  if (!box) {
    box = document.createElement('div');
    box.className = 'cell-box';
    figure.append(box);
  }
  place(box, figure.querySelector('canvas')!, h, w, cells);
  box.dataset.cells = `${cells.top},${cells.left},${cells.bottom},${cells.right}`;
}

/** Puts `box` (positioned in the canvas's offset parent) around `cells` of the h×w map the canvas shows, clipped to it; hidden if wholly outside. */
function place(box: HTMLElement, canvas: HTMLCanvasElement, h: number, w: number, cells: Cells): void {
  const top = Math.max(0, cells.top),
    left = Math.max(0, cells.left),
    bottom = Math.min(h - 1, cells.bottom),
    right = Math.min(w - 1, cells.right);
  box.hidden = top > bottom || left > right;
  const sx = canvas.clientWidth / w,
    sy = canvas.clientHeight / h;
  Object.assign(box.style, {
    left: `${canvas.offsetLeft + left * sx}px`,
    top: `${canvas.offsetTop + top * sy}px`,
    width: `${(right - left + 1) * sx}px`,
    height: `${(bottom - top + 1) * sy}px`,
  });
}

function kernelFigure(w: Float32Array, offset: number, K: number, KW: number, extent: number): HTMLElement {
  const fig = mapFigure('kernel', w, offset, K, KW, extent);
  const values: string[] = [];
  for (let i = 0; i < K * KW; i++) values.push(formatValue(w[offset + i]));
  fig.title = `kernel values, row by row: ${values.join(' ')}`;
  return fig;
}

function softmaxTable(logits: Float32Array, probs: number[]): HTMLElement {
  const table = document.createElement('table');
  table.className = 'softmax';
  const m = Math.max(...logits);
  const exps = Array.from(logits, (z) => Math.exp(z - m));
  const sum = exps.reduce((a, b) => a + b, 0);
  table.innerHTML = '<thead><tr><th>digit</th><th>score z</th><th>e^(z − max)</th><th>probability = e / Σ</th></tr></thead>';
  const body = table.createTBody();
  logits.forEach((z, k) => {
    const tr = body.insertRow();
    for (const t of [String(k), formatValue(z), formatValue(exps[k]), `${(probs[k] * 100).toFixed(1)} %`]) tr.insertCell().textContent = t;
  });
  const foot = table.createTFoot().insertRow();
  for (const t of ['', '', `Σ = ${formatValue(sum)}`, '100 %']) foot.insertCell().textContent = t;
  return table;
}

function op(symbol: string): HTMLElement {
  const el = document.createElement('span');
  el.className = 'op';
  el.textContent = symbol;
  return el;
}

function text(t: string): HTMLElement {
  const p = document.createElement('p');
  p.textContent = t;
  return p;
}
