/**
 * A second Model with the training model's architecture, on the same backend, whose weights
 * are copied in on demand. Evaluation and inspection run on replicas at their own batch sizes,
 * so the training model's per-batch buffers are never reallocated or overwritten.
 */
import { Model } from '../../../src/index.js';

export class Replica {
  readonly model: Model;

  constructor(private readonly source: Model) {
    this.model = new Model(source.spec, source.backend);
  }

  /** Copies the source's current weights (a few hundred KB at most: cheap). */
  sync(): Model {
    const from = this.source.parameters();
    this.model.parameters().forEach((p, i) => p.value.data.set(from[i].value.data));
    return this.model;
  }
}
