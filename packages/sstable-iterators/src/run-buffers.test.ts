import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { join } from 'node:path';
import { EntryKind, type PointEntry } from '@strata-db/memtable';
import { Table } from '@strata-db/sstable-core';
import { RunBuffers, TableIterator } from './index.js';
import { buildTable, tempDir } from './test-support/tables.js';

/**
 * Tables scanned one after another as a level iterator does (each iterator run to its end, then
 * the next table's), every value copied before the iterator moves: with shared RunBuffers the
 * scan yields exactly what fresh buffers yield, and one buffer serves every table.
 */
describe('RunBuffers', () => {
  it('a level of tables scanned through one set of recycled run buffers reads what fresh buffers read, with one buffer', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 5 }), fc.constantFrom(64, 256, 1024), fc.integer({ min: 100, max: 1500 }), async (tableCount, blockSize, perTable) => {
        const { dir, cleanup } = tempDir();
        try {
          const tables: Table[] = [];
          const want: string[] = [];
          for (let t = 0; t < tableCount; t++) {
            const entries: PointEntry[] = [];
            for (let i = 0; i < perTable; i++) {
              const n = t * perTable + i;
              const value = `v${n}-`.padEnd(20 + (n % 40), String.fromCharCode(97 + (n % 26)));
              entries.push({ key: Buffer.from(`k${String(n).padStart(6, '0')}`), seq: 1, kind: EntryKind.Put, value: Buffer.from(value) });
              want.push(value);
            }
            const path = join(dir, `${t}.sst`);
            await buildTable(path, entries, [], { blockSize, compression: 'none' });
            tables.push(Table.open(path));
          }
          const scan = (runBuffers: RunBuffers | undefined): string[] => {
            const got: string[] = [];
            for (const table of tables) {
              const it = new TableIterator(table, runBuffers === undefined ? {} : { runBuffers });
              it.seekToFirst();
              while (it.valid()) {
                got.push(Buffer.from(it.entry().value).toString());
                it.next();
              }
            }
            return got;
          };
          const pool = new RunBuffers();
          expect(scan(pool)).toEqual(want);
          expect(scan(undefined)).toEqual(want);
          expect(pool.allocated).toBe(1);
          for (const t of tables) t.close();
        } finally {
          cleanup();
        }
      }),
      { numRuns: 12 },
    );
  });

  it('values are valid until the iterator moves: a value kept across a run read is overwritten (why its consumer must copy)', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const path = join(dir, '1.sst');
      const entries: PointEntry[] = [];
      for (let i = 0; i < 4000; i++) entries.push({ key: Buffer.from(`k${String(i).padStart(5, '0')}`), seq: 1, kind: EntryKind.Put, value: Buffer.from(`value-${i}`.padEnd(30, '.')) });
      await buildTable(path, entries, [], { blockSize: 256, compression: 'none' });
      const table = Table.open(path);
      const kept = (runBuffers: RunBuffers | undefined): string[] => {
        const held: Uint8Array[] = [];
        const it = new TableIterator(table, runBuffers === undefined ? {} : { runBuffers });
        it.seekToFirst();
        while (it.valid()) {
          held.push(it.entry().value);
          it.next();
        }
        return held.map((v) => Buffer.from(v).toString());
      };
      const want = entries.map((e) => Buffer.from(e.value).toString());
      expect(kept(undefined)).toEqual(want); // fresh buffers: views stay valid forever
      const recycled = kept(new RunBuffers());
      expect(recycled).not.toEqual(want); // recycled: views into earlier runs were overwritten
      expect(recycled.slice(-10)).toEqual(want.slice(-10)); // the last run's are still intact
      table.close();
    } finally {
      cleanup();
    }
  });
});
