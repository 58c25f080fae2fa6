/**
 * The libraries the harness knows, by module. Modules are imported only when one of their
 * libraries is selected, so a convkit-only run needs nothing from bench/node_modules.
 */
import { selects } from './args.mjs';

export const MODULES = [
  { prefix: 'convkit', load: () => import('../libs/convkit.mjs') },
  { prefix: 'convnetjs', load: () => import('../libs/convnetjs.mjs') },
  { prefix: 'tfjs', load: () => import('../libs/tfjs.mjs') },
  { prefix: 'ort', load: () => import('../libs/onnxruntime.mjs') },
  { prefix: 'torch', load: () => import('../libs/torch.mjs') },
];

/** The anchors ratios are computed against, in column order. */
export const ANCHORS = [
  { id: 'convnetjs', short: 'ConvNetJS' },
  { id: 'tfjs-cpu', short: 'TF.js cpu' },
  { id: 'tfjs-wasm', short: 'TF.js wasm' },
  { id: 'ort', short: 'ORT' },
  { id: 'torch', short: 'PyTorch' },
];

/** A module may hold a selected library when a pattern names it or one of its libraries. */
function moduleWanted(patterns, prefix) {
  return patterns.length === 0 || patterns.some((p) => p === prefix || p.startsWith(`${prefix}-`) || prefix.startsWith(`${p}-`));
}

/**
 * Opens every selected library. Returns { libraries, unavailable: [{ id, label, reason }] };
 * a library whose package is missing or fails to start is listed as unavailable, not fatal.
 */
export async function openLibraries(patterns, baseCtx) {
  const libraries = [],
    unavailable = [];
  const ctx = {
    ...baseCtx,
    wants: (id) => selects(patterns, id),
    unavailable: (id, label, reason) => unavailable.push({ id, label, reason }),
  };
  for (const m of MODULES) {
    if (!moduleWanted(patterns, m.prefix)) continue;
    try {
      const mod = await m.load();
      libraries.push(...(await mod.open(ctx)).filter((l) => ctx.wants(l.id)));
    } catch (e) {
      const reason = (e?.message ?? String(e)).split('\n')[0];
      unavailable.push({
        id: m.prefix,
        label: m.prefix,
        reason: /Cannot find package/.test(reason) ? `${reason} (run npm install --ignore-scripts in bench/)` : reason,
      });
    }
  }
  return { libraries, unavailable };
}
