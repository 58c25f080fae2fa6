import type { Backend } from '../backend/backend.js';
import { ConfigError } from '../errors.js';
import { optimizerProblem } from './settings.js';
import type { NamedParam } from '../model/model.js';
import type { FloatArray } from '../tensor.js';

export interface OptimizerState {
  steps: number;
  /** Per parameter path: [velocity] for SGD, [m, v] for Adam. */
  buffers: Map<string, FloatArray[]>;
}

export interface OptimizerConfig {
  type: 'sgd' | 'adam' | 'adamw';
  /** SGD momentum (0 = plain SGD). */
  momentum?: number;
  nesterov?: boolean;
  /** L2 penalty (decoupled for adamw), on the parameters `weightDecayOn` names. */
  weightDecay?: number;
  /**
   * Which parameters weight decay applies to: 'weights' (default) — conv and dense weights,
   * not biases or batch-norm scales and shifts; 'all' — every parameter, as PyTorch's
   * optimizers do when given `model.parameters()`, to reproduce such a recipe exactly.
   */
  weightDecayOn?: 'weights' | 'all';
  beta1?: number;
  beta2?: number;
  eps?: number;
  /**
   * Parameter groups with their own learning rate, a multiple of the scheduled one (as PyTorch's
   * param_groups under one scheduler): parameters of the listed nodes are updated with lr × lrScale.
   * Parameters in no group use lr itself. E.g. a pretrained body at a tenth of the new head's rate.
   */
  groups?: ParamGroup[];
}

export interface ParamGroup {
  /** Node names; their parameters ("node.weight", …) belong to the group. */
  nodes: string[];
  lrScale: number;
}

/**
 * Updates parameters from their gradients. State (momentum buffers, Adam moments) is kept per
 * parameter path so it can be saved and restored.
 */
export class Optimizer {
  private settings!: Required<OptimizerConfig>;
  private state = new Map<string, FloatArray[]>();
  steps = 0;

  constructor(
    config: OptimizerConfig,
    private backend: Backend,
  ) {
    this.configure(config);
  }

  private lrScales!: Map<string, number>;

  get config(): Readonly<Required<OptimizerConfig>> {
    return this.settings;
  }

  /**
   * New settings from the next step on (a live control). The momentum buffers or Adam moments
   * stay while the type stays; another type starts from no state.
   */
  reconfigure(config: OptimizerConfig): void {
    const typeChanged = config.type !== this.settings.type;
    this.configure(config);
    if (typeChanged) {
      this.state.clear();
      this.steps = 0;
    }
  }

  private configure(config: OptimizerConfig): void {
    const problem = optimizerProblem(config);
    if (problem) throw new ConfigError(problem);
    const settings = {
      momentum: 0.9,
      nesterov: false,
      weightDecay: 0,
      weightDecayOn: 'weights' as const,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      groups: [],
      ...config,
    };
    this.lrScales = groupScales(settings.groups);
    this.settings = settings;
  }

  /** The multiple of the scheduled learning rate this parameter ("node.name") is updated with. */
  lrScaleOf(path: string): number {
    return this.lrScales.get(path.slice(0, path.lastIndexOf('.'))) ?? 1;
  }

  step(params: NamedParam[], lr: number): void {
    this.steps++;
    const c = this.settings;
    if (c.type === 'sgd' ? this.backend.sgdSteps : this.backend.adamSteps) {
      this.fusedStep(params, lr);
      return;
    }
    for (const p of params) {
      const wd = p.decay || c.weightDecayOn === 'all' ? c.weightDecay : 0;
      const buffers = this.buffersFor(p);
      const scale = this.lrScales.size ? this.lrScaleOf(p.path) : 1;
      if (c.type === 'sgd') {
        this.backend.sgdStep(p.value.data, p.grad.data, buffers[0], { lr: lr * scale, momentum: c.momentum, weightDecay: wd, nesterov: c.nesterov });
      } else {
        this.backend.adamStep(p.value.data, p.grad.data, buffers[0], buffers[1], {
          lr: lr * scale,
          beta1: c.beta1,
          beta2: c.beta2,
          eps: c.eps,
          weightDecay: wd,
          decoupled: c.type === 'adamw',
          step: this.steps,
        });
      }
    }
  }

  /** The same updates through the backend's fused method (a GPU does them in a few dispatches). */
  private fusedStep(params: NamedParam[], lr: number): void {
    const c = this.settings;
    const updates = params.map((p) => ({
      w: p.value.data,
      g: p.grad.data,
      state: this.buffersFor(p),
      lr: lr * (this.lrScales.size ? this.lrScaleOf(p.path) : 1),
      weightDecay: p.decay || c.weightDecayOn === 'all' ? c.weightDecay : 0,
    }));
    if (c.type === 'sgd') this.backend.sgdSteps!(updates, { momentum: c.momentum, nesterov: c.nesterov });
    else this.backend.adamSteps!(updates, { beta1: c.beta1, beta2: c.beta2, eps: c.eps, decoupled: c.type === 'adamw', step: this.steps });
  }

  private buffersFor(p: NamedParam): FloatArray[] {
    let b = this.state.get(p.path);
    if (!b) {
      b = Array.from({ length: this.settings.type === 'sgd' ? 1 : 2 }, () => this.backend.alloc(p.value.size));
      this.state.set(p.path, b);
    }
    return b;
  }

  /** The optimizer's state, for checkpoints (live buffers: serialise before the next step). */
  exportState(): OptimizerState {
    return { steps: this.steps, buffers: this.state };
  }

  /** Restores state saved by exportState (buffers are copied into this optimizer's own). */
  importState(saved: OptimizerState, params: NamedParam[]): void {
    this.steps = saved.steps;
    for (const p of params) {
      const from = saved.buffers.get(p.path);
      if (!from) continue;
      const into = this.buffersFor(p);
      if (from.length !== into.length || from.some((b, i) => b.length !== into[i].length)) {
        throw new ConfigError(`optimizer state for "${p.path}" does not match the parameter (wrong optimizer or model?)`);
      }
      from.forEach((b, i) => {
        into[i].set(b);
        this.backend.upload(into[i]);
      });
    }
  }

  /** Makes the host copies of the optimizer's buffers current (before exportState is serialised). */
  download(): Promise<void> {
    return this.backend.download([...this.state.values()].flat());
  }
}

/** Node name → lrScale; groups come from settings and checkpoints, so each is checked. */
function groupScales(groups: unknown): Map<string, number> {
  if (!Array.isArray(groups)) throw new ConfigError(`optimizer groups must be a list of { nodes, lrScale }, got ${JSON.stringify(groups)}`);
  const scales = new Map<string, number>();
  for (const g of groups as ParamGroup[]) {
    if (g === null || typeof g !== 'object' || !Array.isArray(g.nodes) || !g.nodes.every((n) => typeof n === 'string')) {
      throw new ConfigError(`optimizer group ${JSON.stringify(g)} must have a list of node names`);
    }
    if (!(Number.isFinite(g.lrScale) && g.lrScale >= 0))
      throw new ConfigError(`optimizer group lrScale must be a non-negative number, got ${JSON.stringify(g.lrScale)}`);
    for (const n of g.nodes) {
      if (scales.has(n)) throw new ConfigError(`node "${n}" is in more than one optimizer group`);
      scales.set(n, g.lrScale);
    }
  }
  return scales;
}
