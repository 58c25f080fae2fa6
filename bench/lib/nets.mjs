/**
 * A zoo network described in library-neutral terms, so that every anchor builds exactly the
 * layer shapes convkit runs: the spec comes from convkit's zoo, the resolved geometry (kernel,
 * stride, padding pairs) and each layer's output shape from a convkit Model built from it.
 */

/** Normalised layer: type plus resolved geometry, and the per-example input/output shapes (CHW or [features]). */
function describeLayer(layer, inShape, outShape) {
  const cfg = layer.config();
  const base = { type: layer.type, name: layer.name, inShape, outShape };
  switch (layer.type) {
    case 'conv2d':
      return {
        ...base,
        filters: layer.filters,
        kernel: [...layer.kernel],
        stride: [...layer.stride],
        padding: [...layer.padding],
        groups: layer.groups,
        bias: layer.useBias,
      };
    case 'maxpool2d':
    case 'avgpool2d':
      return {
        ...base,
        kernel: [...layer.kernel],
        stride: [...layer.stride],
        padding: [...layer.padding],
        ceil: cfg.ceil ?? false,
        countPad: cfg.countPad ?? true,
      };
    case 'dense':
      return { ...base, units: cfg.units, bias: cfg.bias !== false };
    case 'dropout':
      return { ...base, rate: cfg.rate };
    case 'lrn':
      return { ...base, size: layer.size, alpha: layer.alpha, beta: layer.beta, k: layer.k };
    default:
      return base;
  }
}

export function describeNet(ck, zooName) {
  const spec = ck.zoo[zooName].build();
  // Any backend gives the same geometry; ref needs no set-up.
  const model = new ck.Model(spec, new ck.RefBackend('float32'), 1);
  const rows = model.summary();
  const byName = new Map(model.layers.map((l) => [l.name, l]));
  const sequential = rows.every((r, i) => r.inputs.length === 1 && r.inputs[0] === (i === 0 ? ck.INPUT : rows[i - 1].name));
  let inShape = [...spec.inputShape];
  const layers = rows.map((r) => {
    const d = describeLayer(byName.get(r.name), inShape, [...r.outputShape]);
    inShape = [...r.outputShape];
    return d;
  });
  return {
    zooName,
    spec,
    sequential,
    layers,
    inputShape: [...spec.inputShape],
    classes: model.outputShape[0],
    params: model.parameterCount?.() ?? rows.reduce((s, r) => s + r.params, 0),
  };
}

/** Multiply-adds of one forward pass of one example, for reference in the report. */
export function forwardMacs(net) {
  let macs = 0;
  for (const l of net.layers) {
    if (l.type === 'conv2d') macs += l.outShape[0] * l.outShape[1] * l.outShape[2] * (l.inShape[0] / l.groups) * l.kernel[0] * l.kernel[1];
    else if (l.type === 'dense') macs += l.units * l.inShape.reduce((a, b) => a * b, 1);
  }
  return macs;
}
