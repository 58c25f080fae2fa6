/**
 * The network at a glance, in the spirit of CNN Explainer, on the current drawing: every layer
 * as a column of its channels, lines for what feeds what (hover a channel: its inputs light
 * up), and a click opens the arithmetic of that channel on the real input: a convolution as
 * the input channels times their kernels summed with the bias, then ReLU, pooling and softmax.
 * Hovering a unit of the opened map outlines its receptive field on the input.
 */
import { type ModelSpec, type ReceptiveField, fieldBounds } from 'convkit';
import { fieldsOf } from '../page-model.js';
import type { LayerReport, LayerView } from '../protocol.js';
import { layerCaption } from './captions.js';
import { drawChannel, formatValue, legend, setLegend, symmetricExtent } from './maps.js';
import { pixelsPerCell } from './scales.js';

const NODE_BUDGET = 56;
type Column = { name: string; type: string; shape: number[]; nodes: HTMLCanvasElement[]; el: HTMLElement; legend?: HTMLElement };
interface ConvGeometry {
  stride: number;
  padding: number;
}

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

  constructor(root: HTMLElement) {
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

  /** Which nodes of column i-1 feed node c of column i. */
  private sources(i: number, c: number): number[] {
    const col = this.columns[i],
      prev = this.columns[i - 1];
    if (!prev) return [];
    if (col.type === 'conv2d' || col.type === 'dense' || col.type === 'flatten' || prev.nodes.length !== col.nodes.length) return prev.nodes.map((_, k) => k);
    return [c];
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
        for (const s of this.sources(i, c)) {
          const from = this.columns[i - 1].nodes[s].getBoundingClientRect();
          lines.push(
            `<line data-to="${i}:${c}" data-from="${i - 1}:${s}" x1="${from.right - base.left}" y1="${from.top + from.height / 2 - base.top}" x2="${to.left - base.left}" y2="${to.top + to.height / 2 - base.top}"/>`,
          );
        }
      });
    }
    this.svg.innerHTML = lines.join('');
  }

  private highlight(i: number, c: number, on: boolean): void {
    for (const line of this.svg.querySelectorAll(`line[data-to="${i}:${c}"]`)) line.classList.toggle('hot', on);
    for (const s of this.sources(i, c)) this.columns[i - 1].nodes[s].classList.toggle('source', on);
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
    const prev = i === 1 ? { name: 'input', activation: report.input.data, outputShape: report.input.shape } : report.layers[i - 2];
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
    this.detail.replaceChildren(...parts);
  }

  private geometry(name: string): ConvGeometry {
    const node = this.spec?.nodes.find((n) => n.name === name);
    const l = (node?.layer ?? {}) as { stride?: number | number[]; padding?: number | number[] };
    const first = (v: number | number[] | undefined, d: number) => (Array.isArray(v) ? v[0] : (v ?? d));
    return { stride: first(l.stride, 1), padding: first(l.padding, 0) };
  }

  private convDetail(layer: LayerView, prev: { name: string; activation: Float32Array; outputShape: number[] }, o: number): HTMLElement[] {
    const [Ci, Hi, Wi] = prev.outputShape;
    const [, Ho, Wo] = layer.outputShape;
    const [, , K, KW] = layer.weights!.shape;
    const w = layer.weights!.data;
    const { stride, padding } = this.geometry(layer.name);
    const partials: Float32Array[] = [];
    for (let c = 0; c < Ci; c++) {
      const p = new Float32Array(Ho * Wo);
      for (let y = 0; y < Ho; y++)
        for (let x = 0; x < Wo; x++) {
          let s = 0;
          for (let ky = 0; ky < K; ky++)
            for (let kx = 0; kx < KW; kx++) {
              const iy = y * stride + ky - padding,
                ix = x * stride + kx - padding;
              if (iy >= 0 && iy < Hi && ix >= 0 && ix < Wi) s += prev.activation[(c * Hi + iy) * Wi + ix] * w[((o * Ci + c) * K + ky) * KW + kx];
            }
          p[y * Wo + x] = s;
        }
      partials.push(p);
    }
    const out = layer.activation.subarray(o * Ho * Wo, (o + 1) * Ho * Wo);
    // The bias is what the output adds to the summed products (the same at every position).
    let bias = 0;
    for (let q = 0; q < Ho * Wo; q++) bias += out[q] - partials.reduce((s, p) => s + p[q], 0);
    bias /= Ho * Wo;
    const extent = Math.max(symmetricExtent(out), ...partials.map(symmetricExtent));
    const wExtent = symmetricExtent(w.subarray(o * Ci * K * KW, (o + 1) * Ci * K * KW));
    const shown = Math.min(Ci, 16);
    const rows = document.createElement('div');
    rows.className = 'conv-rows';
    for (let c = 0; c < shown; c++) {
      const row = document.createElement('div');
      row.className = 'conv-row';
      row.append(
        mapFigure(`${prev.name} ch ${c}`, prev.activation, c * Hi * Wi, Hi, Wi, symmetricExtent(prev.activation), prev.name === 'input'),
        op('×'),
        kernelFigure(w, (o * Ci + c) * K * KW, K, KW, wExtent),
        op('='),
        mapFigure(`products summed`, partials[c], 0, Ho, Wo, extent),
      );
      rows.append(row);
    }
    const sum = document.createElement('div');
    sum.className = 'conv-sum';
    const outFigure = mapFigure(`${layer.name} ch ${o}`, out, 0, Ho, Wo, extent);
    outFigure.classList.add('conv-out');
    sum.append(text(`Σ of the ${Ci} maps above${Ci > shown ? ` (first ${shown} shown)` : ''} + bias ${formatValue(bias)} =`), outFigure, legend(extent));
    const arithmetic = text('Hover the output map to see the sum at one position and its receptive field on the input.');
    arithmetic.className = 'formula';
    const canvas = outFigure.querySelector('canvas')!;
    canvas.addEventListener('mousemove', (e) => {
      const r = canvas.getBoundingClientRect();
      const x = Math.min(Wo - 1, Math.floor(((e.clientX - r.left) / r.width) * Wo)),
        y = Math.min(Ho - 1, Math.floor(((e.clientY - r.top) / r.height) * Ho));
      const terms = partials.slice(0, 6).map((p) => formatValue(p[y * Wo + x]));
      arithmetic.textContent = `${layer.name}[${o}][${y}][${x}] = ${terms.join(' + ')}${Ci > 6 ? ` + … (${Ci} channels)` : ''} + ${formatValue(bias)} = ${formatValue(out[y * Wo + x])}`;
      this.showField(layer.name, y, x);
    });
    canvas.addEventListener('mouseleave', () => {
      this.fieldBox.hidden = true;
    });
    return [rows, sum, arithmetic];
  }

  private mapDetail(layer: LayerView, prev: { name: string; activation: Float32Array; outputShape: number[] }, c: number): HTMLElement[] {
    const [, Hi, Wi] = prev.outputShape;
    const [, Ho, Wo] = layer.outputShape;
    const extent = Math.max(symmetricExtent(prev.activation.subarray(c * Hi * Wi, (c + 1) * Hi * Wi)), 1e-9);
    const row = document.createElement('div');
    row.className = 'conv-row';
    const what =
      layer.type === 'relu' ? 'max(0, x)' : layer.type === 'maxpool2d' ? 'max of each window' : layer.type === 'avgpool2d' ? 'mean of each window' : layer.type;
    const outFigure = mapFigure(`${layer.name} ch ${c}`, layer.activation, c * Ho * Wo, Ho, Wo, extent);
    row.append(mapFigure(`${prev.name} ch ${c}`, prev.activation, c * Hi * Wi, Hi, Wi, extent), op(`→ ${what} →`), outFigure, legend(extent));
    const formula = text('Hover the output map to see one value and its receptive field on the input.');
    formula.className = 'formula';
    const canvas = outFigure.querySelector('canvas')!;
    canvas.addEventListener('mousemove', (e) => {
      const r = canvas.getBoundingClientRect();
      const x = Math.min(Wo - 1, Math.floor(((e.clientX - r.left) / r.width) * Wo)),
        y = Math.min(Ho - 1, Math.floor(((e.clientY - r.top) / r.height) * Ho));
      const v = layer.activation[(c * Ho + y) * Wo + x];
      if (layer.type === 'relu') formula.textContent = `relu(${formatValue(prev.activation[(c * Hi + y) * Wi + x])}) = ${formatValue(v)}`;
      else {
        const k = Math.round(Hi / Ho),
          vals: string[] = [];
        for (let dy = 0; dy < k; dy++)
          for (let dx = 0; dx < k; dx++) {
            const iy = y * k + dy,
              ix = x * k + dx;
            if (iy < Hi && ix < Wi) vals.push(formatValue(prev.activation[(c * Hi + iy) * Wi + ix]));
          }
        formula.textContent = `${layer.type === 'maxpool2d' ? 'max' : 'mean'}(${vals.join(', ')}) = ${formatValue(v)}`;
      }
      this.showField(layer.name, y, x);
    });
    canvas.addEventListener('mouseleave', () => {
      this.fieldBox.hidden = true;
    });
    return [row, formula];
  }

  /** Outlines the input pixels that unit (y, x) of a layer sees, on the input column. */
  private showField(name: string, y: number, x: number): void {
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
    const sx = input.clientWidth / W,
      sy = input.clientHeight / H;
    const top = Math.max(0, b.top),
      left = Math.max(0, b.left),
      bottom = Math.min(H - 1, b.bottom),
      right = Math.min(W - 1, b.right);
    Object.assign(this.fieldBox.style, {
      left: `${input.offsetLeft + left * sx}px`,
      top: `${input.offsetTop + top * sy}px`,
      width: `${(right - left + 1) * sx}px`,
      height: `${(bottom - top + 1) * sy}px`,
    });
    this.fieldBox.dataset.bounds = `${b.top},${b.left},${b.bottom},${b.right}`;
    this.fieldBox.hidden = false;
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
