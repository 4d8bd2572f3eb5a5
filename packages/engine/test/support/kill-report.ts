/**
 * How a child process that will be killed (SIGKILL, by its parent or by itself) tells its parent
 * what it did: lines appended to a report file, one synchronous write(2) each (`writeSync`,
 * O_APPEND), before the child goes on. The page cache survives SIGKILL, so every line the child
 * wrote is a line the parent reads once the child is gone: "the promise of write n resolved" is
 * known exactly, not up to whatever the transport lost.
 *
 * Not stdout: Node writes a pipe asynchronously once it is full, queueing the rest inside the
 * process, and SIGKILL drops the queue. A parent slow to read (a loaded machine) then learnt less
 * than the child had done: the process-crash loop reported keys lost that a later, unheard
 * operation had deleted (three failures on 2026-11-29), and a test that allows for "a few"
 * unheard writes can only guess how many.
 */
import { existsSync, openSync, readFileSync, writeSync } from 'node:fs';

/** The child's side: `path` opened for appending; each call writes one line, durable against a kill when it returns. */
export function openKillReport(path: string): (line: string) => void {
  const fd = openSync(path, 'a');
  return (line) => {
    writeSync(fd, `${line}\n`);
  };
}

/** The parent's side: every complete line of `path` so far (none if it does not exist); a last line without its newline was cut by the kill. */
export function readKillReport(path: string): string[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.pop();
  return lines;
}
