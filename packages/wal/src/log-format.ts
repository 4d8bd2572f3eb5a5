/**
 * How records are laid out in a segment, after its 48-byte header (segment-header.ts): LevelDB's
 * log format. The file is a sequence of 32 KiB blocks (the header occupies the start of block 0);
 * a record is cut into fragments so that no fragment crosses a block boundary.
 *
 *   fragment:
 *     offset  size  field
 *          0     4  masked CRC-32 of bytes 4‥(7 + length): the length, the type and the data
 *          4     2  length of the data, u16 LE
 *          6     1  type: 1 FULL, 2 FIRST, 3 MIDDLE, 4 LAST
 *          7   len  data: a slice of the record (batch.ts)
 *
 *   A record is one FULL fragment or FIRST, MIDDLE*, LAST. When fewer than 7 bytes are left in a
 *   block, they are zero-filled (the trailer) and the next fragment starts the next block. A
 *   fragment may have 0 data bytes (a FIRST that exactly fills its block's remaining header room).
 *
 * Why blocks: a damaged length field would otherwise leave the reader nowhere to resume. With
 * blocks it resumes at the next block boundary and loses at most the rest of one block, which is
 * what `skip-any-corrupted` recovery needs. Type 0 is never written, so zeroed space never forms
 * a valid fragment: the CRC of a zero header is not zero.
 *
 * Preallocated space. The writer may extend the active segment with zero bytes ahead of its
 * records (writer.ts: durable appends then overwrite space whose size and blocks are already on
 * disk, so their fdatasync commits no metadata). So a segment is: the header, the records, then
 * optionally ZEROS TO THE END OF THE FILE ("unused" space). The reader ends the records where,
 * at a fragment start (or in a block trailer), every byte to the end of the file is zero — no
 * record can hide there, since a zero fragment is never valid. A record cut short by such zeros
 * (a FIRST/MIDDLE whose next fragment is zeros, or a fragment whose checksum fails) is damage as
 * before, and the zeros after it belong to that damage, not to unused space. Zeros followed by
 * anything non-zero are damage too. The writer cuts the unused space off before it closes or
 * rotates a segment (and replay cuts it off the newest segment after a crash), so only the
 * active segment carries it. No byte of a record changes: a segment without unused space is
 * exactly the LevelDB framing above, and older readers read it.
 *
 * Invariant the reader relies on: the writer writes a trailer in the same write(2) as the fragment
 * that follows it, and never writes to a segment after a failed write. So a file that ends inside
 * a trailer, a non-zero trailer, or a fragment that does not fit are all damage.
 */
import { crc32, mask } from './checksum.js';
import { writeU16, writeU32 } from './little-endian.js';

export const BLOCK_SIZE = 32 * 1024;
export const FRAGMENT_HEADER_SIZE = 7;

const FULL = 1;
const FIRST = 2;
const MIDDLE = 3;
const LAST = 4;

/** Bytes a record of `length` takes when framed starting at file offset `offset`, trailers included. */
export function framedLength(length: number, offset: number): number {
  let pos = offset;
  let left = length;
  do {
    let room = BLOCK_SIZE - (pos % BLOCK_SIZE);
    if (room < FRAGMENT_HEADER_SIZE) {
      pos += room;
      room = BLOCK_SIZE;
    }
    const take = Math.min(left, room - FRAGMENT_HEADER_SIZE);
    pos += FRAGMENT_HEADER_SIZE + take;
    left -= take;
  } while (left > 0);
  return pos - offset;
}

/** Writes a fragment's length, type and checksum around data already at out[pos + 7, pos + 7 + length). */
function sealFragment(out: Buffer, pos: number, length: number, type: number): void {
  writeU16(out, length, pos + 4);
  out[pos + 6] = type;
  // A plain view, not `Buffer#subarray` (JavaScript in Node: see little-endian.ts).
  writeU32(out, mask(crc32(new Uint8Array(out.buffer, out.byteOffset + pos + 4, FRAGMENT_HEADER_SIZE - 4 + length))), pos);
}

/**
 * Whether a record of `length` bytes starting at file offset `offset` is framed as a single FULL
 * fragment right there (no trailer, no split): the writer then encodes it in place.
 */
export function fitsInBlock(length: number, offset: number): boolean {
  return BLOCK_SIZE - (offset % BLOCK_SIZE) >= FRAGMENT_HEADER_SIZE + length;
}

/** Frames a record already encoded at out[pos + 7, pos + 7 + length) as one FULL fragment (see fitsInBlock). */
export function sealFullFragment(out: Buffer, pos: number, length: number): void {
  sealFragment(out, pos, length, FULL);
}

/**
 * Frames `record` into `out` at `outPos`, where `out[outPos]` will land at file offset `offset`.
 * Returns the number of bytes written (= framedLength(record.length, offset)).
 */
export function frameRecord(record: Uint8Array, out: Buffer, outPos: number, offset: number): number {
  const startPos = outPos;
  let fileOffset = offset;
  let left = record.length;
  let taken = 0;
  let first = true; // not `taken === 0`: an empty FIRST fragment takes nothing
  do {
    let room = BLOCK_SIZE - (fileOffset % BLOCK_SIZE);
    if (room < FRAGMENT_HEADER_SIZE) {
      out.fill(0, outPos, outPos + room);
      outPos += room;
      fileOffset += room;
      room = BLOCK_SIZE;
    }
    const take = Math.min(left, room - FRAGMENT_HEADER_SIZE);
    const last = take === left;
    const type = first ? (last ? FULL : FIRST) : last ? LAST : MIDDLE;
    out.set(record.subarray(taken, taken + take), outPos + FRAGMENT_HEADER_SIZE);
    sealFragment(out, outPos, take, type);
    outPos += FRAGMENT_HEADER_SIZE + take;
    fileOffset += FRAGMENT_HEADER_SIZE + take;
    taken += take;
    left -= take;
    first = false;
  } while (left > 0);
  return outPos - startPos;
}

/** A whole record read back, with where its first fragment starts and its last one ends. */
export interface RecordEvent {
  readonly kind: 'record';
  readonly offset: number;
  readonly end: number;
  readonly payload: Uint8Array;
}

/** Bytes [offset, end) that do not form valid records; `reason` describes the first problem. */
export interface DamageEvent {
  readonly kind: 'damage';
  readonly offset: number;
  readonly end: number;
  readonly reason: string;
  /**
   * An intact fragment that starts a record (FULL or FIRST) lies inside the range, after the bad
   * bytes: the damage did not cut off the end of what was written, so it is not a torn tail.
   * (The reader still resumes only at the next block; see `findRecordStart`.)
   */
  readonly hidesRecordStart: boolean;
}

/** Zeros from `offset` to the end of the file (`end`), after the last record: preallocated space, not damage. */
export interface UnusedEvent {
  readonly kind: 'unused';
  readonly offset: number;
  readonly end: number;
}

export type SegmentEvent = RecordEvent | DamageEvent | UnusedEvent;

function fragmentIntact(view: Buffer, pos: number, limit: number): boolean {
  const dataEnd = pos + FRAGMENT_HEADER_SIZE + view.readUInt16LE(pos + 4);
  return dataEnd <= limit && view.readUInt32LE(pos) === mask(crc32(view.subarray(pos + 4, dataEnd)));
}

/**
 * Whether an intact FULL or FIRST fragment starts anywhere in [from, limit). Used only to tell a
 * torn tail from damage with records behind it, never to resume reading: a record's data may
 * itself contain bytes that look like a fragment (a WAL stored as a value), and resuming there
 * could replay a batch nobody wrote. Cheap: the type byte rejects all but 2/256 of positions.
 */
function findRecordStart(view: Buffer, from: number, limit: number): boolean {
  for (let pos = from; pos + FRAGMENT_HEADER_SIZE <= limit; pos++) {
    const type = view[pos + 6];
    if ((type === FULL || type === FIRST) && fragmentIntact(view, pos, limit)) return true;
  }
  return false;
}

function allZero(data: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (data[i] !== 0) return false;
  return true;
}

/**
 * Reads the records of a segment's bytes from `start` (just past the header), in file order,
 * interleaved with the damaged ranges between them. Every byte from `start` to the end is covered
 * by exactly one event, except intact block trailers (zero padding, which carries nothing); an
 * all-zero end of the file is one `unused` event, the last. Intact records' payloads are views
 * into `data` when they are one fragment.
 */
export function readSegmentRecords(data: Uint8Array, start: number): SegmentEvent[] {
  const events: SegmentEvent[] = [];
  const view = Buffer.from(data.buffer, data.byteOffset, data.length);
  const size = data.length;
  let pending: { start: number; parts: Uint8Array[] } | undefined;

  const damage = (from: number, to: number, reason: string, hidesRecordStart = false): void => {
    // A torn record's damage starts where the record started, so it may swallow trailer damage
    // already reported inside it.
    let last = events.at(-1);
    while (last?.kind === 'damage' && last.offset >= from) {
      events.pop();
      reason = last.reason;
      hidesRecordStart ||= last.hidesRecordStart;
      last = events.at(-1);
    }
    if (last?.kind === 'damage' && last.end >= from) {
      events[events.length - 1] = { ...last, end: Math.max(last.end, to), hidesRecordStart: last.hidesRecordStart || hidesRecordStart };
    } else {
      events.push({ kind: 'damage', offset: from, end: to, reason, hidesRecordStart });
    }
  };
  const abandonPending = (to: number, reason: string): void => {
    if (pending !== undefined) damage(pending.start, to, reason);
    pending = undefined;
  };

  let pos = start;
  while (pos < size) {
    if (data[pos] === 0 && allZero(data, pos, size)) {
      // Zeros to the end of the file: unused (preallocated) space after the last record — unless
      // a record was cut short by them, whose damage then runs to the end of the file.
      const last = events.at(-1);
      if (pending !== undefined) damage(pending.start, size, 'record torn by the end of the written data');
      else if (last?.kind === 'damage' && last.end >= pos) damage(pos, size, last.reason);
      else events.push({ kind: 'unused', offset: pos, end: size });
      pending = undefined;
      pos = size;
      break;
    }
    const blockEnd = pos - (pos % BLOCK_SIZE) + BLOCK_SIZE;
    if (blockEnd - pos < FRAGMENT_HEADER_SIZE) {
      if (blockEnd > size) break; // the file ends inside a trailer: a torn write
      if (!allZero(data, pos, blockEnd)) damage(pos, blockEnd, 'non-zero block trailer');
      pos = blockEnd;
      continue;
    }
    if (size - pos < FRAGMENT_HEADER_SIZE) break; // torn fragment header
    const fragmentStart = pos;
    const length = view.readUInt16LE(pos + 4);
    const type = view[pos + 6];
    const dataEnd = pos + FRAGMENT_HEADER_SIZE + length;
    const limit = Math.min(blockEnd, size);
    let problem: string | undefined;
    if (dataEnd > limit) {
      problem = dataEnd > blockEnd ? `fragment length ${length} runs past its block` : 'fragment torn by the end of the file';
    } else if (!fragmentIntact(view, pos, limit)) {
      problem = 'fragment checksum mismatch';
    } else if (type === undefined || type < FULL || type > LAST) {
      problem = `unknown fragment type ${type}`;
    }
    if (problem !== undefined) {
      // The length cannot be trusted, so the next fragment cannot be located: resume at the next block.
      damage(pending?.start ?? fragmentStart, limit, problem, findRecordStart(view, fragmentStart + 1, limit));
      pending = undefined;
      pos = limit;
      continue;
    }
    const fragment = data.subarray(pos + FRAGMENT_HEADER_SIZE, dataEnd);
    pos = dataEnd;
    if (type === FULL || type === FIRST) {
      abandonPending(fragmentStart, 'record is missing its last fragment');
      if (type === FULL) events.push({ kind: 'record', offset: fragmentStart, end: dataEnd, payload: fragment });
      else pending = { start: fragmentStart, parts: [fragment] };
    } else if (pending === undefined) {
      damage(fragmentStart, dataEnd, 'fragment without the start of its record');
    } else {
      pending.parts.push(fragment);
      if (type === LAST) {
        events.push({ kind: 'record', offset: pending.start, end: dataEnd, payload: Buffer.concat(pending.parts) });
        pending = undefined;
      }
    }
  }
  if (pos < size) damage(pending?.start ?? pos, size, 'record torn by the end of the file');
  else abandonPending(size, 'record torn by the end of the file');
  return events;
}
