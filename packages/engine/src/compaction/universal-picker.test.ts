import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { FileMetadata } from '../version/file-metadata.js';
import { Version } from '../version/version.js';
import { olderRunsOverlapping, type Compaction } from './compaction.js';
import { fileMeta } from './test-support/file-metadata.js';
import { DEFAULT_UNIVERSAL_OPTIONS, sortedRunCount, sortedRuns, UniversalPicker, type UniversalOptions } from './universal-picker.js';

/** A table whose sequence range is its own (flushes are sequential: INVARIANT B). */
let seq = 1000;
const table = (size: number, smallest = 'a', largest = 'z'): FileMetadata => {
  seq += 10;
  return fileMeta(smallest, largest, size, { minSeq: seq - 9, maxSeq: seq });
};
/** L0 given oldest first (as written); the Version keeps it newest first. */
function version(l0OldestFirst: FileMetadata[], levels: Record<number, FileMetadata[]> = {}, numLevels = 7): Version {
  const ls: FileMetadata[][] = [[...l0OldestFirst].reverse()];
  for (let l = 1; l < numLevels; l++) ls.push(levels[l] ?? []);
  return new Version(ls);
}
const picker = (trigger = 4, u: Partial<UniversalOptions> = {}): UniversalPicker => new UniversalPicker({ l0CompactionTrigger: trigger, universal: { ...DEFAULT_UNIVERSAL_OPTIONS, ...u } });
const shape = (c: Compaction | undefined): unknown =>
  c === undefined ? undefined : { reason: c.reason, out: c.outputLevel, inputs: c.inputs.map((i) => [i.level, i.files.map((f) => f.fileSize)]) };

describe('sorted runs', () => {
  it('counts each L0 table and each non-empty level, newest first', () => {
    const v = version([table(1), table(2)], { 3: [table(30, 'a', 'c'), table(40, 'd', 'f')], 6: [table(600)] });
    expect(sortedRuns(v).map((r) => [r.level, r.bytes])).toEqual([
      [0, 2],
      [0, 1],
      [3, 70],
      [6, 600],
    ]);
    expect(sortedRunCount(v)).toBe(4);
  });
});

describe('universal picking', () => {
  it('picks nothing below l0CompactionTrigger runs', () => {
    expect(picker(4).pick(version([table(10), table(10), table(10)]))).toBeUndefined();
  });

  it('rule 1: merges everything into the last level when the newer runs outweigh the oldest by maxSizeAmplificationPercent', () => {
    const v = version([table(50), table(60), table(100)], { 6: [table(100)] });
    // 210 bytes newer than the oldest's 100: ≥ 200 %.
    expect(shape(picker(4).pick(v))).toEqual({ reason: 'size-amplification', out: 6, inputs: [[0, [100, 60, 50]], [6, [100]]] });
    // At 300 % it does not; the newer runs are merged by size ratio instead (50, 60 ≤ 1.01 × 50? no: 60 > 50.5).
    expect(picker(4, { maxSizeAmplificationPercent: 300 }).pick(v)?.reason).not.toBe('size-amplification');
  });

  it('rule 2: from the newest run, takes runs while each is at most (100 + sizeRatio) % of those taken; output above the next older run', () => {
    // Newest first: 10, 10, 10, then L6 1000: the three L0 tables, into L5.
    const v = version([table(10), table(10), table(10)].reverse(), { 6: [table(1000)] });
    expect(shape(picker(4).pick(v))).toEqual({ reason: 'size-ratio', out: 5, inputs: [[0, [10, 10, 10]]] });
    // Newest first 10, 10, 100 (L0), 1000: the 100 does not join 20; the output goes into L0 as one run.
    const w = version([table(100), table(10), table(10)], { 6: [table(1000)] });
    expect(shape(picker(4).pick(w))).toEqual({ reason: 'size-ratio', out: 0, inputs: [[0, [10, 10]]] });
    // maxMergeWidth bounds it; minMergeWidth 3 refuses the pair and nothing else qualifies by ratio,
    // and 4 runs are not more than the trigger: nothing.
    expect(shape(picker(4, { maxMergeWidth: 2 }).pick(v))).toEqual({ reason: 'size-ratio', out: 0, inputs: [[0, [10, 10]]] });
    expect(picker(4, { minMergeWidth: 3 }).pick(w)).toBeUndefined();
  });

  it('rule 2: a larger sizeRatio takes larger runs', () => {
    const v = version([table(100), table(10), table(10)], { 6: [table(1000)] });
    expect(shape(picker(4, { sizeRatio: 400 }).pick(v))).toEqual({ reason: 'size-ratio', out: 5, inputs: [[0, [10, 10, 100]]] });
  });

  it('rule 3: with more idle runs than the trigger and no ratio match, merges the newest down to the trigger', () => {
    // Newest first: 1, 10, 100 (L0), 1000 (L3), 10000 (L6); trigger 3: 5 − 3 + 1 = 3 runs, into L2.
    const v = version([table(100), table(10), table(1)], { 3: [table(1000)], 6: [table(10_000)] });
    expect(shape(picker(3).pick(v))).toEqual({ reason: 'sorted-runs', out: 2, inputs: [[0, [1, 10, 100]]] });
    // At trigger 5 there are not more runs than the trigger: nothing.
    expect(picker(5).pick(v)).toBeUndefined();
  });

  it('merges levels into the deepest input level when the next older run is just below', () => {
    // Newest first: L1 100, L2 100, L4 10000: L1 + L2 by ratio, output L3 (above L4).
    const v = version([], { 1: [table(100)], 2: [table(100)], 4: [table(10_000)] });
    expect(shape(picker(3).pick(v))).toEqual({ reason: 'size-ratio', out: 3, inputs: [[1, [100]], [2, [100]]] });
    const w = version([], { 1: [table(100)], 2: [table(100)], 3: [table(10_000)] });
    expect(shape(picker(3).pick(w))).toEqual({ reason: 'size-ratio', out: 2, inputs: [[1, [100]], [2, [100]]] });
  });

  it('passes over runs being compacted and keeps merges contiguous', () => {
    const l0 = [table(400), table(10), table(10), table(10)]; // oldest first
    const v = version(l0, { 6: [table(100)] });
    const p = picker(4);
    const full = p.pick(v)!;
    expect(full.reason).toBe('size-amplification');
    // With the full merge running, nothing else: every run is its input.
    expect(p.pick(v, [full])).toBeUndefined();
    // With the oldest two runs busy (a merge into L6), the three newest L0 tables merge, just above
    // that merge's output (L5), to be installed after it: not into L0 beside its busy L0 input.
    const older: Compaction = { reason: 'size-ratio', level: 0, outputLevel: 6, inputs: [{ level: 0, files: [l0[0]!] }, { level: 6, files: v.files(6) }], grandparents: [], score: 1, trivialMove: false };
    const above = p.pick(v, [older]);
    expect(shape(above)).toEqual({ reason: 'size-ratio', out: 5, inputs: [[0, [10, 10, 10]]] });
    expect(above!.after).toBe(older);
    // The busy merge writes L1: there is no level between, so into L0 as one table (RocksDB's rule), after nothing.
    const intoL1: Compaction = { ...older, outputLevel: 1, inputs: [{ level: 0, files: [l0[0]!] }] };
    const l0Out = p.pick(version(l0, {}), [intoL1]);
    expect(shape(l0Out)).toEqual({ reason: 'size-ratio', out: 0, inputs: [[0, [10, 10, 10]]] });
    expect(l0Out!.after).toBeUndefined();
    // A merge that waits is itself waited for: the next newer merge goes one level higher still.
    const chain = p.pick(version([...l0, table(5), table(5)], { 6: [table(100)] }), [older, above!]);
    expect(shape(chain)).toEqual({ reason: 'size-ratio', out: 4, inputs: [[0, [5, 5]]] });
    expect(chain!.after).toBe(above);
    // With the second newest L0 table busy, no merge crosses it: the two oldest runs go together.
    const middle: Compaction = { ...older, inputs: [{ level: 0, files: [l0[2]!] }], outputLevel: 0 };
    expect(shape(p.pick(v, [middle]))).toEqual({ reason: 'size-ratio', out: 6, inputs: [[0, [400]], [6, [100]]] });
    const both: Compaction = { ...middle, inputs: [{ level: 0, files: [l0[2]!, l0[0]!] }] };
    expect(p.pick(v, [both])).toBeUndefined();
  });

  it('merges into the last level instead of L0 when the L0 sequence ranges overlap (a repaired tree)', () => {
    const a = fileMeta('a', 'z', 100, { minSeq: 1, maxSeq: 50 });
    const b = fileMeta('a', 'z', 10, { minSeq: 40, maxSeq: 60 });
    const c = fileMeta('a', 'z', 10, { minSeq: 61, maxSeq: 70 });
    const d = fileMeta('a', 'z', 10, { minSeq: 71, maxSeq: 80 });
    const v = version([a, b, c, d], { 6: [table(100_000)] });
    // Size ratio takes d, c, b (≤ 1.01 × what was taken) and would write L0 beside a, whose range overlaps b's.
    expect(shape(picker(4).pick(v))).toEqual({ reason: 'size-ratio', out: 6, inputs: [[0, [10, 10, 10, 100]], [6, [100_000]]] });
  });
});

describe('older data below an L0 output', () => {
  it('counts the L0 tables older than the inputs, and every level', () => {
    const [o1, o2, i1, i2, n1] = [table(1, 'a', 'c'), table(1, 'x', 'y'), table(1, 'a', 'm'), table(1, 'b', 'k'), table(1, 'a', 'z')];
    const v = version([o1, o2, i1, i2, n1], { 2: [table(5, 'a', 'b'), table(5, 'k', 'l')] });
    const c: Compaction = { reason: 'size-ratio', level: 0, outputLevel: 0, inputs: [{ level: 0, files: [i2, i1] }], grandparents: [], score: 1, trivialMove: false };
    const lists = olderRunsOverlapping(v, c, Buffer.from('a'), Buffer.from('m'));
    // o1 (overlaps), not o2 (x–y), not the newer n1, and L2's two tables.
    expect(lists.map((l) => l.map((f) => f.fileNumber))).toEqual([[o1.fileNumber], v.files(2).map((f) => f.fileNumber)]);
  });
});

describe('older data below a merge installed after another', () => {
  it("counts the older L0 tables (the other merge's inputs) and every level, its own output level included", () => {
    const [o1, i1, i2] = [table(1, 'a', 'c'), table(1, 'a', 'm'), table(1, 'b', 'k')];
    const v = version([o1, i1, i2], { 4: [table(5, 'a', 'b')], 6: [table(5, 'k', 'l')] });
    const first: Compaction = { reason: 'size-ratio', level: 0, outputLevel: 5, inputs: [{ level: 0, files: [o1] }, { level: 4, files: v.files(4) }], grandparents: [], score: 1, trivialMove: false };
    const c: Compaction = { reason: 'size-ratio', level: 0, outputLevel: 4, inputs: [{ level: 0, files: [i2, i1] }], grandparents: [], score: 1, trivialMove: false, after: first };
    const lists = olderRunsOverlapping(v, c, Buffer.from('a'), Buffer.from('m'));
    // o1 and L4 (the first merge's inputs, at and above the output level) and L6.
    expect(lists.map((l) => l.map((f) => f.fileNumber))).toEqual([[o1.fileNumber], v.files(4).map((f) => f.fileNumber), v.files(6).map((f) => f.fileNumber)]);
  });
});

describe('universal compactions side by side', () => {
  it('over random trees and running sets: disjoint, contiguous inputs; outputs between the newer and the older runs', () => {
    const key = fc.integer({ min: 0, max: 30 }).map((n) => `k${String(n).padStart(2, '0')}`);
    const l0 = fc.array(fc.tuple(key, key, fc.integer({ min: 1, max: 500 })), { maxLength: 10 });
    const level = fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined });
    // `pre`: a merge already running over a stretch of runs the picker may not have chosen first
    // (an older stretch: then newer merges meet a busy next older run, rule 4).
    const pre = fc.option(fc.tuple(fc.nat(10), fc.nat(3)), { nil: undefined });
    fc.assert(
      fc.property(l0, fc.array(level, { minLength: 6, maxLength: 6 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 300 }), pre, (l0s, sizes, slots, trigger, amp, stretch) => {
        const l0Files = l0s.map(([x, y, size]) => table(size, x <= y ? x : y, x <= y ? y : x));
        const levels: Record<number, FileMetadata[]> = {};
        sizes.forEach((s, i) => {
          if (s !== undefined) levels[i + 1] = [table(s, 'k00', 'k14'), table(s, 'k15', 'k30')];
        });
        const v = version(l0Files, levels);
        const runs = sortedRuns(v);
        const p = picker(trigger, { maxSizeAmplificationPercent: amp });
        const running: Compaction[] = [];
        if (stretch !== undefined && runs.length >= 2) {
          const a = Math.min(stretch[0], runs.length - 2);
          const b = Math.min(a + 1 + stretch[1], runs.length - 1);
          const next = runs[b + 1];
          const outputLevel = next === undefined ? v.numLevels - 1 : next.level === 0 ? 0 : next.level - 1;
          const taken = runs.slice(a, b + 1);
          const l0In = taken.filter((r) => r.level === 0).flatMap((r) => r.files);
          const inputs = [...(l0In.length > 0 ? [{ level: 0, files: l0In }] : []), ...taken.filter((r) => r.level > 0).map((r) => ({ level: r.level, files: r.files }))];
          running.push({ reason: 'size-ratio', level: inputs[0]!.level, outputLevel, inputs, grandparents: [], score: 1, trivialMove: false });
        }
        for (let i = 0; i < slots; i++) {
          const c = p.pick(v, running);
          if (c === undefined) break;
          running.push(c);
        }
        const numbers = running.flatMap((c) => c.inputs.flatMap((i) => i.files.map((f) => f.fileNumber)));
        expect(new Set(numbers).size).toBe(numbers.length);
        for (const c of running) {
          // The runs it takes are contiguous, whole, and at least two.
          const mine = new Set(c.inputs.flatMap((i) => i.files.map((f) => f.fileNumber)));
          const taken = runs.map((r) => r.files.some((f) => mine.has(f.fileNumber)));
          const first = taken.indexOf(true);
          const last = taken.lastIndexOf(true);
          expect(last - first + 1).toBeGreaterThanOrEqual(2);
          for (let i = first; i <= last; i++) {
            expect(taken[i]).toBe(true);
            for (const f of runs[i]!.files) expect(mine.has(f.fileNumber)).toBe(true);
          }
          const deepest = Math.max(...c.inputs.map((i) => i.level));
          expect(c.outputLevel).toBeGreaterThanOrEqual(deepest);
          const next = runs[last + 1];
          // The merge holding the next older run when c was picked (running before it), if any.
          const before = running.slice(0, running.indexOf(c));
          const holder = next === undefined ? undefined : before.find((o) => o.inputs.some((i) => i.files.includes(next.files[0]!)));
          if (holder !== undefined) expect(holder.inputs.flatMap((i) => i.files)).toContain(runs[last + 1]!.files[0]);
          if (next === undefined) expect(c.outputLevel).toBe(v.numLevels - 1);
          else if (next.level === 0 && holder !== undefined && holder.outputLevel >= 2) {
            // Just above the busy merge's output, installed after it (rule 4): then no level between
            // holds anything but the busy merges' inputs, which their edits remove first.
            expect(c.outputLevel).toBe(holder.outputLevel - 1);
            expect(c.after).toBe(holder);
            const gone = new Set<FileMetadata>();
            for (let w: Compaction | undefined = holder; w !== undefined; w = w.after) for (const i of w.inputs) for (const f of i.files) gone.add(f);
            for (let l = 1; l <= c.outputLevel; l++) for (const f of v.files(l)) expect(gone.has(f)).toBe(true);
            // Every run older than its inputs is asked about (INVARIANT A for what its merge drops).
            const older = olderRunsOverlapping(v, c, Buffer.from('k00'), Buffer.from('k30')).flat();
            for (const r of runs.slice(last + 1)) for (const f of r.files) expect(older).toContain(f);
          } else if (next.level === 0) expect(c.outputLevel).toBe(0);
          else expect(c.outputLevel).toBe(next.level - 1);
          if (c.outputLevel === 0 || next?.level !== 0 || holder === undefined || holder.outputLevel < 2) expect(c.after).toBeUndefined();
        }
        // No two write into the same level ≥ 1.
        const levelsOut = running.map((c) => c.outputLevel).filter((l) => l > 0);
        expect(new Set(levelsOut).size).toBe(levelsOut.length);
      }),
      { numRuns: 500 },
    );
  });
});
