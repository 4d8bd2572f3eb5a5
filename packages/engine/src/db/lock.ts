/**
 * The LOCK file: one Database at a time per directory, without native addons (no flock).
 *
 * LOCK is created with O_EXCL ('wx'), so exactly one creator wins, and holds one line of JSON:
 *
 *   {"pid":1234,"thread":0,"start":"98765","token":"<random uuid>","host":"<hostname>"}
 *
 * `start` is the owner's process start time (field 22 of /proc/<pid>/stat, in clock ticks since
 * boot; empty where /proc does not exist). A LOCK that already exists is STALE — left by a
 * process that died without closing, e.g. after kill -9 — when
 *   - its pid is not alive (process.kill(pid, 0) fails with ESRCH), or
 *   - its pid is alive but started at another time (the pid was reused by an unrelated process), or
 *   - it names this very process but this process's registry does not hold the directory
 *     (a Database of ours that was never closed and has been dropped), or
 *   - it stays unreadable/empty for ~200 ms (a creator that died between create and write, or
 *     a power cut before its line reached the disk; a live creator writes its line immediately
 *     after the create) AND the directory is provably Strata's, or holds nothing but that LOCK
 *     (directory-owner.ts). LevelDB and RocksDB lock with an empty LOCK file (and fcntl on it),
 *     next to their LOG: such a LOCK is not ours, is left alone, and the open fails with
 *     NOT_A_DATABASE.
 * A stale LOCK is taken over under a second O_EXCL file, LOCK.break, so that two processes that
 * both see the same stale LOCK cannot both take it: only the holder of LOCK.break may unlink
 * LOCK and create it anew, and it re-checks the token it judged stale first.
 * The host is recorded for diagnostics only and not trusted (a lock is judged by pid and start
 * time on this machine): a database shared over a network file system by two hosts is not
 * supported.
 *
 * Worker threads of one process each have their own registry, so the line also records the
 * owner's threadId: a LOCK of another thread of this live process is never taken over.
 *
 * Within one process, a registry (on globalThis, so that the ESM and CJS builds share it) makes
 * a second open of the same directory fail with LOCKED even though the pid check would pass.
 * It is keyed by absolute path for the real disk, and by (file layer, path) for any other
 * file layer, so that tests can open the same path in two in-memory file systems.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { threadId } from 'node:worker_threads';
import { join, resolve } from 'node:path';
import { StrataError } from '../errors.js';
import { closeQuietly, crossesThreads, nodeFileSystem, writeAll, type FileSystem } from '@strata-db/vfs';
import { LOCK_FILE } from './filenames.js';

interface LockContent {
  readonly pid: number;
  /** worker_threads threadId of the owner (0: the main thread). */
  readonly thread: number;
  readonly start: string;
  readonly token: string;
  readonly host: string;
}

const REGISTRY_KEY = Symbol.for('@strata-db/engine/open-directories');
const fsIds = new WeakMap<object, number>();
let nextFsId = 1;

/**
 * The registry key of a directory: its absolute path, qualified by the file layer for any layer
 * other than the real disk (two in-memory file systems may hold the same path).
 */
function registryKey(fs: FileSystem, dir: string): string {
  const path = resolve(dir);
  if (crossesThreads(fs)) return path; // the real disk (NODE_FS_MARK): one key per path in the process
  let id = fsIds.get(fs);
  if (id === undefined) {
    id = nextFsId++;
    fsIds.set(fs, id);
  }
  return `fs${id}:${path}`;
}
const registry: Set<string> = ((globalThis as Record<symbol, unknown>)[REGISTRY_KEY] as Set<string> | undefined) ?? new Set<string>();
(globalThis as Record<symbol, unknown>)[REGISTRY_KEY] = registry;

/**
 * Process start time from /proc (Linux). Read from the real disk (`nodeFileSystem`), not the
 * database's file layer, on purpose: /proc is not a database file, and an in-memory or
 * fault-injecting layer must not see it.
 */
function processStartTime(pid: number): string {
  try {
    const stat = Buffer.from(nodeFileSystem.readFileSync(`/proc/${pid}/stat`)).toString('latin1');
    // The command name (field 2) is in parentheses and may contain spaces: split after it.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? ''; // field 22 overall = index 19 after "pid (comm) "
  } catch {
    return '';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

const ownStart = processStartTime(process.pid);

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function parse(bytes: Uint8Array): LockContent | undefined {
  try {
    const v = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<LockContent>;
    if (typeof v.pid === 'number' && typeof v.token === 'string') {
      return {
        pid: v.pid,
        thread: typeof v.thread === 'number' ? v.thread : 0,
        start: typeof v.start === 'string' ? v.start : '',
        token: v.token,
        host: typeof v.host === 'string' ? v.host : '',
      };
    }
  } catch {
    // fall through
  }
  return undefined;
}

export class DirectoryLock {
  private released = false;

  private constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly key: string,
    readonly token: string,
  ) {}

  /**
   * Takes the lock of `dir` or throws LOCKED naming the holder. `strataDirectory`: the directory
   * holds files provably Strata's, so an unreadable LOCK there is a Strata creator's that died
   * (see the top of the file); otherwise such a LOCK is another program's → NOT_A_DATABASE.
   */
  static acquire(fs: FileSystem, dir: string, strataDirectory: boolean): DirectoryLock {
    const key = registryKey(fs, dir);
    if (registry.has(key)) {
      throw new StrataError('LOCKED', `database ${dir} is already open in this process; close it first`, { file: join(dir, LOCK_FILE) });
    }
    const token = randomUUID();
    const content: LockContent = { pid: process.pid, thread: threadId, start: ownStart, token, host: hostname() };
    const bytes = Buffer.from(JSON.stringify(content) + '\n');
    const path = join(dir, LOCK_FILE);
    for (let attempt = 0; ; attempt++) {
      if (tryCreate(fs, path, bytes)) break;
      if (attempt >= 5) {
        throw new StrataError('LOCKED', `could not take ${path}: it keeps changing hands; retry later`, { file: path });
      }
      const holder = readHolder(fs, path);
      if (holder === 'gone') continue;
      if (holder === 'garbage' && !strataDirectory) {
        throw new StrataError(
          'NOT_A_DATABASE',
          `${path} was not written by Strata (LevelDB and RocksDB lock with an empty LOCK file), so it is left alone and ${dir} is not opened. ` +
            'Choose an empty directory; if no other program uses this one, remove LOCK yourself.',
          { file: path },
        );
      }
      if (holder !== 'garbage' && !isStale(holder)) {
        throw new StrataError(
          'LOCKED',
          `database ${dir} is locked by process ${holder.pid}${holder.host && holder.host !== hostname() ? ` on ${holder.host}` : ''}; close it there first (a lock of a dead process is taken over automatically)`,
          { file: path },
        );
      }
      breakStale(fs, dir, path, holder);
    }
    registry.add(key);
    return new DirectoryLock(fs, dir, key, token);
  }

  /** Releases the lock: unlinks LOCK if it is still ours. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    registry.delete(this.key);
    const path = join(this.dir, LOCK_FILE);
    try {
      const holder = parse(this.fs.readFileSync(path));
      if (holder?.token === this.token) this.fs.unlinkSync(path);
    } catch {
      // Best effort: a LOCK left behind is stale (our pid dies or we are not in the registry).
    }
  }
}

/** Whether `bytes` are a lock line as Strata writes it (any owner, live or dead). */
export function isStrataLock(bytes: Uint8Array): boolean {
  return parse(bytes) !== undefined;
}

function tryCreate(fs: FileSystem, path: string, bytes: Uint8Array): boolean {
  let fd: number;
  try {
    fd = fs.openSync(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new StrataError('IO_ERROR', `cannot create ${path}: ${(err as Error).message}`, { file: path, cause: err });
  }
  try {
    writeAll(fs, fd, bytes, 0, path); // a write making no progress is EIO, not a spin
  } catch (err) {
    // We created it (O_EXCL): remove it rather than leave a LOCK without its line behind.
    closeQuietly(fs, fd); // already failing
    try {
      fs.unlinkSync(path);
    } catch {
      // Left behind: the next open recognises a LOCK cut short (directory-owner.ts).
    }
    throw err;
  }
  fs.closeSync(fd);
  return true;
}

/** Reads LOCK, waiting briefly for a creator that has not written its line yet. */
function readHolder(fs: FileSystem, path: string): LockContent | 'gone' | 'garbage' {
  for (let i = 0; i < 10; i++) {
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
      throw new StrataError('IO_ERROR', `cannot read ${path}: ${(err as Error).message}`, { file: path, cause: err });
    }
    const c = parse(bytes);
    if (c) return c;
    sleepSync(20);
  }
  return 'garbage';
}

function isStale(holder: LockContent | 'garbage'): boolean {
  if (holder === 'garbage') return true;
  if (holder.pid === process.pid && (holder.start === '' || holder.start === ownStart)) {
    // This process. Another worker thread has its own registry, which we cannot see: its lock
    // is held for as long as the process lives. Our own thread's lock is stale, since the
    // registry (checked before we got here) says no open Database of this thread holds it.
    return holder.thread === threadId;
  }
  if (holder.pid === process.pid) return true; // an earlier process that had our pid
  if (!isAlive(holder.pid)) return true;
  const start = processStartTime(holder.pid);
  return start !== '' && holder.start !== '' && start !== holder.start;
}

function breakStale(fs: FileSystem, dir: string, path: string, judged: LockContent | 'garbage'): void {
  const breakPath = join(dir, `${LOCK_FILE}.break`);
  const me = Buffer.from(JSON.stringify({ pid: process.pid, thread: threadId, start: ownStart, token: randomUUID(), host: hostname() }) + '\n');
  if (!tryCreate(fs, breakPath, me)) {
    // Someone else is breaking it, or died while doing so.
    const other = readHolder(fs, breakPath);
    if (other !== 'gone' && !isStale(other)) return; // let them finish; our caller retries
    try {
      fs.unlinkSync(breakPath);
    } catch {
      // raced with its owner: fine
    }
    return;
  }
  try {
    const now = readHolder(fs, path);
    const same = now === 'garbage' ? judged === 'garbage' : now !== 'gone' && judged !== 'garbage' && now.token === judged.token;
    if (same) {
      try {
        fs.unlinkSync(path);
      } catch {
        // already gone
      }
    }
  } finally {
    try {
      fs.unlinkSync(breakPath);
    } catch {
      // ignore
    }
  }
}
