/**
 * The freeze size (freeze-size.ts): chosen from L1's bytes, doubling from memtableSize up to
 * maxMemtableSize; the option's validation; a database whose memtables grew — their WAL
 * segments replayed after a crash, and the write path freezing at the grown size.
 */
import { describe, expect, it } from 'vitest';
import { Database } from '../index.js';
import { resolveOptions } from '../options.js';
import { MemoryFileSystem } from '../testing/index.js';
import { Version } from '../version/version.js';
import { fileMeta } from '../compaction/test-support/file-metadata.js';
import { flushMergeBytes, freezeSize } from './freeze-size.js';

const MiB = 2 ** 20;
const text = (v: Uint8Array | undefined): string | undefined => (v === undefined ? undefined : Buffer.from(v).toString());

describe('freezeSize', () => {
  it('is memtableSize until L1 holds more than the slowdown trigger count of memtables', () => {
    expect(freezeSize(4 * MiB, 16 * MiB, 40, 0)).toBe(4 * MiB);
    // A 1M-key fill's whole tree (~110 MB) in L1: still 4 MiB (40 × 4 MiB = 160 MiB).
    expect(freezeSize(4 * MiB, 16 * MiB, 40, 110e6)).toBe(4 * MiB);
    expect(freezeSize(4 * MiB, 16 * MiB, 40, 160 * MiB)).toBe(4 * MiB);
    expect(freezeSize(4 * MiB, 16 * MiB, 40, 160 * MiB + 1)).toBe(8 * MiB);
    // The 10M fill's late L1 (~190 MB): 8 MiB, whose 40 hold 320 MiB.
    expect(freezeSize(4 * MiB, 16 * MiB, 40, 190e6)).toBe(8 * MiB);
    expect(freezeSize(4 * MiB, 16 * MiB, 40, 320 * MiB + 1)).toBe(16 * MiB);
  });

  it('never passes maxMemtableSize, and doubles only while the double fits under it', () => {
    expect(freezeSize(4 * MiB, 16 * MiB, 40, 10e9)).toBe(16 * MiB);
    expect(freezeSize(4 * MiB, 12 * MiB, 40, 10e9)).toBe(8 * MiB);
    expect(freezeSize(4 * MiB, 4 * MiB, 40, 10e9)).toBe(4 * MiB);
    expect(freezeSize(4096, 16384, 4, 4 * 4096 + 1)).toBe(8192);
  });
});

describe('freezeSize once grown (hysteresis)', () => {
  it('keeps a grown size while L1 swings around the threshold, and halves it once L1 is under a quarter', () => {
    // Grown to 8 MiB at L1 > 160 MiB; L1 back at 120 MB (an L1→L2 compaction): still 8 MiB.
    expect(freezeSize(4 * MiB, 16 * MiB, 40, 120e6, 8 * MiB)).toBe(8 * MiB);
    expect(freezeSize(4 * MiB, 16 * MiB, 40, 80 * MiB + 1, 8 * MiB)).toBe(8 * MiB);
    // Under a quarter of 40 × 8 MiB: back to 4 MiB.
    expect(freezeSize(4 * MiB, 16 * MiB, 40, 80 * MiB, 8 * MiB)).toBe(4 * MiB);
    // Two steps down at once when the tree emptied, never under memtableSize.
    expect(freezeSize(4 * MiB, 16 * MiB, 40, 0, 16 * MiB)).toBe(4 * MiB);
    expect(freezeSize(4 * MiB, 16 * MiB, 40, 100 * MiB, 16 * MiB)).toBe(8 * MiB);
    // Still grows from a grown size.
    expect(freezeSize(4 * MiB, 16 * MiB, 40, 320 * MiB + 1, 8 * MiB)).toBe(16 * MiB);
  });
});

describe('the bytes a flush is merged into (flushMergeBytes)', () => {
  // L0 20, L1 100, L3 1000, L6 10000 (fileMeta's third argument is the file size).
  const v = new Version([[fileMeta('a', 'z', 20)], [fileMeta('a', 'm', 60), fileMeta('n', 'z', 40)], [], [fileMeta('a', 'z', 1000)], [], [], [fileMeta('a', 'z', 10_000)]]);

  it("is L1's bytes with leveled compaction and the whole tree's with universal", () => {
    expect(flushMergeBytes(v, 'level')).toBe(100);
    expect(flushMergeBytes(v, 'universal')).toBe(11_120);
    expect(flushMergeBytes(new Version([[], [], []]), 'universal')).toBe(0);
  });

  it('grows universal memtables with a tree whose L1 is empty (universal merges skip it), and leveled ones not', () => {
    // A 1.1 GB universal tree (a 10M fill) in L0 and L6, L1 empty: 16 MiB; leveled would stay at 4 MiB.
    const u = new Version([[fileMeta('a', 'z', 100e6)], [], [], [], [], [], [fileMeta('a', 'z', 1000e6)]]);
    expect(freezeSize(4 * MiB, 16 * MiB, 40, flushMergeBytes(u, 'universal'))).toBe(16 * MiB);
    expect(freezeSize(4 * MiB, 16 * MiB, 40, flushMergeBytes(u, 'level'))).toBe(4 * MiB);
    // A 1M-key tree (~110 MB): 4 MiB under either style, as before.
    const small = new Version([[fileMeta('a', 'z', 10e6)], [], [], [], [], [], [fileMeta('a', 'z', 100e6)]]);
    expect(freezeSize(4 * MiB, 16 * MiB, 40, flushMergeBytes(small, 'universal'))).toBe(4 * MiB);
  });
});

describe('maxMemtableSize option', () => {
  it('defaults to 4 × memtableSize; rejects less than memtableSize', () => {
    expect(resolveOptions({}).maxMemtableSize).toBe(16 * MiB);
    expect(resolveOptions({ memtableSize: 1024 }).maxMemtableSize).toBe(4096);
    expect(resolveOptions({ memtableSize: 2 ** 31 }).maxMemtableSize).toBe(2 ** 31);
    expect(resolveOptions({ memtableSize: 8 * MiB, maxMemtableSize: 8 * MiB }).maxMemtableSize).toBe(8 * MiB);
    expect(() => resolveOptions({ memtableSize: 8 * MiB, maxMemtableSize: 4 * MiB })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => resolveOptions({ maxMemtableSize: 4 * MiB })).not.toThrow();
    expect(() => resolveOptions({ maxMemtableSize: 100 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => resolveOptions({ maxMemtableSize: 1.5 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('a database whose memtables grow with L1', () => {
  // 4 KiB memtables, up to 16 KiB once L1 holds more than 4 of them (l0SlowdownWritesTrigger 4).
  const opts = { memtableSize: 4096, maxMemtableSize: 16384, l0CompactionTrigger: 2, l0SlowdownWritesTrigger: 4, l0StopWritesTrigger: 1000, targetFileSize: 8192, backgroundThreads: 0 };
  const key = (i: number): string => `k${String(i).padStart(5, '0')}`;
  const val = (i: number, round: number): string => `${round}:${i}:`.padEnd(150, 'x');

  it('freezes at the grown size, and a crash image replays its WAL whole (sequence numbers continue)', async () => {
    const fs = new MemoryFileSystem();
    const db = await Database.open('/db', { ...opts, fs });
    expect(db.stats().memtables.freezeSize).toBe(4096);
    // Written until L0→L1 compactions take L1 past 4 memtables' bytes and a freeze then picks a larger size.
    let n = 0;
    while (db.stats().memtables.freezeSize === 4096 && n < 20_000) await db.put(key(n % 2000), val(n % 2000, n++));
    const grown = db.stats().memtables.freezeSize;
    expect(grown === 8192 || grown === 16384).toBe(true);
    expect(db.stats().levels[1]!.bytes).toBeGreaterThan(4 * 4096);
    // The grown memtable fills past memtableSize and is not frozen there.
    const before = db.stats().memtables.activeBytes;
    let m = 0;
    while (db.stats().memtables.activeBytes <= 4096 + 1000) await db.put(key(m), val(m, -1 - m++));
    expect(db.stats().memtables.activeBytes).toBeGreaterThan(before);
    expect(db.stats().memtables.activeBytes).toBeLessThan(grown);
    const last = db.stats().lastSequence;
    // A crash now: the active memtable's records, more than memtableSize of them, are only in its WAL segment.
    const image = fs.clone();
    await db.close();
    const r = await Database.open('/db', { ...opts, fs: image });
    expect(r.stats().lastSequence).toBe(last);
    for (let i = 0; i < m; i++) expect(text(r.getSync(key(i)))).toBe(val(i, -1 - i));
    await r.put('x', 'y');
    expect(r.stats().lastSequence).toBe(last + 1);
    await r.close();
  });

  it('with universal compaction, grows with the tree (L1 stays empty there)', async () => {
    const fs = new MemoryFileSystem();
    const db = await Database.open('/db', { ...opts, fs, compactionStyle: 'universal', l0SlowdownWritesTrigger: 10, l0StopWritesTrigger: 1000, maxMemtableSize: 8192 });
    let n = 0;
    // Past 10 × 4 KiB of tree; distinct keys so that it grows (no overwrites to collapse).
    while (db.stats().memtables.freezeSize === 4096 && n < 5000) await db.put(key(n), val(n, n++));
    expect(db.stats().memtables.freezeSize).toBe(8192);
    // L1 alone would not have grown it (leveled's rule).
    expect(db.stats().levels[1]!.bytes).toBeLessThanOrEqual(10 * 4096);
    const tree = db.stats().levels.reduce((s, l) => s + l.bytes, 0);
    expect(tree).toBeGreaterThan(10 * 4096);
    for (let i = 0; i < n; i += 97) expect(text(db.getSync(key(i)))).toBe(val(i, i));
    await db.close();
  });
});
