import type { Backend, Labels } from '../backend/backend.js';
import { ShapeError } from '../errors.js';
import { type FloatArray, Tensor, shapeToString } from '../tensor.js';

/**
 * Softmax followed by mean cross-entropy, fused: the gradient with respect to the logits is
 * simply (softmax - onehot) / N, which is both cheaper and numerically stabler than chaining
 * a softmax layer and a log loss. Buffers are reused across calls.
 */
export class SoftmaxCrossEntropy {
  private probs?: Tensor;
  private grad?: Tensor;
  private lossValue?: FloatArray;

  constructor(private backend: Backend) {}

  /**
   * Queues the loss on the backend. `lossValue[0]` is the mean loss and `probs` the softmax:
   * on a device backend, read them after `backend.download([lossValue, probs.data])`.
   */
  compute(logits: Tensor, labels: Labels): { lossValue: FloatArray; grad: Tensor; probs: Tensor } {
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
    this.lossValue ??= this.backend.alloc(1);
    this.backend.softmaxCrossEntropy(N, K, logits.data, labels, this.probs.data, this.grad!.data, this.lossValue);
    return { lossValue: this.lossValue, grad: this.grad!, probs: this.probs };
  }
}
