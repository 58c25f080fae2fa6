import * as activation from './activation.js';
import * as arithmetic from './arithmetic.js';
import type { OpImporter } from './context.js';
import * as conv from './conv.js';
import * as dense from './dense.js';
import * as layout from './layout.js';
import * as norm from './norm.js';
import * as pool from './pool.js';
import * as shape from './shape.js';
import * as structure from './structure.js';

/** ONNX operator → its importer. Each module exports one function per operator, named as in ONNX. */
export const OP_IMPORTERS: Readonly<Record<string, OpImporter>> = Object.freeze({
  ...conv,
  ...pool,
  ...dense,
  ...norm,
  ...activation,
  ...arithmetic,
  ...structure,
  ...shape,
  ...layout,
});

export type { ImportContext, OpImporter } from './context.js';
