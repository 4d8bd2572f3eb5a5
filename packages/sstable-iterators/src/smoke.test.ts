import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { EntryKind, type PointEntry } from '@strata-db/memtable';
import { Table, BlockCache } from '@strata-db/sstable-core';
import { TableIterator } from './index.js';
import { buildTable, bytes, scanBackward, scanForward, tempDir, text } from './test-support/tables.js';

describe('build → open → get / scan', () => {
  it('round-trips versions, deletes and a tombstone across many small blocks', async () => {
    const { dir, cleanup } = tempDir();
    const path = join(dir, '000001.sst');
    const entries: PointEntry[] = [];
    for (let i = 0; i < 1000; i++) {
      const key = bytes(`key${String(i).padStart(6, '0')}`);
      for (let s = 3; s >= 1; s--) {
        entries.push({ key, seq: i * 10 + s, kind: s === 2 ? EntryKind.Delete : EntryKind.Put, value: s === 2 ? new Uint8Array(0) : bytes(`v${i}.${s}`) });
      }
    }
    const meta = await buildTable(path, entries, [{ start: bytes('key000100'), end: bytes('key000200'), seq: 5000 }], { fileNumber: 1, blockSize: 256 });
    expect(meta.entryCount).toBe(3000);
    expect(meta.tombstoneCount).toBe(1);
    const t = Table.open(path, { cache: new BlockCache(1 << 20), fileNumber: 1 });
    expect(t.get(bytes('key000500'), 100000)?.seq).toBe(5003);
    expect(t.get(bytes('key000500'), 5002)?.kind).toBe(EntryKind.Delete);
    expect(t.get(bytes('key000500'), 5001)?.seq).toBe(5001);
    expect(t.get(bytes('key000500'), 5000)).toBeUndefined();
    expect(t.get(bytes('nokey'), 100000)).toBeUndefined();
    expect(t.maxCoveringTombstoneSeq(bytes('key000150'), 9999)).toBe(5000);
    expect(t.maxCoveringTombstoneSeq(bytes('key000150'), 4999)).toBe(0);
    expect(t.maxCoveringTombstoneSeq(bytes('key000200'), 9999)).toBe(0);
    const it = new TableIterator(t);
    const fwd = scanForward(it);
    expect(fwd.map((e) => [text(e.key), e.seq, e.kind, text(e.value)])).toEqual(entries.map((e) => [text(e.key), e.seq, e.kind, text(e.value)]));
    expect(scanBackward(it).map((e) => e.seq)).toEqual(entries.map((e) => e.seq).reverse());
    expect(t.verify().blocks).toBeGreaterThan(10);
    t.close();
    cleanup();
  });
});
