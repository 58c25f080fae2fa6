import type { Backend, Labels } from '../backend/backend.js';
import { ShapeError } from '../errors.js';
import { Tensor, shapeToString } from '../tensor.js';

/**
 * Softmax followed by mean cross-entropy, fused: the gradient with respect to the logits is
 * simply (softmax - onehot) / N, which is both cheaper and numerically stabler than chaining
 * a softmax layer and a log loss. Buffers are reused across calls.
 */
export class SoftmaxCrossEntropy {
  private probs?: Tensor;
  private grad?: Tensor;

  constructor(private backend: Backend) {}

  compute(logits: Tensor, labels: Labels): { loss: number; grad: Tensor; probs: Tensor } {
    if (logits.shape.length !== 2) throw new ShapeError(`softmax cross-entropy: expects logits [N, classes], got ${shapeToString(logits.shape)}`);
    const [N, K] = logits.shape;
    if (labels.length < N) throw new ShapeError(`softmax cross-entropy: ${N} logit rows but ${labels.length} labels`);
    for (let n = 0; n < N; n++) {
      if (labels[n] >= K) throw new ShapeError(`softmax cross-entropy: label ${labels[n]} out of range for ${K} classes`);
    }
    if (!this.probs || this.probs.size !== logits.size) {
      this.probs = new Tensor(logits.shape, this.backend.alloc(logits.size));
      this.grad = new Tensor(logits.shape, this.backend.alloc(logits.size));
    }
    const loss = this.backend.softmaxCrossEntropy(N, K, logits.data, labels, this.probs.data, this.grad!.data);
    return { loss, grad: this.grad!, probs: this.probs };
  }
}
