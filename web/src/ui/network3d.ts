/**
 * The whole network in 3-D for the current drawing (after the lecture's "3D Visualization of a
 * CNN"): each layer a slab of cells coloured by activation, rising left to right from the
 * input to the ten class cells; hovering (or tapping) a unit draws its connections to the
 * layer below and fades everything outside its receptive field in every layer below.
 *
 * Cheap by construction: one InstancedMesh per slab sharing one box geometry; a new drawing
 * rewrites the colour buffers in place; nothing renders unless something changed (a new
 * report, the camera, a hover, a resize).
 */
import {
  AmbientLight,
  BoxGeometry,
  BufferAttribute,
  BufferGeometry,
  Color,
  DirectionalLight,
  EdgesGeometry,
  InstancedBufferAttribute,
  InstancedMesh,
  type Intersection,
  LineBasicMaterial,
  LineSegments,
  Matrix4,
  MeshLambertMaterial,
  type Object3D,
  PerspectiveCamera,
  Raycaster,
  Scene,
  SRGBColorSpace,
  Vector2,
  Vector3,
  WebGLRenderer,
} from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { Model, type ModelSpec, RefBackend, type ReceptiveField, explain, fieldBounds, receptiveFields } from 'convkit';
import type { LayerReport } from '../protocol.js';
import { type Slab, fieldNode, markConnected, planSlabs, unitOffset, unitPosition } from './network3d-layout.js';
import './network3d.css';

/** What the view needs from the page. */
export interface Network3dSource {
  /** Registers `show`, called with each new report for the current drawing, or null when the drawing is cleared. */
  onActivations(show: (report: LayerReport | null) => void): void;
  /** The network the reports come from (its receptive fields), or null before one is known. */
  getModelSpec(): ModelSpec | null;
}

export interface Network3dHandle {
  dispose(): void;
}

/** Scene units between slabs along x, and the rise of each slab over the one before it. */
const SLAB_GAP = 14;
const SLAB_RISE = 4;
/** Cell size relative to the pitch, and cell thickness. */
const CELL_FILL = 0.86;
const CELL_THICKNESS = 0.35;
/** Most connection lines drawn for one hovered unit (a dense unit reads every unit below). */
const MAX_LINES = 4096;
/** How far an unconnected cell fades towards the background while a unit is hovered. */
const FADE = 0.82;
const BACKGROUND = '#1b1f2a';
/** A pointer that moves less than this between down and up is a tap (touch picks a unit by tapping). */
const TAP_PIXELS = 8;

/** 256 entries of the library's diverging map (blue, white at zero, red), as linear RGB for the shader. */
function divergingTable(): Float32Array {
  const table = new Float32Array(256 * 3);
  const c = new Color();
  for (let i = 0; i < 256; i++) {
    const [r, g, b] = explain.diverging(i / 255);
    c.setRGB(r / 255, g / 255, b / 255, SRGBColorSpace);
    table[i * 3] = c.r;
    table[i * 3 + 1] = c.g;
    table[i * 3 + 2] = c.b;
  }
  return table;
}

/** CSS gradient of the same map, for the legend. */
function legendGradient(): string {
  const stops = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1].map((t) => `rgb(${explain.diverging(t).join(',')}) ${t * 100}%`);
  return `linear-gradient(to right, ${stops.join(', ')})`;
}

interface SlabScene {
  slab: Slab;
  mesh: InstancedMesh;
  colours: Float32Array;
  /** Units connected to the hovered unit (slabs below it only). */
  mask: Uint8Array;
  /** Slab centre in the scene. */
  centre: Vector3;
  label: HTMLElement;
  labelAnchor: Vector3;
  /** Largest |value| shown, the colour scale. */
  scale: number;
}

interface Hover {
  slab: number;
  unit: number;
}

export function mountNetwork3d(container: HTMLElement, source: Network3dSource): Network3dHandle {
  let renderer: WebGLRenderer;
  try {
    renderer = new WebGLRenderer({ antialias: true });
  } catch (e) {
    container.classList.add('network3d-unavailable');
    container.textContent = `The 3-D view needs WebGL, which this browser does not offer (${(e as Error).message}).`;
    return { dispose() {} };
  }
  const view = new Network3dView(container, renderer, source);
  source.onActivations((report) => view.show(report));
  return { dispose: () => view.dispose() };
}

class Network3dView {
  private readonly scene = new Scene();
  private readonly camera = new PerspectiveCamera(38, 1, 0.5, 5000);
  private readonly controls: OrbitControls;
  private readonly cell = new BoxGeometry(1, 1, 1);
  private readonly material = new MeshLambertMaterial({ color: 0xffffff });
  private readonly table = divergingTable();
  private readonly background = new Color(BACKGROUND);
  private readonly lines: LineSegments;
  private readonly linePositions = new Float32Array(MAX_LINES * 6);
  private readonly marker: LineSegments;
  private readonly labels: HTMLElement;
  private readonly info: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly resizeObserver: ResizeObserver;
  private readonly raycaster = new Raycaster();
  private readonly pointer = new Vector2();
  private readonly hits: Intersection<Object3D>[] = [];
  private readonly scratch = new Vector3();
  private readonly scratchOffset = { x: 0, y: 0, z: 0 };
  private readonly matrix = new Matrix4();

  private slabs: SlabScene[] = [];
  /** The same slabs' plans and meshes, for picking and marking without building arrays on every pointer move. */
  private plan: Slab[] = [];
  private meshes: InstancedMesh[] = [];
  private fields: Map<string, ReceptiveField> | null = null;
  private classLabels: HTMLElement[] = [];
  private classAnchors: Vector3[] = [];
  private report: LayerReport | null = null;
  private signature = '';
  private hover: Hover | null = null;
  private renderPending = false;
  private disposed = false;
  private cameraMoved = false;
  private downAt: { x: number; y: number } | null = null;
  /** For tests and the performance check: what happened so far. */
  private readonly counters = { builds: 0, renders: 0, colourUpdates: 0, buildMs: 0, lines: 0 };

  constructor(
    private readonly container: HTMLElement,
    private readonly renderer: WebGLRenderer,
    private readonly source: Network3dSource,
  ) {
    container.classList.add('network3d');
    renderer.setPixelRatio(Math.min(2, window.devicePixelRatio || 1));
    renderer.setClearColor(this.background);
    const canvas = renderer.domElement;
    canvas.className = 'network3d-canvas';
    canvas.setAttribute('aria-label', 'the network in 3-D: drag to orbit, scroll or pinch to zoom, hover or tap a unit for its receptive field');
    this.labels = element('div', 'network3d-labels');
    this.info = element('div', 'network3d-info');
    this.info.textContent = 'Hover over (or tap) a unit to see what it is connected to.';
    this.empty = element('div', 'network3d-empty');
    this.empty.textContent = 'Draw a digit above: it appears here passing through every layer.';
    container.replaceChildren(canvas, this.labels, this.info, this.legend(), this.empty);

    // Light adds up to exactly 1 on the slabs' tops (from above) and the output tiles' faces (from
    // the front), so cells show the legend's colours; their sides stay darker, for depth.
    this.scene.add(new AmbientLight(0xffffff, 0.6));
    const above = new DirectionalLight(0xffffff, 0.4);
    above.position.set(0, 1, 0);
    const front = new DirectionalLight(0xffffff, 0.4);
    front.position.set(0, 0, 1);
    this.scene.add(above, front);

    const lineGeometry = new BufferGeometry();
    lineGeometry.setAttribute('position', new BufferAttribute(this.linePositions, 3));
    lineGeometry.setDrawRange(0, 0);
    this.lines = new LineSegments(lineGeometry, new LineBasicMaterial({ color: 0xffd43b, transparent: true, opacity: 0.55 }));
    this.lines.frustumCulled = false;
    this.marker = new LineSegments(new EdgesGeometry(this.cell), new LineBasicMaterial({ color: 0xffd43b }));
    this.marker.visible = false;
    this.scene.add(this.lines, this.marker);

    this.controls = new OrbitControls(this.camera, canvas);
    this.controls.zoomToCursor = true;
    this.controls.addEventListener('change', () => this.requestRender());
    this.controls.addEventListener('start', () => {
      this.cameraMoved = true;
    });

    canvas.addEventListener('pointermove', (e) => {
      if (e.pointerType === 'mouse' && e.buttons === 0) this.pick(e);
    });
    canvas.addEventListener('pointerleave', (e) => {
      if (e.pointerType === 'mouse') this.setHover(null);
    });
    // Touch and pen have no hover: a tap picks (a drag orbits).
    canvas.addEventListener('pointerdown', (e) => {
      this.downAt = { x: e.clientX, y: e.clientY };
    });
    canvas.addEventListener('pointerup', (e) => {
      if (e.pointerType !== 'mouse' && this.downAt && Math.hypot(e.clientX - this.downAt.x, e.clientY - this.downAt.y) < TAP_PIXELS) this.pick(e);
      this.downAt = null;
    });

    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(container);
    this.resize();
    (window as unknown as { convkitNetwork3d: unknown }).convkitNetwork3d = this.testHook();
  }

  show(report: LayerReport | null): void {
    this.report = report;
    this.empty.hidden = report !== null;
    if (report) {
      // The structure, and the spec: kernels and strides change the fields without changing any shape.
      const signature = JSON.stringify([report.input.shape, report.layers.map((l) => [l.name, l.type, l.outputShape]), this.source.getModelSpec()]);
      if (signature !== this.signature) this.build(report, signature);
    }
    if (this.hover && (!this.slabs[this.hover.slab] || this.hover.unit >= this.slabs[this.hover.slab].slab.units)) this.hover = null;
    this.updateHighlight();
    this.updateColours();
    this.requestRender();
  }

  dispose(): void {
    this.disposed = true;
    this.resizeObserver.disconnect();
    this.controls.dispose();
    this.clearSlabs();
    this.cell.dispose();
    this.material.dispose();
    this.lines.geometry.dispose();
    this.marker.geometry.dispose();
    this.renderer.dispose();
    this.container.replaceChildren();
  }

  /** A new network (or the first report): slabs, meshes and labels for it. */
  private build(report: LayerReport, signature: string): void {
    const started = performance.now();
    this.clearSlabs();
    this.signature = signature;
    this.hover = null;
    this.plan = planSlabs(report.input.shape, report.layers, report.probs.length);
    this.fields = this.receptiveFields();
    let x = 0;
    this.plan.forEach((slab, s) => {
      const mesh = new InstancedMesh(this.cell, this.material, slab.units);
      const colours = new Float32Array(slab.units * 3);
      mesh.instanceColor = new InstancedBufferAttribute(colours, 3);
      const centre = new Vector3(x + slab.extent[0] / 2, s * SLAB_RISE, 0);
      x += slab.extent[0] + SLAB_GAP;
      const cellScale = cellSize(slab);
      for (let u = 0; u < slab.units; u++) {
        const at = unitOffset(slab, u, this.scratchOffset);
        this.matrix.makeScale(cellScale.x, cellScale.y, cellScale.z).setPosition(centre.x + at.x, centre.y + at.y, centre.z + at.z);
        mesh.setMatrixAt(u, this.matrix);
      }
      mesh.instanceMatrix.needsUpdate = true;
      mesh.computeBoundingSphere();
      mesh.userData.slab = s;
      this.scene.add(mesh);
      const label = element('div', 'network3d-label');
      label.append(element('strong', ''), element('span', ''));
      label.querySelector('strong')!.textContent = slab.kind === 'input' ? 'input' : slab.nodes.join(' · ');
      this.labels.append(label);
      // Titles alternate behind and in front of the slabs, so narrow neighbours' titles do not collide.
      const behind = s % 2 === 0;
      if (!behind) label.classList.add('front');
      const labelAnchor =
        slab.kind === 'output'
          ? new Vector3(centre.x, centre.y + slab.units * slab.pitch + 1, centre.z)
          : new Vector3(centre.x, centre.y + 1, behind ? centre.z - slab.extent[1] / 2 - 1 : centre.z + slab.extent[1] / 2 + 1);
      if (slab.kind === 'output') label.classList.remove('front');
      this.slabs.push({ slab, mesh, colours, mask: new Uint8Array(slab.units), centre, label, labelAnchor, scale: 1 });
      this.meshes.push(mesh);
    });
    const output = this.slabs[this.slabs.length - 1];
    if (output.slab.kind === 'output') {
      for (let u = 0; u < output.slab.units; u++) {
        const at = unitOffset(output.slab, u, this.scratchOffset);
        const label = element('div', 'network3d-class');
        this.labels.append(label);
        this.classLabels.push(label);
        this.classAnchors.push(new Vector3(output.centre.x + at.x + output.slab.pitch * 0.6, output.centre.y + at.y, output.centre.z + at.z));
      }
    }
    this.cameraMoved = false;
    this.fitCamera();
    this.counters.builds++;
    this.counters.buildMs = performance.now() - started;
  }

  /** The library's receptive fields of the current network; null when it cannot be built here. */
  private receptiveFields(): Map<string, ReceptiveField> | null {
    const spec = this.source.getModelSpec();
    if (!spec) return null;
    try {
      return receptiveFields(new Model(spec, new RefBackend()));
    } catch {
      return null; // the reports still show; hovering then marks whole layers
    }
  }

  private clearSlabs(): void {
    for (const s of this.slabs) {
      this.scene.remove(s.mesh);
      s.mesh.dispose();
    }
    this.slabs = [];
    this.plan = [];
    this.meshes = [];
    this.classLabels = [];
    this.classAnchors = [];
    this.labels.replaceChildren();
  }

  /** Writes every cell's colour into the instance buffers (no allocation): value → diverging map, faded outside the hovered unit's field. */
  private updateColours(): void {
    const report = this.report;
    const hovered = this.hover?.slab ?? -1;
    for (let s = 0; s < this.slabs.length; s++) {
      const { slab, colours, mask, mesh } = this.slabs[s];
      const values: ArrayLike<number> | null = !report
        ? null
        : slab.kind === 'output'
          ? report.probs
          : slab.source < 0
            ? report.input.data
            : report.layers[slab.source].activation;
      let scale = 0;
      if (values && slab.kind !== 'output') for (let u = 0; u < slab.units; u++) scale = Math.max(scale, Math.abs(values[u]));
      scale = slab.kind === 'output' ? 1 : scale || 1;
      this.slabs[s].scale = scale;
      const fading = s < hovered;
      for (let u = 0; u < slab.units; u++) {
        const v = values ? values[u] : 0;
        const k = Math.max(0, Math.min(255, Math.round((0.5 + (0.5 * v) / scale) * 255))) * 3;
        const keep = fading && mask[u] === 0 ? 1 - FADE : 1;
        colours[u * 3] = this.table[k] * keep + this.background.r * (1 - keep);
        colours[u * 3 + 1] = this.table[k + 1] * keep + this.background.g * (1 - keep);
        colours[u * 3 + 2] = this.table[k + 2] * keep + this.background.b * (1 - keep);
      }
      mesh.instanceColor!.needsUpdate = true;
      this.updateLabel(s, values);
    }
    this.counters.colourUpdates++;
  }

  private updateLabel(s: number, values: ArrayLike<number> | null): void {
    const { slab, label, scale } = this.slabs[s];
    const shape = slab.kind === 'maps' || slab.kind === 'input' ? `${slab.channels}×${slab.height}×${slab.width}` : `${slab.units} units`;
    const shown = slab.shownChannels < slab.channels ? ` (first ${slab.shownChannels} maps)` : '';
    const range = !values ? '' : slab.kind === 'output' ? ', probabilities' : `, max ${scale.toPrecision(3)}`;
    label.querySelector('span')!.textContent = `${shape}${shown}${range}`;
    if (slab.kind === 'output') {
      this.classLabels.forEach((el, u) => {
        el.textContent = values ? `${u}: ${(values[u] * 100).toFixed(values[u] >= 0.995 || values[u] < 0.001 ? 0 : 1)} %` : String(u);
        el.classList.toggle('top', !!values && values[u] === Math.max(...Array.from(values)));
        el.classList.toggle('minor', !!values && values[u] < 0.01);
      });
    }
  }

  private pick(e: PointerEvent): void {
    const rect = this.renderer.domElement.getBoundingClientRect();
    this.pointer.set(((e.clientX - rect.left) / rect.width) * 2 - 1, -((e.clientY - rect.top) / rect.height) * 2 + 1);
    this.raycaster.setFromCamera(this.pointer, this.camera);
    this.hits.length = 0;
    this.raycaster.intersectObjects(this.meshes, false, this.hits);
    const hit = this.hits.find((h) => h.instanceId !== undefined);
    this.setHover(hit ? { slab: hit.object.userData.slab as number, unit: hit.instanceId! } : null);
  }

  private setHover(hover: Hover | null): void {
    if (hover?.slab === this.hover?.slab && hover?.unit === this.hover?.unit) return;
    this.hover = hover;
    this.updateHighlight();
    this.updateColours();
    this.requestRender();
  }

  /** Masks of connected units in every slab below the hovered one, the lines to the slab right below, the marker, the info line. */
  private updateHighlight(): void {
    const hover = this.hover;
    this.counters.lines = 0;
    this.marker.visible = false;
    this.lines.geometry.setDrawRange(0, 0);
    if (!hover || !this.report) {
      this.info.textContent = 'Hover over (or tap) a unit to see what it is connected to.';
      return;
    }
    for (let s = 0; s < hover.slab; s++) markConnected(this.plan, this.fields, hover.slab, hover.unit, s, this.slabs[s].mask);
    const from = this.unitCentre(hover.slab, hover.unit, new Vector3());
    this.marker.scale.copy(cellSize(this.slabs[hover.slab].slab)).multiplyScalar(1.2);
    this.marker.scale.y *= this.slabs[hover.slab].slab.kind === 'output' ? 1 : 3;
    this.marker.position.copy(from);
    this.marker.visible = true;
    if (hover.slab > 0) {
      const below = this.slabs[hover.slab - 1];
      let n = 0;
      for (let u = 0; u < below.slab.units && n < MAX_LINES; u++) {
        if (!below.mask[u]) continue;
        this.unitCentre(hover.slab - 1, u, this.scratch);
        const p = this.linePositions,
          i = n * 6;
        p[i] = from.x;
        p[i + 1] = from.y;
        p[i + 2] = from.z;
        p[i + 3] = this.scratch.x;
        p[i + 4] = this.scratch.y;
        p[i + 5] = this.scratch.z;
        n++;
      }
      this.lines.geometry.attributes.position.needsUpdate = true;
      this.lines.geometry.setDrawRange(0, n * 2);
      this.counters.lines = n;
    }
    this.info.textContent = this.describe(hover);
  }

  private describe({ slab: s, unit }: Hover): string {
    const { slab } = this.slabs[s];
    const report = this.report!;
    const name = slab.kind === 'input' ? 'input' : slab.nodes.join(' · ');
    const value = slab.source < 0 ? report.input.data[unit] : report.layers[slab.source].activation[unit];
    if (slab.kind === 'output')
      return `class ${unit}: probability ${(report.probs[unit] * 100).toFixed(1)} % (logit ${value.toFixed(2)}); it reads every unit of the layer below.`;
    if (slab.kind === 'vector') return `${name}, unit ${unit}: ${value.toFixed(3)}; it reads every unit of the layer below, so it sees the whole input.`;
    const { channel, row, col } = unitPosition(slab, unit);
    const where = `${name}, map ${channel}, row ${row}, column ${col}: ${value.toFixed(3)}`;
    const field = this.fields?.get(fieldNode(slab));
    if (slab.kind === 'input' || !field) return where;
    const b = fieldBounds(field, row, col);
    return `${where}. Receptive field: input rows ${b.top}…${b.bottom}, columns ${b.left}…${b.right} (${field.size[0]} × ${field.size[1]} pixels${b.top < 0 || b.left < 0 || b.bottom >= report.input.shape[1] || b.right >= report.input.shape[2] ? ', partly padding' : ''}).`;
  }

  private unitCentre(s: number, unit: number, out: Vector3): Vector3 {
    const { slab, centre } = this.slabs[s];
    const at = unitOffset(slab, unit, this.scratchOffset);
    return out.set(centre.x + at.x, centre.y + at.y + (slab.kind === 'output' ? 0 : CELL_THICKNESS / 2), centre.z + at.z);
  }

  /** Looks at the whole network from the front, above and a little to the left, as large as the canvas allows. */
  private fitCamera(): void {
    if (this.slabs.length === 0) return;
    const min = new Vector3(Infinity, Infinity, Infinity),
      max = new Vector3(-Infinity, -Infinity, -Infinity);
    for (const { slab, centre } of this.slabs) {
      const up = slab.kind === 'output' ? slab.units * slab.pitch : 0;
      min.min(this.scratch.set(centre.x - slab.extent[0] / 2, centre.y, centre.z - slab.extent[1] / 2));
      // Room for the class labels right of the output column.
      max.max(this.scratch.set(centre.x + slab.extent[0] / 2 + (slab.kind === 'output' ? 10 : 0), centre.y + up, centre.z + slab.extent[1] / 2));
    }
    const target = min.clone().add(max).multiplyScalar(0.5);
    // Wide screens look from the front; tall ones (phones) from the input's side, the layers receding.
    const direction = this.camera.aspect >= 1 ? new Vector3(-0.1, 0.85, 1).normalize() : new Vector3(-1, 0.8, 0.55).normalize();
    const corners = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => new Vector3(i & 1 ? max.x : min.x, i & 2 ? max.y : min.y, i & 4 ? max.z : min.z));
    let distance = max.distanceTo(min);
    // A few rounds of "move back until every corner is inside 92 % of the view".
    for (let round = 0; round < 4; round++) {
      this.camera.position.copy(target).addScaledVector(direction, distance);
      this.camera.lookAt(target);
      this.camera.updateMatrixWorld();
      let reach = 0;
      for (const c of corners) {
        this.scratch.copy(c).project(this.camera);
        reach = Math.max(reach, Math.abs(this.scratch.x), Math.abs(this.scratch.y));
      }
      distance *= reach / 0.92;
    }
    this.camera.position.copy(target).addScaledVector(direction, distance);
    this.controls.target.copy(target);
    this.controls.minDistance = 5;
    this.controls.maxDistance = distance * 4;
    this.controls.update();
  }

  private resize(): void {
    const { clientWidth: w, clientHeight: h } = this.container;
    if (w === 0 || h === 0) return;
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    if (!this.cameraMoved) this.fitCamera();
    this.requestRender();
  }

  /** Renders once on the next frame; repeated requests before it coalesce. */
  private requestRender(): void {
    if (this.renderPending) return;
    this.renderPending = true;
    requestAnimationFrame(this.renderFrame);
  }

  private readonly renderFrame = () => {
    this.renderPending = false;
    if (this.disposed) return;
    this.renderer.render(this.scene, this.camera);
    this.counters.renders++;
    this.placeLabels();
  };

  /** HTML labels follow their anchors on screen (crisp text at any zoom). */
  private placeLabels(): void {
    const w = this.container.clientWidth,
      h = this.container.clientHeight;
    // Slab titles sit centred behind or in front of their slab, class labels right of their tile.
    for (const s of this.slabs)
      this.placeLabel(s.label, s.labelAnchor, w, h, s.label.classList.contains('front') ? 'translate(-50%, 0)' : 'translate(-50%, -100%)');
    for (let i = 0; i < this.classLabels.length; i++) this.placeLabel(this.classLabels[i], this.classAnchors[i], w, h, 'translate(0, -50%)');
  }

  private placeLabel(el: HTMLElement, anchor: Vector3, w: number, h: number, shift: string): void {
    this.scratch.copy(anchor).project(this.camera);
    const visible = this.scratch.z < 1 && Math.abs(this.scratch.x) <= 1.05 && Math.abs(this.scratch.y) <= 1.05;
    el.style.visibility = visible ? '' : 'hidden';
    if (visible) el.style.transform = `translate(${(((this.scratch.x + 1) / 2) * w).toFixed(1)}px, ${(((1 - this.scratch.y) / 2) * h).toFixed(1)}px) ${shift}`;
  }

  private legend(): HTMLElement {
    const legend = element('div', 'network3d-legend');
    const bar = element('div', 'network3d-legend-bar');
    bar.style.background = legendGradient();
    const ticks = element('div', 'network3d-legend-ticks');
    for (const t of ['−max', '0', '+max']) ticks.append(Object.assign(element('span', ''), { textContent: t }));
    const note = element('div', 'network3d-legend-note');
    note.textContent = 'activation, each layer scaled to its largest |value|; classes: probability 0 → 1';
    legend.append(bar, ticks, note);
    return legend;
  }

  /** window.convkitNetwork3d: what the end-to-end tests read and drive. */
  private testHook() {
    return {
      slabs: () =>
        this.slabs.map(({ slab }) => ({
          kind: slab.kind,
          nodes: slab.nodes,
          channels: slab.channels,
          height: slab.height,
          width: slab.width,
          shownChannels: slab.shownChannels,
          units: slab.units,
        })),
      /** Where unit `unit` of slab `s` is on the page (client pixels), e.g. to hover it. */
      project: (s: number, unit: number) => {
        this.unitCentre(s, unit, this.scratch).project(this.camera);
        const r = this.renderer.domElement.getBoundingClientRect();
        return { x: r.left + ((this.scratch.x + 1) / 2) * r.width, y: r.top + ((1 - this.scratch.y) / 2) * r.height };
      },
      hovered: () => (this.hover ? { ...this.hover } : null),
      /** Units of slab `s` shown as connected to the hovered unit (they keep their colour; the rest fade). */
      highlighted: (s: number) => {
        if (!this.hover || s >= this.hover.slab) return [];
        const out: number[] = [];
        this.slabs[s].mask.forEach((m, u) => {
          if (m) out.push(u);
        });
        return out;
      },
      /** The camera's distance from what it orbits (zoom) and its position (orbit). */
      camera: () => ({ distance: this.camera.position.distanceTo(this.controls.target), position: this.camera.position.toArray() }),
      /** A slab's cell colours (linear RGB, 3 per unit). */
      colours: (s: number) => Array.from(this.slabs[s].colours),
      stats: () => ({
        ...this.counters,
        geometries: this.renderer.info.memory.geometries,
        textures: this.renderer.info.memory.textures,
        meshes: this.slabs.length,
        instances: this.slabs.reduce((n, s) => n + s.slab.units, 0),
        sceneObjects: this.scene.children.length,
      }),
    };
  }
}

/** A cell's box: a flat tile on the slab, or for the output a tile standing up to face the viewer. */
function cellSize(slab: Slab): Vector3 {
  const size = slab.pitch * CELL_FILL;
  return slab.kind === 'output' ? new Vector3(size, size, CELL_THICKNESS * 2) : new Vector3(size, CELL_THICKNESS, size);
}

function element(tag: string, className: string): HTMLElement {
  const el = document.createElement(tag);
  if (className) el.className = className;
  return el;
}
