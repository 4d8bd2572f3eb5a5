/**
 * Key ranges known to hold no visible key: what a forward iterator learnt by walking over
 * deleted keys, kept so that the next iterator starting there seeks past them instead of
 * stepping over every tombstone again. The job queue is the case it is for: each pop opens a
 * fresh `iterator({ limit: 1 })` at the head, and without this every pop re-walks the deletes
 * of all earlier pops still in the memtable and in uncompacted tables.
 *
 * A range [start, end) (start absent = from the first key, end absent = to the last) recorded
 * with `observedAt = s` means: at every sequence t with s ≤ t ≤ the last sequence applied, no
 * key in the range has a visible version. It holds when recorded because a reader at s walked
 * every version of every key in it and found none visible and no Put newer than s (the walk
 * ends the range at the first such Put); it keeps holding because
 *   - every Put the write path applies afterwards cuts the ranges containing its key (`noteWrite`,
 *     before the memtable takes the Put);
 *   - a Put applied between the reader's creation and the recording bumps `epoch`, and the
 *     recording is dropped (the reader cannot know whether the Put fell in its range);
 *   - deletes and range deletes only hide keys; flush and compaction change no reader's view;
 *   - a sequence number assigned any other way than through `noteWrite` (anything that applies
 *     writes behind the write path's back) is noticed by `sync` — `lastSequence` moved past
 *     `accountedThrough` — and drops every range.
 * A reader at snapshot t uses a range only when t ≥ observedAt.
 *
 * Cost on the write path: one comparison per Put per range held (at most MAX_RANGES, usually 0
 * or 1). Owned by DbCore (`core.emptyRanges`); the write path calls `noteWrite`, DbIterator the rest.
 * A read-only database (a follower) has none: it installs the writer's records itself, at
 * sequence numbers its manifest may have announced before they were read — `sync` could not
 * tell them from accounted ones.
 */
import { compareKeys, type BatchOp } from '@strata-db/memtable';
import type { BatchRecord } from '@strata-db/wal';

interface EmptyRange {
  readonly start: Uint8Array | undefined;
  end: Uint8Array | undefined;
  readonly observedAt: number;
}

/** What an iterator took when it was created: the state its later recording is checked against. */
export interface EmptyRangeTicket {
  readonly epoch: number;
}

/** Ranges held at once (a handful of queues or scan heads); the oldest recorded goes first. */
const MAX_RANGES = 16;
const ZERO = new Uint8Array([0]);

/** The smallest key greater than `key` (keys are compared bytewise). */
export function keySuccessor(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key);
  out.set(ZERO, key.length);
  return out;
}

export class EmptyRanges {
  private ranges: EmptyRange[] = [];
  /** Bumped by every applied batch holding a Put, and when the ranges are dropped. */
  private epoch = 0;

  /** @param accountedThrough every sequence number up to it has been applied (the last recovered). */
  constructor(
    private accountedThrough: number,
    private readonly lastSequence: () => number,
  ) {}

  /** The write path, before the memtable applies `ops` as sequences first, first + 1, … */
  noteWrite(ops: readonly BatchOp[], first: number): void {
    this.sync(first - 1);
    this.accountedThrough = first + ops.length - 1;
    let puts = false;
    // Indexed, not for-of: no iterator per write while this runs unoptimized (@strata-db/wal's batchLength says why).
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (op.type !== 'put') continue;
      puts = true;
      if (this.ranges.length > 0) this.cut(op.key);
    }
    if (puts) this.epoch++;
  }

  /** `noteWrite` for a batch's record (the write path's `writeRecord`): the same, read from its bytes. */
  noteRecord(record: BatchRecord, first: number): void {
    if (this.ranges.length > 0) {
      this.noteWrite(record.ops(), first);
      return;
    }
    this.sync(first - 1);
    this.accountedThrough = first + record.count - 1;
    if (record.puts > 0) this.epoch++;
  }

  /** Called when an iterator reading at `snapshotSeq` is created. */
  ticket(snapshotSeq: number): EmptyRangeTicket {
    this.sync(Math.max(this.lastSequence(), snapshotSeq));
    return { epoch: this.epoch };
  }

  /**
   * A range holding `key` (absent: the first key) that a reader at `snapshotSeq` may skip:
   * `{ end }`, where no key in [key, end) is visible (end absent: none at all from `key` on).
   */
  find(key: Uint8Array | undefined, snapshotSeq: number): { readonly end: Uint8Array | undefined } | undefined {
    // A reader above every sequence accounted for reads writes noteWrite never saw.
    this.sync(Math.max(this.lastSequence(), snapshotSeq));
    for (const r of this.ranges) {
      if (r.observedAt > snapshotSeq) continue;
      if (r.start !== undefined && (key === undefined || compareKeys(r.start, key) > 0)) continue;
      if (r.end !== undefined && key !== undefined && compareKeys(key, r.end) >= 0) continue;
      return { end: r.end };
    }
    return undefined;
  }

  /** A reader at `observedAt` found no visible key in [start, end) (see the top of the file). */
  record(ticket: EmptyRangeTicket, start: Uint8Array | undefined, end: Uint8Array | undefined, observedAt: number): void {
    this.sync(this.lastSequence());
    if (ticket.epoch !== this.epoch) return;
    if (start !== undefined && end !== undefined && compareKeys(start, end) >= 0) return;
    // Ranges it overlaps or touches join it: the union holds from the latest of their observations.
    let s = start;
    let e = end;
    let at = observedAt;
    const kept: EmptyRange[] = [];
    for (const r of this.ranges) {
      if (!touches(r, start, end)) {
        kept.push(r);
        continue;
      }
      if (s !== undefined && (r.start === undefined || compareKeys(r.start, s) < 0)) s = r.start;
      if (e !== undefined && (r.end === undefined || compareKeys(r.end, e) > 0)) e = r.end;
      if (r.observedAt > at) at = r.observedAt;
    }
    kept.push({ start: s, end: e, observedAt: at });
    if (kept.length > MAX_RANGES) kept.shift();
    this.ranges = kept;
  }

  /** Ranges held (stats and tests). */
  get size(): number {
    return this.ranges.length;
  }

  /** A Put of `key`: every range holding it now ends there. */
  private cut(key: Uint8Array): void {
    let emptied = false;
    for (const r of this.ranges) {
      if (r.start !== undefined && compareKeys(key, r.start) < 0) continue;
      if (r.end !== undefined && compareKeys(key, r.end) >= 0) continue;
      // A copy: `key` is the caller's buffer (a lone put's, which the caller may reuse once it
      // resolves) or a view into a batch's record (whose buffer goes to the next batch).
      r.end = new Uint8Array(key);
      if (r.start !== undefined && compareKeys(r.start, key) >= 0) emptied = true;
    }
    if (emptied) this.ranges = this.ranges.filter((r) => r.start === undefined || r.end === undefined || compareKeys(r.start, r.end) < 0);
  }

  /** Drops everything if sequences up to `applied` were not all seen by `noteWrite`. */
  private sync(applied: number): void {
    if (applied === this.accountedThrough) return;
    this.ranges = [];
    this.epoch++;
    this.accountedThrough = applied;
  }
}

/** Whether [start, end) overlaps or touches range r. */
function touches(r: EmptyRange, start: Uint8Array | undefined, end: Uint8Array | undefined): boolean {
  // r lies entirely before [start, end)?
  if (r.end !== undefined && start !== undefined && compareKeys(r.end, start) < 0) return false;
  // r lies entirely after?
  if (r.start !== undefined && end !== undefined && compareKeys(r.start, end) > 0) return false;
  return true;
}
