/** Every error convkit raises on purpose is a ConvkitError, so callers can tell ours from bugs. */
export class ConvkitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A tensor or layer received a shape it cannot work with. */
export class ShapeError extends ConvkitError {}

/** A file (IDX, model file, image) is truncated, corrupt or of the wrong kind. */
export class FormatError extends ConvkitError {}

/** A user-supplied option or definition is invalid. */
export class ConfigError extends ConvkitError {}

/**
 * What was asked for needs more than the machine or a configured limit allows: memory beyond the
 * activation budget or the wasm heap, more threads than can run.
 */
export class ResourceError extends ConvkitError {}

/**
 * The keys a spec object may hold, written as `specKeys<Spec>({ a: true, b: true })`: the
 * compiler checks the list against the Spec type both ways (a missing or an extra key is a type
 * error), so the type and the runtime check cannot drift apart.
 */
export function specKeys<S>(keys: { [K in keyof Required<S>]: true }): readonly string[] {
  return Object.keys(keys);
}

/**
 * Throws a ConfigError naming `what` (a layer, a model, a node) and the first key of `spec`
 * not in `allowed`, listing the valid ones: a misspelt or unsupported setting must not be
 * silently ignored (a conv2d "dilation" that is dropped builds a different network).
 */
export function refuseUnknownKeys(spec: object, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(spec)) {
    if (!allowed.includes(key)) {
      throw new ConfigError(`${what}: unknown key ${JSON.stringify(key)} (valid keys: ${allowed.join(', ')})`);
    }
  }
}
