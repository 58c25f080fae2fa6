/**
 * A second Model with the training model's architecture, on the same backend, whose weights
 * are copied in on demand. Evaluation and inspection run on replicas at their own batch sizes,
 * so the training model's per-batch buffers are never reallocated or overwritten.
 */
import { Model } from 'convkit';

export class Replica {
  readonly model: Model;

  constructor(private readonly source: Model) {
    this.model = new Model(source.spec, source.backend);
  }

  /**
   * Copies the source's current weights (and batch-norm statistics) into the replica with the
   * backend's own copy kernel: on a GPU the copy is queued after the kernels recorded so far and
   * never goes through the host, so it costs no readback (a few hundred KB at most on CPUs).
   */
  sync(): Model {
    const backend = this.model.backend;
    const from = this.source.savedTensors();
    this.model.savedTensors().forEach((t, i) => {
      const n = t.value.size;
      backend.copyBlocks(1, from[i].value.data, n, 0, t.value.data, n, 0, n);
    });
    return this.model;
  }
}
