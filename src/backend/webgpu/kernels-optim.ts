import type { EwOp } from './kernels-elementwise.js';

/**
 * Optimizer updates as element-wise ops (kernels-elementwise.ts), in place on the weights and
 * the optimizer state; scalars derived from the step (Adam's bias corrections) are computed on
 * the host in double precision, as the reference does.
 */
export const optimOps = {
  sgd: {
    name: 'sgdStep',
    args: [{ name: 'w', mode: 'rw' }, { name: 'g', mode: 'r' }, { name: 'v', mode: 'rw' }],
    uniforms: [['lr', 'f32'], ['momentum', 'f32'], ['wd', 'f32'], ['nesterov', 'u32']],
    body: `
    let grad = g + u.wd * w;
    v = u.momentum * v + grad;
    w = w - u.lr * select(v, grad + u.momentum * v, u.nesterov != 0u);`,
  },
  adam: {
    name: 'adamStep',
    args: [{ name: 'w', mode: 'rw' }, { name: 'g', mode: 'r' }, { name: 'm', mode: 'rw' }, { name: 'v', mode: 'rw' }],
    uniforms: [['lr', 'f32'], ['beta1', 'f32'], ['oneMinusBeta1', 'f32'], ['beta2', 'f32'], ['oneMinusBeta2', 'f32'],
      ['c1', 'f32'], ['c2', 'f32'], ['eps', 'f32'], ['wd', 'f32'], ['decoupled', 'u32']],
    body: `
    let dec = u.decoupled != 0u;
    let grad = select(g + u.wd * w, g, dec);
    m = u.beta1 * m + u.oneMinusBeta1 * grad;
    v = u.beta2 * v + u.oneMinusBeta2 * grad * grad;
    let update = (m / u.c1) / (sqrt(v / u.c2) + u.eps);
    w = w - u.lr * (update + select(0.0, u.wd * w, dec));`,
  },
} satisfies Record<string, EwOp>;
