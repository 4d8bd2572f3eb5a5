/**
 * The table-writing half of a flush, shared by both executors: every version of one or more
 * frozen memtables (seed rule 4: flush collapses nothing; several are merged in table order by
 * memtable-merge.ts) and every range tombstone, as written, go to a TableBuilder, consumed in
 * the memtable's own entry types (no translation); then the table and its directory are fsynced,
 * side by side. In a worker thread each memtable is the read-only view over the shared memory of
 * the one the main thread still serves reads from.
 */
import type { MemtableReader } from '@strata-db/memtable';
import { TableBuilder } from '@strata-db/sstable-builder';
import { tablePath } from '../db/filenames.js';
import type { FileSystem } from '@strata-db/vfs';
import { fileMetadataOf, type FileMetadata } from '../version/file-metadata.js';
import type { FlushJob } from './jobs.js';
import { mergedFlushEntries, mergedFlushTombstones } from './memtable-merge.js';
import type { Pace } from './pace.js';

/**
 * `mems`: oldest first, at least one. `warn` hears of a failure the flush survives (the
 * unfinished table could not be removed).
 */
export async function writeFlushTable(
  mems: readonly MemtableReader[],
  job: FlushJob,
  fs: FileSystem,
  pace: Pace,
  warn?: (message: string, err: unknown) => void,
): Promise<FileMetadata> {
  const path = tablePath(job.dir, job.fileNumber);
  let builder: TableBuilder | undefined = new TableBuilder(path, { fs, fileNumber: job.fileNumber, createdAt: job.createdAt, ...job.table });
  try {
    let n = 0;
    for (const e of mergedFlushEntries(mems)) {
      builder.add(e);
      if ((++n & 31) === 0) {
        const y = pace.maybeYield();
        if (y !== undefined) await y;
      }
    }
    for (const t of mergedFlushTombstones(mems)) builder.addTombstone(t);
    pace.end();
    // The table's entry in the directory exists since the builder created the file: its
    // directory sync runs beside the table's own fsync instead of after it. Both end before
    // this resolves, so the manifest edit still refers only to a durable file in a durable
    // directory — one fsync's latency less on every flush, which is what a writer waits for
    // when two frozen memtables are queued (the memtables write stall).
    const dirSynced = fs.fsyncDir(job.dir);
    dirSynced.catch(() => undefined); // observed below; never an unhandled rejection if finish fails first
    const meta = await builder.finish();
    builder = undefined;
    await dirSynced;
    return fileMetadataOf(meta);
  } catch (err) {
    try {
      builder?.abandon();
    } catch (abandonErr) {
      // The flush error is what the caller sees; the table left behind is an orphan.
      warn?.(`abandoning the unfinished table ${path} failed (it is removed at the next open)`, abandonErr);
    }
    throw err;
  }
}
