/**
 * What a channel responds to in real digits: the explain library's topActivatingPatches over
 * the first test digits, on a replica with the current weights — for each channel of a layer
 * the digits where it is strongest, each cut at its strongest unit's receptive field. One search
 * covers every channel of a layer, so it is kept until the weights or the layer change.
 */
import { type ImageDataset, Tensor, explain, fillBatch, shapeSize } from 'convkit';
import type { ChannelPatches } from '../protocol.js';
import type { Replica } from './replica.js';

/** Test digits searched: a LeNet-5 forward pass over them takes a few tens of milliseconds on wasm. */
export const SEARCHED_DIGITS = 2000;
/** Patches per channel. */
export const PATCHES_PER_CHANNEL = 8;

export class ChannelPatchFinder {
  private kept?: { key: string; channels: Promise<ChannelPatches[]> };

  constructor(private readonly replica: Replica) {}

  /** Channel `channel` of node `node`, for the weights after `examples` training examples. */
  async find(test: ImageDataset, node: string, channel: number, examples: number): Promise<ChannelPatches> {
    const key = `${examples} ${node}`;
    if (this.kept?.key !== key) {
      const kept = { key, channels: this.search(test, node, examples) };
      this.kept = kept;
      // A failed search is not kept.
      kept.channels.catch(() => {
        if (this.kept === kept) this.kept = undefined;
      });
    }
    const channels = await this.kept.channels;
    const found = channels[channel];
    if (!found) throw new Error(`layer "${node}" has channels 0 to ${channels.length - 1}, not ${channel}`);
    return found;
  }

  private async search(test: ImageDataset, node: string, examples: number): Promise<ChannelPatches[]> {
    const model = this.replica.sync();
    const n = Math.min(SEARCHED_DIGITS, test.count);
    const images = new Tensor([n, ...model.inputShape], new Float32Array(n * shapeSize(model.inputShape)));
    const labels = new Uint8Array(n);
    fillBatch(
      test,
      Array.from({ length: n }, (_, i) => i),
      0,
      images,
      labels,
      { crop: 'center' },
    );
    const found = await explain.topActivatingPatches(model, images, { node, k: PATCHES_PER_CHANNEL });
    return found.map((patches, channel) => ({
      node,
      channel,
      searched: n,
      examples,
      patches: patches.map((p) => ({
        index: p.index,
        label: labels[p.index],
        activation: p.activation,
        box: p.box,
        shape: [...p.patch.shape],
        data: Float32Array.from(p.patch.data),
      })),
    }));
  }
}
