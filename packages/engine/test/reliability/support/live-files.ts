/**
 * The tables a database image's manifest names, read from the files without opening the
 * database — opening it would run recovery, which deletes orphans and may write new tables
 * (reusing the number of an orphan that a crash left behind).
 */
import { join } from 'node:path';
import type { FileSystem } from '@strata-db/vfs';
import { readCurrent, readManifest } from '../../../src/manifest/manifest.js';

export function liveTableNames(fs: FileSystem, dir: string): Set<string> {
  const { name } = readCurrent(fs, dir);
  const live = new Set<number>();
  for (const edit of readManifest(fs, join(dir, name)).edits) {
    for (const d of edit.deleted) live.delete(d.fileNumber);
    for (const a of edit.added) live.add(a.file.fileNumber);
  }
  return new Set([...live].map((n) => `${String(n).padStart(6, '0')}.sst`));
}
