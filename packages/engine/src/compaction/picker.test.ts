import { describe, expect, it } from 'vitest';
import type { FileMetadata } from '../version/file-metadata.js';
import { Version } from '../version/version.js';
import { fileMeta } from './test-support/file-metadata.js';
import { CompactionPicker, computeScores, maxBytesForLevel, pendingCompactionBytes } from './picker.js';

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

  it('rotates through a level with the compact pointer', () => {
    const picker = new CompactionPicker(options);
    const l1 = [file('a', 'b', 4000), file('c', 'd', 4000), file('e', 'f', 4000)];
    const l2 = [file('a', 'z', 100)];
    const v = version([], l1, l2);
    const seen = [picker.pick(v)!, picker.pick(v)!, picker.pick(v)!, picker.pick(v)!].map((c) => names(c.inputs[0]!.files).join());
    // The first pick expands for free (all of L1 overlaps the same single L2 file), then wraps.
    expect(seen[0]).toBe('a-b,c-d,e-f');
    const v2 = version([], l1, [file('a', 'a', 100), file('c', 'c', 100), file('e', 'e', 100)]);
    const p2 = new CompactionPicker(options);
    expect([p2.pick(v2)!, p2.pick(v2)!, p2.pick(v2)!, p2.pick(v2)!].map((c) => names(c.inputs[0]!.files).join())).toEqual(['a-b', 'c-d', 'e-f', 'a-b']);
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
