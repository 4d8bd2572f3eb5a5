// What the benches read of the process from /proc (Linux): the main thread's own CPU time, which
// the machine's load does not inflate as it does wall time, and the process's minor page faults.

import { readFileSync } from 'node:fs';

/**
 * The fields of a /proc stat file after the command name (which may hold spaces and parentheses:
 * the fields start after the last ')'); field 0 is the state, proc(5)'s field 3.
 */
function procStatFields(path: string): string[] {
  const stat = readFileSync(path, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU seconds of the main thread alone (/proc/self/task/<pid>/stat: utime + stime, in ticks of 1/100 s). */
export function mainThreadCpuS(): number {
  const fields = procStatFields(`/proc/self/task/${process.pid}/stat`);
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Minor page faults of the whole process so far (/proc/self/stat; 0 off Linux). Each is a page of
 * memory touched for the first time: filling the block cache takes ~1 a cached block.
 */
export function minorFaults(): number {
  try {
    return Number(procStatFields('/proc/self/stat')[7]);
  } catch {
    return 0;
  }
}
