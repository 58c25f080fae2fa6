/**
 * Preloaded into a child process (node --import ./test/inject-crash.mjs ...) to make an
 * unexpected, non-convkit error happen inside a command: os.availableParallelism (read by
 * `convkit info`) throws a plain Error.
 */
import os from 'node:os';
import { syncBuiltinESMExports } from 'node:module';

os.availableParallelism = () => {
  throw new Error('injected failure\nsecond line');
};
syncBuiltinESMExports();
