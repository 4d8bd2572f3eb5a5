/**
 * Flush: the oldest frozen memtable — or the oldest few, merged (minMemtablesToMerge) — becomes
 * an L0 table.
 *
 *   1-2. The background executor (background/flush-table.ts; in this thread, in slices, or in
 *      a worker thread reading the memtable's shared memory) feeds every version
 *      (docs/design-rules.md#r1: flush collapses nothing) and every range tombstone to a
 *      TableBuilder, fsyncs the table and, side by side, the directory (the file's entry
 *      must be durable before the manifest refers to it; it exists since the file was created).
 *   3. logAndApply: add the file to L0 and advance logNumber to the first WAL segment written
 *      after the NEWEST of the memtables froze (the segments before it hold only these
 *      memtables' data and older, flushed data), once the rotation has created that segment.
 *      In the same synchronous step every one of them leaves `frozen`, so a reader sees the data
 *      either in the memtables or in the table (briefly both: harmless, the versions are identical).
 *   4. The WAL segments before logNumber are now redundant and are deleted.
 * A memtable holding nothing (possible after recovery) produces no table, only the edit.
 */
import { invariant } from '@strata-db/errors';
import { tableSettingsOf } from '../background/jobs.js';
import { tablePath } from '../db/filenames.js';
import type { DbCore, FrozenEntry } from '../db/core.js';
import { toStrataError } from '../errors.js';
import type { FileMetadata } from '../version/file-metadata.js';
import { VersionEdit } from '../version/version-edit.js';

export function flushMemtable(core: DbCore, entry: FrozenEntry): Promise<void> {
  return flushMemtables(core, [entry]);
}

/**
 * `entries`: the oldest frozen memtables, oldest first (the flush loop's `oldestFrozen`), each
 * freezing's segment after the one before: one table holds them all.
 */
export async function flushMemtables(core: DbCore, entries: readonly FrozenEntry[]): Promise<void> {
  invariant(entries.length > 0, 'a flush writes at least one memtable');
  for (let i = 1; i < entries.length; i++) invariant(entries[i]!.nextLogNumber > entries[i - 1]!.nextLogNumber, 'a merged flush takes its memtables oldest first');
  const events = core.events;
  const jobId = events.nextJobId();
  const started = performance.now();
  let memtableBytes = 0;
  let entryCount = 0;
  let rangeTombstones = 0;
  for (const { mem } of entries) {
    memtableBytes += mem.approximateBytes();
    entryCount += mem.entryCount;
    rangeTombstones += mem.rangeTombstoneCount;
  }
  events.emit({ type: 'flush-begin', jobId, memtableBytes, entries: entryCount, rangeTombstones, memtables: entries.length });
  try {
    const meta = await writeAndInstall(core, entries);
    events.emit({ type: 'flush-end', jobId, fileNumber: meta?.fileNumber, bytes: meta?.fileSize ?? 0, durationMs: performance.now() - started });
  } catch (err) {
    const error = toStrataError(err, 'flush failed');
    events.emit({ type: 'flush-end', jobId, fileNumber: undefined, bytes: 0, durationMs: performance.now() - started, error });
    throw error;
  }
  await deleteObsoleteSegments(core, entries);
}

/** Steps 1–3: the table (if any) is written, synced and installed; returns it. */
async function writeAndInstall(core: DbCore, entries: readonly FrozenEntry[]): Promise<FileMetadata | undefined> {
  const { versions, dir, opts } = core;
  // Empty ones (possible after recovery) add nothing to the table.
  const mems = entries.map((e) => e.mem).filter((m) => m.entryCount > 0 || m.rangeTombstoneCount > 0);
  const edit = new VersionEdit();
  edit.logNumber = entries[entries.length - 1]!.nextLogNumber;
  let meta: FileMetadata | undefined;
  if (mems.length > 0) {
    const fileNumber = versions.newFileNumber();
    const path = tablePath(dir, fileNumber);
    try {
      // L0 codec (compressionFor); blocks are compressed one at a time as they fill.
      const r = await core.executor.flush(
        mems,
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
  // The edit names segment nextLogNumber: it must exist first. A follower reading this edit
  // lists the segments from logNumber on and takes a missing one for a deleted one
  // (db/follower.ts, readWal); a small flush can finish before the rotation queued behind the
  // WAL's group in flight has created it. The rotation runs meanwhile, so this rarely waits.
  for (const entry of entries) await entry.rotated;
  await versions.logAndApply(edit, () => {
    for (const entry of entries) core.retireFrozen(entry);
  });
  core.counters.flushes++;
  if (meta !== undefined) {
    core.counters.flushBytesWritten += meta.fileSize;
    core.events.emit({ type: 'table-created', fileNumber: meta.fileNumber, level: 0, bytes: meta.fileSize, reason: 'flush' });
  }
  return meta;
}

/** Step 4. */
async function deleteObsoleteSegments(core: DbCore, entries: readonly FrozenEntry[]): Promise<void> {
  // The rotations completed before the edit was installed (writeAndInstall).
  if (core.backgroundError !== undefined) return;
  try {
    for (const n of await core.wal.deleteSegmentsBefore(entries[entries.length - 1]!.nextLogNumber)) core.events.emit({ type: 'wal-deleted', segment: n });
  } catch (err) {
    // The deletion ends with a directory fsync: a failed sync is never ignored (the shared
    // rules), so the database turns read-only. The segments themselves are harmless: replay
    // ignores segments below logNumber and a later open deletes them.
    core.setBackgroundError(err, 'deleting obsolete WAL segments failed');
  }
}
