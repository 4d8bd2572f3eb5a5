/**
 * Table properties: what the manifest, compaction picking and `stats()` want to know about a
 * table without scanning it. Stored as a block in block-format.ts with one entry per property,
 * sorted by name: key = the name in ASCII, seq = 0, value = the encoded value:
 *
 *   number    varint (all are safe integers ≥ 0)
 *   boolean   varint 0 / 1
 *   bytes     raw (keys)
 *   string    UTF-8
 *
 * A reader ignores names it does not know (newer writers may add some) and rejects a table that
 * lacks one it needs. `smallestKey`/`largestKey` cover points and range tombstones alike; when
 * the largest bound is a tombstone's exclusive end, `largestExclusive` is true.
 */
import { EntryKind } from '@strata-db/memtable';
import { BlockBuilder, Block, BlockCursor } from './block-format.js';
import { readVarint, ByteWriter } from './coding.js';
import { corruption } from '@strata-db/errors';

export interface TableProperties {
  /** Point entries (every version; puts and deletes). */
  readonly entryCount: number;
  /** Point entries of kind Delete. */
  readonly deleteCount: number;
  /** Range tombstones. */
  readonly tombstoneCount: number;
  /**
   * The builder's deletion trigger fired (a window of entries dense with Deletes): compaction
   * should take the table soon. False in tables written before the property existed.
   */
  readonly markedForCompaction: boolean;
  readonly dataBlockCount: number;
  /** Smallest key of points and tombstone starts. */
  readonly smallestKey: Uint8Array;
  /** Largest point key or tombstone end. */
  readonly largestKey: Uint8Array;
  /** True when `largestKey` is a tombstone's exclusive end (no entry has that key). */
  readonly largestExclusive: boolean;
  /** Smallest and largest point key (empty when the table holds tombstones only). */
  readonly smallestPointKey: Uint8Array;
  readonly largestPointKey: Uint8Array;
  readonly minSeq: number;
  readonly maxSeq: number;
  /** Sum of user key bytes and value bytes of the point entries, as handed to the builder. */
  readonly rawKeyBytes: number;
  readonly rawValueBytes: number;
  /** Bytes of data blocks on disk, trailers included. */
  readonly dataBytes: number;
  readonly indexBytes: number;
  readonly filterBytes: number;
  readonly blockSize: number;
  readonly restartInterval: number;
  readonly bloomBitsPerKey: number;
  readonly compression: string;
  /** Milliseconds since the epoch when the builder finished. */
  readonly createdAt: number;
  readonly creator: string;
  readonly fileNumber: number;
}

type Kind = 'number' | 'boolean' | 'bytes' | 'string';
const SCHEMA: readonly (readonly [keyof TableProperties, string, Kind, boolean])[] = [
  // [field, stored name, kind, required]
  ['blockSize', 'strata.block-size', 'number', true],
  ['bloomBitsPerKey', 'strata.bloom-bits-per-key', 'number', true],
  ['compression', 'strata.compression', 'string', true],
  ['createdAt', 'strata.created-at', 'number', true],
  ['creator', 'strata.creator', 'string', true],
  ['dataBlockCount', 'strata.data-blocks', 'number', true],
  ['dataBytes', 'strata.data-bytes', 'number', true],
  ['deleteCount', 'strata.deletes', 'number', true],
  ['entryCount', 'strata.entries', 'number', true],
  ['fileNumber', 'strata.file-number', 'number', true],
  ['filterBytes', 'strata.filter-bytes', 'number', true],
  ['indexBytes', 'strata.index-bytes', 'number', true],
  ['largestExclusive', 'strata.largest-exclusive', 'boolean', true],
  ['largestKey', 'strata.largest-key', 'bytes', true],
  ['largestPointKey', 'strata.largest-point-key', 'bytes', true],
  ['markedForCompaction', 'strata.marked-for-compaction', 'boolean', false],
  ['maxSeq', 'strata.max-seq', 'number', true],
  ['minSeq', 'strata.min-seq', 'number', true],
  ['rawKeyBytes', 'strata.raw-key-bytes', 'number', true],
  ['rawValueBytes', 'strata.raw-value-bytes', 'number', true],
  ['restartInterval', 'strata.restart-interval', 'number', true],
  ['smallestKey', 'strata.smallest-key', 'bytes', true],
  ['smallestPointKey', 'strata.smallest-point-key', 'bytes', true],
  ['tombstoneCount', 'strata.tombstones', 'number', true],
];

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: false });

/** The properties block's contents. */
export function encodeProperties(p: TableProperties): Uint8Array {
  const block = new BlockBuilder(1, 1024);
  const value = new ByteWriter(64);
  for (const [field, name, kind] of SCHEMA) {
    const v = p[field];
    value.reset();
    if (kind === 'number') value.putVarint(v as number);
    else if (kind === 'boolean') value.putVarint(v === true ? 1 : 0);
    else if (kind === 'bytes') value.putBytes(v as Uint8Array);
    else value.putBytes(utf8.encode(v as string));
    block.add(utf8.encode(name), 0, EntryKind.Put, value.bytes().slice());
  }
  return block.finish().slice();
}

const DATA_BLOCKS = utf8.encode('strata.data-blocks');

/**
 * `decodeProperties(block).dataBlockCount` without decoding the rest: all a table reader keeps
 * of its properties (table.ts), read at every table open.
 */
export function decodeDataBlockCount(block: Block): number {
  const c = new BlockCursor(block);
  c.seekToFirst();
  while (c.valid()) {
    const k = c.key();
    if (k.length === DATA_BLOCKS.length && k.every((b, i) => b === DATA_BLOCKS[i])) {
      const raw = c.value();
      const src = { data: raw, pos: 0 };
      const n = readVarint(src, raw.length);
      if (n < 0 || src.pos !== raw.length) break;
      return n;
    }
    c.next();
  }
  // Missing or malformed: the full decoder says which, as CORRUPTION.
  return decodeProperties(block).dataBlockCount;
}

export function decodeProperties(block: Block): TableProperties {
  const byName = new Map<string, Uint8Array>();
  const c = new BlockCursor(block);
  c.seekToFirst();
  while (c.valid()) {
    byName.set(fromUtf8.decode(c.key()), c.value());
    c.next();
  }
  const out: Record<string, unknown> = {};
  for (const [field, name, kind, required] of SCHEMA) {
    const raw = byName.get(name);
    if (raw === undefined) {
      if (required) throw corruption(block.file, block.fileOffset, `properties block lacks ${name}`);
      continue;
    }
    if (kind === 'number' || kind === 'boolean') {
      const src = { data: raw, pos: 0 };
      const n = readVarint(src, raw.length);
      if (n < 0 || src.pos !== raw.length) throw corruption(block.file, block.fileOffset, `property ${name} is malformed`);
      out[field] = kind === 'number' ? n : n !== 0;
    } else if (kind === 'bytes') {
      out[field] = raw.slice();
    } else {
      out[field] = fromUtf8.decode(raw);
    }
  }
  out['markedForCompaction'] ??= false;
  return out as unknown as TableProperties;
}
