// Process figures from /proc (Linux) for the benchmarks.
import { readFileSync } from 'node:fs';

/** CPU seconds (user + system) a process has used, its children excluded. */
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
