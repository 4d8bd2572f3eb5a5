/**
 * An in-memory WalFileSystem that models what survives a power cut: each file remembers the bytes
 * of its last fsync/fdatasync, and the directory remembers the names of its last fsyncDir.
 * `powerCut()` throws away everything else, as a machine losing power would (the page cache and
 * unsynced directory entries are gone). `crashProcess()` is nothing at all: the OS keeps what
 * write(2) was given. Paths are plain strings; there is one flat namespace per directory.
 * Simplification: an unlink is treated as durable at once (a real one is not until the
 * directory is fsynced), which only makes files stay deleted that could have come back.
 */
import { dirname } from 'node:path';
import type { WalFileSystem } from '../file-system.js';

interface MemFile {
  data: Buffer;
  size: number;
  durable: Buffer;
}

function errno(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

export class MemoryFileSystem implements WalFileSystem {
  readonly #files = new Map<string, MemFile>();
  readonly #dirs = new Set<string>();
  /** Names whose directory entry is durable. */
  readonly #durableNames = new Set<string>();
  readonly #fds = new Map<number, string>();
  #nextFd = 3;

  mkdir(dir: string): void {
    this.#dirs.add(dir);
  }

  /** The current bytes of a file (a copy). */
  bytes(path: string): Buffer {
    const f = this.#file(path);
    return Buffer.from(f.data.subarray(0, f.size));
  }

  /** Creates or replaces a file's bytes as a test's corruption would; durable too (the damage is on disk). */
  setBytes(path: string, bytes: Uint8Array): void {
    this.#files.set(path, { data: Buffer.from(bytes), size: bytes.length, durable: Buffer.from(bytes) });
    this.#durableNames.add(path);
  }

  /** A deep copy: lets a test damage one copy of a log many ways. */
  clone(): MemoryFileSystem {
    const c = new MemoryFileSystem();
    for (const d of this.#dirs) c.#dirs.add(d);
    for (const n of this.#durableNames) c.#durableNames.add(n);
    for (const [p, f] of this.#files) c.#files.set(p, { data: Buffer.from(f.data.subarray(0, f.size)), size: f.size, durable: Buffer.from(f.durable) });
    return c;
  }

  /** Power loss: every file back to its last sync, every name whose directory was never synced gone. */
  powerCut(): void {
    for (const [path, f] of this.#files) {
      if (!this.#durableNames.has(path)) {
        this.#files.delete(path);
        continue;
      }
      f.data = Buffer.from(f.durable);
      f.size = f.durable.length;
    }
    for (const name of this.#durableNames) if (!this.#files.has(name)) this.#durableNames.delete(name);
    this.#fds.clear();
  }

  openFds(): number {
    return this.#fds.size;
  }

  #file(path: string): MemFile {
    const f = this.#files.get(path);
    if (f === undefined) throw errno('ENOENT', `no such file '${path}'`);
    return f;
  }

  #fd(fd: number): MemFile {
    const path = this.#fds.get(fd);
    if (path === undefined) throw errno('EBADF', `bad file descriptor ${fd}`);
    return this.#file(path);
  }

  openSync(path: string, flags: 'r' | 'r+' | 'w' | 'wx' | 'a'): number {
    if (!this.#dirs.has(dirname(path))) throw errno('ENOENT', `no such directory '${dirname(path)}'`);
    const existing = this.#files.get(path);
    if (flags === 'wx' && existing !== undefined) throw errno('EEXIST', `file exists '${path}'`);
    if ((flags === 'r' || flags === 'r+') && existing === undefined) throw errno('ENOENT', `no such file '${path}'`);
    if (existing === undefined || flags === 'w' || flags === 'wx') {
      this.#files.set(path, { data: Buffer.alloc(0), size: 0, durable: existing?.durable ?? Buffer.alloc(0) });
    }
    const fd = this.#nextFd++;
    this.#fds.set(fd, path);
    return fd;
  }

  closeSync(fd: number): void {
    if (!this.#fds.delete(fd)) throw errno('EBADF', `bad file descriptor ${fd}`);
  }

  writeSync(fd: number, buf: Uint8Array, off: number, len: number, position: number | null): number {
    const f = this.#fd(fd);
    const at = position ?? f.size;
    const end = at + len;
    if (end > f.data.length) {
      const grown = Buffer.alloc(Math.max(end, f.data.length * 2));
      f.data.copy(grown, 0, 0, f.size);
      f.data = grown;
    }
    if (at > f.size) f.data.fill(0, f.size, at);
    f.data.set(buf.subarray(off, off + len), at);
    f.size = Math.max(f.size, end);
    return len;
  }

  ftruncateSync(fd: number, len: number): void {
    const f = this.#fd(fd);
    if (len > f.size) {
      const grown = Buffer.alloc(len);
      f.data.copy(grown, 0, 0, f.size);
      f.data = grown;
    }
    f.size = len;
  }

  fsync(fd: number): Promise<void> {
    const f = this.#fd(fd);
    f.durable = Buffer.from(f.data.subarray(0, f.size));
    return Promise.resolve();
  }

  fdatasync(fd: number): Promise<void> {
    return this.fsync(fd);
  }

  fsyncDir(dir: string): Promise<void> {
    if (!this.#dirs.has(dir)) return Promise.reject(errno('ENOENT', `no such directory '${dir}'`));
    for (const p of [...this.#durableNames]) if (dirname(p) === dir && !this.#files.has(p)) this.#durableNames.delete(p);
    for (const p of this.#files.keys()) if (dirname(p) === dir) this.#durableNames.add(p);
    return Promise.resolve();
  }

  readdirSync(dir: string): string[] {
    if (!this.#dirs.has(dir)) throw errno('ENOENT', `no such directory '${dir}'`);
    const prefix = `${dir}/`;
    return [...this.#files.keys()].filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length));
  }

  unlinkSync(path: string): void {
    this.#file(path);
    this.#files.delete(path);
  }

  existsSync(path: string): boolean {
    return this.#files.has(path) || this.#dirs.has(path);
  }

  readFileSync(path: string): Uint8Array {
    return this.bytes(path);
  }
}
