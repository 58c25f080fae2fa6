/**
 * Runs first in the worker bundle (worker.ts imports it before the suite): reads the run's
 * configuration from the worker's name and installs `__convkitCases`, through which
 * test/backend.test.ts lets the browser pick which of its backend cases to run.
 */

export interface SuiteConfig {
  /** Cases to run, by label ("wasm, 1 thread")… */
  labels?: string[];
  /** …or by backend name ("webgpu"). */
  names?: string[];
  /** Per test and hook, in ms. */
  timeoutMs?: number;
  /** Break this backend method on purpose (see backends.ts): the runner's check that failures are reported. */
  fault?: { method: string };
}

interface Case {
  name: string;
  label: string;
}

export const config: SuiteConfig = JSON.parse(self.name || '{}');

/** Filled when the suite declares its cases: every case it has, and those chosen. */
export const selection: { all: Case[]; chosen: Case[]; asked: boolean } = { all: [], chosen: [], asked: false };

(globalThis as { __convkitCases?: <C extends Case>(all: C[]) => C[] }).__convkitCases = (all) => {
  const chosen = all.filter((c) => config.labels?.includes(c.label) || config.names?.includes(c.name));
  Object.assign(selection, { all, chosen, asked: true });
  return chosen;
};
