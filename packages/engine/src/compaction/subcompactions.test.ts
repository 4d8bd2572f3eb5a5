import { describe, expect, it } from 'vitest';
import type { FileMetadata } from '../version/file-metadata.js';
import type { Compaction } from './compaction.js';
import { subcompactionsOf } from './subcompactions.js';
import { fileMeta } from './test-support/file-metadata.js';

const file = (smallest: string, largest: string, fileSize: number, tombstoneCount = 0): FileMetadata => fileMeta(smallest, largest, fileSize, { tombstoneCount });
const l0ToL1 = (l0: FileMetadata[], l1: FileMetadata[]): Compaction => ({
  reason: 'l0-file-count',
  level: 0,
  outputLevel: 1,
  inputs: [
    { level: 0, files: l0 },
    { level: 1, files: l1 },
  ],
  grandparents: [],
  score: 1,
  trivialMove: false,
});
const str = (k: Uint8Array | undefined): string | undefined => (k === undefined ? undefined : Buffer.from(k).toString());
const TARGET = 1000;

describe('subcompactionsOf', () => {
  it('cuts at output-level table boundaries into ranges of about equal output-level bytes; each range gets the inputs holding its keys', () => {
    const l0 = [file('a', 'z', 4000), file('c', 'f', 1000)];
    const l1 = [file('a', 'b', 2000), file('c', 'd', 2000), file('e', 'h', 2000), file('i', 'k', 2000), file('m', 'p', 2000), file('q', 'z', 2000)];
    const subs = subcompactionsOf(l0ToL1(l0, l1), 3, TARGET);
    expect(subs.map((s) => [str(s.lo), str(s.hi)])).toEqual([
      [undefined, 'e'],
      ['e', 'm'],
      ['m', undefined],
    ]);
    // L0 a-z reaches every range, c-f the first two; L1 splits two tables to each.
    expect(subs.map((s) => s.inputs.map((i) => i.files.length))).toEqual([
      [2, 2],
      [2, 2],
      [1, 2],
    ]);
    expect(subs.reduce((n, s) => n + s.inputs.find((i) => i.level === 1)!.files.length, 0)).toBe(l1.length);
  });

  it('does not cut: max 1, range tombstones among the inputs, fewer than two output-level tables, too small', () => {
    const l1 = [file('a', 'b', 5000), file('c', 'd', 5000)];
    const whole = (c: Compaction, max: number): boolean => subcompactionsOf(c, max, TARGET).length === 1;
    expect(whole(l0ToL1([file('a', 'z', 4000)], l1), 1)).toBe(true);
    expect(whole(l0ToL1([file('a', 'z', 4000, 1)], l1), 4)).toBe(true);
    expect(whole(l0ToL1([file('a', 'z', 40_000)], [file('a', 'z', 5000)]), 4)).toBe(true);
    expect(whole(l0ToL1([file('a', 'z', 100)], [file('a', 'b', 900), file('c', 'd', 900)]), 4)).toBe(true); // < 2 targets per range
    expect(whole(l0ToL1([file('a', 'z', 4000)], l1), 4)).toBe(false);
  });
});
