/**
 * The MANIFEST file format: an append-only log of version edits.
 *
 * File layout
 *   offset 0   8 bytes   magic "STRATAMF"
 *   offset 8   u32 LE    format version (1)
 *   offset 12  records…
 *
 * Record
 *   u32 LE  crc      zlib.crc32 (CRC-32, ISO-HDLC polynomial) of the bytes from `length` to the
 *                    end of the payload, i.e. of [length | type | payload]
 *   u32 LE  length   payload length in bytes
 *   u8      type     1 = version edit (other values are CORRUPTION)
 *   …       payload  the edit, below
 *
 * Edit payload: a sequence of (tag varint, fields); varints are unsigned LEB128 up to 2^53 − 1,
 * and `bytes` is a varint length followed by that many bytes.
 *   tag 1  logNumber       varint   oldest live WAL segment
 *   tag 2  nextFileNumber  varint
 *   tag 3  lastSequence    varint
 *   tag 4  deletedFile     level varint, fileNumber varint
 *   tag 5  newFile         level varint, fileNumber varint, fileSize varint, minSeq varint,
 *                          maxSeq varint, entryCount varint, tombstoneCount varint,
 *                          smallestKey bytes, largestKey bytes
 *                          (written by earlier versions; read as deleteCount 0, not marked)
 *   tag 6  dbId            bytes    the database UUID as ASCII (first record of a manifest)
 *   tag 7  newFile         as tag 5, then deleteCount varint, flags varint (bit 0: marked for
 *                          compaction by the table builder's deletion trigger; other bits 0)
 * An unknown tag is CORRUPTION: a newer format must not be half-understood.
 *
 * A manifest always starts with one record holding a full snapshot of the version (every live
 * file as a newFile, plus all the scalar fields); each later record is a delta. A record is
 * durable once logAndApply's fsync returns; a torn record at the tail (crash mid-append) was
 * never acknowledged and is dropped at recovery, while a bad record followed by a good one is
 * CORRUPTION.
 */
import { crc32 } from 'node:zlib';
import { ByteReader, ByteWriter } from './byte-coding.js';
import { VersionEdit } from '../version/version-edit.js';

export const MANIFEST_MAGIC = Buffer.from('STRATAMF', 'latin1');
export const MANIFEST_VERSION = 1;
export const MANIFEST_HEADER_SIZE = 12;
export const RECORD_HEADER_SIZE = 9;
export const RECORD_TYPE_EDIT = 1;

const Tag = {
  LogNumber: 1,
  NextFileNumber: 2,
  LastSequence: 3,
  DeletedFile: 4,
  NewFile: 5,
  DbId: 6,
  NewFileWithDeletes: 7,
} as const;

const FLAG_MARKED_FOR_COMPACTION = 1;

export function encodeManifestHeader(): Uint8Array {
  const b = Buffer.alloc(MANIFEST_HEADER_SIZE);
  MANIFEST_MAGIC.copy(b, 0);
  b.writeUInt32LE(MANIFEST_VERSION, 8);
  return b;
}

export function encodeEdit(edit: VersionEdit): Uint8Array {
  const w = new ByteWriter();
  if (edit.dbId !== undefined) {
    w.varint(Tag.DbId);
    w.bytes(Buffer.from(edit.dbId, 'latin1'));
  }
  if (edit.logNumber !== undefined) {
    w.varint(Tag.LogNumber);
    w.varint(edit.logNumber);
  }
  if (edit.nextFileNumber !== undefined) {
    w.varint(Tag.NextFileNumber);
    w.varint(edit.nextFileNumber);
  }
  if (edit.lastSequence !== undefined) {
    w.varint(Tag.LastSequence);
    w.varint(edit.lastSequence);
  }
  for (const d of edit.deleted) {
    w.varint(Tag.DeletedFile);
    w.varint(d.level);
    w.varint(d.fileNumber);
  }
  for (const { level, file } of edit.added) {
    w.varint(Tag.NewFileWithDeletes);
    w.varint(level);
    w.varint(file.fileNumber);
    w.varint(file.fileSize);
    w.varint(file.minSeq);
    w.varint(file.maxSeq);
    w.varint(file.entryCount);
    w.varint(file.tombstoneCount);
    w.bytes(file.smallestKey);
    w.bytes(file.largestKey);
    w.varint(file.deleteCount);
    w.varint(file.markedForCompaction ? FLAG_MARKED_FOR_COMPACTION : 0);
  }
  return w.finish();
}

/** Throws RangeError (turned into CORRUPTION by the reader) on a malformed payload. */
export function decodeEdit(payload: Uint8Array): VersionEdit {
  const r = new ByteReader(payload);
  const edit = new VersionEdit();
  while (!r.done) {
    const tag: number = r.varint();
    switch (tag) {
      case Tag.LogNumber:
        edit.logNumber = r.varint();
        break;
      case Tag.NextFileNumber:
        edit.nextFileNumber = r.varint();
        break;
      case Tag.LastSequence:
        edit.lastSequence = r.varint();
        break;
      case Tag.DeletedFile: {
        const level = r.varint();
        edit.deleteFile(level, r.varint());
        break;
      }
      case Tag.NewFile:
      case Tag.NewFileWithDeletes: {
        const level = r.varint();
        const fileNumber = r.varint();
        const fileSize = r.varint();
        const minSeq = r.varint();
        const maxSeq = r.varint();
        const entryCount = r.varint();
        const tombstoneCount = r.varint();
        const smallestKey = r.bytes();
        const largestKey = r.bytes();
        let deleteCount = 0;
        let markedForCompaction = false;
        if (tag === Tag.NewFileWithDeletes) {
          deleteCount = r.varint();
          const flags = r.varint();
          if ((flags & ~FLAG_MARKED_FOR_COMPACTION) !== 0) throw new RangeError(`unknown file flags ${flags}`);
          markedForCompaction = (flags & FLAG_MARKED_FOR_COMPACTION) !== 0;
        }
        edit.addFile(level, { fileNumber, fileSize, minSeq, maxSeq, entryCount, deleteCount, tombstoneCount, markedForCompaction, smallestKey, largestKey });
        break;
      }
      case Tag.DbId:
        edit.dbId = Buffer.from(r.bytes()).toString('latin1');
        break;
      default:
        throw new RangeError(`unknown tag ${tag}`);
    }
  }
  return edit;
}

/** Frames a payload as one record. */
export function encodeRecord(payload: Uint8Array): Uint8Array {
  const rec = Buffer.allocUnsafe(RECORD_HEADER_SIZE + payload.length);
  rec.writeUInt32LE(payload.length, 4);
  rec[8] = RECORD_TYPE_EDIT;
  rec.set(payload, RECORD_HEADER_SIZE);
  rec.writeUInt32LE(crc32(rec.subarray(4)), 0);
  return rec;
}
