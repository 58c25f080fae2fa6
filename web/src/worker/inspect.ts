/**
 * One example through the network (batch of one, on a replica): every layer's activation,
 * and for a labelled test digit the gradients on the activations from a backward pass of its
 * loss (Model.activationGradients()). Conv layers also report their weights.
 */
import { type ImageDataset, SoftmaxCrossEntropy, Tensor, fillBatch, shapeSize } from 'convkit';
import type { InspectSource, LayerReport, LayerView } from '../protocol.js';
import type { Replica } from './replica.js';
import { drawnDataset } from '../drawn-digit.js';

export class Inspector {
  private readonly x: Tensor;
  private readonly loss: SoftmaxCrossEntropy;

  constructor(
    private readonly replica: Replica,
    public test: ImageDataset | undefined,
  ) {
    const shape = replica.model.inputShape;
    this.x = new Tensor([1, ...shape], replica.model.backend.alloc(shapeSize(shape)));
    this.loss = new SoftmaxCrossEntropy(replica.model.backend);
  }

  /** Requests run one at a time: they share the replica and its buffers. */
  private queue: Promise<unknown> = Promise.resolve();

  inspect(source: InspectSource): Promise<LayerReport> {
    const result = this.queue.then(() => this.run(source));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async run(source: InspectSource): Promise<LayerReport> {
    const model = this.replica.sync();
    const labels = new Uint8Array(1);
    const test = this.test;
    if (source.kind === 'test' && !test) throw new Error('the MNIST test digits are still loading');
    const ds = source.kind === 'test' ? test! : drawnDataset(source.pixels);
    const index = source.kind === 'test' ? Math.max(0, Math.min(test!.count - 1, Math.floor(source.index))) : 0;
    fillBatch(ds, [index], 0, this.x, labels, { crop: 'center' });
    model.backend.upload(this.x.data);
    const logits = model.forward(this.x, false);
    const out = this.loss.compute(logits, labels);
    const labelled = source.kind === 'test';
    if (labelled) model.backward(out.grad, false);
    const activations = model.activations();
    const gradients = labelled ? model.activationGradients() : new Map<string, Tensor>();
    const weights = model.summary().map((row, i) => (row.type === 'conv2d' ? model.layers[i].params().find((p) => p.name === 'weight') : undefined));
    // One readback for everything the views show.
    await model.backend.download([
      out.probs.data,
      ...[...activations.values(), ...gradients.values()].map((t) => t.data),
      ...weights.flatMap((w) => (w ? [w.value.data] : [])),
    ]);
    const probs = Array.from(out.probs.data);
    const layers: LayerView[] = model.summary().map((row, i) => {
      const weight = weights[i];
      const view: LayerView = {
        name: row.name,
        type: row.type,
        outputShape: [...row.outputShape],
        params: row.params,
        activation: Float32Array.from(activations.get(row.name)!.data),
      };
      const g = gradients.get(row.name);
      if (g) view.gradient = Float32Array.from(g.data);
      if (weight) view.weights = { shape: [...weight.value.shape], data: Float32Array.from(weight.value.data) };
      return view;
    });
    return {
      input: { shape: [...model.inputShape], data: Float32Array.from(this.x.data) },
      label: labelled ? labels[0] : undefined,
      probs,
      layers,
    };
  }
}
