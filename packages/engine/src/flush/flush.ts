/**
 * Flush: the oldest frozen memtable becomes an L0 table.
 *
 *   1. Feed every version (docs/design-rules.md#r1: flush collapses nothing) and every range tombstone to a
 *      TableBuilder, in slices: every ~4 ms of work it yields to the event loop (setImmediate),
 *      so reads and writes keep being served while a large memtable is written.
 *   2. finish() fsyncs the table; then the directory is fsynced (the file's entry must be
 *      durable before the manifest refers to it).
 *   3. logAndApply: add the file to L0 and advance logNumber to the first WAL segment written
 *      after the memtable froze. In the same synchronous step the memtable leaves `frozen`, so a
 *      reader sees the data either in the memtable or in the table (briefly both: harmless, the
 *      versions are identical).
 *   4. The WAL segments before logNumber are now redundant and are deleted.
 * A memtable holding nothing (possible after recovery) produces no table, only the edit.
 */
import { TableBuilder } from '@strata-db/sstable-builder';
import { tablePath } from '../db/filenames.js';
import type { DbCore, FrozenEntry } from '../db/core.js';
import { toStrataError } from '../errors.js';
import { compressionFor } from '../options.js';
import { Slicer } from './slicer.js';
import { fileMetadataOf, type FileMetadata } from '../version/file-metadata.js';
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
  const { versions, fs, dir, opts } = core;
  const mem = entry.mem;
  const edit = new VersionEdit();
  edit.logNumber = entry.nextLogNumber;
  let meta: FileMetadata | undefined;
  if (mem.entryCount > 0 || mem.rangeTombstoneCount > 0) {
    const fileNumber = versions.newFileNumber();
    const path = tablePath(dir, fileNumber);
    let builder: TableBuilder | undefined;
    try {
      // Blocks are compressed one at a time as they fill, inside the slices below.
      builder = new TableBuilder(path, {
        fs,
        blockSize: opts.blockSize,
        bloomBitsPerKey: opts.bloomBitsPerKey,
        compression: compressionFor(opts, 0, false),
        fileNumber,
      });
      const slicer = new Slicer();
      let n = 0;
      for (const e of mem.flushEntries()) {
        builder.add(e);
        if ((++n & 31) === 0) {
          const y = slicer.maybeYield();
          if (y !== undefined) await y;
        }
      }
      for (const t of mem.flushTombstones()) builder.addTombstone(t);
      slicer.end();
      if (slicer.maxSliceMs > core.counters.flushMaxSliceMs) core.counters.flushMaxSliceMs = slicer.maxSliceMs;
      const m = await builder.finish();
      builder = undefined;
      await fs.fsyncDir(dir);
      meta = fileMetadataOf(m);
      edit.addFile(0, meta);
    } catch (err) {
      try {
        builder?.abandon();
      } catch (abandonErr) {
        // The flush error is what the caller sees; the table left behind is an orphan.
        core.events.warn(`abandoning the unfinished table ${path} failed (it is removed at the next open)`, abandonErr);
      }
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
