/**
 * The part of Strata's one file layer (`FileSystem` of @strata-db/vfs) that the WAL uses. Any
 * full `FileSystem` — `nodeFileSystem` in production, the in-memory power-cut layer or the fault
 * injector of @strata-db/vfs/testing in tests — serves, so the engine passes one object to every
 * package.
 *
 * Hot paths (open, write, read) are synchronous: they run at page-cache speed and a thread-pool
 * round trip would cost more than the call — except a large group's write (`write`, when the
 * layer has it: see OFF_THREAD_BYTES in writer.ts). Syncs are asynchronous: they take milliseconds and
 * must not block the event loop, and group commit relies on appends queueing up while one runs.
 */
import type { FileSystem } from '@strata-db/vfs';

export type WalFileSystem = Pick<
  FileSystem,
  | 'openSync'
  | 'closeSync'
  | 'writeSync'
  | 'write'
  | 'ftruncateSync'
  | 'fsync'
  | 'fdatasync'
  | 'fsyncDir'
  | 'readdirSync'
  | 'unlinkSync'
  | 'unlink'
  | 'existsSync'
  | 'readFileSync'
>;
