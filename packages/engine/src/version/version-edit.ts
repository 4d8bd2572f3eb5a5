/**
 * A VersionEdit is the delta between two Versions: the unit the manifest records and
 * `VersionSet.logAndApply` installs. Fields left undefined keep their previous value.
 */
import type { FileMetadata } from './file-metadata.js';

export interface NewFile {
  readonly level: number;
  readonly file: FileMetadata;
}

export interface DeletedFile {
  readonly level: number;
  readonly fileNumber: number;
}

export class VersionEdit {
  /** Oldest WAL segment still needed: every older segment is fully in tables. */
  logNumber: number | undefined;
  nextFileNumber: number | undefined;
  lastSequence: number | undefined;
  /** Written in the first record of every manifest, checked at recovery. */
  dbId: string | undefined;
  readonly added: NewFile[] = [];
  readonly deleted: DeletedFile[] = [];

  addFile(level: number, file: FileMetadata): this {
    this.added.push({ level, file });
    return this;
  }

  deleteFile(level: number, fileNumber: number): this {
    this.deleted.push({ level, fileNumber });
    return this;
  }
}
