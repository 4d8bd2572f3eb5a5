/**
 * A fixture run as a child process that talks in lines: commands on its stdin, one line per
 * result on its stdout (read-only.test.ts's held writer, follower.test.ts's writer and
 * followers). Started under the runtime running the tests (typescript-child.ts); ended by closing
 * its stdin, which each such fixture takes as "close the database and exit".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach } from 'vitest';
import { tempDir } from '../helpers.js';
import { typescriptChildArgs } from './typescript-child.js';

export interface LineChild {
  readonly child: ChildProcess;
  /** Every stdout line so far. */
  readonly lines: string[];
  /** Resolves once `pred(lines)` holds; rejects if the child exits first. */
  waitFor(pred: (lines: string[]) => boolean, what?: string): Promise<void>;
  send(line: string): void;
  /** Ends stdin and waits for the exit. */
  stop(): Promise<void>;
}

export function startLineChild(script: string, args: readonly string[]): LineChild {
  const child = spawn(process.execPath, typescriptChildArgs(script, args), { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let partial = '';
  const waiters: (() => void)[] = [];
  const wake = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  child.stdout.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    wake();
  });
  child.on('exit', wake);
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  return {
    child,
    lines,
    waitFor: (pred, what = 'a line') =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (pred(lines)) resolve();
          else if (exited()) reject(new Error(`child ${args.join(' ')} exited (${child.exitCode}) while waiting for ${what}; last lines: ${lines.slice(-3).join(' | ')}`));
          else waiters.push(check);
        };
        check();
      }),
    send: (line) => {
      child.stdin.write(`${line}\n`);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited()) {
          resolve();
          return;
        }
        child.once('exit', () => {
          resolve();
        });
        child.stdin.end();
      }),
  };
}

/**
 * Steps to run after the current test, last registered first (children to stop, databases to
 * close, directories to remove), and fresh temporary directories removed the same way.
 */
export function perTestCleanup(prefix: string): { readonly defer: (step: () => void | Promise<void>) => void; readonly fresh: () => string } {
  let steps: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    const run = steps.reverse();
    steps = [];
    for (const s of run) await s();
  });
  return {
    defer: (step) => {
      steps.push(step);
    },
    fresh: () => {
      const { dir, cleanup } = tempDir(prefix);
      steps.push(cleanup);
      return dir;
    },
  };
}
