import { describe, expect, it } from 'vitest';
import { EntryKind } from '@strata-db/memtable';
import { Block, BlockBuilder, BlockCursor } from './block-format.js';
import { checksum } from './checksum.js';
import { ByteWriter } from './coding.js';
import { decodeFooter, decodePartitionEntry, encodeFooter, encodePartitionEntry, FOOTER_SIZE, FORMAT_VERSION } from './format.js';
import { decodeDataBlockCount, decodeProperties, encodeProperties, type TableProperties } from './properties.js';

describe('footer', () => {
  const footer = { metaIndex: { offset: 5_000_000_123, size: 77 }, index: { offset: 5_000_000_205, size: 4096 } };
  it('is 40 bytes and round-trips (offsets past 4 GiB too)', () => {
    const bytes = encodeFooter(footer);
    expect(bytes.length).toBe(FOOTER_SIZE);
    expect(decodeFooter(bytes, 't.sst', 6_000_000_000)).toEqual({ ...footer, version: FORMAT_VERSION });
  });
  it('rejects bad magic, a bad checksum, an unknown version and handles past the data', () => {
    const bytes = encodeFooter(footer);
    const magic = bytes.slice();
    magic[39] = 0;
    expect(() => decodeFooter(magic, 't.sst', 6_000_000_000)).toThrow(/magic/);
    const crc = bytes.slice();
    crc[3]! ^= 1;
    expect(() => decodeFooter(crc, 't.sst', 6_000_000_000)).toThrow(/checksum/);
    expect(() => decodeFooter(bytes, 't.sst', 1000)).toThrow(expect.objectContaining({ code: 'CORRUPTION', offset: 1000 }));
    // Version 3 (a newer writer), with a valid checksum: refused, naming the version's offset.
    const v3 = bytes.slice();
    v3[24] = 3;
    v3.set(new Uint8Array(new Uint32Array([checksum(v3.subarray(0, 28))]).buffer), 28);
    expect(() => decodeFooter(v3, 't.sst', 6_000_000_000)).toThrow(expect.objectContaining({ code: 'CORRUPTION', offset: 6_000_000_024 }));
  });
});

describe('top-level index entry', () => {
  it('round-trips with and without a filter handle; garbage and handles past the data are refused', () => {
    const index = { offset: 5_000_000_000, size: 4100 };
    const filter = { offset: 4_999_990_000, size: 7000 };
    for (const e of [{ index, firstBlock: 170, filter }, { index, firstBlock: 0, filter: undefined }]) {
      const w = new ByteWriter(32);
      encodePartitionEntry(e, w);
      const data = w.bytes().slice();
      expect(decodePartitionEntry({ data, pos: 0 }, data.length, 6_000_000_000)).toEqual(e);
      expect(decodePartitionEntry({ data, pos: 0 }, data.length, 5_000_000_000)).toBeUndefined();
      expect(decodePartitionEntry({ data, pos: 0 }, data.length - 1, 6_000_000_000)).toBeUndefined();
    }
  });
});

describe('properties', () => {
  it('round-trip through a block; a missing required property is CORRUPTION', () => {
    const p: TableProperties = {
      entryCount: 10,
      deleteCount: 2,
      tombstoneCount: 1,
      markedForCompaction: true,
      dataBlockCount: 3,
      smallestKey: new Uint8Array([1]),
      largestKey: new Uint8Array([9, 9]),
      largestExclusive: true,
      smallestPointKey: new Uint8Array([1]),
      largestPointKey: new Uint8Array([8]),
      minSeq: 1,
      maxSeq: 2 ** 40,
      rawKeyBytes: 100,
      rawValueBytes: 1000,
      dataBytes: 900,
      indexBytes: 40,
      filterBytes: 13,
      blockSize: 4096,
      restartInterval: 16,
      bloomBitsPerKey: 10,
      compression: 'snappy',
      createdAt: 1_764_000_000_000,
      creator: 'test',
      fileNumber: 12,
    };
    const decoded = decodeProperties(new Block(encodeProperties(p), 't.sst', 0));
    expect(decoded).toEqual(p);
    // A table written before strata.marked-for-compaction existed reads as not marked.
    const old = new BlockBuilder(1);
    const c = new BlockCursor(new Block(encodeProperties(p), 't.sst', 0));
    c.seekToFirst();
    while (c.valid()) {
      if (new TextDecoder().decode(c.key()) !== 'strata.marked-for-compaction') old.add(c.key().slice(), 0, EntryKind.Put, c.value().slice());
      c.next();
    }
    expect(decodeProperties(new Block(old.finish().slice(), 't.sst', 0))).toEqual({ ...p, markedForCompaction: false });
    const b = new BlockBuilder(1);
    b.add(new TextEncoder().encode('strata.entries'), 0, EntryKind.Put, new Uint8Array([1]));
    const partial = new Block(b.finish().slice(), 't.sst', 77);
    expect(() => decodeProperties(partial)).toThrow(expect.objectContaining({ code: 'CORRUPTION', offset: 77 }));
  });

  it('decodeDataBlockCount reads the one property a table reader keeps; missing or malformed is CORRUPTION', () => {
    const base = decodeProperties(new Block(encodeProperties(propertiesOf(0)), 't.sst', 0));
    for (const n of [0, 1, 527, 2 ** 31 + 5]) {
      const p = { ...base, dataBlockCount: n };
      expect(decodeDataBlockCount(new Block(encodeProperties(p), 't.sst', 0))).toBe(n);
    }
    // Without strata.data-blocks, or with a varint that does not fill its value: the full decoder's error.
    for (const bad of [undefined, new Uint8Array([0x81])]) {
      const b = new BlockBuilder(1);
      const c = new BlockCursor(new Block(encodeProperties(base), 't.sst', 0));
      c.seekToFirst();
      while (c.valid()) {
        const name = new TextDecoder().decode(c.key());
        if (name !== 'strata.data-blocks') b.add(c.key().slice(), 0, EntryKind.Put, c.value().slice());
        else if (bad !== undefined) b.add(c.key().slice(), 0, EntryKind.Put, bad);
        c.next();
      }
      expect(() => decodeDataBlockCount(new Block(b.finish().slice(), 't.sst', 55))).toThrow(expect.objectContaining({ code: 'CORRUPTION', offset: 55 }));
    }
  });
});

function propertiesOf(dataBlockCount: number): TableProperties {
  return {
    entryCount: 1,
    deleteCount: 0,
    tombstoneCount: 0,
    markedForCompaction: false,
    dataBlockCount,
    smallestKey: new Uint8Array([1]),
    largestKey: new Uint8Array([2]),
    largestExclusive: false,
    smallestPointKey: new Uint8Array([1]),
    largestPointKey: new Uint8Array([2]),
    minSeq: 1,
    maxSeq: 1,
    rawKeyBytes: 1,
    rawValueBytes: 1,
    dataBytes: 1,
    indexBytes: 1,
    filterBytes: 0,
    blockSize: 4096,
    restartInterval: 16,
    bloomBitsPerKey: 10,
    compression: 'none',
    createdAt: 1,
    creator: 'test',
    fileNumber: 1,
  };
}
