/**
 * `Database.destroy(path)`: deletes a Strata database — and nothing else.
 *
 * It refuses (NOT_A_DATABASE, changing nothing) a directory that is not provably Strata's, as
 * open does (directory-owner.ts decides). It takes the LOCK first, so a database open in this or another process is
 * LOCKED, not pulled from under its owner. It deletes only the files Strata names (tables,
 * manifests, CURRENT, IDENTITY, WAL segments, its temporaries, LOCK last), then the directory if
 * nothing else is left in it (a file the user put there stays, with the directory). A missing
 * directory is not an error (LevelDB's DestroyDB).
 */
import { join } from 'node:path';
import { parseSegmentFileName } from '@strata-db/wal';
import { toStrataError } from '../errors.js';
import type { FileSystem } from '@strata-db/vfs';
import { inspectDirectory } from './directory-owner.js';
import { CURRENT_FILE, IDENTITY_FILE, LOCK_FILE, parseFileName } from './filenames.js';
import { DirectoryLock } from './lock.js';

export interface DestroyReport {
  /** Files deleted, by name. */
  readonly deleted: readonly string[];
  /** Names left in the directory because Strata did not write them (the directory stays then). */
  readonly kept: readonly string[];
  readonly directoryRemoved: boolean;
}

/** Whether `name` is a file Strata writes in a database directory. */
export function isStrataFileName(name: string): boolean {
  if (name === CURRENT_FILE || name === IDENTITY_FILE || name === LOCK_FILE) return true;
  if (parseSegmentFileName(name) !== undefined) return true;
  return parseFileName(name).kind !== 'other';
}

export async function destroyDatabase(fs: FileSystem, dir: string): Promise<DestroyReport> {
  // Throws NOT_A_DATABASE for another engine's directory or one holding files Strata did not write.
  const state = inspectDirectory(fs, dir);
  if (state.kind === 'missing') return { deleted: [], kept: [], directoryRemoved: false };
  const lock = DirectoryLock.acquire(fs, dir, true);
  const deleted: string[] = [];
  const kept: string[] = [];
  try {
    // CURRENT first: from then on the directory is no database, whatever else a crash leaves.
    const names = fs.readdirSync(dir).sort((a, b) => (a === CURRENT_FILE ? -1 : b === CURRENT_FILE ? 1 : 0));
    for (const name of names) {
      if (name === LOCK_FILE) continue;
      if (!isStrataFileName(name)) {
        kept.push(name);
        continue;
      }
      fs.unlinkSync(join(dir, name));
      deleted.push(name);
    }
    await fs.fsyncDir(dir);
  } catch (err) {
    lock.release();
    throw toStrataError(err, `destroy: deleting the database at ${dir} failed`, dir);
  }
  lock.release();
  if (fs.existsSync(join(dir, LOCK_FILE))) {
    fs.unlinkSync(join(dir, LOCK_FILE));
    deleted.push(LOCK_FILE);
  }
  let directoryRemoved = false;
  if (kept.length === 0 && fs.rmdirSync !== undefined && fs.readdirSync(dir).length === 0) {
    fs.rmdirSync(dir);
    directoryRemoved = true;
  }
  return { deleted, kept, directoryRemoved };
}
