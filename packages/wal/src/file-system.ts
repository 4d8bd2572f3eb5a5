/**
 * The file layer the WAL runs on: the subset of the engine's `FileSystem` (docs/contracts.md)
 * that the WAL uses, declared structurally so the engine can pass one object to every package —
 * plain `node:fs` in production, a fault-injecting layer in tests.
 *
 * Hot paths (open, write, read) are synchronous: they run at page-cache speed and a thread-pool
 * round trip would cost more than the call. Syncs are asynchronous: they take milliseconds and
 * must not block the event loop, and group commit relies on appends queueing up while one runs.
 */
import * as nodeFs from 'node:fs';

export interface WalFileSystem {
  openSync(path: string, flags: 'r' | 'r+' | 'w' | 'wx' | 'a'): number;
  closeSync(fd: number): void;
  writeSync(fd: number, buf: Uint8Array, off: number, len: number, position: number | null): number;
  ftruncateSync(fd: number, len: number): void;
  fsync(fd: number): Promise<void>;
  fdatasync(fd: number): Promise<void>;
  /** Makes creates, renames and unlinks in `dir` durable. */
  fsyncDir(dir: string): Promise<void>;
  readdirSync(dir: string): string[];
  unlinkSync(path: string): void;
  /**
   * Optional: an unlink off the JS thread. Deleting a segment of a few MiB can block for tens of
   * milliseconds (the kernel frees its extents); when present, obsolete segments are deleted with
   * it. Layers that must see every operation in order (fault injection) leave it out.
   */
  unlink?(path: string): Promise<void>;
  existsSync(path: string): boolean;
  readFileSync(path: string): Uint8Array;
}

function callbackToPromise(run: (done: (err: NodeJS.ErrnoException | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    run((err) => {
      if (err) reject(err);
      else resolve();
    });
  });
}

/** The production layer: a thin object over `node:fs`. */
export const nodeFileSystem: WalFileSystem = {
  openSync: (path, flags) => nodeFs.openSync(path, flags),
  closeSync: (fd) => {
    nodeFs.closeSync(fd);
  },
  writeSync: (fd, buf, off, len, position) => nodeFs.writeSync(fd, buf, off, len, position),
  ftruncateSync: (fd, len) => {
    nodeFs.ftruncateSync(fd, len);
  },
  fsync: (fd) => callbackToPromise((done) => {
    nodeFs.fsync(fd, done);
  }),
  fdatasync: (fd) => callbackToPromise((done) => {
    nodeFs.fdatasync(fd, done);
  }),
  fsyncDir: async (dir) => {
    // A directory is fsynced through a read-only descriptor of it (POSIX allows nothing else).
    const fd = nodeFs.openSync(dir, 'r');
    try {
      await callbackToPromise((done) => {
        nodeFs.fsync(fd, done);
      });
    } finally {
      nodeFs.closeSync(fd);
    }
  },
  readdirSync: (dir) => nodeFs.readdirSync(dir),
  unlinkSync: (path) => {
    nodeFs.unlinkSync(path);
  },
  unlink: (path) => nodeFs.promises.unlink(path),
  existsSync: (path) => nodeFs.existsSync(path),
  readFileSync: (path) => nodeFs.readFileSync(path),
};

/** Writes all of `buf` at `position`, looping over short writes. */
export function writeFully(fs: WalFileSystem, fd: number, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) {
    const n = fs.writeSync(fd, buf, done, buf.length - done, position + done);
    if (n <= 0) throw Object.assign(new Error(`write(2) wrote ${n} bytes`), { code: 'EIO' });
    done += n;
  }
}

/** Closes `fd` when an error is already on its way out; a second error would only hide the first. */
export function closeQuietly(fs: WalFileSystem, fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // the caller is reporting the error that matters
  }
}
