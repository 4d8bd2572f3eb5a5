/**
 * Durability under every runtime: Bun and Deno implement `fs.fsync`, `fs.fdatasync` and the
 * directory fsync in their own Node-compatibility layers, and a runtime whose fdatasync were a
 * no-op would pass every kill -9 test (the page cache survives a process crash). So we ask the
 * kernel: the same durable workload runs under Node.js, Bun and Deno inside `strace`, and every
 * runtime must issue the same fsync / fdatasync calls on the same files of the database —
 * the WAL, the tables, the manifest, CURRENT, IDENTITY and the directory itself — as Node.js does.
 *
 * Needs `strace` (Debian package `strace`; `.ci/run` installs it). A machine without it fails
 * here with that message: a durability promise we cannot check is not one we make.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { typescriptArgs } from '../support/typescript-child.js';
import { assertInstalled, RUNTIMES } from './runtimes.js';

const fixture = join(import.meta.dirname, 'fixtures', 'durable-writes.ts');
const packageRoot = join(import.meta.dirname, '..', '..');

function haveStrace(): boolean {
  return spawnSync('strace', ['-V'], { encoding: 'utf8' }).status === 0;
}

/**
 * The sync calls the workload made on files inside `dbDir`, as sorted `call name` lines with
 * file numbers masked (`fdatasync NNNNNN.wal`, `fsync <dir>`), counted.
 */
function syncCalls(trace: string, dbDir: string): Map<string, number> {
  const counts = new Map<string, number>();
  // strace -y prints an fd argument with its path: `fsync(7</tmp/x/000004.sst>) = 0`. A call
  // that another thread interrupts is split (`fsync(7</…> <unfinished …>`), so the call is
  // counted where it starts; a failed one would have failed the workload.
  const re = /\b(fsync|fdatasync)\(\d+<([^>]*)>/g;
  for (const m of trace.matchAll(re)) {
    const [, call, path] = m;
    if (path === undefined || call === undefined) continue;
    if (path !== dbDir && !path.startsWith(`${dbDir}/`)) continue;
    const name = path === dbDir ? '<dir>' : path.slice(dbDir.length + 1).replace(/\d{6}/g, 'NNNNNN');
    const key = `${call} ${name}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('strata-strace-'));
});
afterEach(() => {
  cleanup();
});

describe('fsync, fdatasync and directory fsync reach the kernel under every runtime', () => {
  it('Node.js, Bun and Deno make the same sync calls on the same files', () => {
    if (!haveStrace()) throw new Error('strace is not installed: `apt-get install strace` (.ci/run does it)');
    const seen = new Map<string, Map<string, number>>();
    for (const r of RUNTIMES) {
      assertInstalled(r);
      const dbDir = join(dir, r.runtime);
      const traceFile = join(dir, `${r.runtime}.strace`);
      const res = spawnSync('strace', ['-f', '-y', '-qq', '-e', 'trace=fsync,fdatasync', '-o', traceFile, r.binary, ...typescriptArgs(r.runtime, fixture, [dbDir, 'write', '20'])], {
        cwd: packageRoot,
        encoding: 'utf8',
        timeout: 120_000,
      });
      if (res.status !== 0) throw new Error(`${r.runtime} under strace exited ${res.status ?? res.signal}: ${res.stderr}`);
      seen.set(r.runtime, syncCalls(readFileSync(traceFile, 'utf8'), dbDir));
    }
    const node = seen.get('node')!;
    // What Node.js does is what the durability rules ask for (docs/design-rules.md#r10, #r11: a
    // file fsynced and its directory fsynced before anything refers to it; each durable write
    // fdatasynced).
    expect([...node.keys()].sort()).toEqual(
      expect.arrayContaining(['fdatasync NNNNNN.wal', 'fsync <dir>', 'fsync CURRENT.tmp', 'fsync IDENTITY.tmp', 'fsync NNNNNN.sst']),
    );
    expect(node.get('fdatasync NNNNNN.wal') ?? 0).toBeGreaterThanOrEqual(20); // one per durable put
    for (const [runtime, calls] of seen) {
      expect(Object.fromEntries([...calls].sort()), runtime).toEqual(Object.fromEntries([...node].sort()));
    }
  }, 240_000);
});
