// Format v2 (partitioned index and filters, sstable-core format.ts) against a sorted-array model:
// tiny partitions (1–3 data blocks), user keys with many versions (so versions straddle
// partitions), the partition cache from unbounded down to one partition, and damage to a
// partition or to the top-level index.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareEntries, compareKeys, EntryKind, type PointEntry } from '@strata-db/memtable';
import {
  BlockBuilder,
  BLOCK_TRAILER_SIZE,
  BlockCache,
  BlockCursor,
  Block,
  ByteWriter,
  CompressionType,
  decodePartitionEntry,
  encodeFooter,
  encodePartitionEntry,
  FILTER_REJECTED,
  FOOTER_SIZE,
  MAX_SEQ,
  PartitionCache,
  sealBlock,
  Table,
  unsealBlock,
  type PartitionEntry,
} from '@strata-db/sstable-core';
import { TableIterator } from './index.js';
import { buildTable, scanBackward, scanForward, tempDir } from './test-support/tables.js';
import { hex, modelGet, show } from './test-support/model.js';

/** Keys with 1–12 versions each (Puts and Deletes), sorted. */
const manyVersions = fc
  .uniqueArray(
    fc.record({
      key: fc.uint8Array({ minLength: 1, maxLength: 6, max: 5 }),
      versions: fc.uniqueArray(fc.record({ seq: fc.integer({ min: 1, max: 400 }), del: fc.boolean(), value: fc.uint8Array({ maxLength: 24 }) }), {
        minLength: 1,
        maxLength: 12,
        selector: (v) => v.seq,
      }),
    }),
    { minLength: 1, maxLength: 80, selector: (k) => hex(k.key) },
  )
  .map((keys) => {
    const entries: PointEntry[] = [];
    for (const k of keys) {
      for (const v of k.versions) entries.push({ key: k.key, seq: v.seq, kind: v.del ? EntryKind.Delete : EntryKind.Put, value: v.del ? new Uint8Array(0) : v.value });
    }
    return entries.sort(compareEntries);
  });

const probeKey = fc.uint8Array({ maxLength: 7, max: 6 });

describe('partitioned index and filters (format v2) against a sorted-array model', () => {
  it('get, find, findBlock, seeks and full scans both ways agree with the model: tiny partitions, versions straddling them, any partition cache budget', async () => {
    const { dir, cleanup } = tempDir();
    let n = 0;
    let straddled = 0;
    let multi = 0;
    await fc.assert(
      fc.asyncProperty(
        manyVersions,
        fc.constantFrom(1, 40, 80), // metadata block size: 1–3 data blocks per partition
        fc.constantFrom(0, 600, Number.MAX_SAFE_INTEGER), // partition cache budget: 0 keeps only the partition in use
        fc.array(fc.record({ key: probeKey, snap: fc.integer({ min: 0, max: 410 }) }), { maxLength: 30 }),
        fc.array(probeKey, { maxLength: 10 }),
        fc.boolean(), // warm the partitions first (the engine's idle warming), after a few lookups
        async (entries, metadataBlockSize, budget, probes, seeks, warm) => {
          const path = join(dir, `${++n}.sst`);
          await buildTable(path, entries, [], { blockSize: 64, restartInterval: 2, bloomBitsPerKey: 10, metadataBlockSize, fileNumber: n });
          const partitions = new PartitionCache(budget);
          const table = Table.open(path, { cache: new BlockCache(budget === 0 ? 0 : 1 << 20), partitions, fileNumber: n });
          try {
            expect(table.formatVersion).toBe(2);
            if (table.partitionCount > 2) multi++;
            if (warm) {
              // A few lookups first, then warming one partition at a time (what the engine's idle
              // warming does, version/table-warmer.ts) until done or out of room: it fills only
              // the room there is — what the lookups loaded is all still cached after, and the
              // cache is past its budget no more than the lookups left it.
              for (const { key, snap } of probes.slice(0, 3)) table.get(key, snap);
              const slots = partitions.slotsOf(n, 2 * table.partitionCount);
              const before = [...Array(2 * table.partitionCount).keys()].filter((i) => slots.at(i) !== undefined);
              const usageBefore = partitions.usage;
              const loadsBefore = partitions.loads;
              const warmAll = (): number => {
                let loaded = 0;
                for (let p = 0; p < table.partitionCount; p++) {
                  for (const filter of [true, false]) {
                    const bytes = table.warmPartition(p, filter);
                    if (bytes < 0) return loaded;
                    if (bytes > 0) loaded++;
                  }
                }
                return loaded;
              };
              const loaded = warmAll();
              expect(partitions.usage).toBeLessThanOrEqual(Math.max(budget, usageBefore));
              expect(partitions.loads - loadsBefore).toBe(loaded);
              for (const i of before) expect(slots.at(i), `slot ${i} loaded by a lookup`).toBeDefined();
              if (budget > 1e9) {
                expect(partitions.size).toBe(2 * table.partitionCount);
                // Everything is cached: warming again loads nothing, and lookups below only hit.
                expect(warmAll()).toBe(0);
              }
              if (budget === 0) expect(loaded).toBe(0);
            }
            const layout = table.layout();
            // Block-number lookups in an order that jumps between partitions and back (the table
            // tries the partition it found last first): every handle as the layout has it.
            for (let i = 0; i < table.blockCount; i++) {
              for (const j of [i, table.blockCount - 1 - i]) {
                expect(table.blockHandle(j)).toEqual(layout.dataBlocks[j]!.handle);
                expect(table.blockFileSize(j)).toBe(layout.dataBlocks[j]!.handle.size + BLOCK_TRAILER_SIZE);
              }
            }
            for (let p = 1; p < layout.partitions.length; p++) {
              const prev = layout.partitions[p - 1]!;
              if (compareKeys(prev.separatorKey, layout.partitions[p]!.separatorKey) === 0 || prev.separatorSeq !== MAX_SEQ) straddled++;
            }
            // Every version of every key, at its own seq and just below it, and random probes.
            const asked = [...probes, ...entries.flatMap((e) => [{ key: e.key, snap: e.seq }, { key: e.key, snap: e.seq - 1 }])];
            for (const { key, snap } of asked) {
              const want = modelGet(entries, key, snap);
              const got = table.get(key, snap);
              expect(got && show(got), `get ${hex(key)} @${snap}`).toEqual(want && show(want));
              const kind = table.find(key, snap);
              expect(kind < 0 ? undefined : show({ key, seq: table.foundSeq, kind: kind as EntryKind, value: table.foundValue() }), `find ${hex(key)} @${snap}`).toEqual(want && show(want));
              if (want !== undefined) expect(table.mayContain(key)).toBe(true);
              // findBlock names the block holding the first entry ≥ (key, snap), or blockCount.
              const first = entries.findIndex((e) => (compareKeys(e.key, key) || snap - e.seq) >= 0);
              // The only block that can hold the first entry ≥ (key, snap): either that entry is in
              // it, or every entry of the block is smaller and the answer starts the next block.
              const b = table.findBlock(key, snap);
              const want1 = first < 0 ? undefined : show(entries[first]!);
              if (b === table.blockCount) expect(want1).toBeUndefined();
              else {
                const c = new BlockCursor(table.dataBlock(b));
                c.seek(key, snap);
                if (c.valid()) expect(show(c.entry())).toBe(want1);
                else if (b + 1 === table.blockCount) expect(want1).toBeUndefined();
                else {
                  const next = new BlockCursor(table.dataBlock(b + 1));
                  next.seekToFirst();
                  expect(show(next.entry())).toBe(want1);
                }
              }
            }
            const it = new TableIterator(table);
            expect(scanForward(it).map(show)).toEqual(entries.map(show));
            expect(scanBackward(it).map(show)).toEqual(entries.map(show).reverse());
            for (const key of seeks) {
              it.seek(key);
              const at = entries.findIndex((e) => compareKeys(e.key, key) >= 0);
              expect(it.valid() ? show(it.entry()) : undefined, `seek ${hex(key)}`).toBe(at < 0 ? undefined : show(entries[at]!));
              it.seekForPrev(key);
              const before = entries.findLastIndex((e) => compareKeys(e.key, key) <= 0);
              expect(it.valid() ? show(it.entry()) : undefined, `seekForPrev ${hex(key)}`).toBe(before < 0 ? undefined : show(entries[before]!));
            }
            expect(table.verify().blocks).toBe(table.blockCount + table.partitionCount * 2 + 3); // + properties, meta-index, top-level
            if (budget === 0) expect(partitions.size).toBeLessThanOrEqual(1);
            else if (budget > 1e9) expect(partitions.size).toBe(2 * table.partitionCount);
            // Warmed with room for every partition: the lookups and scans above loaded none (verify reads past the cache).
            if (warm && budget > 1e9) expect(partitions.loads).toBe(2 * table.partitionCount);
          } finally {
            table.close();
          }
        },
      ),
      { numRuns: 120 },
    );
    // The model did see tables of several partitions, and user keys whose versions span two.
    expect(multi).toBeGreaterThan(40);
    expect(straddled).toBeGreaterThan(10);
    cleanup();
  });

  it('tables sharing one tiny partition cache whose evicted partitions are recycled: gets, layouts and iterators held across evictions agree with the model', async () => {
    const { dir, cleanup } = tempDir();
    let n = 0;
    let recycled = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(manyVersions, { minLength: 2, maxLength: 4 }),
        fc.constantFrom(0, 300, 1500), // a few partitions at most: nearly every load evicts one
        fc.array(fc.record({ table: fc.nat(), step: fc.boolean(), key: probeKey, snap: fc.integer({ min: 0, max: 410 }) }), { minLength: 20, maxLength: 120 }),
        async (tablesEntries, budget, ops) => {
          const partitions = new PartitionCache(budget);
          const cache = new BlockCache(1 << 16);
          const tables: Table[] = [];
          try {
            for (const entries of tablesEntries) {
              const path = join(dir, `${++n}.sst`);
              await buildTable(path, entries, [], { blockSize: 64, restartInterval: 2, bloomBitsPerKey: 10, metadataBlockSize: 1, fileNumber: n });
              tables.push(Table.open(path, { cache, partitions, fileNumber: n }));
            }
            // What each table's layout is, read through a partition cache of its own that evicts nothing.
            const layouts = tables.map((t) => {
              const own = Table.open(t.path);
              try {
                return own.layout();
              } finally {
                own.close();
              }
            });
            // One iterator per table, held open and stepped while the other tables' gets evict
            // (and recycle) partitions under it.
            const its = tables.map((t) => new TableIterator(t));
            const pos = its.map((it) => {
              it.seekToFirst();
              return 0;
            });
            for (const op of ops) {
              const i = op.table % tables.length;
              const entries = tablesEntries[i]!;
              if (op.step) {
                const it = its[i]!;
                expect(it.valid() ? show(it.entry()) : undefined).toBe(pos[i]! < entries.length ? show(entries[pos[i]!]!) : undefined);
                if (it.valid()) {
                  it.next();
                  pos[i]!++;
                }
              } else {
                const want = modelGet(entries, op.key, op.snap);
                const t = tables[i]!;
                const got = t.get(op.key, op.snap);
                expect(got && show(got), `get ${hex(op.key)} @${op.snap}`).toEqual(want && show(want));
                const kind = t.find(op.key, op.snap);
                expect(kind < 0 ? undefined : show({ key: op.key, seq: t.foundSeq, kind: kind as EntryKind, value: t.foundValue() })).toEqual(want && show(want));
                // Every table's lookups position one cursor (table.ts, probeCursor): another table's
                // find right after answers for that table, and the entry `get` returned is unchanged.
                const u = (i + 1) % tables.length;
                const wantU = modelGet(tablesEntries[u]!, op.key, op.snap);
                const kindU = tables[u]!.find(op.key, op.snap);
                expect(kindU < 0 ? undefined : show({ key: op.key, seq: tables[u]!.foundSeq, kind: kindU as EntryKind, value: tables[u]!.foundValue() })).toEqual(wantU && show(wantU));
                expect(got && show(got)).toEqual(want && show(want));
                if (want !== undefined) expect(t.mayContain(op.key)).toBe(true);
                // Block-number lookups and the layout load partitions too (and may evict the one in use).
                const j = op.snap % t.blockCount;
                expect(t.blockHandle(j)).toEqual(layouts[i]!.dataBlocks[j]!.handle);
                if (op.snap % 5 === 0) expect(t.layout()).toEqual(layouts[i]);
              }
            }
            its.forEach((it, i) => {
              const rest: string[] = [];
              while (it.valid()) {
                rest.push(show(it.entry()));
                it.next();
              }
              expect(rest).toEqual(tablesEntries[i]!.slice(pos[i]).map(show));
            });
            recycled += partitions.recycled;
            expect(partitions.freeBufferBytes).toBeLessThanOrEqual(1 << 20);
          } finally {
            for (const t of tables) t.close();
          }
        },
      ),
      { numRuns: 60 },
    );
    // Partitions were recycled, not only dropped.
    expect(recycled).toBeGreaterThan(100);
    cleanup();
  });

  it('one user key with 300 versions over many partitions: every snapshot finds its version (each partition filter holds the key)', async () => {
    const { dir, cleanup } = tempDir();
    const path = join(dir, '1.sst');
    const key = Buffer.from('the-key');
    const entries: PointEntry[] = [{ key: Buffer.from('a'), seq: 1, kind: EntryKind.Put, value: Buffer.from('a') }];
    for (let s = 300; s >= 1; s--) entries.push({ key, seq: s, kind: EntryKind.Put, value: Buffer.from(`v${s}`) });
    entries.push({ key: Buffer.from('z'), seq: 1, kind: EntryKind.Put, value: Buffer.from('z') });
    await buildTable(path, entries, [], { blockSize: 64, metadataBlockSize: 1, bloomBitsPerKey: 10, fileNumber: 1 });
    const table = Table.open(path, { partitions: new PartitionCache(0), fileNumber: 1 });
    expect(table.partitionCount).toBeGreaterThan(20);
    for (let s = 1; s <= 300; s++) expect(Buffer.from(table.get(key, s)!.value).toString()).toBe(`v${s}`);
    expect(table.get(key, 0)).toBeUndefined();
    // Absent: ruled out by the filter (FILTER_REJECTED) or, on a false positive, by the index and block (-1);
    // without the filter, always by the index and block.
    expect([FILTER_REJECTED, -1]).toContain(table.find(Buffer.from('absent'), MAX_SEQ));
    expect(table.find(Buffer.from('absent'), MAX_SEQ, undefined, false)).toBe(-1);
    table.close();
    cleanup();
  });
});

/** The top-level index of the table at `path`: entries (key, seq, value) and the footer. */
function readTopLevel(path: string): { file: Uint8Array; entries: { key: Uint8Array; seq: number; e: PartitionEntry }[]; topOffset: number; metaIndex: { offset: number; size: number } } {
  const file = new Uint8Array(readFileSync(path));
  const footer = file.subarray(file.length - FOOTER_SIZE);
  const dv = new DataView(footer.buffer, footer.byteOffset);
  const metaIndex = { offset: Number(dv.getBigUint64(0, true)), size: dv.getUint32(8, true) };
  const topOffset = Number(dv.getBigUint64(12, true));
  const topSize = dv.getUint32(20, true);
  const block = new Block(unsealBlock(file.subarray(topOffset, topOffset + topSize + 5), path, topOffset), path, topOffset);
  const c = new BlockCursor(block);
  const entries: { key: Uint8Array; seq: number; e: PartitionEntry }[] = [];
  c.seekToFirst();
  while (c.valid()) {
    entries.push({ key: c.key(), seq: c.seq, e: decodePartitionEntry({ data: block.data, pos: c.valueOffset }, c.valueOffset + c.valueLength, topOffset)! });
    c.next();
  }
  return { file, entries, topOffset, metaIndex };
}

/** Rewrites the table at `path` with `entries` as its top-level index (a valid block: right checksums). */
function writeTopLevel(path: string, t: ReturnType<typeof readTopLevel>, entries: { key: Uint8Array; seq: number; e: PartitionEntry }[]): void {
  const top = new BlockBuilder(1, 256);
  const w = new ByteWriter(32);
  for (const x of entries) {
    w.reset();
    encodePartitionEntry(x.e, w);
    top.add(x.key, x.seq, EntryKind.Put, w.bytes().slice());
  }
  const sealed = sealBlock(top.finish(), CompressionType.None);
  const footer = encodeFooter({ metaIndex: t.metaIndex, index: { offset: t.topOffset, size: sealed.payload.length } });
  writeFileSync(path, Buffer.concat([t.file.subarray(0, t.topOffset), sealed.payload, sealed.trailer, footer]));
}

describe('a damaged partitioned table is CORRUPTION naming the file and the offset', () => {
  async function fourPartitions(): Promise<{ path: string; entries: PointEntry[]; cleanup: () => void }> {
    const { dir, cleanup } = tempDir();
    const path = join(dir, '9.sst');
    const entries: PointEntry[] = [];
    for (let i = 0; i < 400; i++) entries.push({ key: Buffer.from(`key${String(i).padStart(4, '0')}`), seq: 1, kind: EntryKind.Put, value: Buffer.from(`value ${i}`) });
    await buildTable(path, entries, [], { blockSize: 128, metadataBlockSize: 150, fileNumber: 9 });
    return { path, entries, cleanup };
  }

  it('a bad checksum in an index or filter partition: the table opens, the lookups that need the partition fail, the others work, verify() finds it', async () => {
    for (const which of ['index', 'filter'] as const) {
      const { path, entries, cleanup } = await fourPartitions();
      const pristine = Table.open(path);
      const layout = pristine.layout();
      expect(layout.partitions.length).toBeGreaterThanOrEqual(4);
      const victim = layout.partitions[2]!;
      const c = new BlockCursor(pristine.dataBlock(victim.firstBlock));
      c.seekToFirst();
      const inVictim = c.key(); // a key of the damaged partition's data
      pristine.close();
      const handle = which === 'index' ? victim.index : victim.filter!;
      const bytes = readFileSync(path);
      bytes[handle.offset + 3]! ^= 0x40;
      writeFileSync(path, bytes);
      const table = Table.open(path, { partitions: new PartitionCache(0), fileNumber: 9 });
      const corrupt = expect.objectContaining({ code: 'CORRUPTION', file: path, offset: handle.offset });
      expect(() => table.get(inVictim, 10)).toThrow(corrupt);
      expect(() => table.find(inVictim, 10)).toThrow(corrupt);
      expect(Buffer.from(table.get(entries[0]!.key, 10)!.value).toString()).toBe('value 0'); // partition 0 is sound
      expect(() => table.verify()).toThrow(corrupt);
      if (which === 'index') expect(() => scanForward(new TableIterator(table))).toThrow(corrupt);
      table.close();
      cleanup();
    }
  });

  it('a damaged top-level index fails the open; partitions out of order, overlapping or not contiguous fail when read', async () => {
    const { path, cleanup } = await fourPartitions();
    const t = readTopLevel(path);
    expect(t.entries.length).toBeGreaterThanOrEqual(4);
    const pristine = new Uint8Array(t.file);
    const openError = (): unknown => {
      try {
        Table.open(path).close();
      } catch (err) {
        return err;
      }
      return undefined;
    };
    // A flipped bit in the top-level block: its checksum.
    const flipped = new Uint8Array(pristine);
    flipped[t.topOffset + 2]! ^= 1;
    writeFileSync(path, flipped);
    expect(openError()).toMatchObject({ code: 'CORRUPTION', file: path, offset: t.topOffset });

    const at = (entries: typeof t.entries): typeof t.entries => entries.map((x) => ({ ...x }));
    // First block numbers not increasing (partition 2 claims partition 1's start): refused at open.
    let bad = at(t.entries);
    bad[2] = { ...bad[2]!, e: { ...bad[2]!.e, firstBlock: bad[1]!.e.firstBlock } };
    writeTopLevel(path, t, bad);
    expect(openError()).toMatchObject({ code: 'CORRUPTION', file: path, offset: t.topOffset });
    // A handle past the data: refused at open.
    bad = at(t.entries);
    bad[1] = { ...bad[1]!, e: { ...bad[1]!.e, index: { offset: t.topOffset + 100, size: 50 } } };
    writeTopLevel(path, t, bad);
    expect(openError()).toMatchObject({ code: 'CORRUPTION', offset: t.topOffset });
    // Keys out of order: refused at open.
    bad = at(t.entries);
    [bad[1], bad[2]] = [{ ...bad[2]!, e: bad[1]!.e }, { ...bad[1]!, e: bad[2]!.e }];
    writeTopLevel(path, t, bad);
    expect(openError()).toMatchObject({ code: 'CORRUPTION', offset: t.topOffset });
    // Two partitions' index handles swapped (keys and block numbers still plausible): found when
    // one of them is read — its separators or block count are not the top-level index's.
    bad = at(t.entries);
    [bad[1], bad[2]] = [{ ...bad[1]!, e: { ...bad[1]!.e, index: bad[2]!.e.index } }, { ...bad[2]!, e: { ...bad[2]!.e, index: bad[1]!.e.index } }];
    writeTopLevel(path, t, bad);
    let table = Table.open(path, { partitions: new PartitionCache(0), fileNumber: 9 });
    expect(() => table.findBlock(t.entries[1]!.key, 1)).toThrow(expect.objectContaining({ code: 'CORRUPTION', offset: t.entries[2]!.e.index.offset }));
    expect(() => table.verify()).toThrow(expect.objectContaining({ code: 'CORRUPTION' }));
    table.close();
    // A partition's first block moved by one (block numbers no longer match its index): found
    // when that partition or the one before it is read.
    bad = at(t.entries);
    bad[2] = { ...bad[2]!, e: { ...bad[2]!.e, firstBlock: bad[2]!.e.firstBlock + 1 } };
    writeTopLevel(path, t, bad);
    table = Table.open(path, { partitions: new PartitionCache(0), fileNumber: 9 });
    expect(() => table.findBlock(t.entries[1]!.key, 1)).toThrow(expect.objectContaining({ code: 'CORRUPTION', offset: t.entries[1]!.e.index.offset }));
    expect(() => table.verify()).toThrow(expect.objectContaining({ code: 'CORRUPTION' }));
    table.close();
    // Unchanged entries rewritten: the table reads (the helper itself is sound).
    writeTopLevel(path, t, t.entries);
    table = Table.open(path);
    expect(table.verify().blocks).toBeGreaterThan(10);
    table.close();
    cleanup();
  });
});
