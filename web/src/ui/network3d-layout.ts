/**
 * What the 3-D network view shows, without any rendering: which layers become slabs (an
 * activation, batch norm, dropout or flatten joins the layer before it, since it changes
 * values, not structure), where every unit sits, and which units of the layers below a unit
 * is connected to — from the library's receptive fields, so the picture is the arithmetic
 * that `convkit` itself uses.
 */
import { type ReceptiveField, fieldBounds } from 'convkit';

/** A layer of the report, as the worker describes it. */
export interface LayerRow {
  name: string;
  type: string;
  outputShape: number[];
}

/** Layers that keep the shape and are drawn as part of the slab below them. */
const JOINS_PREVIOUS = new Set(['relu', 'leakyrelu', 'relu6', 'tanh', 'sigmoid', 'softmax', 'dropout', 'batchnorm2d', 'lrn', 'flatten']);
/** Layers whose units read only their own channel of the layer below (pooling, element-wise). */
const PER_CHANNEL = new Set([
  'relu',
  'leakyrelu',
  'relu6',
  'tanh',
  'sigmoid',
  'dropout',
  'batchnorm2d',
  'flatten',
  'maxpool2d',
  'avgpool2d',
  'adaptiveavgpool2d',
  'globalavgpool2d',
]);
/** Wider layers show their first channels only: the scene stays small enough to build at once. */
export const MAX_UNITS_PER_SLAB = 32_768;
/** Gap between feature maps, in cells. */
const MAP_GAP = 2;

/** One slab of the scene: the input, a stack of feature maps, a vector, or the output. */
export interface Slab {
  kind: 'input' | 'maps' | 'vector' | 'output';
  /** The layer names drawn here, e.g. ['conv1', 'relu1']. */
  nodes: string[];
  /** Index into the report's layers of the activation shown (the last node); -1: the input. */
  source: number;
  /** Maps: channels × height × width. Vectors and the output: 1 × rows × columns wrapping the units. */
  channels: number;
  height: number;
  width: number;
  /** Channels drawn (≤ channels: the first ones). */
  shownChannels: number;
  /** Units drawn: shownChannels · height · width for maps, the vector's length otherwise. */
  units: number;
  /** Does a unit here read every channel of the slab below (conv, dense), or only its own (pooling)? */
  mixesChannels: boolean;
  /** Distance between neighbouring cells (scene units). */
  pitch: number;
  /** Map grid: maps per row (x) and rows of maps (z). */
  mapColumns: number;
  mapRows: number;
  /** The slab's footprint in scene units (x, z), before placement. */
  extent: [number, number];
}

/** Groups the report's layers into slabs. The last slab is the output when its size is the class count. */
export function planSlabs(inputShape: number[], layers: LayerRow[], classes: number): Slab[] {
  const slabs: Slab[] = [makeSlab('input', ['input'], -1, inputShape, false)];
  layers.forEach((row, i) => {
    const last = slabs[slabs.length - 1];
    const size = row.outputShape.reduce((a, b) => a * b, 1);
    if (JOINS_PREVIOUS.has(row.type) && size === slabSize(last)) {
      last.nodes.push(row.name);
      last.source = i;
      if (!PER_CHANNEL.has(row.type)) last.mixesChannels = true;
      return;
    }
    slabs.push(makeSlab(row.outputShape.length === 3 ? 'maps' : 'vector', [row.name], i, row.outputShape, !PER_CHANNEL.has(row.type)));
  });
  const top = slabs[slabs.length - 1];
  if (slabs.length > 1 && top.kind === 'vector' && top.units === classes) Object.assign(top, vectorGeometry(classes, true), { kind: 'output' });
  return slabs;
}

function slabSize(s: Slab): number {
  return s.kind === 'maps' || s.kind === 'input' ? s.channels * s.height * s.width : s.units;
}

function makeSlab(kind: Slab['kind'], nodes: string[], source: number, shape: number[], mixesChannels: boolean): Slab {
  if (kind === 'vector')
    return {
      kind,
      nodes,
      source,
      mixesChannels,
      ...vectorGeometry(
        shape.reduce((a, b) => a * b, 1),
        false,
      ),
    };
  const [channels, height, width] = shape;
  const shownChannels = Math.max(1, Math.min(channels, Math.floor(MAX_UNITS_PER_SLAB / (height * width))));
  // A grid of maps about twice as deep as wide: slabs follow each other along x, so the
  // network stays compact enough to read at once on a screen.
  const mapColumns = Math.ceil(Math.sqrt(shownChannels / 2));
  const mapRows = Math.ceil(shownChannels / mapColumns);
  return {
    kind,
    nodes,
    source,
    channels,
    height,
    width,
    shownChannels,
    units: shownChannels * height * width,
    mixesChannels,
    pitch: 1,
    mapColumns,
    mapRows,
    extent: [mapColumns * width + (mapColumns - 1) * MAP_GAP, mapRows * height + (mapRows - 1) * MAP_GAP],
  };
}

/** A vector as a grid about as deep as wide; the output as one column of large cells. */
function vectorGeometry(n: number, output: boolean): Omit<Slab, 'kind' | 'nodes' | 'source' | 'mixesChannels'> {
  const width = output ? 1 : Math.max(1, Math.round(Math.sqrt(n)));
  const height = Math.ceil(n / width);
  const pitch = output ? 6 : 1.5;
  return {
    channels: 1,
    height,
    width,
    shownChannels: 1,
    units: n,
    pitch,
    mapColumns: 1,
    mapRows: 1,
    extent: output ? [pitch, pitch] : [width * pitch, height * pitch],
  };
}

/** Channel, row and column of a unit (vectors: row and column in the wrapped grid). */
export function unitPosition(slab: Slab, unit: number): { channel: number; row: number; col: number } {
  const hw = slab.height * slab.width;
  const channel = Math.floor(unit / hw),
    rest = unit - channel * hw;
  return { channel, row: Math.floor(rest / slab.width), col: rest % slab.width };
}

/**
 * A unit's centre relative to its slab's centre. Slabs lie flat (x, z); the output stands up as
 * a column of tiles facing the viewer (y, class 0 on top), so each class can carry a label.
 */
export function unitOffset(slab: Slab, unit: number, out: { x: number; y: number; z: number }): { x: number; y: number; z: number } {
  if (slab.kind === 'output') {
    out.x = 0;
    out.z = 0;
    out.y = ((slab.units - 1) / 2 - unit) * slab.pitch + outputLift(slab);
    return out;
  }
  const { channel, row, col } = unitPosition(slab, unit);
  out.y = 0;
  const mx = channel % slab.mapColumns,
    mz = Math.floor(channel / slab.mapColumns);
  out.x = (mx * (slab.width + MAP_GAP) + col + 0.5) * slab.pitch - slab.extent[0] / 2;
  out.z = (mz * (slab.height + MAP_GAP) + row + 0.5) * slab.pitch - slab.extent[1] / 2;
  return out;
}

/** The output column stands on the floor of its slab. */
function outputLift(slab: Slab): number {
  return (slab.units / 2) * slab.pitch;
}

/** Inclusive rows and columns of a grid. */
export interface GridRange {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

/**
 * The positions of a lower layer (field `lower`, `rows` × `cols` positions) whose own fields lie
 * inside the field of position (row, col) of an upper layer: the units it is connected to,
 * directly or through the layers between. Fields compose exactly along a chain, so this is the
 * kernel window of the layer right above and the composed window further down. Positions that
 * would lie in padding are left out; null when none is left. A field is an extent: below a
 * dilated kernel it includes the positions between the kernel's taps.
 */
export function connectedRange(upper: ReceptiveField, row: number, col: number, lower: ReceptiveField, rows: number, cols: number): GridRange | null {
  const b = fieldBounds(upper, row, col);
  const axis = (lo: number, hi: number, a: number, positions: number): [number, number] => {
    // A layer without spatial resolution (jump 0: dense) sees every position below.
    if (upper.jump[a] === 0 || lower.jump[a] === 0) return [0, positions - 1];
    const first = Math.ceil((lo - lower.start[a]) / lower.jump[a]);
    const last = Math.floor((hi - (lower.size[a] - 1) - lower.start[a]) / lower.jump[a]);
    return [Math.max(0, first), Math.min(positions - 1, last)];
  };
  const [top, bottom] = axis(b.top, b.bottom, 0, rows);
  const [left, right] = axis(b.left, b.right, 1, cols);
  return top > bottom || left > right ? null : { top, left, bottom, right };
}

/**
 * Marks in `mask` (one byte per unit of `slabs[below]`) the units that unit `unit` of
 * `slabs[above]` is connected to, and returns how many. Channels: a unit reads one channel
 * through pooling and element-wise layers, every channel once a conv or dense layer lies
 * between. Without receptive fields (none known), spatial units see everything.
 */
export function markConnected(slabs: Slab[], fields: Map<string, ReceptiveField> | null, above: number, unit: number, below: number, mask: Uint8Array): number {
  const upper = slabs[above],
    lower = slabs[below];
  mask.fill(0, 0, lower.units);
  const { channel, row, col } = unitPosition(upper, unit);
  let oneChannel = true;
  for (let s = above; s > below; s--) if (slabs[s].mixesChannels || slabs[s].channels !== slabs[s - 1].channels) oneChannel = false;
  if (lower.kind === 'vector' || lower.kind === 'output' || upper.kind === 'vector' || upper.kind === 'output') {
    mask.fill(1, 0, lower.units);
    return lower.units;
  }
  const upperField = fields?.get(fieldNode(upper));
  const lowerField = fields?.get(fieldNode(lower));
  const range =
    upperField && lowerField
      ? connectedRange(upperField, row, col, lowerField, lower.height, lower.width)
      : { top: 0, left: 0, bottom: lower.height - 1, right: lower.width - 1 };
  if (!range) return 0;
  let count = 0;
  const firstChannel = oneChannel ? channel : 0,
    lastChannel = oneChannel ? Math.min(channel, lower.shownChannels - 1) : lower.shownChannels - 1;
  for (let c = firstChannel; c <= lastChannel; c++) {
    for (let r = range.top; r <= range.bottom; r++) {
      for (let x = range.left; x <= range.right; x++) {
        mask[(c * lower.height + r) * lower.width + x] = 1;
        count++;
      }
    }
  }
  return count;
}

/**
 * The node whose receptive field a slab's units have: its first, since the layers joined to it
 * keep the field — except flatten, whose units (as a vector) count as seeing the whole input.
 */
export function fieldNode(slab: Slab): string {
  return slab.nodes[0];
}
