import type { StaticValue } from '../graph.js';
import type { ImportContext } from './context.js';

/**
 * Transposes convkit follows as views of the NCHW tensor it keeps (no copy): to channels-last
 * and back (ConvNeXt's permutes around LayerNorm and its Linear layers), and the middle step
 * of a channel shuffle (ShuffleNet). Any other permutation is refused.
 */
export function Transpose(cx: ImportContext): void {
  const n = cx.node;
  const x = cx.view(0);
  const perm = cx.at.ints('perm') ?? [];
  const is = (p: number[]) => perm.length === p.length && perm.every((v, i) => v === p[i]);
  if (!x.view && x.shape.length === 3 && is([0, 2, 3, 1])) return cx.setProduced({ ...x, view: { kind: 'channels-last' } });
  if (x.view?.kind === 'channels-last' && is([0, 3, 1, 2])) return cx.setProduced({ node: x.node, shape: x.shape });
  if (x.view?.kind === 'grouped' && is([0, 2, 1, 3, 4])) return cx.setProduced({ ...x, view: { kind: 'shuffled', groups: x.view.groups } });
  cx.fail(
    `Transpose "${n.name}": only the channels-last permutation [0, 2, 3, 1] of a [N, C, H, W] tensor and [0, 3, 1, 2] back, and a channel shuffle's [0, 2, 1, 3, 4] after a Reshape into channel groups are supported (perm ${JSON.stringify(perm)})`,
  );
}

/** Slice of a shape known at import time (evaluated), or of channels (a channelslice layer). */
export function Slice(cx: ImportContext): void {
  const { node: n, at } = cx;
  const arg = (i: number, attr: string): StaticValue | undefined => (n.input[i] ? cx.known(i) : at.ints(attr));
  const [starts, ends, axes, steps] = [arg(1, 'starts'), arg(2, 'ends'), arg(3, 'axes'), arg(4, 'steps')];
  if (!starts || !ends || (n.input[3] && !axes) || (n.input[4] && !steps) || [starts, ends, axes ?? [], steps ?? []].some((v) => v.includes('N'))) {
    cx.fail(`Slice "${n.name}": starts, ends, axes and steps must be known at import time`);
  }
  const numbers = (v: StaticValue | undefined) => v as number[] | undefined;
  if ((numbers(steps) ?? []).some((s) => s !== 1) || starts.length !== 1 || ends.length !== 1) {
    cx.fail(`Slice "${n.name}": only a slice along one axis with step 1 is supported`);
  }
  const clamp = (v: number, size: number) => Math.min(size, Math.max(0, v < 0 ? v + size : v));
  const data = cx.known(0);
  if (data) {
    const axis = numbers(axes)?.[0] ?? 0;
    if (axis !== 0 && axis !== -1) cx.fail(`Slice "${n.name}": a known vector has one axis, not ${axis}`);
    return cx.setKnown(data.slice(clamp(starts[0] as number, data.length), clamp(ends[0] as number, data.length)));
  }
  const x = cx.input(0);
  const axis = numbers(axes)?.[0] ?? 0;
  if (axis !== 1 && axis !== -x.shape.length) cx.fail(`Slice "${n.name}": only slices of channels (axis 1) are supported, not axis ${axis}`);
  const C = x.shape[0];
  const start = clamp(starts[0] as number, C),
    end = clamp(ends[0] as number, C);
  if (end <= start) cx.fail(`Slice "${n.name}": channels ${starts[0]} to ${ends[0]} of ${C} is empty`);
  cx.emit({ type: 'channelslice', start, channels: end - start }, [x]);
}

/** Split along channels: one channelslice layer per output. */
export function Split(cx: ImportContext): void {
  const { node: n, at } = cx;
  const x = cx.input(0);
  const axis = at.int('axis') ?? 0;
  if (axis !== 1 && axis !== -x.shape.length) cx.fail(`Split "${n.name}": only splits of channels (axis 1) are supported, not axis ${axis}`);
  const C = x.shape[0],
    k = n.output.length;
  const given = n.input[1] ? cx.known(1) : at.ints('split');
  if (n.input[1] && !given) cx.fail(`Split "${n.name}": the split sizes must be known at import time`);
  if (!given && C % k !== 0) cx.fail(`Split "${n.name}": ${C} channels do not split into ${k} equal parts`);
  const sizes = (given ?? Array.from({ length: k }, () => C / k)) as number[];
  if (sizes.length !== k || sizes.some((s) => !Number.isInteger(s) || s < 1) || sizes.reduce((a, b) => a + b, 0) !== C) {
    cx.fail(`Split "${n.name}": sizes ${JSON.stringify(sizes)} must be ${k} positive integers adding up to the ${C} channels`);
  }
  let start = 0;
  const parts = sizes.map((channels) => {
    const p = cx.emit({ type: 'channelslice', start, channels }, [x]);
    start += channels;
    return p;
  });
  parts.forEach((p, o) => cx.setProduced(p, o));
}
