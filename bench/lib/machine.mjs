/** The machine, in words, for the report: CPU, cores, memory, Node, and the load average (other processes share the CPU). */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

export function machine() {
  const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  return {
    description: `${cpu}, ${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}, load average ${load}`,
    load,
  };
}

/** Which convkit was measured: the commit, marked when the working tree differs from it. */
export function convkitBuild() {
  const root = new URL('../../', import.meta.url);
  try {
    return `commit ${execFileSync('git', ['describe', '--always', '--dirty'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()}`;
  } catch {
    return 'not a git checkout';
  }
}
