/**
 * The output writer with real tables (TableBuilder on the in-memory file layer): where it cuts
 * and what each table holds. (These are the assertions sstable-builder's TableSplitter had, which
 * compaction never used: the engine's writer is the one output splitter.) The compaction
 * iterator is made to pass its input through unchanged — a snapshot at every seq, older data
 * everywhere below — so that the tables must hold exactly the input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EntryKind, compareEntries, compareKeys, type PointEntry, type RangeTombstone } from '@strata-db/memtable';
import { TableBuilder, type TableMeta } from '@strata-db/sstable-builder';
import { Table } from '@strata-db/sstable-core';
import { TableIterator } from '@strata-db/sstable-iterators';
import { MemoryFileSystem } from '@strata-db/vfs/testing';
import { CompactionIterator } from './compaction-iterator.js';
import { NO_GRANDPARENTS, OutputSplitter, inclusiveUpperBound } from './output-splitter.js';
import { OutputWriter } from './output-writer.js';
import { ArrayIterator, allEntries } from './test-support/array-iterator.js';

const keyArb = fc.uint8Array({ maxLength: 6, max: 8 });
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const show = (e: PointEntry): string => `${hex(e.key)}#${e.seq}:${e.kind}=${hex(e.value)}`;

/** Points with unique seqs, and tombstones, over a small key space so that they overlap. */
const inputArb = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.record({ t: fc.constantFrom<'put' | 'del'>('put', 'put', 'del'), key: keyArb }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constant<'range'>('range'), key: keyArb, end: keyArb }) },
    ),
    { minLength: 20, maxLength: 300 },
  )
  .map((ops) => {
    const points: PointEntry[] = [];
    const tombstones: RangeTombstone[] = [];
    ops.forEach((op, i) => {
      const seq = i + 1;
      if (op.t === 'range') {
        const [s, e] = compareKeys(op.key, op.end) <= 0 ? [op.key, op.end] : [op.end, op.key];
        if (compareKeys(s, e) < 0) tombstones.push({ start: s, end: e, seq });
      } else {
        points.push({ key: op.key, seq, kind: op.t === 'put' ? EntryKind.Put : EntryKind.Delete, value: op.t === 'put' ? Uint8Array.of(seq & 255, seq >> 8) : new Uint8Array(0) });
      }
    });
    return { points: points.sort(compareEntries), tombstones, seqs: ops.map((_, i) => i + 1) };
  });

function scan(t: Table): PointEntry[] {
  return allEntries(new TableIterator(t));
}

async function writeTables(points: PointEntry[], tombstones: RangeTombstone[], seqs: number[], targetFileSize: number, blockSize: number) {
  const fs = new MemoryFileSystem({ syncDelay: () => Promise.resolve() });
  fs.mkdirSync('/t', { recursive: true });
  let next = 0;
  const iter = new CompactionIterator(new ArrayIterator(points), tombstones, { snapshots: seqs, olderDataBelow: { key: () => true, range: () => true } });
  const writer = new OutputWriter<TableBuilder, TableMeta>(iter, new OutputSplitter({ targetFileSize, grandparents: NO_GRANDPARENTS, maxGrandparentOverlapBytes: Infinity }), {
    open: () => {
      next++;
      return new TableBuilder(`/t/${next}.sst`, { fs, fileNumber: next, blockSize });
    },
    finish: (b) => b.finish(),
    sliceMs: 1000,
    yieldNow: () => Promise.resolve(),
  });
  const outputs = await writer.run();
  return { outputs, tables: outputs.map((o) => Table.open(o.meta.path, { fs })) };
}

describe('OutputWriter with real tables', () => {
  it('cuts between user keys only; the tables are disjoint, ordered, and together hold exactly the input', async () => {
    let multiTable = 0;
    let clipped = 0;
    await fc.assert(
      fc.asyncProperty(
        inputArb,
        fc.integer({ min: 20, max: 400 }),
        fc.array(fc.record({ key: keyArb, snap: fc.integer({ min: 0, max: 310 }) }), { maxLength: 15 }),
        async ({ points, tombstones, seqs }, target, probes) => {
          const { outputs, tables } = await writeTables(points, tombstones, seqs, target, 128);
          if (tables.length > 1) multiTable++;
          const all: PointEntry[] = [];
          for (const [i, t] of tables.entries()) {
            const entries = scan(t);
            all.push(...entries);
            const { smallestKey, largestKey } = outputs[i]!.range;
            // Everything in a table lies within its inclusive [smallest, largest].
            for (const e of entries) {
              expect(compareKeys(smallestKey, e.key)).toBeLessThanOrEqual(0);
              expect(compareKeys(e.key, largestKey)).toBeLessThanOrEqual(0);
            }
            for (const ts of t.rangeTombstones()) {
              expect(compareKeys(smallestKey, ts.start)).toBeLessThanOrEqual(0);
              expect(compareKeys(inclusiveUpperBound(ts.end), largestKey)).toBeLessThanOrEqual(0);
            }
            const after = outputs[i + 1];
            if (after !== undefined) {
              expect(compareKeys(largestKey, after.range.smallestKey)).toBeLessThan(0);
              // A deletion cut in two: a piece of the same seq on both sides of the cut.
              const seqsHere = new Set(t.rangeTombstones().map((x) => x.seq));
              if (tables[i + 1]!.rangeTombstones().some((x) => seqsHere.has(x.seq))) clipped++;
              // No user key is split across tables.
              const lastKey = entries.at(-1)?.key;
              const firstNext = scan(tables[i + 1]!)[0]?.key;
              if (lastKey !== undefined && firstNext !== undefined) expect(compareKeys(lastKey, firstNext)).toBeLessThan(0);
            }
            expect(outputs[i]!.entryCount + outputs[i]!.tombstoneCount).toBeGreaterThan(0);
          }
          expect(all.map(show)).toEqual(points.map(show));
          for (const { key, snap } of probes) {
            const got = Math.max(0, ...tables.map((t) => t.maxCoveringTombstoneSeq(key, snap)));
            let want = 0;
            for (const ts of tombstones) if (ts.seq <= snap && ts.seq > want && compareKeys(ts.start, key) <= 0 && compareKeys(key, ts.end) < 0) want = ts.seq;
            expect(got).toBe(want);
          }
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
    const value = new Uint8Array(100);
    const points: PointEntry[] = [];
    for (let i = 0; i < 10_000; i++) points.push({ key: new TextEncoder().encode(`key${String(i).padStart(8, '0')}`), seq: 1, kind: EntryKind.Put, value });
    const { outputs } = await writeTables(points, [], [], 64 * 1024, 4096);
    expect(outputs.length).toBeGreaterThan(10);
    for (const o of outputs.slice(0, -1)) {
      expect(o.meta.fileSize).toBeGreaterThan(64 * 1024);
      expect(o.meta.fileSize).toBeLessThan(64 * 1024 * 1.2);
    }
  });

  it('never splits the versions of one user key, however far past the target; cuts at the next key', async () => {
    const v = (key: string, seq: number): PointEntry => ({ key: new TextEncoder().encode(key), seq, kind: EntryKind.Put, value: new Uint8Array(50) });
    const points = [...Array.from({ length: 50 }, (_, i) => v('a', 100 - i)), v('b', 1)];
    const { outputs, tables } = await writeTables(points, [], points.map((p) => p.seq), 1000, 256);
    expect(outputs.map((o) => o.entryCount)).toEqual([50, 1]);
    expect(scan(tables[0]!).every((e) => e.key[0] === 0x61)).toBe(true);
    // Below the target nothing is cut.
    expect((await writeTables(points, [], points.map((p) => p.seq), 1_000_000, 256)).outputs).toHaveLength(1);
  });
});
