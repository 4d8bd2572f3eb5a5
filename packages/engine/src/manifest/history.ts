/**
 * The live manifest read as a history, for inspection tools (`strata dump-manifest`,
 * `strata lsm`): every version edit in file order with where its record starts, and the
 * Version each edit leaves behind is the fold of the edits up to it. Reads through CURRENT;
 * writes nothing. The format is manifest/format.ts; the reading (and what a torn tail or
 * damage means) is manifest.ts's.
 */
import { join } from 'node:path';
import { nodeFileSystem, type FileSystem } from '@strata-db/vfs';
import type { FileMetadata } from '../version/file-metadata.js';
import { readCurrent, readManifest } from './manifest.js';

export interface ManifestRecord {
  /** Byte offset of the record in the manifest file. */
  readonly offset: number;
  readonly dbId: string | undefined;
  readonly logNumber: number | undefined;
  readonly nextFileNumber: number | undefined;
  readonly lastSequence: number | undefined;
  readonly added: readonly { readonly level: number; readonly file: FileMetadata }[];
  readonly deleted: readonly { readonly level: number; readonly fileNumber: number }[];
}

export interface ManifestHistory {
  readonly file: string;
  readonly fileSize: number;
  /** Bytes up to the end of the last whole record (less than fileSize after a torn append). */
  readonly validSize: number;
  /** The first record is a full snapshot of the version; each later one is a delta. */
  readonly records: readonly ManifestRecord[];
}

/** Reads the manifest CURRENT names in `dir`. CORRUPTION for damage, IO_ERROR if unreadable. */
export function readManifestHistory(dir: string, fs: FileSystem = nodeFileSystem): ManifestHistory {
  const file = join(dir, readCurrent(fs, dir).name);
  const { edits, offsets, validSize } = readManifest(fs, file);
  const records = edits.map(
    (e, i): ManifestRecord => ({
      offset: offsets[i]!,
      dbId: e.dbId,
      logNumber: e.logNumber,
      nextFileNumber: e.nextFileNumber,
      lastSequence: e.lastSequence,
      added: e.added,
      deleted: e.deleted,
    }),
  );
  return { file, fileSize: fs.readFileSync(file).length, validSize, records };
}
