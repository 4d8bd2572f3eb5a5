import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { FileMetadata } from '../version/file-metadata.js';
import type { Compaction } from './compaction.js';
import { Version } from '../version/version.js';
import { fileMeta } from './test-support/file-metadata.js';
import { averageEntryBytes, CompactionPicker, compensatedSize, computeScores, maxBytesForLevel, minOverlappingRatioOrder, pendingCompactionBytes, type CompactionPriority } from './picker.js';

const file = (smallest: string, largest: string, fileSize = 1000, maxSeq?: number): FileMetadata =>
  fileMeta(smallest, largest, fileSize, maxSeq === undefined ? {} : { maxSeq });
function version(...levels: FileMetadata[][]): Version {
  while (levels.length < 4) levels.push([]);
  return new Version(levels);
}
const options = { l0CompactionTrigger: 4, levelSizeMultiplier: 10, maxBytesForLevelBase: 10_000, targetFileSize: 1000 };
const names = (fs: readonly FileMetadata[]): string[] => fs.map((f) => `${Buffer.from(f.smallestKey).toString()}-${Buffer.from(f.largestKey).toString()}`);

describe('level scores', () => {
  it('scores L0 by file count and deeper levels by bytes over a geometric target', () => {
    expect(maxBytesForLevel(options, 1)).toBe(10_000);
    expect(maxBytesForLevel(options, 3)).toBe(1_000_000);
    const v = version([file('a', 'b'), file('c', 'd')], [file('a', 'z', 15_000)], [file('a', 'z', 50_000)]);
    expect(computeScores(v, options)).toEqual([
      { level: 0, score: 0.5 },
      { level: 1, score: 1.5 },
      { level: 2, score: 0.5 },
    ]);
    expect(pendingCompactionBytes(v, options)).toBe(Math.round(5000 * (1 + 50_000 / 15_000)));
  });

  it('picks nothing when every score is below 1', () => {
    expect(new CompactionPicker(options).pick(version([file('a', 'b')]))).toBeUndefined();
  });
});

describe('input choice', () => {
  it('takes the oldest L0 file with every L0 file overlapping it, transitively, and the overlapping L1 files', () => {
    // Newest first: f4 [x,y] f3 [c,e] f2 [a,c] f1 [d,f]; f1 overlaps f3 overlaps f2; f4 stands alone.
    const f1 = file('d', 'f');
    const f2 = file('a', 'c');
    const f3 = file('c', 'e');
    const f4 = file('x', 'y');
    const l1 = [file('a', 'b'), file('g', 'h'), file('w', 'z')];
    const c = new CompactionPicker(options).pick(version([f4, f3, f2, f1], l1))!;
    expect(c.level).toBe(0);
    expect(c.outputLevel).toBe(1);
    expect(names(c.inputs[0]!.files)).toEqual(['c-e', 'a-c', 'd-f']);
    expect(c.inputs[1]!.level).toBe(1);
    expect(names(c.inputs[1]!.files)).toEqual(['a-b']);
    expect(c.trivialMove).toBe(false);
  });

  it('moves a lone file down without rewriting when nothing overlaps below', () => {
    const l1 = [file('a', 'b', 6000), file('c', 'd', 6000)];
    const c = new CompactionPicker(options).pick(version([], l1, [file('x', 'z')]))!;
    expect(c.level).toBe(1);
    expect(c.trivialMove).toBe(true);
    expect(names(c.inputs[0]!.files)).toEqual(['a-b']);
  });

  it('does not move trivially when the file overlaps too many grandparent bytes', () => {
    const l1 = [file('a', 'm', 12_000)];
    const l3 = [file('b', 'c', 20_000)];
    const c = new CompactionPicker(options).pick(version([], l1, [], l3));
    // grandparents of an L1→L2 compaction are at L3
    expect(c!.grandparents.length).toBe(1);
    expect(c!.trivialMove).toBe(false);
  });

  it('rotates through a level with the compact pointer (round-robin)', () => {
    const rr = { ...options, compactionPriority: 'round-robin' as const };
    const picker = new CompactionPicker(rr);
    const l1 = [file('a', 'b', 4000), file('c', 'd', 4000), file('e', 'f', 4000)];
    const l2 = [file('a', 'z', 100)];
    const v = version([], l1, l2);
    const seen = [picker.pick(v)!, picker.pick(v)!, picker.pick(v)!, picker.pick(v)!].map((c) => names(c.inputs[0]!.files).join());
    // The first pick expands for free (all of L1 overlaps the same single L2 file), then wraps.
    expect(seen[0]).toBe('a-b,c-d,e-f');
    const v2 = version([], l1, [file('a', 'a', 100), file('c', 'c', 100), file('e', 'e', 100)]);
    const p2 = new CompactionPicker(rr);
    expect([p2.pick(v2)!, p2.pick(v2)!, p2.pick(v2)!, p2.pick(v2)!].map((c) => names(c.inputs[0]!.files).join())).toEqual(['a-b', 'c-d', 'e-f', 'a-b']);
    // The least overlapping ratio, on the same Version: all three tie, so the smallest keys, every time.
    const p3 = new CompactionPicker(options);
    expect([p3.pick(v2)!, p3.pick(v2)!].map((c) => names(c.inputs[0]!.files).join())).toEqual(['a-b', 'a-b']);
  });

  it('takes the file with the least overlapping ratio: next-level bytes over its own (compensated) size', () => {
    // L1 over target; L2 overlaps: [a,b] 9000 bytes over 4000 (2.25), [c,d] 1000 over 4000
    // (0.25), [e,f] 3000 over 12000 (0.25, a tie with [c,d]: the smaller keys win), [g,h] 0.5.
    const l1 = [file('a', 'b', 4000), file('c', 'd', 4000), file('e', 'f', 12_000), file('g', 'h', 2000)];
    const l2 = [file('a', 'a', 9000), file('c', 'c', 1000), file('e', 'e', 1000), file('f', 'f', 2000), file('h', 'h', 1000)];
    const v = version([], l1, l2, [file('z', 'z', 10)]);
    expect(names(new CompactionPicker(options).pick(v)!.inputs[0]!.files)).toEqual(['c-d']);
    expect([...minOverlappingRatioOrder(v, 1)]).toEqual([1, 2, 3, 0]);
    // A running compaction holding [c,d]: the next in order, [e,f], whose L2 files are free.
    const first = new CompactionPicker(options).pick(v)!;
    const second = new CompactionPicker(options).pick(v, [first])!;
    expect(names(second.inputs[0]!.files)).toEqual(['e-f']);
    expect(names(second.inputs[1]!.files)).toEqual(['e-e', 'f-f']);
    // A running compaction into L2 over [e,h] (from elsewhere): [e,f] and [g,h] may not write
    // there; [a,b], the worst ratio, is what is left.
    const intoL2: Compaction = { reason: 'manual', level: 0, outputLevel: 2, inputs: [{ level: 0, files: [file('e', 'h')] }], grandparents: [], score: 0, trivialMove: false };
    expect(names(new CompactionPicker(options).pick(v, [first, intoL2])!.inputs[0]!.files)).toEqual(['a-b']);
  });

  it('counts deletes as RocksDB does: a file at least half deletes weighs more, so it goes sooner', () => {
    const plain = file('a', 'b', 4000, undefined);
    const heavy = fileMeta('c', 'd', 4000, { entryCount: 100, deleteCount: 80 });
    // 2 × 80 − 100 = 60 excess deletes, each worth 2 average entries.
    expect(compensatedSize(heavy, 10)).toBe(4000 + 60 * 2 * 10);
    expect(compensatedSize(fileMeta('c', 'd', 4000, { entryCount: 100, deleteCount: 49 }), 10)).toBe(4000);
    expect(compensatedSize(plain, 10)).toBe(4000);
    // Same overlap below; the delete-heavy one has the lower ratio.
    const l2 = [file('a', 'a', 2000), file('c', 'c', 2000), file('x', 'x', 8000)];
    const v = version([], [plain, heavy, file('x', 'y', 8000)], l2, [file('z', 'z', 10)]);
    expect(names(new CompactionPicker(options).pick(v)!.inputs[0]!.files)).toEqual(['c-d']);
  });

  it('manual compaction takes the overlap-closed set at every level, into the bottom level', () => {
    const picker = new CompactionPicker(options);
    // [b, c] at L0 overlaps L1 [a, b], which overlaps L2 [a, a]: the closure pulls all three in, not L2 [x, z].
    const v = version([file('b', 'c')], [file('a', 'b'), file('x', 'y')], [file('a', 'a'), file('x', 'z')]);
    const c = picker.pickManual(v, Buffer.from('c'), Buffer.from('c'))!;
    expect(c.trivialMove).toBe(false);
    expect(c.outputLevel).toBe(2);
    expect(c.inputs.map((i) => [i.level, names(i.files)])).toEqual([
      [0, ['b-c']],
      [1, ['a-b']],
      [2, ['a-a']],
    ]);
    expect(picker.pickManual(v, Buffer.from('q'), Buffer.from('r'))).toBeUndefined();
    const all = picker.pickManual(v, undefined, undefined)!;
    expect(all.inputs.flatMap((i) => i.files).length).toBe(5);
    // Too much data for L1's target goes deeper than the deepest non-empty level.
    const big = picker.pickManual(version([file('a', 'b', 50_000)]), undefined, undefined)!;
    expect(big.outputLevel).toBe(2);
  });
});

describe('compaction for deletions', () => {
  const withDeletions = { ...options, deletionTrigger: { windowSize: 8, deletions: 4 } };
  const deleting = (f: FileMetadata, deletes: { deleteCount?: number; tombstoneCount?: number; entryCount?: number; markedForCompaction?: boolean }): FileMetadata => ({ ...f, ...deletes });

  it('takes a delete-heavy table when no level needs compacting for size: into the next level where something overlaps below', () => {
    const heavy = deleting(file('c', 'f'), { entryCount: 100, deleteCount: 60 });
    const l1 = [file('a', 'b'), heavy, file('x', 'y')];
    const l2 = [file('a', 'd'), file('e', 'z')];
    const v = version([], l1, l2);
    expect(computeScores(v, withDeletions).every((s) => s.score < 1)).toBe(true);
    const c = new CompactionPicker(withDeletions).pick(v)!;
    expect(c.reason).toBe('deletions');
    expect(c.level).toBe(1);
    expect(c.outputLevel).toBe(2);
    // LevelDB's free expansion may add the L1 neighbours (they pull in no more L2 files).
    expect(names(c.inputs[0]!.files)).toContain('c-f');
    expect(names(c.inputs[1]!.files)).toEqual(['a-d', 'e-z']);
    // The trigger disabled: nothing to do.
    expect(new CompactionPicker(options).pick(v)).toBeUndefined();
  });

  it('a marked table is taken whatever its overall density; a table with few deletes is not', () => {
    const marked = deleting(file('c', 'f'), { entryCount: 10_000, deleteCount: 64, markedForCompaction: true });
    const sparse = deleting(file('g', 'h'), { entryCount: 10_000, deleteCount: 4000 });
    const few = deleting(file('g', 'h'), { entryCount: 4, deleteCount: 3 }); // 3/4 deletes, but only 3
    const picker = new CompactionPicker(withDeletions);
    expect(names(picker.pick(version([], [marked], [file('a', 'z')]))!.inputs[0]!.files)).toEqual(['c-f']);
    expect(picker.pick(version([], [sparse], [file('a', 'z')]))).toBeUndefined();
    expect(picker.pick(version([], [few], [file('a', 'z')]))).toBeUndefined();
  });

  it('size comes first; then the densest table, and among equals the one with the oldest data', () => {
    const picker = new CompactionPicker(withDeletions);
    const dense = deleting(file('c', 'd', 1000, 50), { entryCount: 10, deleteCount: 9 });
    const denser = deleting(file('e', 'f', 1000, 60), { entryCount: 10, deleteCount: 10 });
    const denserOlder = deleting(file('g', 'h', 1000, 40), { entryCount: 20, deleteCount: 20 });
    const below = [file('c', 'd'), file('e', 'f'), file('g', 'h')];
    expect(names(picker.pick(version([], [dense, denser, denserOlder], below))!.inputs[0]!.files)).toEqual(['g-h']);
    // L0 over its trigger wins over any deletes.
    const l0 = [file('a', 'b'), file('a', 'b'), file('a', 'b'), file('a', 'b')];
    expect(picker.pick(version(l0, [dense], below))!.reason).toBe('l0-file-count');
    // A delete-heavy L0 file goes to L1 with the L0 files overlapping it.
    const heavyL0 = deleting(file('b', 'c'), { entryCount: 4, deleteCount: 4 });
    const c = picker.pick(version([file('x', 'y'), heavyL0, file('a', 'b')], [file('a', 'c')]))!;
    expect(c.reason).toBe('deletions');
    expect(names(c.inputs[0]!.files)).toEqual(['b-c', 'a-b']);
    expect(c.outputLevel).toBe(1);
  });

  it('leaves a delete-heavy table at the last level alone (nowhere to go); one above it moves down', () => {
    const picker = new CompactionPicker(withDeletions);
    const heavy = deleting(file('c', 'f', 1000, 70), { entryCount: 100, deleteCount: 100 });
    expect(picker.pick(version([], [], [], [heavy]))).toBeUndefined();
    const c = picker.pick(version([], [file('a', 'b')], [heavy], [file('x', 'z')]))!;
    expect(c).toMatchObject({ reason: 'deletions', level: 2, outputLevel: 3 });
  });
});

describe('read-triggered compaction', () => {
  it('takes the candidate only when no size compaction is due: an L0 table with every L0 table overlapping it, into L1', () => {
    const picker = new CompactionPicker(options);
    const l0 = [file('x', 'y'), file('c', 'e'), file('a', 'd')];
    const l1 = [file('a', 'b'), file('m', 'n')];
    // Nothing due for size: the candidate goes, with the L0 table overlapping it.
    const c = picker.pick(version(l0, l1), [], { level: 0, file: l0[2]! })!;
    expect(c).toMatchObject({ reason: 'reads', level: 0, outputLevel: 1 });
    expect(names(c.inputs[0]!.files)).toEqual(['c-e', 'a-d']);
    expect(names(c.inputs[1]!.files)).toEqual(['a-b']);
    // L0 at its trigger comes first.
    const full = [...l0, file('p', 'q')];
    expect(picker.pick(version(full, l1), [], { level: 0, file: full[2]! })!.reason).toBe('l0-file-count');
    // No candidate, nothing due: nothing.
    expect(picker.pick(version(l0, l1))).toBeUndefined();
  });

  it('moves an Ln candidate down (trivially when nothing overlaps below); leaves a gone or last-level one alone', () => {
    const picker = new CompactionPicker(options);
    const f = file('c', 'd');
    const c = picker.pick(version([], [f], [file('x', 'z')]), [], { level: 1, file: f })!;
    expect(c).toMatchObject({ reason: 'reads', level: 1, outputLevel: 2, trivialMove: true });
    // Not at that level any more (compacted or moved since it was named).
    expect(picker.pick(version([], [file('c', 'd')], [f]), [], { level: 1, file: f })).toBeUndefined();
    // The last level has nowhere to go.
    expect(picker.pick(version([], [], [], [f]), [], { level: 3, file: f })).toBeUndefined();
  });
});

describe('least overlapping ratio against a brute-force argmin', () => {
  const key = fc.integer({ min: 0, max: 60 }).map((n) => `k${String(n).padStart(2, '0')}`);
  /** A sorted level from distinct keys in pairs, with drawn sizes and deletes. */
  const sortedLevel = (maxLength: number): fc.Arbitrary<FileMetadata[]> =>
    fc.tuple(fc.uniqueArray(key, { maxLength }), fc.array(fc.tuple(fc.integer({ min: 1, max: 20 }), fc.nat(100)), { minLength: maxLength, maxLength })).map(([ks, sizes]) => {
      const s = [...ks].sort();
      const out: FileMetadata[] = [];
      for (let i = 0; i + 1 < s.length; i += 2) {
        const [size, deletes] = sizes[i]!;
        out.push(fileMeta(s[i]!, s[i + 1]!, size * 500, { entryCount: 100, deleteCount: deletes }));
      }
      return out;
    });
  /** The same order the slow way: every file's next-level overlap from Version.overlappingFiles. */
  const bruteRatio = (v: Version, f: FileMetadata): number => {
    const below = v.overlappingFiles(2, f.smallestKey, f.largestKey).reduce((n, g) => n + g.fileSize, 0);
    return below / compensatedSize(f, averageEntryBytes(v));
  };

  it('orders a level by ratio, ties in key order; with nothing running the pick starts from the argmin', () => {
    fc.assert(
      fc.property(sortedLevel(24), sortedLevel(40), (l1, l2) => {
        const v = version([], l1, l2, [file('zz', 'zz', 1)]);
        const ratios = l1.map((f) => bruteRatio(v, f));
        const expected = l1.map((_, i) => i).sort((a, b) => ratios[a]! - ratios[b]! || a - b);
        expect([...minOverlappingRatioOrder(v, 1)]).toEqual(expected);
        const small = { ...options, maxBytesForLevelBase: 1000, levelSizeMultiplier: 1000 };
        const c = new CompactionPicker(small).pick(v);
        if (l1.reduce((n, f) => n + f.fileSize, 0) < 1000) return;
        // The argmin is among the inputs (free expansion may add its neighbours).
        const argmin = l1[expected[0]!]!;
        expect(c!.level).toBe(1);
        expect(c!.inputs[0]!.files).toContain(argmin);
      }),
      { numRuns: 300 },
    );
  });
});

describe('compactions side by side', () => {
  const inputNumbers = (c: { inputs: readonly { files: readonly FileMetadata[] }[] }): number[] => c.inputs.flatMap((i) => i.files.map((f) => f.fileNumber));

  it('never gives a running compaction’s inputs to another, and picks disjoint work at another level', () => {
    // L1 is far over its target (score 3), L2 over too (score 1.5); L0 below its trigger.
    const l1 = [file('a', 'b', 10_000), file('c', 'd', 10_000), file('e', 'f', 10_000)];
    const l2 = [file('a', 'a', 50_000), file('c', 'c', 50_000), file('e', 'e', 50_000), file('x', 'z', 5000)];
    const v = version([], l1, l2, [file('a', 'z', 10)]);
    const picker = new CompactionPicker(options);
    const first = picker.pick(v)!;
    expect(first.level).toBe(1);
    const second = picker.pick(v, [first])!;
    const third = picker.pick(v, [first, second])!;
    const taken = [first, second, third].map(inputNumbers);
    expect(new Set(taken.flat()).size).toBe(taken.flat().length);
    // Scores leave out what is being compacted: with all three L1 files taken, L1 is no longer urgent.
    const fourth = picker.pick(v, [first, second, third]);
    expect(fourth === undefined || fourth.level === 2).toBe(true);
    if (fourth !== undefined) expect(inputNumbers(fourth).some((n) => taken.flat().includes(n))).toBe(false);
  });

  it('runs one compaction out of L0 at a time, and keeps L1 free for a blocked L0 compaction', () => {
    const l0 = [file('a', 'z'), file('a', 'z'), file('a', 'z'), file('a', 'z'), file('a', 'z')];
    const l1 = [file('a', 'b', 30_000), file('c', 'd', 30_000)];
    const l2 = [file('a', 'b', 200_000), file('c', 'd', 200_000)];
    const l3 = [file('a', 'z', 10)];
    const v = version([...l0, ...l0, ...l0], l1, l2, l3);
    const picker = new CompactionPicker(options);
    const l1c = picker.pick(v)!;
    expect(l1c.level).toBe(1); // L1 (score 6) outranks L0 (3.75) and L2 (4)
    // With that L1→L2 job running, L0 (3.75) outranks L1 (3, its running file left out) but is
    // blocked (it needs all of L1): nothing else takes L1 files meanwhile; L2→L3 may go.
    const next = picker.pick(v, [l1c])!;
    expect(next.level).toBe(2);
    expect(inputNumbers(next).some((n) => inputNumbers(l1c).includes(n))).toBe(false);
    // An L0→L1 compaction running; five newer L0 files flushed since (L0 score 1.25 without the
    // running job's files): a second L0 compaction must wait for the first.
    const small = [file('a', 'b', 5000)];
    const p2 = new CompactionPicker(options);
    const l0first = p2.pick(version([...l0, ...l0, ...l0], small, [], l3))!;
    expect(l0first.level).toBe(0);
    const newer = [file('a', 'z'), file('a', 'z'), file('a', 'z'), file('a', 'z'), file('a', 'z')];
    expect(p2.pick(version([...newer, ...l0, ...l0, ...l0], small, [], l3), [l0first])).toBeUndefined();
    expect(p2.pick(version([...newer], small, [], l3))!.level).toBe(0);
  });

  it('does not let two compactions write overlapping ranges into one level (a trivial move included)', () => {
    // Running: L1 [c,d] → L2 with the L2 file [c,f] — its outputs may span [c,f] at L2.
    const running = file('c', 'd', 30_000);
    const inGap = file('e', 'e', 30_000); // overlaps nothing at L2 outside the running span…
    const l2 = [file('c', 'f', 100)];
    const v = version([], [running, inGap], l2, [file('a', 'z', 10)]);
    const picker = new CompactionPicker(options);
    const first = picker.pick(v)!;
    expect(inputNumbers(first)).toContain(running.fileNumber);
    // …but [e,e] lies inside [c,f], which the running job writes: it must wait, whether it
    // would overlap L2 [c,f] (taken) or move trivially.
    const second = picker.pick(v, [first]);
    expect(second === undefined || !inputNumbers(second).includes(inGap.fileNumber)).toBe(true);
  });

  it('keeps a compaction out of a range another one writes into the same level', () => {
    // With rule 1 and "every overlapping next-level file is an input", two level-n compactions
    // never have overlapping spans; a compaction into the same level from elsewhere (a manual
    // one into the bottom level, here L2 over [a,z]) could: the L1 file [c,d] must not move in.
    const l1 = [file('c', 'd', 30_000)];
    const v = version([], l1, [], [file('a', 'z', 10)]);
    const intoL2: Compaction = { reason: 'manual', level: 0, outputLevel: 2, inputs: [{ level: 0, files: [file('a', 'z')] }], grandparents: [], score: 0, trivialMove: false };
    expect(new CompactionPicker(options).pick(v)).toMatchObject({ level: 1, trivialMove: true });
    expect(new CompactionPicker(options).pick(v, [intoL2])).toBeUndefined();
  });

  it('over random versions and running sets: disjoint inputs, one L0 compaction, disjoint output spans', () => {
    const key = fc.integer({ min: 0, max: 40 }).map((n) => String.fromCharCode(97 + (n % 26)) + String(n).padStart(2, '0'));
    // A sorted level: disjoint files from a sorted set of distinct keys, in pairs.
    const sortedLevel = fc.uniqueArray(key, { maxLength: 16 }).map((ks) => {
      const s = [...ks].sort();
      const out: FileMetadata[] = [];
      for (let i = 0; i + 1 < s.length; i += 2) out.push(file(s[i]!, s[i + 1]!, 1000 + i * 500));
      return out;
    });
    const l0File = fc.tuple(key, key).map(([x, y]) => (x <= y ? file(x, y) : file(y, x)));
    fc.assert(
      fc.property(fc.array(l0File, { maxLength: 9 }), sortedLevel, sortedLevel, sortedLevel, fc.integer({ min: 1, max: 4 }), fc.constantFrom<CompactionPriority>('min-overlapping-ratio', 'round-robin'), (l0, l1, l2, l3, slots, compactionPriority) => {
        const v = new Version([[...l0].sort((a, b) => b.maxSeq - a.maxSeq), l1, l2, l3]);
        const small = { l0CompactionTrigger: 2, levelSizeMultiplier: 2, maxBytesForLevelBase: 2000, targetFileSize: 1000, compactionPriority };
        const picker = new CompactionPicker(small);
        const running: ReturnType<CompactionPicker['pick']>[] = [];
        for (let i = 0; i < slots; i++) {
          const c = picker.pick(v, running.filter((r) => r !== undefined));
          if (c === undefined) break;
          running.push(c);
        }
        const all = running.filter((r) => r !== undefined);
        const numbers = all.flatMap(inputNumbers);
        expect(new Set(numbers).size).toBe(numbers.length);
        expect(all.filter((c) => c.inputs.some((i) => i.level === 0)).length).toBeLessThanOrEqual(1);
        for (let i = 0; i < all.length; i++) {
          for (let j = i + 1; j < all.length; j++) {
            const a = all[i]!;
            const b = all[j]!;
            if (a.outputLevel !== b.outputLevel) continue;
            const ra = span(a);
            const rb = span(b);
            expect(ra.largest < rb.smallest || rb.largest < ra.smallest).toBe(true);
          }
        }
        // Every compaction's next-level inputs are all the files overlapping its upper inputs.
        for (const c of all) {
          const up = span({ inputs: [c.inputs[0]!] });
          const below = v.overlappingFiles(c.outputLevel, Buffer.from(up.smallest), Buffer.from(up.largest)).map((f) => f.fileNumber);
          expect(c.inputs[1]?.files.map((f) => f.fileNumber) ?? []).toEqual(below);
        }
      }),
      { numRuns: 500 },
    );
  });
});

function span(c: { inputs: readonly { files: readonly FileMetadata[] }[] }): { smallest: string; largest: string } {
  const files = c.inputs.flatMap((i) => i.files);
  const smallest = files.map((f) => Buffer.from(f.smallestKey).toString()).sort()[0]!;
  const largest = files.map((f) => Buffer.from(f.largestKey).toString()).sort().at(-1)!;
  return { smallest, largest };
}
