/**
 * An in-memory file system that knows what a power cut would leave behind.
 *
 * It implements the engine's file layer (contract.ts) with POSIX semantics where they matter for
 * durability: fds point at inodes, not names (a renamed or unlinked file stays writable through an
 * open fd); `fsync`/`fdatasync` make one file's bytes durable; `fsyncDir` makes the directory's
 * current set of names durable — creates, renames and unlinks done before it. Nothing else is.
 *
 * `powerCut()` returns the file system a machine would find after losing power at this instant:
 * every file cut back to its last completed sync (optionally with part of the unsynced tail, or
 * garbage), every name as of its directory's last completed fsyncDir — so a file whose directory
 * was never synced is gone, an unlink that was not synced is undone, and a rename that was not
 * synced is reverted. Syncs still in flight at the cut made nothing durable.
 *
 * Simplification: directories themselves (mkdir) are durable at once; the engine's durability
 * story begins inside its own directory.
 */
import { posix } from 'node:path';
import type { FileSystem, OpenFlags } from '../file-system.js';
import { fsError } from '../fs-error.js';
import { Inode } from './inode.js';
import { type PowerCutMode, survivingContent } from './power-cut.js';
import { Random } from './random.js';

export interface MemoryFileSystemOptions {
  /**
   * Wait inside fsync/fdatasync/fsyncDir (given the file or directory), between starting and
   * completing the sync. The default yields to the event loop once, so other writes interleave
   * with a sync as they do on a disk and a power cut can fall while a sync is in flight; a test
   * can make some files slow to sync, to shake out races between the engine's background jobs.
   */
  readonly syncDelay?: (path: string) => Promise<void>;
}

export interface PowerCutOptions {
  readonly mode?: PowerCutMode;
  /** Seeds the random choices of the non-'drop' modes; the same seed gives the same image. */
  readonly seed?: number;
}

export interface OpenFileInfo {
  readonly fd: number;
  readonly path: string;
  readonly flags: OpenFlags;
}

/** One file's durability state, for failure messages and for tests of the layer itself. */
export interface FileDurability {
  readonly path: string;
  readonly size: number;
  readonly durableSize: number;
  /** The name is durable (its directory was fsynced since it was created or renamed here). */
  readonly nameDurable: boolean;
}

interface OpenFile {
  readonly inode: Inode;
  readonly path: string;
  readonly flags: OpenFlags;
  readonly readable: boolean;
  readonly writable: boolean;
  position: number;
}

const yieldOnce = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class MemoryFileSystem implements FileSystem {
  private readonly files = new Map<string, Inode>();
  private readonly dirs = new Set<string>(['/']);
  /** Per directory: the names (and the inodes they point at) as of its last completed fsyncDir. */
  private readonly durableNames = new Map<string, Map<string, Inode>>();
  private readonly fds = new Map<number, OpenFile>();
  private nextFd = 3;
  private readonly syncDelay: (path: string) => Promise<void>;

  constructor(options: MemoryFileSystemOptions = {}) {
    this.syncDelay = options.syncDelay ?? yieldOnce;
  }

  // ---- the file layer -------------------------------------------------------------------------

  openSync(path: string, flags: OpenFlags): number {
    const p = normalize(path);
    if (this.dirs.has(p)) throw fsError('EISDIR', 'open', path);
    this.requireParent(p, 'open', path);
    let inode = this.files.get(p);
    switch (flags) {
      case 'r':
      case 'r+':
        if (inode === undefined) throw fsError('ENOENT', 'open', path);
        break;
      case 'wx':
        if (inode !== undefined) throw fsError('EEXIST', 'open', path);
        inode = this.create(p);
        break;
      case 'w':
        if (inode === undefined) inode = this.create(p);
        else inode.truncate(0);
        break;
      case 'a':
        inode ??= this.create(p);
        break;
      default:
        throw fsError('EINVAL', 'open', path, `unknown flags ${String(flags)}`);
    }
    const fd = this.nextFd++;
    this.fds.set(fd, {
      inode,
      path: p,
      flags,
      readable: flags === 'r' || flags === 'r+',
      writable: flags !== 'r',
      position: 0,
    });
    return fd;
  }

  closeSync(fd: number): void {
    if (!this.fds.delete(fd)) throw fsError('EBADF', 'close');
  }

  readSync(fd: number, buf: Uint8Array, off: number, len: number, position: number | null): number {
    const f = this.fd(fd, 'read');
    if (!f.readable) throw fsError('EBADF', 'read', f.path, 'not open for reading');
    checkRange(buf, off, len, 'read');
    const usePosition = position !== null && position >= 0;
    const n = f.inode.read(buf, off, len, usePosition ? position : f.position);
    if (!usePosition) f.position += n;
    return n;
  }

  writeSync(fd: number, buf: Uint8Array, off: number, len: number, position: number | null): number {
    const f = this.fd(fd, 'write');
    if (!f.writable) throw fsError('EBADF', 'write', f.path, 'not open for writing');
    checkRange(buf, off, len, 'write');
    // O_APPEND ignores the offset (as Linux does for pwrite on an append fd).
    const at = f.flags === 'a' ? f.inode.size : (position ?? f.position);
    f.inode.write(buf.subarray(off, off + len), at);
    if (position === null || f.flags === 'a') f.position = at + len;
    return len;
  }

  fstatSync(fd: number): { size: number } {
    return { size: this.fd(fd, 'fstat').inode.size };
  }

  ftruncateSync(fd: number, len: number): void {
    const f = this.fd(fd, 'ftruncate');
    if (!f.writable) throw fsError('EBADF', 'ftruncate', f.path, 'not open for writing');
    if (len < 0) throw fsError('EINVAL', 'ftruncate', f.path);
    f.inode.truncate(len);
  }

  fsync(fd: number): Promise<void> {
    return this.syncFile(fd, 'fsync');
  }

  fdatasync(fd: number): Promise<void> {
    // Both make the data durable; the model has no metadata beyond size, which fdatasync covers too.
    return this.syncFile(fd, 'fdatasync');
  }

  async fsyncDir(dir: string): Promise<void> {
    const d = normalize(dir);
    if (!this.dirs.has(d)) throw fsError(this.files.has(d) ? 'ENOTDIR' : 'ENOENT', 'fsync', dir);
    // The names as of the call are what the sync writes out; later changes need another fsyncDir.
    const names = new Map<string, Inode>();
    for (const [p, inode] of this.files) if (posix.dirname(p) === d) names.set(posix.basename(p), inode);
    await this.syncDelay(d);
    this.durableNames.set(d, names);
  }

  readdirSync(dir: string): string[] {
    const d = normalize(dir);
    if (!this.dirs.has(d)) throw fsError(this.files.has(d) ? 'ENOTDIR' : 'ENOENT', 'scandir', dir);
    const out: string[] = [];
    for (const p of this.files.keys()) if (posix.dirname(p) === d) out.push(posix.basename(p));
    for (const p of this.dirs) if (p !== '/' && posix.dirname(p) === d) out.push(posix.basename(p));
    return out.sort();
  }

  mkdirSync(dir: string, _opts: { recursive: true }): void {
    const d = normalize(dir);
    const chain: string[] = [];
    for (let p = d; !this.dirs.has(p); p = posix.dirname(p)) {
      if (this.files.has(p)) throw fsError('ENOTDIR', 'mkdir', dir);
      chain.push(p);
    }
    for (const p of chain) this.dirs.add(p);
  }

  renameSync(from: string, to: string): void {
    const f = normalize(from);
    const t = normalize(to);
    const inode = this.files.get(f);
    if (inode === undefined) throw fsError(this.dirs.has(f) ? 'EISDIR' : 'ENOENT', 'rename', from);
    if (this.dirs.has(t)) throw fsError('EISDIR', 'rename', to);
    this.requireParent(t, 'rename', to);
    this.files.delete(f);
    this.files.set(t, inode);
  }

  unlinkSync(path: string): void {
    const p = normalize(path);
    if (this.dirs.has(p)) throw fsError('EISDIR', 'unlink', path);
    if (!this.files.delete(p)) throw fsError('ENOENT', 'unlink', path);
  }

  existsSync(path: string): boolean {
    const p = normalize(path);
    return this.files.has(p) || this.dirs.has(p);
  }

  readFileSync(path: string): Uint8Array {
    const p = normalize(path);
    if (this.dirs.has(p)) throw fsError('EISDIR', 'read', path);
    const inode = this.files.get(p);
    if (inode === undefined) throw fsError('ENOENT', 'open', path);
    return inode.content();
  }

  // ---- power loss -----------------------------------------------------------------------------

  /**
   * The file system as it would be found after a power cut right now. This one is left as it is
   * (a test usually abandons it, together with the database that was running on it).
   */
  powerCut(options: PowerCutOptions = {}): MemoryFileSystem {
    const mode = options.mode ?? 'drop';
    const rng = new Random(options.seed ?? 0);
    const out = new MemoryFileSystem({ syncDelay: this.syncDelay });
    for (const d of this.dirs) out.dirs.add(d);
    // Sorted, so that the random choices (and so the image) depend on the seed alone.
    for (const d of [...this.durableNames.keys()].sort()) {
      if (!this.dirs.has(d)) continue;
      const names = this.durableNames.get(d)!;
      for (const name of [...names.keys()].sort()) {
        out.installDurable(posix.join(d, name), survivingContent(names.get(name)!, mode, rng));
      }
    }
    return out;
  }

  /** An exact copy — live bytes, durable bytes and durable names — with no open files. */
  clone(): MemoryFileSystem {
    const out = new MemoryFileSystem({ syncDelay: this.syncDelay });
    const copies = new Map<Inode, Inode>();
    const copyOf = (i: Inode): Inode => {
      let c = copies.get(i);
      if (c === undefined) copies.set(i, (c = i.copy()));
      return c;
    };
    for (const d of this.dirs) out.dirs.add(d);
    for (const [p, inode] of this.files) out.files.set(p, copyOf(inode));
    for (const [d, names] of this.durableNames) {
      out.durableNames.set(d, new Map([...names].map(([n, i]) => [n, copyOf(i)] as const)));
    }
    return out;
  }

  // ---- inspection and test helpers --------------------------------------------------------------

  /** Every file path, sorted. */
  listFiles(): string[] {
    return [...this.files.keys()].sort();
  }

  /** The path `fd` was opened with, while it is open: for subclasses that treat some files apart (a WAL's syncs, say). */
  pathOf(fd: number): string | undefined {
    return this.fds.get(fd)?.path;
  }

  /** Open descriptors; a test that closed everything expects none (a leak otherwise). */
  openFiles(): OpenFileInfo[] {
    return [...this.fds].map(([fd, f]) => ({ fd, path: f.path, flags: f.flags }));
  }

  durability(): FileDurability[] {
    return this.listFiles().map((p) => {
      const inode = this.files.get(p)!;
      return {
        path: p,
        size: inode.size,
        durableSize: inode.durableSize,
        nameDurable: this.durableNames.get(posix.dirname(p))?.get(posix.basename(p)) === inode,
      };
    });
  }

  /** Writes a file whose bytes and name are durable at once (fixtures; disk edits). */
  writeFileDurably(path: string, content: Uint8Array): void {
    const p = normalize(path);
    this.requireParent(p, 'open', path);
    this.installDurable(p, content);
  }

  /**
   * Changes a file's bytes on "disk" and in the cache at once, as bit rot or a stray write would:
   * the edit survives power cuts. `edit` gets a copy and returns the new content.
   */
  editDurably(path: string, edit: (bytes: Uint8Array) => Uint8Array): void {
    const inode = this.files.get(normalize(path));
    if (inode === undefined) throw fsError('ENOENT', 'open', path);
    inode.replaceDurably(edit(inode.content()));
  }

  // ---- internals ------------------------------------------------------------------------------

  private async syncFile(fd: number, syscall: string): Promise<void> {
    const f = this.fd(fd, syscall);
    const pending = f.inode.beginSync();
    try {
      await this.syncDelay(f.path);
    } catch (err) {
      f.inode.abandonSync(pending);
      throw err;
    }
    f.inode.completeSync(pending);
  }

  private installDurable(p: string, content: Uint8Array): void {
    const inode = new Inode(content, true);
    this.files.set(p, inode);
    const d = posix.dirname(p);
    let names = this.durableNames.get(d);
    if (names === undefined) this.durableNames.set(d, (names = new Map<string, Inode>()));
    names.set(posix.basename(p), inode);
  }

  private create(p: string): Inode {
    const inode = new Inode();
    this.files.set(p, inode);
    return inode;
  }

  private fd(fd: number, syscall: string): OpenFile {
    const f = this.fds.get(fd);
    if (f === undefined) throw fsError('EBADF', syscall);
    return f;
  }

  private requireParent(p: string, syscall: string, original: string): void {
    const parent = posix.dirname(p);
    if (!this.dirs.has(parent)) throw fsError(this.files.has(parent) ? 'ENOTDIR' : 'ENOENT', syscall, original);
  }
}

function normalize(path: string): string {
  return posix.resolve('/', path);
}

function checkRange(buf: Uint8Array, off: number, len: number, what: string): void {
  if (!Number.isInteger(off) || !Number.isInteger(len) || off < 0 || len < 0 || off + len > buf.length) {
    throw new RangeError(`${what}: offset ${off} + length ${len} is outside the buffer of ${buf.length} bytes`);
  }
}
