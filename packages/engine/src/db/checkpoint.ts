/**
 * `db.checkpoint(dir)`: an openable, consistent copy of the database in a new directory, made
 * while it keeps serving reads and writes (RocksDB's Checkpoint::CreateCheckpoint).
 *
 * Consistency. In ONE synchronous step — nothing of the database can change in between — the
 * current Version is pinned (its tables cannot be deleted until the copy is done), its
 * description is taken (tables per level, logNumber, last sequence), and the bytes of every WAL
 * segment ≥ logNumber are read. Everything acknowledged before the call is in those tables or
 * those segments: a memtable's data leaves the WAL only once a Version holding its table is
 * installed, and that Version is the pinned one or an older one. Records written to the WAL
 * after the acknowledged ones are copied too when they are already there: the WAL is written in
 * sequence order, so the copy opens at a prefix of the writer's sequence — the state at some
 * sequence ≥ the last write acknowledged before the call. A record torn in the middle of its
 * write is dropped as a torn tail when the copy opens (the default walRecovery).
 *
 * Layout. `dir` must not exist. The copy is written into it in an order that makes an
 * interrupted checkpoint fail loudly instead of opening as something else: tables, WAL segments
 * and the manifest, each synced; then CURRENT; then IDENTITY last, and the directory synced. A
 * directory cut off before IDENTITY is refused at open (CORRUPTION: CURRENT without IDENTITY),
 * never taken for a new empty database. Tables are hard links when the file
 * layer can make them (same file system: no bytes copied, and table files are immutable, so
 * sharing them is safe), copies otherwise (another file system, or a layer without links). The
 * manifest is a fresh one holding the pinned Version as a snapshot; IDENTITY and the WAL segments
 * are copied (the segments carry the database UUID, so the copy keeps the same IDENTITY).
 */
import { dirname, join } from 'node:path';
import { listSegments, segmentFileName } from '@strata-db/wal';
import { StrataError, toStrataError } from '../errors.js';
import type { FileSystem } from '@strata-db/vfs';
import { ManifestWriter, setCurrent } from '../manifest/manifest.js';
import type { DbCore } from './core.js';
import { IDENTITY_FILE, tableFileName, tablePath } from './filenames.js';

export interface CheckpointReport {
  /** The directory written. */
  readonly dir: string;
  /** The last sequence number of the tables and manifest copied (the WAL copy may add more). */
  readonly manifestSequence: number;
  readonly tables: number;
  /** Tables hard-linked, and tables copied (another file system or no link support). */
  readonly linked: number;
  readonly copied: number;
  readonly bytesCopied: number;
  readonly walSegments: readonly number[];
}

const COPY_CHUNK = 1 << 20;

const yieldNow = (): Promise<void> =>
  new Promise((resolve) => {
    setImmediate(resolve);
  });

export async function createCheckpoint(core: DbCore, target: string): Promise<CheckpointReport> {
  const fs = core.fs;
  if (fs.existsSync(target)) throw new StrataError('EXISTS', `checkpoint: ${target} already exists; give a path that does not exist yet`, { file: target });
  const staging = target;

  // ---- the one synchronous step: what the copy holds --------------------------------------
  const versions = core.versions;
  const version = versions.pinCurrent();
  try {
    const edit = versions.snapshotEdit(version);
    const manifestNumber = versions.newFileNumber();
    edit.nextFileNumber = manifestNumber + 1;
    const logNumber = versions.logNumber;
    const segments = listSegments(core.dir, fs).filter((n) => n >= logNumber);
    const walBytes = segments.map((n) => fs.readFileSync(join(core.dir, segmentFileName(n))));
    const identity = fs.readFileSync(join(core.dir, IDENTITY_FILE));
    // ---- from here on the database may change: the pinned tables stay, the rest is in memory.

    fs.mkdirSync(staging, { recursive: true });
    let linked = 0;
    let copied = 0;
    let bytesCopied = 0;
    const tables = [...version.allFiles()];
    for (const { file } of tables) {
      const from = tablePath(core.dir, file.fileNumber);
      const to = join(staging, tableFileName(file.fileNumber));
      if (tryLink(fs, from, to)) {
        linked++;
        continue;
      }
      bytesCopied += await copyFile(fs, from, to);
      copied++;
    }
    for (let i = 0; i < segments.length; i++) await writeWhole(fs, join(staging, segmentFileName(segments[i]!)), walBytes[i]!);
    const manifest = await ManifestWriter.create(fs, staging, manifestNumber, edit);
    manifest.close((err) => {
      core.events.warn(`closing the checkpoint manifest in ${staging} failed (it was synced)`, err);
    });
    await fs.fsyncDir(staging);
    await setCurrent(fs, staging, manifestNumber);
    // Last: until IDENTITY exists the directory cannot be opened (see the top of the file).
    await writeWhole(fs, join(staging, IDENTITY_FILE), identity);
    await fs.fsyncDir(staging);
    await fs.fsyncDir(dirname(target));
    return { dir: target, manifestSequence: edit.lastSequence ?? 0, tables: tables.length, linked, copied, bytesCopied, walSegments: segments };
  } catch (err) {
    throw toStrataError(err, `checkpoint to ${target} failed (the unfinished copy there does not open: remove it)`, target);
  } finally {
    version.unref();
  }
}

/** A hard link when the layer has them and `from` and `to` are on one file system. */
function tryLink(fs: FileSystem, from: string, to: string): boolean {
  if (fs.linkSync === undefined) return false;
  try {
    fs.linkSync(from, to);
    return true;
  } catch (err) {
    // EXDEV (another file system), EPERM (a file system without links): copy instead.
    const code = (err as { code?: unknown }).code;
    if (code === 'EXDEV' || code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') return false;
    throw err;
  }
}

/** Copies an immutable file in chunks, yielding to the event loop between them; fsyncs it. */
async function copyFile(fs: FileSystem, from: string, to: string): Promise<number> {
  const src = fs.openSync(from, 'r');
  try {
    const dst = fs.openSync(to, 'wx');
    try {
      const size = fs.fstatSync(src).size;
      const buf = new Uint8Array(Math.min(COPY_CHUNK, Math.max(size, 1)));
      let pos = 0;
      while (pos < size) {
        const n = fs.readSync(src, buf, 0, Math.min(buf.length, size - pos), pos);
        if (n <= 0) throw new StrataError('IO_ERROR', `checkpoint: ${from} ended at ${pos} of ${size} bytes while being copied`, { file: from, offset: pos });
        let off = 0;
        while (off < n) {
          const w = fs.writeSync(dst, buf, off, n - off, pos + off);
          if (w <= 0) throw new StrataError('IO_ERROR', `checkpoint: writing ${to} made no progress`, { file: to, offset: pos + off });
          off += w;
        }
        pos += n;
        await yieldNow();
      }
      await fs.fsync(dst);
      return size;
    } finally {
      fs.closeSync(dst);
    }
  } finally {
    fs.closeSync(src);
  }
}

async function writeWhole(fs: FileSystem, path: string, bytes: Uint8Array): Promise<void> {
  const fd = fs.openSync(path, 'wx');
  try {
    let off = 0;
    while (off < bytes.length) {
      const w = fs.writeSync(fd, bytes, off, bytes.length - off, off);
      if (w <= 0) throw new StrataError('IO_ERROR', `checkpoint: writing ${path} made no progress`, { file: path, offset: off });
      off += w;
    }
    await fs.fsync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
