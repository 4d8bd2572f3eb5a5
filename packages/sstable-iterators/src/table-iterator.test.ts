import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareKeys, EntryKind, type PointEntry } from '@strata-db/memtable';
import { BlockCache, COMPRESSION_NAMES, FILTER_REJECTED, nodeFileSystem, Table, type TableFileSystem } from '@strata-db/sstable-core';
import { TableIterator, tableTombstones } from './index.js';
import { buildTable, scanBackward, scanForward, tempDir } from './test-support/tables.js';
import { hex, modelGet, modelMaxCovering, show, tableInput } from './test-support/model.js';

const builderOptions = fc.record({
  blockSize: fc.constantFrom(64, 256, 4096),
  restartInterval: fc.constantFrom(1, 2, 16),
  bloomBitsPerKey: fc.constantFrom(0, 10),
  compression: fc.constantFrom(...COMPRESSION_NAMES),
});

type Op =
  | { op: 'first' | 'last' | 'next' | 'prev' }
  | { op: 'seek' | 'seekForPrev'; key: Uint8Array };

const probeKey = fc.oneof(fc.uint8Array({ maxLength: 12, max: 8 }), fc.uint8Array({ maxLength: 4 }));
const ops = fc.array(
  fc.oneof(
    fc.record({ op: fc.constantFrom('first' as const, 'last' as const, 'next' as const, 'prev' as const) }),
    fc.record({ op: fc.constantFrom('seek' as const, 'seekForPrev' as const), key: probeKey }),
  ),
  { minLength: 1, maxLength: 40 },
) as fc.Arbitrary<Op[]>;

/** Keys made of `prefix` followed by a suffix. */
function prefixedBy(prefix: Uint8Array): (suffix: Uint8Array) => Uint8Array {
  return (suffix) => {
    const k = new Uint8Array(prefix.length + suffix.length);
    k.set(prefix);
    k.set(suffix, prefix.length);
    return k;
  };
}

/** An uncompressed table of `count` Puts k00000… → value-<i> in a fresh directory. */
async function numberedTable(count: number, blockSize: number): Promise<{ path: string; entries: PointEntry[]; cleanup: () => void }> {
  const { dir, cleanup } = tempDir();
  const path = join(dir, '1.sst');
  const entries: PointEntry[] = [];
  for (let i = 0; i < count; i++) entries.push({ key: Buffer.from(`k${String(i).padStart(5, '0')}`), seq: 1, kind: EntryKind.Put, value: Buffer.from(`value-${i}`) });
  await buildTable(path, entries, [], { blockSize, compression: 'none' });
  return { path, entries, cleanup };
}

describe('TableIterator and Table.get against a sorted-array model', () => {
  it('build → scan (both ways) yields exactly the input; gets, tombstones and random seeks agree', async () => {
    const { dir, cleanup } = tempDir();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        tableInput(),
        builderOptions,
        ops,
        fc.option(probeKey, { nil: undefined }),
        fc.option(probeKey, { nil: undefined }),
        fc.array(fc.record({ key: probeKey, snap: fc.integer({ min: 0, max: 210 }) }), { maxLength: 20 }),
        async (input, options, opList, lower, upper, probes) => {
          const path = join(dir, `${++n}.sst`);
          const meta = await buildTable(path, input.entries, input.tombstones, { ...options, fileNumber: n });
          const cache = new BlockCache(64 * 1024);
          const table = Table.open(path, { cache, fileNumber: n });
          try {
            expect(meta.entryCount).toBe(input.entries.length);
            expect(table.readProperties().entryCount).toBe(input.entries.length);
            const all = new TableIterator(table);
            expect(scanForward(all).map(show)).toEqual(input.entries.map(show));
            expect(scanBackward(all).map(show)).toEqual(input.entries.map(show).reverse());
            expect([...tableTombstones(table)]).toEqual(input.tombstones);

            for (const { key, snap } of [...probes, ...input.entries.slice(0, 20).map((e) => ({ key: e.key, snap: e.seq }))]) {
              const got = table.get(key, snap);
              const want = modelGet(input.entries, key, snap);
              expect(got && show(got)).toEqual(want && show(want));
              const kind = table.find(key, snap);
              expect(kind < 0 ? undefined : show({ key, seq: table.foundSeq, kind: kind as EntryKind, value: table.foundValue() })).toEqual(want && show(want));
              if (kind === FILTER_REJECTED) expect(table.hasFilter).toBe(true);
              // Without the filter (the engine skipping a level's filters): the same answer, never FILTER_REJECTED.
              const unfiltered = table.find(key, snap, undefined, false);
              expect(unfiltered).not.toBe(FILTER_REJECTED);
              expect(unfiltered < 0 ? undefined : show({ key, seq: table.foundSeq, kind: unfiltered as EntryKind, value: table.foundValue() })).toEqual(want && show(want));
              expect(table.maxCoveringTombstoneSeq(key, snap)).toBe(modelMaxCovering(input.tombstones, key, snap));
            }

            // Random moves within bounds.
            const bounds: { lower?: Uint8Array; upper?: Uint8Array } = {};
            if (lower !== undefined) bounds.lower = lower;
            if (upper !== undefined) bounds.upper = upper;
            const model = input.entries.filter(
              (e) => (lower === undefined || compareKeys(e.key, lower) >= 0) && (upper === undefined || compareKeys(e.key, upper) < 0),
            );
            const it = new TableIterator(table, bounds);
            expect(scanForward(it).map(show)).toEqual(model.map(show));
            // The same moves through an iterator that rewrites one entry (`reuseEntry`): each
            // entry read before the next move, as its consumer must. Keys of every length (and
            // past the cursor's 64-byte key buffer) make it re-make the key's view.
            const reusing = new TableIterator(table, { ...bounds, reuseEntry: true });
            let pos = -1;
            for (const o of opList) {
              for (const x of [it, reusing]) {
                switch (o.op) {
                  case 'first':
                    x.seekToFirst();
                    break;
                  case 'last':
                    x.seekToLast();
                    break;
                  case 'next':
                    if (pos >= 0) x.next();
                    break;
                  case 'prev':
                    if (pos >= 0) x.prev();
                    break;
                  case 'seek':
                    x.seek(o.key);
                    break;
                  case 'seekForPrev':
                    x.seekForPrev(o.key);
                    break;
                }
              }
              switch (o.op) {
                case 'first':
                  pos = model.length > 0 ? 0 : -1;
                  break;
                case 'last':
                  pos = model.length - 1;
                  break;
                case 'next':
                  if (pos < 0) continue;
                  pos = pos + 1 < model.length ? pos + 1 : -1;
                  break;
                case 'prev':
                  if (pos < 0) continue;
                  pos -= 1;
                  break;
                case 'seek':
                  pos = model.findIndex((e) => compareKeys(e.key, o.key) >= 0);
                  break;
                case 'seekForPrev':
                  pos = model.findLastIndex((e) => compareKeys(e.key, o.key) <= 0);
                  break;
              }
              const desc = `${o.op}${'key' in o ? ` ${hex(o.key)}` : ''}`;
              expect(it.valid(), desc).toBe(pos >= 0);
              expect(reusing.valid(), `reuseEntry ${desc}`).toBe(pos >= 0);
              if (pos >= 0) {
                expect(show(it.entry()), desc).toBe(show(model[pos]!));
                expect(show(reusing.entry()), `reuseEntry ${desc}`).toBe(show(model[pos]!));
              }
            }
            // A whole scan each way through the rewritten entry, read at every step.
            const forward: string[] = [];
            reusing.seekToFirst();
            while (reusing.valid()) {
              forward.push(show(reusing.entry()));
              reusing.next();
            }
            expect(forward).toEqual(model.map(show));
            const backward: string[] = [];
            reusing.seekToLast();
            while (reusing.valid()) {
              backward.push(show(reusing.entry()));
              reusing.prev();
            }
            expect(backward).toEqual(model.map(show).reverse());
          } finally {
            table.close();
          }
        },
      ),
      { numRuns: 150 },
    );
    cleanup();
  });

  it('get and find agree with the model when all keys share a long prefix (findBlock skips it)', async () => {
    const { dir, cleanup } = tempDir();
    let n = 0;
    const withPrefix = prefixedBy(new Uint8Array([7, 7, 7, 7, 7, 7, 7, 7, 7]));
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.uint8Array({ maxLength: 9, max: 9 }), { minLength: 1, maxLength: 300, selector: hex }),
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 10, max: 9 }).map(withPrefix), fc.uint8Array({ maxLength: 11, min: 6, max: 8 })), { maxLength: 40 }),
        fc.constantFrom(64, 256),
        async (suffixes, probes, blockSize) => {
          const entries: PointEntry[] = suffixes
            .map(withPrefix)
            .sort(compareKeys)
            .map((key, i) => ({ key, seq: 10 + i, kind: i % 5 === 4 ? EntryKind.Delete : EntryKind.Put, value: i % 5 === 4 ? new Uint8Array(0) : new Uint8Array([i & 255]) }));
          const path = join(dir, `p${++n}.sst`);
          await buildTable(path, entries, [], { blockSize, restartInterval: 2, bloomBitsPerKey: 0, fileNumber: n });
          const table = Table.open(path, { cache: new BlockCache(1 << 20), fileNumber: n });
          try {
            for (const key of [...probes, ...entries.map((e) => e.key)]) {
              const want = modelGet(entries, key, 1e6);
              expect(table.get(key, 1e6) && show(table.get(key, 1e6)!)).toEqual(want && show(want));
              const kind = table.find(key, 1e6);
              expect(kind < 0 ? undefined : show({ key, seq: table.foundSeq, kind: kind as EntryKind, value: table.foundValue() })).toEqual(want && show(want));
            }
          } finally {
            table.close();
          }
        },
      ),
      { numRuns: 100 },
    );
    cleanup();
  });

  it('find through the per-block restart summaries agrees with the model: versions spanning restarts, keys equal in their first 6 bytes past the prefix, any snapshot', async () => {
    const { dir, cleanup } = tempDir();
    let n = 0;
    const withPrefix = prefixedBy(new Uint8Array([3, 3, 3, 3, 3]));
    // Suffixes of 6 to 9 bytes from a tiny alphabet: many keys agree in the 6 bytes a summary
    // number holds, so the exact comparison of a restart entry (key, then seq) decides.
    const suffix = fc.uint8Array({ minLength: 6, maxLength: 9, max: 2 });
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.record({ s: suffix, versions: fc.integer({ min: 1, max: 6 }) }), { minLength: 1, maxLength: 250, selector: (k) => hex(k.s) }),
        fc.array(fc.record({ s: suffix, snap: fc.integer({ min: 0, max: 2000 }) }), { maxLength: 40 }),
        fc.constantFrom(128, 256, 512),
        fc.constantFrom(1, 2, 4, 16),
        async (keys, probes, blockSize, restartInterval) => {
          const entries: PointEntry[] = [];
          let seq = 1;
          for (const { s, versions } of keys) {
            for (let v = 0; v < versions; v++) {
              const kind = seq % 4 === 0 ? EntryKind.Delete : EntryKind.Put;
              entries.push({ key: withPrefix(s), seq: seq, kind, value: kind === EntryKind.Delete ? new Uint8Array(0) : new Uint8Array(8 + (seq % 23)).fill(seq & 255) });
              seq += 3;
            }
          }
          entries.sort((a, b) => compareKeys(a.key, b.key) || b.seq - a.seq);
          const path = join(dir, `s${++n}.sst`);
          await buildTable(path, entries, [], { blockSize, restartInterval, bloomBitsPerKey: 0, compression: 'none', fileNumber: n });
          const table = Table.open(path, { cache: new BlockCache(1 << 20), fileNumber: n });
          try {
            const asked = [
              ...probes.map((p) => ({ key: withPrefix(p.s), snap: p.snap })),
              ...entries.flatMap((e) => [
                { key: e.key, snap: e.seq },
                { key: e.key, snap: e.seq - 1 },
                { key: e.key, snap: 1e6 },
              ]),
            ];
            // Twice: the first lookup of a block fills its summary, the second one uses it.
            for (let round = 0; round < 2; round++) {
              for (const { key, snap } of asked) {
                const want = modelGet(entries, key, snap);
                const kind = table.find(key, snap);
                expect(kind < 0 ? undefined : show({ key, seq: table.foundSeq, kind: kind as EntryKind, value: table.foundValue() })).toEqual(want && show(want));
              }
            }
          } finally {
            table.close();
          }
        },
      ),
      { numRuns: 60 },
    );
    cleanup();
  });

  it('with reuseEntry one entry object is rewritten on every move (what its consumer must copy before moving)', async () => {
    const { path, entries, cleanup } = await numberedTable(300, 256);
    const table = Table.open(path);
    try {
      const it = new TableIterator(table, { reuseEntry: true });
      it.seekToFirst();
      const first = it.entry();
      const key = first.key;
      expect(Buffer.from(first.key).toString()).toBe('k00000');
      it.next();
      expect(it.entry()).toBe(first); // the same object, now the second entry
      expect(it.entry().key).toBe(key); // and the same key view (the length held)
      expect(Buffer.from(first.key).toString()).toBe('k00001');
      expect(Buffer.from(first.value).toString()).toBe(Buffer.from(entries[1]!.value).toString());
    } finally {
      table.close();
      cleanup();
    }
  });

  it('entries stay valid after the iterator moves and after blocks are evicted', async () => {
    const { path, entries, cleanup } = await numberedTable(2000, 128);
    const table = Table.open(path, { cache: new BlockCache(1024), fileNumber: 1 });
    const it = new TableIterator(table);
    const kept = scanForward(it);
    expect(kept.map((e) => Buffer.from(e.value).toString())).toEqual(entries.map((e) => Buffer.from(e.value).toString()));
    table.close();
    expect(() => {
      it.seekToFirst();
    }).toThrow(expect.objectContaining({ code: 'NOT_OPEN' }));
    cleanup();
  });

  it('point lookups recycle block buffers; blocks an iterator or get() saw are never recycled', async () => {
    const { dir, cleanup } = tempDir();
    const path = join(dir, '1.sst');
    const entries: PointEntry[] = [];
    const valueOf = (i: number): string => `value-${i}-`.padEnd(40, String.fromCharCode(97 + (i % 26)));
    for (let i = 0; i < 3000; i++) entries.push({ key: Buffer.from(`k${String(i).padStart(5, '0')}`), seq: 1, kind: EntryKind.Put, value: Buffer.from(valueOf(i)) });
    await buildTable(path, entries, [], { blockSize: 256, compression: 'none' });
    const cache = new BlockCache(4096); // a few blocks: nearly every lookup evicts one
    const table = Table.open(path, { cache, fileNumber: 1 });
    // Views an iterator and get() hand out, taken first, then many point lookups through the cache.
    const it = new TableIterator(table);
    it.seek(Buffer.from('k01000'));
    const held = [it.entry()];
    for (let i = 0; i < 30; i++) {
      it.next();
      held.push(it.entry());
    }
    const got = table.get(Buffer.from('k02000'), 1)!;
    for (let i = 0; i < 3000; i += 7) {
      const key = entries[i]!.key;
      expect(table.find(key, 1)).toBe(EntryKind.Put);
      expect(Buffer.from(table.foundValue()).toString()).toBe(valueOf(i));
    }
    expect(cache.recycled).toBeGreaterThan(100); // the point lookups' blocks were reused
    expect(held.map((e) => Buffer.from(e.value).toString())).toEqual(entries.slice(1000, 1031).map((e) => Buffer.from(e.value).toString()));
    expect(Buffer.from(got.value).toString()).toBe(valueOf(2000));
    table.close();
    cleanup();
  });

  it('a full cache keeps a point-read block only on its second miss; a declined block still answers right', async () => {
    const { dir, cleanup } = tempDir();
    const valueOf = (i: number): string => `value-${i}-`.padEnd(60, String.fromCharCode(97 + (i % 26)));
    const entries: PointEntry[] = [];
    for (let i = 0; i < 3000; i++) entries.push({ key: Buffer.from(`k${String(i).padStart(5, '0')}`), seq: 1, kind: EntryKind.Put, value: Buffer.from(valueOf(i)) });
    for (const compression of ['none', 'lz4'] as const) {
      const path = join(dir, `${compression}.sst`);
      await buildTable(path, entries, [], { blockSize: 256, compression });
      const cache = new BlockCache(4096); // a dozen blocks: full after the first few lookups
      const table = Table.open(path, { cache, fileNumber: 1 });
      // Lookups spread over the whole table: nearly every one reads a block no lookup read before.
      for (let i = 0; i < 3000; i += 7) {
        expect(table.find(entries[i]!.key, 1)).toBe(EntryKind.Put);
        expect(Buffer.from(table.foundValue()).toString()).toBe(valueOf(i));
      }
      expect(cache.declined).toBeGreaterThan(300);
      expect(cache.usage).toBeLessThanOrEqual(cache.capacity);
      // One key three times: declined, then kept, then a hit.
      const hits = cache.hits;
      for (let r = 0; r < 3; r++) {
        expect(table.find(entries[1500]!.key, 1)).toBe(EntryKind.Put);
        expect(Buffer.from(table.foundValue()).toString()).toBe(valueOf(1500));
      }
      expect(cache.hits).toBe(hits + 1);
      table.close();
    }
    cleanup();
  });

  it('with a block ring, a value keeps its bytes for validMoves moves and the scan is the same', async () => {
    const { path, entries, cleanup } = await numberedTable(2000, 128);
    for (const ring of [2, 3, 8]) {
      const table = Table.open(path);
      const it = new TableIterator(table, { readahead: false, blockRing: ring });
      expect(it.valueLifetime).toBe(ring - 1);
      const held: PointEntry[] = [];
      let moves = 0;
      let reused = false;
      it.seekToFirst();
      while (it.valid()) {
        const e = it.entry();
        const i = held.length;
        expect(Buffer.from(e.key).toString()).toBe(Buffer.from(entries[i]!.key).toString());
        held.push(e);
        // Every value handed out in the last valueLifetime moves still shows its bytes.
        for (let j = Math.max(0, i - (ring - 2)); j <= i; j++) expect(Buffer.from(held[j]!.value).toString()).toBe(`value-${j}`);
        if (i >= ring * 40 && Buffer.from(held[i - ring * 40]!.value).toString() !== `value-${i - ring * 40}`) reused = true;
        moves++;
        it.next();
      }
      expect(moves).toBe(2000);
      // The ring's buffers were read into again (older values overwritten): nothing per block allocated.
      expect(reused).toBe(true);
      // A seek restarts anywhere: still correct.
      it.seek(entries[1500]!.key);
      expect(Buffer.from(it.entry().value).toString()).toBe('value-1500');
      table.close();
    }
    cleanup();
  });

  it('a scan reads ahead, verifying each block only when it reaches it', async () => {
    const { path, entries, cleanup } = await numberedTable(2000, 256);
    // Damage one byte of data block 12's payload: the scan's readahead run covers it early.
    const probe = Table.open(path);
    const damaged = probe.blockHandle(12);
    const before = Buffer.from(probe.layout().dataBlocks[11]!.separatorKey).toString(); // ≥ block 11's keys, < block 12's
    const after = Buffer.from(probe.layout().dataBlocks[12]!.separatorKey).toString(); // ≥ block 12's keys, < block 13's
    probe.close();
    const bytes = readFileSync(path);
    bytes[damaged.offset + 3]! ^= 0xff;
    writeFileSync(path, bytes);
    for (const reverse of [false, true]) {
      const table = Table.open(path);
      const it = new TableIterator(table);
      const seen: string[] = [];
      let error: unknown;
      try {
        if (reverse) it.seekToLast();
        else it.seekToFirst();
        while (it.valid()) {
          seen.push(Buffer.from(it.entry().key).toString());
          if (reverse) it.prev();
          else it.next();
        }
      } catch (err) {
        error = err;
      }
      expect(error).toMatchObject({ code: 'CORRUPTION', offset: damaged.offset });
      // Everything before the damaged block (in scan order) was returned, correctly.
      const keys = entries.map((e) => Buffer.from(e.key).toString());
      expect(seen).toEqual(reverse ? keys.filter((k) => k > after).reverse() : keys.filter((k) => k <= before));
      table.close();
    }
    cleanup();
  });

  it('with readahead: false a scan reads one block at a time (for a file layer that reads ahead itself)', async () => {
    const { path, entries, cleanup } = await numberedTable(2000, 256);
    const readsOfScan = (readahead: boolean | undefined): { reads: number; blocks: number; partitions: number; values: string[] } => {
      let reads = 0;
      const fs: TableFileSystem = {
        ...nodeFileSystem,
        readSync: (fd, buf, off, len, position) => {
          reads++;
          return nodeFileSystem.readSync(fd, buf, off, len, position);
        },
      };
      const table = Table.open(path, { fs });
      const atOpen = reads;
      const it = new TableIterator(table, readahead === undefined ? {} : { readahead });
      const values = scanForward(it).map((e) => Buffer.from(e.value).toString());
      const blocks = table.blockCount;
      const partitions = table.partitionCount;
      table.close();
      return { reads: reads - atOpen, blocks, partitions, values };
    };
    const runs = readsOfScan(undefined);
    const single = readsOfScan(false);
    const want = entries.map((e) => Buffer.from(e.value).toString());
    expect(runs.values).toEqual(want);
    expect(single.values).toEqual(want);
    expect(single.blocks).toBeGreaterThan(40);
    // One read per data block, and one per index partition (loaded when the scan reaches it).
    expect(single.reads).toBe(single.blocks + single.partitions);
    expect(runs.reads).toBeLessThan(runs.blocks / 4);
    cleanup();
  });

  it('bounded tombstone iteration keeps only tombstones overlapping [lower, upper)', async () => {
    const { dir, cleanup } = tempDir();
    const path = join(dir, '1.sst');
    const b = (s: string): Uint8Array => new TextEncoder().encode(s);
    const ts = [
      { start: b('a'), end: b('c'), seq: 3 },
      { start: b('b'), end: b('z'), seq: 9 },
      { start: b('d'), end: b('e'), seq: 4 },
      { start: b('m'), end: b('n'), seq: 5 },
    ];
    await buildTable(path, [], ts);
    const table = Table.open(path);
    const it = tableTombstones(table, { lower: b('c'), upper: b('m') });
    expect([...it].map((t) => t.seq)).toEqual([9, 4]);
    it.seek(b('c'));
    expect(it.valid() && it.tombstone().seq).toBe(4);
    expect(table.readProperties().smallestKey).toEqual(b('a'));
    expect(table.readProperties().largestKey).toEqual(b('z'));
    expect(table.readProperties().largestExclusive).toBe(true);
    expect(scanForward(new TableIterator(table))).toEqual([]);
    table.close();
    cleanup();
  });
});
