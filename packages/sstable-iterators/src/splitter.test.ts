import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareKeys, type PointEntry } from '@strata-db/memtable';
import { Table } from '@strata-db/sstable-core';
import { TableIterator } from './index.js';
import { MemoryFileSystem } from '@strata-db/vfs/testing';
import { scanForward, TableSplitter } from './test-support/tables.js';
import { modelMaxCovering, show, tableInput } from './test-support/model.js';

describe('TableSplitter', () => {
  it('cuts between user keys only; the tables are disjoint, ordered, and together hold exactly the input', async () => {
    let multiTable = 0;
    let clipped = 0;
    await fc.assert(
      fc.asyncProperty(
        tableInput({ bigKeys: false, maxKeys: 300 }),
        fc.integer({ min: 20, max: 1000 }),
        fc.array(fc.record({ key: fc.uint8Array({ maxLength: 12, max: 8 }), snap: fc.integer({ min: 0, max: 210 }) }), { maxLength: 15 }),
        async (input, target, probes) => {
          const fs = new MemoryFileSystem();
          let next = 0;
          const splitter = new TableSplitter({
            targetFileSize: target,
            nextFile: () => ({ path: `/${++next}.sst`, fileNumber: next }),
            builder: { fs, blockSize: 128 },
          });
          // Merge order: a tombstone goes in before the first entry at or after its start.
          let ti = 0;
          for (const e of input.entries) {
            while (ti < input.tombstones.length && compareKeys(input.tombstones[ti]!.start, e.key) <= 0) splitter.addTombstone(input.tombstones[ti++]!);
            splitter.add(e);
          }
          while (ti < input.tombstones.length) splitter.addTombstone(input.tombstones[ti++]!);
          const metas = await splitter.finish();
          expect(metas.length).toBe(next);
          if (next > 1) multiTable++;
          if (metas.slice(0, -1).some((m) => m.largestExclusive && m.tombstoneCount > 0)) clipped++;
          const tables = metas.map((m) => Table.open(m.path, { fs }));
          const all: PointEntry[] = [];
          for (const [i, t] of tables.entries()) {
            const entries = scanForward(new TableIterator(t));
            all.push(...entries);
            const m = metas[i]!;
            // Everything in a table lies within [smallest, largest].
            for (const e of entries) {
              expect(compareKeys(m.smallestKey, e.key)).toBeLessThanOrEqual(0);
              expect(compareKeys(e.key, m.largestKey)).toBeLessThanOrEqual(0);
            }
            for (const ts of t.rangeTombstones()) {
              expect(compareKeys(m.smallestKey, ts.start)).toBeLessThanOrEqual(0);
              expect(compareKeys(ts.end, m.largestKey)).toBeLessThanOrEqual(0);
            }
            const nextMeta = metas[i + 1];
            if (nextMeta !== undefined) {
              const c = compareKeys(m.largestKey, nextMeta.smallestKey);
              expect(m.largestExclusive ? c <= 0 : c < 0).toBe(true);
              // No user key is split across tables.
              const lastKey = entries.at(-1)?.key;
              const firstNext = scanForward(new TableIterator(tables[i + 1]!))[0]?.key;
              if (lastKey !== undefined && firstNext !== undefined) expect(compareKeys(lastKey, firstNext)).toBeLessThan(0);
            }
          }
          expect(all.map(show)).toEqual(input.entries.map(show));
          for (const { key, snap } of probes) {
            const got = Math.max(0, ...tables.map((t) => t.maxCoveringTombstoneSeq(key, snap)));
            expect(got).toBe(modelMaxCovering(input.tombstones, key, snap));
          }
          if (input.entries.length > 0 && next > 1) expect(metas.every((m) => m.entryCount > 0 || m.tombstoneCount > 0)).toBe(true);
          for (const t of tables) t.close();
        },
      ),
      { numRuns: 120 },
    );
    // The property must really exercise cuts and tombstones clipped at them.
    expect(multiTable).toBeGreaterThan(20);
    expect(clipped).toBeGreaterThan(3);
  });

  it('a large stream is cut near the target size', async () => {
    const fs = new MemoryFileSystem();
    let next = 0;
    const splitter = new TableSplitter({ targetFileSize: 64 * 1024, nextFile: () => ({ path: `/${++next}.sst`, fileNumber: next }), builder: { fs } });
    const value = new Uint8Array(100);
    for (let i = 0; i < 10_000; i++) splitter.add({ key: new TextEncoder().encode(`key${String(i).padStart(8, '0')}`), seq: 1, kind: 1, value });
    const metas = await splitter.finish();
    expect(metas.length).toBeGreaterThan(10);
    for (const m of metas.slice(0, -1)) {
      expect(m.fileSize).toBeGreaterThan(64 * 1024);
      expect(m.fileSize).toBeLessThan(64 * 1024 * 1.2);
    }
    expect(() => {
      splitter.add({ key: new Uint8Array([255]), seq: 1, kind: 1, value });
    }).toThrow(expect.objectContaining({ code: 'NOT_OPEN' }));
  });

  it('rejects a tombstone that starts before an earlier cut, and out-of-order entries across a cut', async () => {
    const fs = new MemoryFileSystem();
    let next = 0;
    const mk = (): TableSplitter => new TableSplitter({ targetFileSize: 1, nextFile: () => ({ path: `/${++next}.sst`, fileNumber: next }), builder: { fs } });
    const b = (s: string): Uint8Array => new TextEncoder().encode(s);
    const s1 = mk();
    s1.add({ key: b('a'), seq: 1, kind: 1, value: b('x') });
    s1.add({ key: b('c'), seq: 1, kind: 1, value: b('x') }); // cut before 'c'
    expect(() => {
      s1.addTombstone({ start: b('b'), end: b('d'), seq: 5 });
    }).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => {
      s1.add({ key: b('b'), seq: 1, kind: 1, value: b('x') });
    }).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await s1.abandon();
    expect(fs.listFiles().length).toBe(0);
  });
});
