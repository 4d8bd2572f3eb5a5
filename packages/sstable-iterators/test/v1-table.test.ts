// A format-version-1 table (one index block and one filter for the whole table), written by the
// last v1 writer (fixtures/make-v1-table.ts, run on commit 1ee4fe9), still reads as it did: the
// reader takes it for a table of one partition.
import { describe, expect, it } from 'vitest';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlockCache, MAX_SEQ, PartitionCache, Table } from '@strata-db/sstable-core';
import { TableIterator, tableTombstones } from '../src/index.js';
import { modelGet, modelMaxCovering, show } from '../src/test-support/model.js';
import { scanBackward, scanForward, tempDir } from '../src/test-support/tables.js';
import { v1Entries, v1Key, v1Tombstones } from './fixtures/v1-table-content.js';
import recorded from './fixtures/v1-table.layout.json' with { type: 'json' };

const fixture = join(import.meta.dirname, 'fixtures', 'v1-table.sst');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('a v1 table', () => {
  it('has the layout and verifies as the v1 reader recorded, as one partition', () => {
    const t = Table.open(fixture);
    expect(t.formatVersion).toBe(1);
    expect(t.partitionCount).toBe(1);
    expect(t.blockCount).toBe(recorded.blockCount);
    const layout = t.layout();
    expect(layout.footer).toEqual({ ...recorded.footer, version: 1 });
    expect(layout.metaBlocks).toEqual(recorded.metaBlocks);
    expect(layout.dataBlocks.map((d) => ({ handle: d.handle, separatorKey: hex(d.separatorKey), separatorSeq: d.separatorSeq }))).toEqual(recorded.dataBlocks);
    expect(layout.filter).toEqual(recorded.filter);
    const filter = recorded.metaBlocks.find((m) => m.name === 'strata.filter.bloom')!.handle;
    expect(layout.partitions).toEqual([
      {
        index: recorded.footer.index,
        filter,
        firstBlock: 0,
        blockCount: recorded.blockCount,
        separatorKey: layout.dataBlocks.at(-1)!.separatorKey,
        separatorSeq: layout.dataBlocks.at(-1)!.separatorSeq,
      },
    ]);
    expect(t.verify()).toEqual(recorded.verify);
    t.close();
  });

  it('gets, finds, tombstones and scans agree with what was written, through caches of any size', () => {
    const entries = v1Entries();
    const tombstones = v1Tombstones();
    const { dir, cleanup } = tempDir();
    for (const budget of [0, 1 << 20]) {
      // A copy, under the file number the caches key it by.
      const path = join(dir, `${budget}.sst`);
      copyFileSync(fixture, path);
      const t = Table.open(path, { cache: new BlockCache(budget), partitions: new PartitionCache(budget), fileNumber: 7 });
      for (let i = 0; i < 301; i++) {
        for (const snap of [0, 1000 + i * 10, 1000 + i * 10 + 1, 1000 + i * 10 + 2, 1000 + i * 10 + 3, MAX_SEQ]) {
          const key = v1Key(i);
          const want = modelGet(entries, key, snap);
          const got = t.get(key, snap);
          expect(got && show(got)).toEqual(want && show(want));
          const kind = t.find(key, snap);
          expect(kind < 0 ? undefined : `${t.foundSeq}:${kind}`).toEqual(want && `${want.seq}:${want.kind}`);
          expect(t.maxCoveringTombstoneSeq(key, snap)).toBe(modelMaxCovering(tombstones, key, snap));
        }
      }
      expect([...tableTombstones(t)]).toEqual(tombstones);
      const it = new TableIterator(t);
      expect(scanForward(it).map(show)).toEqual(entries.map(show));
      expect(scanBackward(it).map(show)).toEqual(entries.map(show).reverse());
      t.close();
    }
    cleanup();
  });
});
