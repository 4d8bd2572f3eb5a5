/**
 * The file layer. Every file operation of the engine — and of the WAL and table packages it
 * drives — goes through ONE object implementing this interface, given as `Database.open(path,
 * { fs })`. In production that is `nodeFileSystem` (plain `node:fs`); in tests it is the
 * fault-injecting layer from `@strata-db/engine/testing`, which can cut every file back to its
 * last fsync ("power loss") or fail the k-th operation with EIO/ENOSPC. That only proves
 * anything if nothing bypasses it, so no other module of the engine imports `node:fs`.
 *
 * Hot paths are synchronous (page-cache speed; `getSync` depends on it). Syncs are asynchronous
 * because they take milliseconds and must not block the event loop.
 *
 * This is the superset of the shapes the wal and sstable packages declare structurally
 * (docs/contracts.md), so one object serves all of them.
 */
import * as fs from 'node:fs';

export type OpenFlags = 'r' | 'r+' | 'w' | 'wx' | 'a';

export interface FileSystem {
  openSync(path: string, flags: OpenFlags): number;
  closeSync(fd: number): void;
  readSync(fd: number, buf: Uint8Array, off: number, len: number, position: number): number;
  writeSync(fd: number, buf: Uint8Array, off: number, len: number, position: number | null): number;
  fstatSync(fd: number): { size: number };
  ftruncateSync(fd: number, len: number): void;
  fsync(fd: number): Promise<void>;
  fdatasync(fd: number): Promise<void>;
  /** Makes the creates, renames and unlinks done in `dir` durable. */
  fsyncDir(dir: string): Promise<void>;
  readdirSync(dir: string): string[];
  mkdirSync(dir: string, opts: { recursive: true }): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  /**
   * Optional: an unlink that does not block the JS thread. Deleting a table of a few MiB can
   * take tens of milliseconds of kernel time (freeing its extents), and compaction deletes its
   * inputs all at once; when present, obsolete tables are deleted with it. Layers that must see
   * every operation in order (the fault-injecting one) leave it out and get `unlinkSync`.
   */
  unlink?(path: string): Promise<void>;
  existsSync(path: string): boolean;
  readFileSync(path: string): Uint8Array;
}

function promisify(fn: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void, fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fn(fd, (err) => {
      if (err) reject(err);
      else resolve();
    });
  });
}

/** `node:fs`, unchanged: the file layer of a production database. */
export const nodeFileSystem: FileSystem = {
  // See db/lock.ts: every build of the engine recognises the real disk by this mark.
  [Symbol.for('@strata-db/engine/node-fs')]: true,
  openSync: (path, flags) => fs.openSync(path, flags),
  closeSync: (fd) => {
    fs.closeSync(fd);
  },
  readSync: (fd, buf, off, len, position) => fs.readSync(fd, buf, off, len, position),
  writeSync: (fd, buf, off, len, position) => fs.writeSync(fd, buf, off, len, position),
  fstatSync: (fd) => fs.fstatSync(fd),
  ftruncateSync: (fd, len) => {
    fs.ftruncateSync(fd, len);
  },
  fsync: (fd) => promisify(fs.fsync, fd),
  fdatasync: (fd) => promisify(fs.fdatasync, fd),
  fsyncDir: async (dir) => {
    // A directory is fsynced through a read-only descriptor (POSIX allows it; Linux needs it
    // for the entry of a newly created or renamed file to survive power loss).
    const fd = fs.openSync(dir, 'r');
    try {
      await promisify(fs.fsync, fd);
    } finally {
      fs.closeSync(fd);
    }
  },
  readdirSync: (dir) => fs.readdirSync(dir),
  mkdirSync: (dir, opts) => {
    fs.mkdirSync(dir, opts);
  },
  renameSync: (from, to) => {
    fs.renameSync(from, to);
  },
  unlinkSync: (path) => {
    fs.unlinkSync(path);
  },
  unlink: (path) => fs.promises.unlink(path),
  existsSync: (path) => fs.existsSync(path),
  readFileSync: (path) => fs.readFileSync(path),
};
