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
