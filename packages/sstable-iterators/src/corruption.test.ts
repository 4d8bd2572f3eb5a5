// Damage a small table at every byte and at many lengths: every read that touches damage must
// throw CORRUPTION naming the file and the damaged block's offset; no read may return wrong data;
// nothing may crash. Every byte of a table is covered by a checksum, so `verify()` must notice
// every single flip.
import { describe, expect, it } from 'vitest';
import { EntryKind, type PointEntry, type RangeTombstone } from '@strata-db/memtable';
import { StrataError } from '@strata-db/errors';
import { BlockCache, COMPRESSION_NAMES, compressionType, Table } from '@strata-db/sstable-core';
import { TableIterator } from './index.js';
import { MemoryFileSystem } from '@strata-db/vfs/testing';
import { buildTable, scanBackward, scanForward } from './test-support/tables.js';
import { modelGet, show } from './test-support/model.js';

const enc = new TextEncoder();

function smallInput(): { entries: PointEntry[]; tombstones: RangeTombstone[] } {
  const entries: PointEntry[] = [];
  for (let i = 0; i < 40; i++) {
    const key = enc.encode(`key-${String(i * 7).padStart(4, '0')}`);
    entries.push({ key, seq: 100 + i, kind: EntryKind.Put, value: enc.encode(`value number ${i}`) });
    if (i % 5 === 0) entries.push({ key, seq: 50 + i, kind: EntryKind.Delete, value: new Uint8Array(0) });
  }
  const tombstones = [
    { start: enc.encode('key-0010'), end: enc.encode('key-0050'), seq: 90 },
    { start: enc.encode('key-0100'), end: enc.encode('key-0999'), seq: 200 },
  ];
  return { entries, tombstones };
}

/** Runs every kind of read; each either agrees with the model or throws CORRUPTION. Returns the errors. */
function exercise(fs: MemoryFileSystem, path: string, input: ReturnType<typeof smallInput>): StrataError[] {
  const errors: StrataError[] = [];
  const attempt = (read: () => void): void => {
    try {
      read();
    } catch (err) {
      if (!(err instanceof StrataError) || err.code !== 'CORRUPTION') throw err;
      errors.push(err);
    }
  };
  let table: Table | undefined;
  attempt(() => {
    table = Table.open(path, { fs, cache: new BlockCache(1 << 20), fileNumber: 7 });
  });
  if (table === undefined) return errors;
  const t = table;
  for (const e of input.entries) {
    attempt(() => {
      const got = t.get(e.key, e.seq);
      expect(got && show(got)).toBe(show(modelGet(input.entries, e.key, e.seq)!));
    });
  }
  // `find` too: its blocks are cached recyclable (read into a reused buffer, verified in place).
  for (const e of input.entries) {
    attempt(() => {
      const kind = t.find(e.key, e.seq);
      expect(kind < 0 ? undefined : show({ key: e.key, seq: t.foundSeq, kind: kind as EntryKind, value: t.foundValue() })).toBe(show(modelGet(input.entries, e.key, e.seq)!));
    });
  }
  attempt(() => {
    expect(scanForward(new TableIterator(t)).map(show)).toEqual(input.entries.map(show));
  });
  attempt(() => {
    expect(scanBackward(new TableIterator(t)).map(show)).toEqual(input.entries.map(show).reverse());
  });
  attempt(() => {
    expect(t.rangeTombstones()).toEqual(input.tombstones);
    t.verify();
  });
  t.close();
  return errors;
}

describe('corruption', () => {
  it.each(COMPRESSION_NAMES)('every flipped byte is detected by some read, and no read returns wrong data (compression %s)', async (compression) => {
    const fs = new MemoryFileSystem();
    const input = smallInput();
    await buildTable('/t.sst', input.entries, input.tombstones, { fs, blockSize: 128, restartInterval: 4, compression });
    const good = fs.readFileSync('/t.sst');
    expect(exercise(fs, '/t.sst', input)).toEqual([]);
    expect(good.length).toBeGreaterThan(1000);
    // Most data blocks are stored with the codec asked for (the trailer's type byte), so the
    // flips below land in compressed payloads, not only in raw ones.
    const t = Table.open('/t.sst', { fs });
    let compressed = 0;
    for (let i = 0; i < t.blockCount; i++) {
      const h = t.blockHandle(i);
      if (good[h.offset + h.size] === compressionType(compression)) compressed++;
    }
    expect(compressed).toBeGreaterThan(t.blockCount / 2);
    t.close();

    for (let pos = 0; pos < good.length; pos++) {
      for (const mask of [0xff, 1 << pos % 8]) {
        const bad = good.slice();
        bad[pos]! ^= mask;
        fs.writeFileDurably('/bad.sst', bad);
        const errors = exercise(fs, '/bad.sst', input);
        expect(errors.length, `flip at ${pos} went unnoticed`).toBeGreaterThan(0);
        for (const err of errors) {
          expect(err.file).toBe('/bad.sst');
          expect(err.message).toContain('/bad.sst');
          expect(err.offset).toBeTypeOf('number');
          // The error names the damaged block: it starts at or before the flipped byte, and not far.
          expect(err.offset!).toBeLessThanOrEqual(pos);
          expect(pos - err.offset!).toBeLessThan(good.length);
        }
      }
    }
  }, 240_000); // a sweep: every byte, twice, for each codec

  it('a table truncated at any length fails to open with CORRUPTION', async () => {
    const fs = new MemoryFileSystem();
    const input = smallInput();
    await buildTable('/t.sst', input.entries, input.tombstones, { fs, blockSize: 128 });
    const good = fs.readFileSync('/t.sst');
    for (let len = 0; len < good.length; len++) {
      fs.writeFileDurably('/cut.sst', good.slice(0, len));
      let caught: unknown;
      try {
        Table.open('/cut.sst', { fs });
      } catch (err) {
        caught = err;
      }
      expect(caught, `truncated to ${len}`).toBeInstanceOf(StrataError);
      expect((caught as StrataError).code).toBe('CORRUPTION');
      expect((caught as StrataError).file).toBe('/cut.sst');
    }
  });

  it('a table whose blocks are readable but whose tail is gone reports the short read', async () => {
    // A data block read past the end of a (shrunk after open) file: a short read, never garbage.
    const fs = new MemoryFileSystem();
    const input = smallInput();
    await buildTable('/t.sst', input.entries, input.tombstones, { fs, blockSize: 128 });
    const table = Table.open('/t.sst', { fs });
    const fd = fs.openSync('/t.sst', 'r+'); // shrink the very file the table has open
    fs.ftruncateSync(fd, 100);
    fs.closeSync(fd);
    expect(() => scanForward(new TableIterator(table))).toThrow(expect.objectContaining({ code: 'CORRUPTION', file: '/t.sst' }));
    table.close();
  });
});
