/**
 * Limits on JSON from untrusted sources (model and checkpoint headers, kernel files, the
 * playground editor). JSON.parse itself copes with deep nesting, but everything after it that
 * walks the value recursively — structuredClone, JSON.stringify, validation — overflows the
 * stack on a few kilobytes of brackets. A linear scan of the text refuses such input first.
 */

/** Deepest nesting of arrays and objects accepted (model specs and checkpoints need under 10). */
export const MAX_JSON_DEPTH = 64;

export interface JsonLimits {
  /** Deepest nesting of arrays and objects; default MAX_JSON_DEPTH. */
  maxDepth?: number;
  /** Longest text in UTF-16 code units; default unlimited. */
  maxLength?: number;
}

/** The deepest nesting of arrays and objects in a JSON text (brackets inside strings do not count). */
export function jsonDepth(text: string): number {
  let depth = 0,
    deepest = 0,
    inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) deepest = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** Why `text` is refused before parsing, or undefined when it is within the limits. */
export function jsonLimitProblem(text: string, limits: JsonLimits = {}): string | undefined {
  if (limits.maxLength !== undefined && text.length > limits.maxLength) {
    return `${text.length} characters of JSON, more than the ${limits.maxLength} accepted`;
  }
  const maxDepth = limits.maxDepth ?? MAX_JSON_DEPTH;
  const depth = jsonDepth(text);
  if (depth > maxDepth) return `JSON nested ${depth} levels deep, more than the ${maxDepth} accepted`;
  return undefined;
}

/**
 * JSON.parse after the limits are checked. Errors (syntax or limits) are thrown as
 * `makeError(problem)`, so each caller names its file and picks its error class.
 */
export function parseJsonLimited(text: string, makeError: (problem: string) => Error, limits: JsonLimits = {}): unknown {
  const problem = jsonLimitProblem(text, limits);
  if (problem) throw makeError(problem);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw makeError(`not valid JSON (${(e as Error).message})`);
  }
}
