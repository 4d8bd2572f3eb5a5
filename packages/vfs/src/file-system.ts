/**
 * The file layer. Every file operation of Strata — the WAL, the table packages and the engine —
 * goes through ONE object implementing this interface, given as `Database.open(path, { fs })`.
 * In production that is `nodeFileSystem` (plain `node:fs`, node-file-system.ts); in tests it is
 * the in-memory `MemoryFileSystem`, which can cut every file back to its last fsync ("power
 * loss"), or the `FaultInjectingFileSystem`, which fails the k-th operation with EIO/ENOSPC (both
 * from `@strata-db/vfs/testing`). That only proves anything if nothing bypasses the layer, so
 * node-file-system.ts is the only module of Strata that imports `node:fs` for database files.
 *
 * Hot paths are synchronous (page-cache speed; `getSync` depends on it). Syncs are asynchronous
 * because they take milliseconds and must not block the event loop, and group commit relies on
 * appends queueing up while one runs.
 *
 * Errors are Node-style (`err.code` = ENOENT, EEXIST, EIO, ENOSPC, …), exactly as `node:fs`
 * throws them; the packages wrap them into StrataErrors with the file and offset.
 *
 * Threads: `nodeFileSystem` carries the `NODE_FS_MARK` brand. A layer with the brand is the real
 * disk and can be recreated in another thread (a worker opens the same paths); any other layer
 * (in-memory, fault-injecting) lives in one thread's heap and must not be handed to a worker.
 * `crossesThreads(fs)` says which. The brand also keys the per-process open-directory registry
 * of the engine's LOCK by absolute path for the real disk.
 */

export type OpenFlags = 'r' | 'r+' | 'w' | 'wx' | 'a';

/**
 * Marks the production file layer (`nodeFileSystem`). `Symbol.for`, so that every build of every
 * package (ESM, CJS, two versions) recognises the real disk; the key is kept from when the layer
 * lived in the engine.
 */
export const NODE_FS_MARK: unique symbol = Symbol.for('@strata-db/engine/node-fs') as never;

export interface FileSystem {
  /** Present (true) on the real disk only: see `crossesThreads`. */
  readonly [NODE_FS_MARK]?: true;
  openSync(path: string, flags: OpenFlags): number;
  closeSync(fd: number): void;
  readSync(fd: number, buf: Uint8Array, off: number, len: number, position: number): number;
  /** May write fewer than `len` bytes; use `writeAll` to write a whole buffer. */
  writeSync(fd: number, buf: Uint8Array, off: number, len: number, position: number | null): number;
  /**
   * Optional: a positioned write that does not block the JS thread (the thread pool's). A write(2)
   * that is usually page-cache fast can sleep tens of milliseconds in the kernel (dirty-page
   * throttling, a journal handle while another thread's fsync commits), and the WAL hands it up to
   * a megabyte at a time; when present, large WAL groups and manifest records go through it. `buf`
   * must stay unchanged until the promise settles. Layers that must see every operation in order
   * (the fault-injecting one, the in-memory one) leave it out and get `writeSync`. May write fewer
   * than `len` bytes; use `writeAllOffThread`.
   */
  write?(fd: number, buf: Uint8Array, off: number, len: number, position: number): Promise<number>;
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
   * Optional: an unlink that does not block the JS thread. Deleting a file of a few MiB can take
   * tens of milliseconds of kernel time (freeing its extents), and compaction deletes its inputs
   * all at once; when present, obsolete tables and WAL segments are deleted with it. Layers that
   * must see every operation in order (the fault-injecting one) leave it out and get `unlinkSync`.
   */
  unlink?(path: string): Promise<void>;
  existsSync(path: string): boolean;
  readFileSync(path: string): Uint8Array;
  /** Optional: a hard link (engine checkpoints link tables; without it, or across file systems, they copy). */
  linkSync?(existingPath: string, newPath: string): void;
  /** Optional: removes an empty directory (the engine's Database.destroy; without it the directory stays). */
  rmdirSync?(dir: string): void;
}

/**
 * True for the real disk (a layer carrying `NODE_FS_MARK`): it can be recreated in a worker
 * thread, which sees the same files. False for in-memory and fault-injecting layers, whose state
 * is one thread's heap.
 */
export function crossesThreads(fs: FileSystem): boolean {
  return fs[NODE_FS_MARK] === true;
}
