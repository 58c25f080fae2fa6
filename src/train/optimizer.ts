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
}

/**
 * Updates parameters from their gradients. State (momentum buffers, Adam moments) is kept per
 * parameter path so it can be saved and restored.
 */
export class Optimizer {
  readonly config: Required<OptimizerConfig>;
  private state = new Map<string, FloatArray[]>();
  steps = 0;

  constructor(config: OptimizerConfig, private backend: Backend) {
    const problem = optimizerProblem(config);
    if (problem) throw new ConfigError(problem);
    this.config = {
      momentum: 0.9, nesterov: false, weightDecay: 0, weightDecayOn: 'weights', beta1: 0.9, beta2: 0.999, eps: 1e-8,
      ...config,
    };
  }

  step(params: NamedParam[], lr: number): void {
    this.steps++;
    const c = this.config;
    for (const p of params) {
      const wd = p.decay || c.weightDecayOn === 'all' ? c.weightDecay : 0;
      const buffers = this.buffersFor(p);
      if (c.type === 'sgd') {
        this.backend.sgdStep(p.value.data, p.grad.data, buffers[0], { lr, momentum: c.momentum, weightDecay: wd, nesterov: c.nesterov });
      } else {
        this.backend.adamStep(p.value.data, p.grad.data, buffers[0], buffers[1], {
          lr, beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: wd, decoupled: c.type === 'adamw', step: this.steps,
        });
      }
    }
  }

  private buffersFor(p: NamedParam): FloatArray[] {
    let b = this.state.get(p.path);
    if (!b) {
      b = Array.from({ length: this.config.type === 'sgd' ? 1 : 2 }, () => this.backend.alloc(p.value.size));
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
      from.forEach((b, i) => { into[i].set(b); this.backend.upload(into[i]); });
    }
  }

  /** Makes the host copies of the optimizer's buffers current (before exportState is serialised). */
  download(): Promise<void> {
    return this.backend.download([...this.state.values()].flat());
  }
}
