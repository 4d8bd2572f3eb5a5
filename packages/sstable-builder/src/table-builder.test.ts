import { nodeFileSystem } from '@strata-db/vfs';
import { FaultInjectingFileSystem } from '@strata-db/vfs/testing';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { EntryKind, type PointEntry } from '@strata-db/memtable';
import { StrataError } from '@strata-db/errors';
import { BlockCursor, COMPRESSION_NAMES, CompressionType, Table } from '@strata-db/sstable-core';
import { TableBuilder } from './index.js';
import { PROBE_INTERVAL } from './compression-skip.js';

const dir = mkdtempSync(join(tmpdir(), 'strata-builder-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
let n = 0;
const nextPath = (): string => join(dir, `${String(++n).padStart(6, '0')}.sst`);
const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const put = (key: string, seq: number, value = `v${seq}`): PointEntry => ({ key: b(key), seq, kind: EntryKind.Put, value: b(value) });
const del = (key: string, seq: number): PointEntry => ({ key: b(key), seq, kind: EntryKind.Delete, value: new Uint8Array(0) });

function expectCode(fn: () => unknown, code: string): StrataError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(StrataError);
  expect((caught as StrataError).code).toBe(code);
  return caught as StrataError;
}

describe('TableBuilder input checks', () => {
  it('rejects out-of-order or malformed input with INVALID_ARGUMENT and writes nothing for it', async () => {
    const path = nextPath();
    const tb = new TableBuilder(path);
    tb.add(put('b', 5));
    expectCode(() => {
      tb.add(put('a', 9));
    }, 'INVALID_ARGUMENT'); // key goes back
    expectCode(() => {
      tb.add(put('b', 5));
    }, 'INVALID_ARGUMENT'); // duplicate version
    expectCode(() => {
      tb.add(put('b', 6));
    }, 'INVALID_ARGUMENT'); // seq must decrease within a key
    expectCode(() => {
      tb.add({ key: b('c'), seq: 1, kind: EntryKind.Delete, value: b('x') });
    }, 'INVALID_ARGUMENT'); // a delete has no value
    expectCode(() => {
      tb.add({ key: b('c'), seq: 1.5, kind: EntryKind.Put, value: b('x') });
    }, 'INVALID_ARGUMENT');
    expectCode(() => {
      tb.add({ key: b('c'), seq: 1, kind: 7 as EntryKind, value: b('x') });
    }, 'INVALID_ARGUMENT');
    expectCode(() => {
      tb.addTombstone({ start: b('x'), end: b('x'), seq: 3 });
    }, 'INVALID_ARGUMENT'); // empty range
    tb.addTombstone({ start: b('m'), end: b('p'), seq: 3 });
    expectCode(() => {
      tb.addTombstone({ start: b('a'), end: b('p'), seq: 3 });
    }, 'INVALID_ARGUMENT'); // starts go back
    expectCode(() => {
      tb.addTombstone({ start: b('m'), end: b('q'), seq: 4 });
    }, 'INVALID_ARGUMENT'); // same start: seq must decrease
    tb.add(put('b', 4));
    tb.add(del('c', 1));
    const meta = await tb.finish();
    expect(meta.entryCount).toBe(3);
    const t = Table.open(path);
    expect(t.get(b('b'), 100)?.seq).toBe(5);
    expect(t.get(b('a'), 100)).toBeUndefined();
    t.close();
  });

  it('rejects bad options', () => {
    expectCode(() => new TableBuilder(nextPath(), { blockSize: 0 }), 'INVALID_ARGUMENT');
    expectCode(() => new TableBuilder(nextPath(), { restartInterval: 0 }), 'INVALID_ARGUMENT');
    expectCode(() => new TableBuilder(nextPath(), { compression: 'zstd' as 'none' }), 'INVALID_ARGUMENT');
    expectCode(() => new TableBuilder(nextPath(), { compression: 2 as unknown as 'none' }), 'INVALID_ARGUMENT');
  });

  it('refuses to finish an empty table, and to be used after finish or abandon', async () => {
    const path = nextPath();
    const tb = new TableBuilder(path);
    await expect(tb.finish()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    tb.abandon();
    expect(existsSync(path)).toBe(false);
    expectCode(() => {
      tb.add(put('a', 1));
    }, 'NOT_OPEN');
    const tb2 = new TableBuilder(nextPath());
    tb2.add(put('a', 1));
    await tb2.finish();
    expectCode(() => {
      tb2.add(put('b', 1));
    }, 'NOT_OPEN');
  });
});

describe('TableBuilder output', () => {
  it('keeps no view into the caller\'s buffers: its bounds are copies', async () => {
    // Keys handed in as views into one large buffer, as a memtable's arena or a read block would;
    // the metadata outlives the build (in the version set) and must not keep that buffer alive.
    const arena = new Uint8Array(1 << 16);
    const view = (at: number, s: string): Uint8Array => {
      arena.set(b(s), at);
      return arena.subarray(at, at + s.length);
    };
    const tb = new TableBuilder(nextPath());
    tb.add({ key: view(0, 'b'), seq: 3, kind: EntryKind.Put, value: view(10, 'v') });
    tb.add({ key: view(20, 'm'), seq: 2, kind: EntryKind.Put, value: view(30, 'w') });
    tb.addTombstone({ start: view(40, 'a'), end: view(50, 'q'), seq: 1 });
    const meta = await tb.finish();
    for (const k of [meta.smallestKey, meta.largestKey, meta.properties.smallestPointKey, meta.properties.largestPointKey]) expect(k.buffer).not.toBe(arena.buffer);
    arena.fill(0);
    expect([meta.smallestKey, meta.largestKey, meta.properties.smallestPointKey, meta.properties.largestPointKey]).toEqual([b('a'), b('q'), b('b'), b('m')]);
  });

  it('a reader decodes its properties from the file when asked (kept by no open table), equal to the builder\'s; NOT_OPEN once closed', async () => {
    const tb = new TableBuilder(nextPath());
    for (let i = 0; i < 500; i++) tb.add(put(`k${String(i).padStart(4, '0')}`, i + 1));
    const meta = await tb.finish();
    const t = Table.open(meta.path);
    expect(t.blockCount).toBe(meta.properties.dataBlockCount);
    const p = t.readProperties();
    expect(p).toEqual(meta.properties);
    expect(t.readProperties()).not.toBe(p);
    t.close();
    expect(() => t.readProperties()).toThrow(expect.objectContaining({ code: 'NOT_OPEN' }));
  });

  it('marks a table for compaction when a window of entries is dense with Deletes (RocksDB CompactOnDeletionCollector)', async () => {
    const key = (i: number): string => `k${String(i).padStart(5, '0')}`;
    /** `deletes` Deletes spread evenly over `n` entries, or packed in one stretch. */
    const build = async (n: number, isDelete: (i: number) => boolean, trigger = { windowSize: 100, deletions: 40 }): Promise<boolean> => {
      const tb = new TableBuilder(nextPath(), { deletionTrigger: trigger });
      for (let i = 0; i < n; i++) tb.add(isDelete(i) ? del(key(i), i + 1) : put(key(i), i + 1));
      const meta = await tb.finish();
      const t = Table.open(meta.path);
      expect(t.readProperties().markedForCompaction).toBe(meta.markedForCompaction);
      t.close();
      return meta.markedForCompaction;
    };
    // 39 Deletes in every window of 100 (39%): not marked; 40%: marked.
    expect(await build(2000, (i) => i % 100 < 39)).toBe(false);
    expect(await build(2000, (i) => i % 100 < 40)).toBe(true);
    // 40 Deletes in a row among 10,000 entries (0.4% overall): the window finds them.
    expect(await build(10_000, (i) => i >= 5000 && i < 5040)).toBe(true);
    // 40 Deletes spread out over 10,000 entries: every window holds at most one.
    expect(await build(10_000, (i) => i % 250 === 0)).toBe(false);
    // No trigger given: never marked.
    const tb = new TableBuilder(nextPath());
    for (let i = 0; i < 100; i++) tb.add(del(key(i), i + 1));
    expect((await tb.finish()).markedForCompaction).toBe(false);
    expectCode(() => new TableBuilder(nextPath(), { deletionTrigger: { windowSize: 10, deletions: 11 } }), 'INVALID_ARGUMENT');
  });

  it('reports metadata covering points and tombstones; an exclusive tombstone end may be the largest', async () => {
    const path = nextPath();
    const tb = new TableBuilder(path, { fileNumber: 42 });
    tb.add(put('c', 7));
    tb.add(del('c', 3));
    tb.add(put('k', 9, ''));
    tb.addTombstone({ start: b('a'), end: b('d'), seq: 11 });
    tb.addTombstone({ start: b('j'), end: b('z'), seq: 2 });
    const meta = await tb.finish();
    expect(meta).toMatchObject({ fileNumber: 42, entryCount: 3, deleteCount: 1, tombstoneCount: 2, minSeq: 2, maxSeq: 11, largestExclusive: true });
    expect(meta.smallestKey).toEqual(b('a'));
    expect(meta.largestKey).toEqual(b('z'));
    expect(meta.fileSize).toBe(statSync(path).size);
    expect(meta.rawKeyBytes).toBe(3);
    expect(meta.rawValueBytes).toBe(2);
    const t = Table.open(path, { fileNumber: 42 });
    expect(t.readProperties()).toEqual(meta.properties);
    expect(t.readProperties().smallestPointKey).toEqual(b('c'));
    expect(t.readProperties().largestPointKey).toEqual(b('k'));
    expect(t.get(b('k'), 9)?.value.length).toBe(0);
    t.close();

    const tb2 = new TableBuilder(nextPath());
    tb2.add(put('q', 1));
    tb2.addTombstone({ start: b('a'), end: b('q'), seq: 2 });
    const m2 = await tb2.finish();
    expect(m2.largestKey).toEqual(b('q'));
    expect(m2.largestExclusive).toBe(false); // 'q' is a real entry
  });

  it('Table.layout: the blocks tile the file in order, and the separators bound their blocks', async () => {
    const path = nextPath();
    const tb = new TableBuilder(path, { blockSize: 256, bloomBitsPerKey: 10 });
    for (let i = 0; i < 200; i++) tb.add(put(`key${String(i).padStart(4, '0')}`, 1000 - i));
    tb.addTombstone({ start: b('key0100'), end: b('key0110'), seq: 2000 });
    await tb.finish();
    const t = Table.open(path);
    const layout = t.layout();
    expect(layout.dataBlocks.length).toBe(t.blockCount);
    expect(layout.dataBlocks.length).toBeGreaterThan(5);
    expect(layout.metaBlocks.map((m) => m.name).sort()).toEqual(['strata.properties', 'strata.rangedel']);
    expect(layout.filter).toMatchObject({ probes: expect.any(Number) });
    expect(layout.filter!.bytes % 64).toBe(0);
    expect(layout.partitions.length).toBe(1); // 200 short keys: one 4 KiB index partition
    // Every block, in file order, starts where the previous one (payload + 5-byte trailer) ended.
    const handles = [
      ...layout.dataBlocks.map((d) => d.handle),
      ...layout.partitions.flatMap((p) => [p.filter!, p.index]),
      ...layout.metaBlocks.map((m) => m.handle),
      layout.footer.metaIndex,
      layout.footer.index,
    ];
    let pos = 0;
    for (const h of handles) {
      expect(h.offset).toBe(pos);
      pos = h.offset + h.size + 5;
    }
    expect(layout.footer.offset).toBe(pos);
    expect(layout.footer.offset + 40).toBe(statSync(path).size);
    // A block's last key is ≤ its separator, the next block's first key above it.
    for (let i = 0; i < t.blockCount; i++) {
      const keys: string[] = [];
      const c = new BlockCursor(t.dataBlock(i));
      c.seekToFirst();
      while (c.valid()) {
        keys.push(new TextDecoder().decode(c.key()));
        c.next();
      }
      const sep = new TextDecoder().decode(layout.dataBlocks[i]!.separatorKey);
      expect(keys.at(-1)! <= sep).toBe(true);
      if (i > 0) expect(keys[0]! > new TextDecoder().decode(layout.dataBlocks[i - 1]!.separatorKey)).toBe(true);
    }
    t.close();
  });

  it('a table of tombstones only is valid', async () => {
    const path = nextPath();
    const tb = new TableBuilder(path);
    tb.addTombstone({ start: b('a'), end: b('b'), seq: 1 });
    const meta = await tb.finish();
    expect(meta).toMatchObject({ entryCount: 0, tombstoneCount: 1, minSeq: 1, maxSeq: 1 });
    const t = Table.open(path);
    expect(t.blockCount).toBe(0);
    expect(t.get(b('a'), 10)).toBeUndefined();
    expect(t.maxCoveringTombstoneSeq(b('a'), 10)).toBe(1);
    t.close();
  });

  it('streams: writes go out in bounded chunks while adding, then the file is fsynced and closed', async () => {
    const fs = new FaultInjectingFileSystem(nodeFileSystem, { traceLimit: Infinity }); // records every call
    const path = nextPath();
    const tb = new TableBuilder(path, { fs });
    const value = new Uint8Array(100).fill(7);
    for (let i = 0; i < 60_000; i++) tb.add({ key: b(`key${String(i).padStart(10, '0')}`), seq: i + 1, kind: EntryKind.Put, value });
    const writesBeforeFinish = fs.count('write');
    expect(writesBeforeFinish).toBeGreaterThan(10); // the table is not held in memory
    const est = tb.estimatedSize;
    const meta = await tb.finish();
    expect(est).toBeLessThanOrEqual(meta.fileSize);
    expect(est).toBeGreaterThan(meta.fileSize * 0.9);
    for (const c of fs.trace()) if (c.kind === 'write') expect(c.length).toBeLessThan(400 * 1024);
    const ops = fs.trace().map((c) => c.kind);
    expect(ops.at(-2)).toBe('fsync');
    expect(ops.at(-1)).toBe('close');
    expect(ops.lastIndexOf('write')).toBeLessThan(ops.indexOf('fsync'));
    expect(meta.fileSize).toBe(statSync(path).size);
  });

  it('an I/O failure is IO_ERROR naming file and offset; the builder then refuses work and abandon() removes the file', async () => {
    const fs = new FaultInjectingFileSystem(nodeFileSystem, { rules: [{ op: 'write', nth: 2, code: 'ENOSPC' }] });
    const path = nextPath();
    const tb = new TableBuilder(path, { fs, blockSize: 1024 });
    let caught: StrataError | undefined;
    try {
      for (let i = 0; i < 10_000; i++) tb.add(put(`key${String(i).padStart(6, '0')}`, 1, 'x'.repeat(100)));
    } catch (err) {
      caught = err as StrataError;
    }
    expect(caught).toBeInstanceOf(StrataError);
    expect(caught).toMatchObject({ code: 'IO_ERROR', file: path });
    expect(caught!.offset).toBeGreaterThan(0);
    expect((caught!.cause as { code: string }).code).toBe('ENOSPC');
    expectCode(() => {
      tb.add(put('zzz', 1));
    }, 'IO_ERROR');
    tb.abandon();
    expect(existsSync(path)).toBe(false);

    const fs2 = new FaultInjectingFileSystem(nodeFileSystem, { rules: [{ op: 'fsync', nth: 1, code: 'EIO', persistent: true }], traceLimit: Infinity });
    const tb2 = new TableBuilder(nextPath(), { fs: fs2 });
    tb2.add(put('a', 1));
    await expect(tb2.finish()).rejects.toMatchObject({ code: 'IO_ERROR' });
    expect(fs2.trace().at(-1)?.kind).toBe('close');
    tb2.abandon();
  });

  it('every codec shrinks compressible tables and reads back the same', async () => {
    const sizes: number[] = [];
    for (const compression of COMPRESSION_NAMES) {
      const path = nextPath();
      const tb = new TableBuilder(path, { compression });
      for (let i = 0; i < 2000; i++) tb.add(put(`key${String(i).padStart(6, '0')}`, 1, `value ${i % 10} `.repeat(10)));
      const meta = await tb.finish();
      sizes.push(meta.fileSize);
      const t = Table.open(path);
      expect(new TextDecoder().decode(t.get(b('key001234'), 1)?.value)).toBe('value 4 '.repeat(10));
      expect(t.readProperties().compression).toBe(compression);
      // The properties block is stored raw whatever the codec: a table open reads it, and must
      // not need the codec for it (compression.ts loads a codec when a block of its is met).
      const properties = t.layout().metaBlocks.find((m) => m.name.includes('properties'))!.handle;
      expect(readFileSync(path)[properties.offset + properties.size]).toBe(CompressionType.None);
      t.verify();
      t.close();
    }
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]!, COMPRESSION_NAMES[i]).toBeLessThan(sizes[0]! / 3);
  });

  it('compression attempts: every block of compressible data, a few of incompressible data, resuming within PROBE_INTERVAL blocks when the data turns', async () => {
    // One entry per block (values above the block size): block i holds key i. Seeded bytes: a
    // table must come out the same from the same input.
    let s = 7;
    const random = (): Uint8Array => Uint8Array.from({ length: 300 }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24));
    const compressible = (i: number): Uint8Array => new TextEncoder().encode(`value ${i} `.repeat(30));
    const build = async (valueOf: (i: number) => Uint8Array, n: number): Promise<{ types: number[]; attempts: number; skipped: number; bytes: Buffer }> => {
      const path = nextPath();
      const tb = new TableBuilder(path, { compression: 'lz4', blockSize: 256, fileNumber: 1, createdAt: 1 });
      for (let i = 0; i < n; i++) tb.add({ key: b(`key${String(i).padStart(4, '0')}`), seq: 1, kind: EntryKind.Put, value: valueOf(i) });
      await tb.finish();
      const bytes = readFileSync(path);
      const t = Table.open(path);
      expect(t.blockCount).toBe(n);
      const types = Array.from({ length: n }, (_, i) => bytes[t.blockHandle(i).offset + t.blockHandle(i).size]!);
      t.verify();
      t.close();
      return { types, attempts: tb.compressionAttempts, skipped: tb.compressionSkipped, bytes };
    };
    const good = await build(compressible, 300);
    expect(good).toMatchObject({ attempts: 300, skipped: 0 });
    expect(good.types).toEqual(Array(300).fill(CompressionType.LZ4));
    const bad = await build(() => random(), 512);
    expect(bad).toMatchObject({ attempts: 39, skipped: 473 });
    expect(bad.types).toEqual(Array(512).fill(CompressionType.None)); // every block still records its codec: none
    // The worst case: the data turns right after a probe (block 32 was tried and refused; 33-47
    // are not tried): 15 compressible blocks stored raw, then the probe at 48 shrinks and every
    // block from it on is tried.
    const mixed = await build((i) => (i < 33 ? random() : compressible(i)), 400);
    const firstLz4 = mixed.types.indexOf(CompressionType.LZ4);
    expect(firstLz4).toBe(33 + PROBE_INTERVAL - 1);
    expect(mixed.types.slice(firstLz4)).toEqual(Array(400 - firstLz4).fill(CompressionType.LZ4));
    s = 7;
    const again = await build(() => random(), 512);
    expect(again.bytes.equals(bad.bytes)).toBe(true); // same input, same bytes
  });

  it('index separators are shortened: long keys cost a few bytes each in the index', async () => {
    const path = nextPath();
    const tb = new TableBuilder(path, { blockSize: 1024 });
    for (let i = 0; i < 2000; i++) tb.add(put(`${String(i).padStart(6, '0')}${'-'.repeat(300)}`, 1, 'v'));
    const meta = await tb.finish();
    expect(meta.properties.dataBlockCount).toBeGreaterThan(100);
    expect(meta.properties.indexBytes).toBeLessThan(meta.properties.dataBlockCount * 30);
    const t = Table.open(path);
    for (let i = 0; i < 2000; i += 37) expect(t.get(b(`${String(i).padStart(6, '0')}${'-'.repeat(300)}`), 1)).toBeDefined();
    t.close();
  });
});

describe('keys given as reused objects (compaction: reuseEntry)', () => {
  it('a table is byte-identical whether its keys come as fresh arrays or as a few objects rewritten in place', async () => {
    // The builder compares such keys with the last one by words (key-words.ts), fresh ones by bytes.
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.uint8Array({ minLength: 1, maxLength: 10 })).map(([stem, tail]) => {
          const k = new Uint8Array(stem + tail.length);
          k.fill(0x61, 0, stem);
          k.set(tail, stem);
          return Buffer.from(k).toString('latin1');
        }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 3 }),
        async (keyStrings, inputs, offset) => {
          const sorted = keyStrings.sort((x, y) => Buffer.compare(Buffer.from(x, 'latin1'), Buffer.from(y, 'latin1')));
          const entries = sorted.flatMap((k, i) => {
            const key = new Uint8Array(Buffer.from(k, 'latin1'));
            return i % 3 === 0
              ? [{ key, seq: 10 * i + 2, kind: EntryKind.Put, value: b(`v${i}`) }, { key, seq: 10 * i + 1, kind: EntryKind.Delete, value: new Uint8Array(0) }]
              : [{ key, seq: 10 * i + 1, kind: EntryKind.Put, value: b(`v${i}`) }];
          });
          const fresh = nextPath();
          const t1 = new TableBuilder(fresh, { createdAt: 1, fileNumber: 7, restartInterval: 4, blockSize: 256 });
          for (const e of entries) t1.add(e);
          await t1.finish();
          // `inputs` objects per key length, views at an offset of one arena; the entry's input chosen by its index.
          const arena = new Uint8Array(64 * 1024);
          const objects = new Map<string, Uint8Array>();
          let at = offset;
          const reused = nextPath();
          const t2 = new TableBuilder(reused, { createdAt: 1, fileNumber: 7, restartInterval: 4, blockSize: 256 });
          entries.forEach((e, i) => {
            const id = `${i % inputs}/${e.key.length}`;
            let o = objects.get(id);
            if (o === undefined) {
              o = arena.subarray(at, at + e.key.length);
              at += e.key.length + 1;
              objects.set(id, o);
            }
            o.set(e.key);
            t2.add({ ...e, key: o });
          });
          await t2.finish();
          expect(readFileSync(reused).equals(readFileSync(fresh))).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('TableBuilder never writes into its input', () => {
  it('keys given as pooled Buffers (where slice() is a view) are unchanged after building', async () => {
    const keys = Array.from({ length: 5000 }, (_, i) => Buffer.from(String(i).padStart(16, '0')));
    const before = keys.map((k) => Buffer.from(k).toString('hex'));
    const path = nextPath();
    const tb = new TableBuilder(path, { blockSize: 512 });
    for (const [i, key] of keys.entries()) tb.add({ key, seq: i + 1, kind: EntryKind.Put, value: key });
    await tb.finish();
    expect(keys.map((k) => k.toString('hex'))).toEqual(before);
    const t = Table.open(path);
    for (let i = 0; i < keys.length; i += 97) expect(t.get(keys[i]!, i + 1)?.seq).toBe(i + 1);
    t.close();
  });
});

describe('memory of a finished builder', () => {
  it('a finished or abandoned builder holds no buffers: a job may keep hundreds of them', async () => {
    // A full collection, to see what is really held (the flag only for the context made here).
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    setFlagsFromString('--no-expose-gc');
    const settle = async (): Promise<number> => {
      gc();
      await new Promise((r) => setTimeout(r, 50)); // ArrayBuffers are freed by a sweep beside this thread
      gc();
      return process.memoryUsage().arrayBuffers;
    };
    const before = await settle();
    const kept: TableBuilder[] = [];
    for (let i = 0; i < 40; i++) {
      const t = new TableBuilder(nextPath(), { fs: nodeFileSystem, bloomBitsPerKey: 10 });
      for (let k = 0; k < 2000; k++) t.add(put(`k${String(k).padStart(6, '0')}`, 1, 'x'.repeat(50)));
      if (i % 4 === 3) t.abandon();
      else await t.finish();
      kept.push(t);
    }
    // Each builder's write buffer alone is ~320 KiB: 40 of them held would be ~13 MB.
    expect((await settle()) - before).toBeLessThan(2 * 1024 * 1024);
    expect(kept).toHaveLength(40);
  });
});

describe('recycled buffers (builder-buffers.ts)', () => {
  const build = async (
    entries: readonly PointEntry[],
    options: { restartInterval?: number; bloomBitsPerKey?: number; compression?: 'none' | 'lz4' },
    tombstones = 0,
  ): Promise<Buffer> => {
    const path = nextPath();
    const t = new TableBuilder(path, { createdAt: 1, fileNumber: 7, ...options });
    for (const e of entries) t.add(e);
    for (let i = 0; i < tombstones; i++) t.addTombstone({ start: b(`t${i}`), end: b(`t${i}z`), seq: 1 });
    await t.finish();
    return readFileSync(path);
  };
  const entries = (count: number, prefix: string): PointEntry[] =>
    Array.from({ length: count }, (_, i) => put(`${prefix}${String(i).padStart(7, '0')}`, count - i + 1, `value ${i} `.repeat(3)));

  it('a table is byte-identical whichever set built it: after larger tables, other settings, builders open side by side', async () => {
    const small = entries(300, 'a');
    const settings = [{}, { restartInterval: 4 }, { bloomBitsPerKey: 0 }, { compression: 'lz4' as const }];
    const first = await Promise.all(settings.map((o) => build(small, o)));
    // Larger tables leave grown buffers, full of their bytes, for the next builders.
    for (const o of settings) await build(entries(20_000, 'b'), o, 5);
    for (let i = 0; i < settings.length; i++) expect((await build(small, settings[i]!)).equals(first[i]!)).toBe(true);
    // Several builders at once take several sets; finished in another order than opened.
    const paths = [nextPath(), nextPath(), nextPath()];
    const open = paths.map((p) => new TableBuilder(p, { createdAt: 1, fileNumber: 7 }));
    for (const t of open) for (const e of small) t.add(e);
    await open[2]!.finish();
    await open[0]!.finish();
    await open[1]!.finish();
    for (const p of paths) expect(readFileSync(p).equals(first[0]!)).toBe(true);
  });

  it('a set is given back only once its table is written: a table built while another one is being synced is intact', async () => {
    const fs = new FaultInjectingFileSystem(nodeFileSystem);
    const aPath = nextPath();
    const a = new TableBuilder(aPath, { fs, createdAt: 1, fileNumber: 7 });
    for (const e of entries(5000, 'c')) a.add(e);
    const finishing = a.finish(); // its writes are done when this returns; the fsync is pending
    const path = nextPath();
    const next = new TableBuilder(path, { fs, createdAt: 1, fileNumber: 7 });
    for (const e of entries(300, 'a')) next.add(e);
    await next.finish();
    await finishing;
    const table = Table.open(path);
    try {
      expect(table.readProperties().entryCount).toBe(300);
    } finally {
      table.close();
    }
    expect(readFileSync(path).equals(await build(entries(300, 'a'), {}))).toBe(true);
    expect(readFileSync(aPath).equals(await build(entries(5000, 'c'), {}))).toBe(true);
  });
});
