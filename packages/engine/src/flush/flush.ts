/**
 * Flush: the oldest frozen memtable becomes an L0 table.
 *
 *   1-2. The background executor (background/flush-table.ts; in this thread, in slices, or in
 *      a worker thread reading the memtable's shared memory) feeds every version
 *      (docs/design-rules.md#r1: flush collapses nothing) and every range tombstone to a
 *      TableBuilder, fsyncs the table and, side by side, the directory (the file's entry
 *      must be durable before the manifest refers to it; it exists since the file was created).
 *   3. logAndApply: add the file to L0 and advance logNumber to the first WAL segment written
 *      after the memtable froze. In the same synchronous step the memtable leaves `frozen`, so a
 *      reader sees the data either in the memtable or in the table (briefly both: harmless, the
 *      versions are identical).
 *   4. The WAL segments before logNumber are now redundant and are deleted.
 * A memtable holding nothing (possible after recovery) produces no table, only the edit.
 */
import { tableSettingsOf } from '../background/jobs.js';
import { tablePath } from '../db/filenames.js';
import type { DbCore, FrozenEntry } from '../db/core.js';
import { toStrataError } from '../errors.js';
import type { FileMetadata } from '../version/file-metadata.js';
import { VersionEdit } from '../version/version-edit.js';

export async function flushMemtable(core: DbCore, entry: FrozenEntry): Promise<void> {
  const mem = entry.mem;
  const events = core.events;
  const jobId = events.nextJobId();
  const started = performance.now();
  events.emit({ type: 'flush-begin', jobId, memtableBytes: mem.approximateBytes(), entries: mem.entryCount, rangeTombstones: mem.rangeTombstoneCount });
  try {
    const meta = await writeAndInstall(core, entry);
    events.emit({ type: 'flush-end', jobId, fileNumber: meta?.fileNumber, bytes: meta?.fileSize ?? 0, durationMs: performance.now() - started });
  } catch (err) {
    const error = toStrataError(err, 'flush failed');
    events.emit({ type: 'flush-end', jobId, fileNumber: undefined, bytes: 0, durationMs: performance.now() - started, error });
    throw error;
  }
  await deleteObsoleteSegments(core, entry);
}

/** Steps 1–3: the table (if any) is written, synced and installed; returns it. */
async function writeAndInstall(core: DbCore, entry: FrozenEntry): Promise<FileMetadata | undefined> {
  const { versions, dir, opts } = core;
  const mem = entry.mem;
  const edit = new VersionEdit();
  edit.logNumber = entry.nextLogNumber;
  let meta: FileMetadata | undefined;
  if (mem.entryCount > 0 || mem.rangeTombstoneCount > 0) {
    const fileNumber = versions.newFileNumber();
    const path = tablePath(dir, fileNumber);
    try {
      // L0 codec (compressionFor); blocks are compressed one at a time as they fill.
      const r = await core.executor.flush(
        mem,
        { dir, fileNumber, table: tableSettingsOf(opts, 0, false), createdAt: Date.now() },
        { warn: (message, err) => { core.events.warn(message, err); } },
      );
      if (r.maxSliceMs > core.counters.flushMaxSliceMs) core.counters.flushMaxSliceMs = r.maxSliceMs;
      meta = r.meta;
      edit.addFile(0, meta);
    } catch (err) {
      throw toStrataError(err, `flushing a memtable to ${path} failed`, path);
    }
  }
  await versions.logAndApply(edit, () => {
    core.retireFrozen(entry);
  });
  core.counters.flushes++;
  if (meta !== undefined) {
    core.counters.flushBytesWritten += meta.fileSize;
    core.events.emit({ type: 'table-created', fileNumber: meta.fileNumber, level: 0, bytes: meta.fileSize, reason: 'flush' });
  }
  return meta;
}

/** Step 4. */
async function deleteObsoleteSegments(core: DbCore, entry: FrozenEntry): Promise<void> {
  // The rotation queued when the memtable froze may still be in flight (a small flush can beat
  // it): the segments before nextLogNumber are closed only once it completed.
  await entry.rotated;
  if (core.backgroundError !== undefined) return;
  try {
    for (const n of await core.wal.deleteSegmentsBefore(entry.nextLogNumber)) core.events.emit({ type: 'wal-deleted', segment: n });
  } catch (err) {
    // The deletion ends with a directory fsync: a failed sync is never ignored (the shared
    // rules), so the database turns read-only. The segments themselves are harmless: replay
    // ignores segments below logNumber and a later open deletes them.
    core.setBackgroundError(err, 'deleting obsolete WAL segments failed');
  }
}
