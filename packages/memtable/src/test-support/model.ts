/**
 * A brute-force model of one memtable: plain arrays, scanned in full on every question. Slow
 * and obviously right — the reference the real structures are checked against.
 */
import { expect } from 'vitest';
import type { TombstoneSpan } from '../fragmenter.js';
import { EntryKind, compareEntries, compareKeys, compareTombstones, type BatchOp, type PointEntry, type RangeTombstone } from '../types.js';

export class Model {
  readonly points: PointEntry[] = [];
  readonly tombstones: RangeTombstone[] = [];
  maxSeq = 0;

  apply(ops: readonly BatchOp[], firstSeq: number): void {
    ops.forEach((op, i) => {
      const seq = firstSeq + i;
      if (op.type === 'put') this.points.push({ key: op.key.slice(), seq, kind: EntryKind.Put, value: op.value.slice() });
      else if (op.type === 'del') this.points.push({ key: op.key.slice(), seq, kind: EntryKind.Delete, value: new Uint8Array(0) });
      else this.tombstones.push({ start: op.start.slice(), end: op.end.slice(), seq });
    });
    if (ops.length > 0) this.maxSeq = firstSeq + ops.length - 1;
  }

  sortedPoints(): PointEntry[] {
    return [...this.points].sort(compareEntries);
  }

  sortedTombstones(): RangeTombstone[] {
    return [...this.tombstones].sort(compareTombstones);
  }

  newestVisible(key: Uint8Array, snapshot: number): PointEntry | undefined {
    let best: PointEntry | undefined;
    for (const p of this.points) {
      if (p.seq <= snapshot && compareKeys(p.key, key) === 0 && (best === undefined || p.seq > best.seq)) best = p;
    }
    return best;
  }

  maxCovering(key: Uint8Array, snapshot: number): number {
    let best = 0;
    for (const t of this.tombstones) {
      if (t.seq <= snapshot && t.seq > best && compareKeys(t.start, key) <= 0 && compareKeys(key, t.end) < 0) best = t.seq;
    }
    return best;
  }

  get(key: Uint8Array, snapshot: number): { kind: 'put'; value: Uint8Array; seq: number } | { kind: 'deleted'; seq: number } | undefined {
    const p = this.newestVisible(key, snapshot);
    const t = this.maxCovering(key, snapshot);
    if (p !== undefined && p.seq > t)
      return p.kind === EntryKind.Put ? { kind: 'put', value: p.value, seq: p.seq } : { kind: 'deleted', seq: p.seq };
    return t === 0 ? undefined : { kind: 'deleted', seq: t };
  }

  /** What a reader at `snapshot` sees, key ASC. */
  visible(snapshot: number): { key: Uint8Array; value: Uint8Array; seq: number }[] {
    const keys = uniqueKeys(this.points.map((p) => p.key));
    const out: { key: Uint8Array; value: Uint8Array; seq: number }[] = [];
    for (const key of keys) {
      const r = this.get(key, snapshot);
      if (r?.kind === 'put') out.push({ key, value: r.value, seq: r.seq });
    }
    return out;
  }
}

export function uniqueKeys(keys: readonly Uint8Array[]): Uint8Array[] {
  const sorted = [...keys].sort(compareKeys);
  return sorted.filter((k, i) => i === 0 || compareKeys(sorted[i - 1]!, k) !== 0);
}

/** Keys worth probing: every key and bound used, each also with a 0x00 appended (the next key), and the empty key. */
export function probeKeys(ops: readonly BatchOp[]): Uint8Array[] {
  const keys: Uint8Array[] = [new Uint8Array(0)];
  for (const op of ops) {
    if (op.type === 'deleteRange') keys.push(op.start, op.end);
    else keys.push(op.key);
  }
  const more = keys.map((k) => Uint8Array.of(...k, 0));
  return uniqueKeys([...keys, ...more]);
}

/** Spans are non-empty, sorted, non-overlapping, and each carries distinct seqs, newest first. */
export function checkSpans(spans: readonly TombstoneSpan[]): void {
  spans.forEach((s, i) => {
    expect(compareKeys(s.start, s.end)).toBeLessThan(0);
    expect(s.seqs.length).toBeGreaterThan(0);
    for (let j = 1; j < s.seqs.length; j++) expect(s.seqs[j - 1]!).toBeGreaterThan(s.seqs[j]!);
    const prev = spans[i - 1];
    if (prev !== undefined) expect(compareKeys(prev.end, s.start)).toBeLessThanOrEqual(0);
  });
}
