/** The machine, in words, for the report: CPU, cores, memory, Node, and the load average (other processes share the CPU). */
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

export function machine() {
  const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');
  return {
    description: `${cpu}, ${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}, load average ${load}`,
    load,
  };
}
