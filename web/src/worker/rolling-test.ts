/**
 * Test accuracy while training, the way ConvNetJS's demo shows it: a test batch every few
 * training batches, and the accuracy over the last `window` test images seen. The test set is
 * walked in a fixed shuffled order, so the window is a fair sample.
 */
import { type FloatArray, type ImageDataset, Rng, Tensor, argmaxRow, fillBatch, shapeSize } from 'convkit';
import type { Replica } from './replica.js';

export class RollingTestAccuracy {
  private readonly order: Int32Array;
  private cursor = 0;
  private readonly hits: Uint8Array;
  private filled = 0;
  private next = 0;
  private readonly x: Tensor;
  private readonly labels: Uint8Array;
  /** The probabilities of the batch queued by `queue`, until `collect` scores them. */
  private pending: FloatArray | null = null;

  constructor(
    private readonly replica: Replica,
    private readonly test: ImageDataset,
    readonly window = 1000,
    private readonly batch = 50,
  ) {
    this.order = new Int32Array(test.count).map((_, i) => i);
    new Rng(7).shuffle(this.order);
    this.hits = new Uint8Array(window);
    const shape = replica.model.inputShape;
    this.x = new Tensor([batch, ...shape], replica.model.backend.alloc(batch * shapeSize(shape)));
    this.labels = new Uint8Array(batch);
  }

  /** Evaluates the next test batch with the training model's current weights. */
  async step(): Promise<void> {
    const probs = this.queue();
    await this.replica.model.backend.download([probs]);
    this.collect();
  }

  /**
   * Records the next test batch's forward pass (the replica takes the training model's
   * current weights) and returns the probabilities to download; the training step's readback
   * carries them, so the test batch costs no wait of its own. Then call `collect`.
   */
  queue(): FloatArray {
    if (this.cursor + this.batch > this.order.length) this.cursor = 0;
    fillBatch(this.test, this.order, this.cursor, this.x, this.labels, { crop: 'center' });
    this.cursor += this.batch;
    this.replica.model.backend.upload(this.x.data);
    return (this.pending = this.replica.sync().predict(this.x).data);
  }

  /** Scores the queued batch, once its probabilities are downloaded. */
  collect(): void {
    const probs = this.pending;
    if (!probs) return;
    this.pending = null;
    const K = probs.length / this.batch;
    for (let n = 0; n < this.batch; n++) {
      this.hits[this.next] = argmaxRow(probs, n, K) === this.labels[n] ? 1 : 0;
      this.next = (this.next + 1) % this.window;
      this.filled = Math.min(this.filled + 1, this.window);
    }
  }

  get accuracy(): number | null {
    if (this.filled === 0) return null;
    let sum = 0;
    for (let i = 0; i < this.filled; i++) sum += this.hits[i];
    return sum / this.filled;
  }

  get seen(): number {
    return this.filled;
  }
}
