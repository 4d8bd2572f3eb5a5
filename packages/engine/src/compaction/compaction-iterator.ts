/**
 * Version collapsing: the heart of compaction, and the place where data loss would hide.
 *
 * Input: every version of every key in the compaction's input tables, merged in
 * (key ASC, seq DESC) order, plus every range tombstone of those tables. Output: the versions
 * that some reader may still need, in the same order, plus the tombstone fragments to keep.
 *
 * Rules (readers are the live snapshots plus any future read at the latest sequence; see
 * snapshot-stripes.ts):
 *  1. Within one stripe only the newest version of a key is visible to anyone: keep it, drop
 *     the older ones of that stripe.
 *  2. A version `k#t` covered by a tombstone `#s` (`s > t`) of the same stripe is hidden from
 *     every reader that can see it: drop it (and, by rule 1, the rest of its stripe).
 *     Coverage is judged against ALL input tombstones, including the ones this compaction
 *     drops, so a dropped tombstone never resurrects what it hid.
 *  3. Point deletes: when no older data for the key can exist below the output level
 *     (`olderDataBelow`), a delete that is the oldest version kept tells no reader anything —
 *     drop it; repeat while the oldest kept version is a delete.
 *  4. Range tombstones: newest per stripe kept; a stripe-0 one dropped when nothing older can
 *     exist below for its keys (`collapseSpans`). The tombstones are fragmented first (the
 *     memtable's fragmenter): within one span every seq covers exactly the same keys, which
 *     makes rules 2 and 4 exact per span.
 * Invariant relied on: the input holds every version of its keys that lives at the input and
 * output levels — versions elsewhere are either newer (levels above) or older and below the
 * output level, which `olderDataBelow` accounts for.
 */
import {
  EntryKind,
  FragmentCursor,
  FragmentedRangeTombstones,
  fragmentTombstones,
  keysEqual,
  type InternalIterator,
  type PointEntry,
  type RangeTombstone,
  type TombstoneSpan,
} from '@strata-db/memtable';
import { SnapshotStripes } from './snapshot-stripes.js';

export interface OlderDataBelow {
  /** May a version of `key` older than the inputs exist below the output level? Called with ascending keys. */
  key(key: Uint8Array): boolean;
  /** May any version of a key in [start, end) exist below the output level? */
  range(start: Uint8Array, end: Uint8Array): boolean;
}

export interface CompactionIteratorOptions {
  /** Live snapshot sequence numbers (any order). */
  readonly snapshots: Iterable<number>;
  readonly olderDataBelow: OlderDataBelow;
  /** Input versions read per `next()` call at most before it returns `null` (default 512; tests use tiny ones). */
  readonly inputBudget?: number;
  /**
   * Moves of the input an entry's value stays valid for (default: forever). Compaction's table
   * iterators read blocks into a ring of recycled buffers (sstable-iterators' `blockRing`); the
   * versions of a key are handed out before the input moves past the key, so only a key with
   * more versions than this copies the values it keeps (`detach`).
   */
  readonly valueLifetime?: number;
}

export interface CollapseCounters {
  /** Point versions read from the input. */
  entriesIn: number;
  /** Point versions emitted. */
  entriesOut: number;
  /** Versions dropped because a newer version of the same stripe shadows them. */
  droppedShadowed: number;
  /** Versions dropped because a range tombstone of their stripe hides them. */
  droppedByRangeTombstone: number;
  /** Point deletes dropped at the bottom of the tree. */
  droppedDeletes: number;
  /** Tombstone (fragment, seq) pairs in the input and kept. */
  tombstoneSeqsIn: number;
  tombstoneSeqsKept: number;
}

/** A key being collapsed: its versions kept so far and what decides the next one's fate. */
interface CollapsingKey {
  key: Uint8Array;
  frag: TombstoneSpan | undefined;
  lastStripe: number;
  kept: PointEntry[];
  /** Versions of the key read so far: the input's moves since its first one. */
  read: number;
  /** The kept versions' values are copies (the key outlived the input's value lifetime). */
  detached: boolean;
}

const NONE: readonly PointEntry[] = [];
const NO_KEY = new Uint8Array(0);

/** Input versions read per `next()` call at most before it returns `null` to let the caller yield. */
const DEFAULT_INPUT_BUDGET = 512;

export class CompactionIterator {
  readonly counters: CollapseCounters = {
    entriesIn: 0,
    entriesOut: 0,
    droppedShadowed: 0,
    droppedByRangeTombstone: 0,
    droppedDeletes: 0,
    tombstoneSeqsIn: 0,
    tombstoneSeqsKept: 0,
  };
  /** The tombstones to write to the outputs (already collapsed); each output takes its `clip`. */
  readonly keptFragments: FragmentedRangeTombstones;
  private readonly stripes: SnapshotStripes;
  private readonly cursor: FragmentCursor;
  private readonly below: OlderDataBelow;
  private readonly inputBudget: number;
  /** Versions of the last collapsed key still to hand out, newest first (`cur.kept` once the key is done). */
  private pending: readonly PointEntry[] = NONE;
  private pendingAt = 0;
  private started = false;
  /**
   * Whether the version `next()` returned last is the first returned of its user key (the
   * survivors of a key are handed out together, newest first). The output writer cuts tables
   * only between user keys: it reads this instead of comparing every entry's key with the last.
   */
  firstOfKey = false;
  /**
   * The key being collapsed (while `collapsing`), also when its versions span more than one
   * call (a key overwritten a million times between compactions: flush keeps every version).
   * Its state is kept here so that `next()` can return to the caller — and the caller to the
   * event loop — mid-key. One object and one `kept` array for the whole compaction, reset per
   * key: an object, an array and its backing store less per key, which in a compaction of
   * random keys is about one per entry, for the worker's small young generation to collect
   * (measured: 30% fewer scavenges per merge).
   */
  private readonly cur: CollapsingKey = { key: NO_KEY, frag: undefined, lastStripe: -1, kept: [], read: 0, detached: false };
  /** Input moves an entry's value is valid for (CompactionIteratorOptions.valueLifetime). */
  private readonly valueLifetime: number;
  private collapsing = false;

  constructor(
    private readonly input: InternalIterator,
    tombstones: Iterable<RangeTombstone>,
    options: CompactionIteratorOptions,
  ) {
    this.stripes = new SnapshotStripes(options.snapshots);
    this.below = options.olderDataBelow;
    this.inputBudget = Math.max(1, options.inputBudget ?? DEFAULT_INPUT_BUDGET);
    this.valueLifetime = Math.max(1, options.valueLifetime ?? Infinity);
    const all = fragmentTombstones(tombstones);
    this.cursor = new FragmentCursor(all);
    this.keptFragments = collapseSpans(all.spans, this.stripes, (s, e) => this.below.range(s, e));
    for (const f of all.spans) this.counters.tombstoneSeqsIn += f.seqs.length;
    for (const f of this.keptFragments.spans) this.counters.tombstoneSeqsKept += f.seqs.length;
  }

  /**
   * The next surviving version, in (key ASC, seq DESC) order; `undefined` at the end; `null`
   * when `inputBudget` input versions were read without one surviving (a range tombstone or
   * a delete at the bottom can drop millions in a row) — call again, after yielding if due.
   */
  next(): PointEntry | null | undefined {
    if (!this.started) {
      this.started = true;
      this.input.seekToFirst();
    }
    let budget = this.inputBudget;
    while (this.pendingAt >= this.pending.length) {
      if (budget <= 0) return null;
      const cur = this.cur;
      if (!this.collapsing) {
        if (!this.input.valid()) return undefined;
        const key = this.input.entry().key;
        // `kept` is also `pending`, all handed out by now: detach it before it is refilled.
        this.pending = NONE;
        this.pendingAt = 0;
        cur.key = key;
        cur.frag = this.cursor.covering(key);
        cur.lastStripe = -1;
        cur.read = 0;
        cur.detached = false;
        // Emptied by pop, not `length = 0`: the length setter is a runtime call (2% of a
        // worker's profile when it ran once per key); a key keeps one or two versions.
        const kept = cur.kept;
        while (kept.length > 0) kept.pop();
        this.collapsing = true;
      }
      budget = this.consumeVersions(cur, budget);
    }
    this.firstOfKey = this.pendingAt === 0;
    const e = this.pending[this.pendingAt++]!;
    this.counters.entriesOut++;
    return e;
  }

  /**
   * Reads up to `budget` versions of `cur.key` from the input, deciding which survive; when the
   * key's last version has been read, finishes the key (its survivors become `pending`).
   * Returns the budget left.
   */
  private consumeVersions(cur: CollapsingKey, budgetIn: number): number {
    const input = this.input;
    let budget = budgetIn;
    while (input.valid()) {
      const e = input.entry();
      // The key's first version carries `cur.key` itself: no need to compare it byte by byte.
      if (e.key !== cur.key && !keysEqual(e.key, cur.key)) break;
      if (budget-- <= 0) return 0;
      this.counters.entriesIn++;
      const stripe = this.stripes.stripeOf(e.seq);
      if (stripe === cur.lastStripe) {
        this.counters.droppedShadowed++;
      } else {
        cur.lastStripe = stripe;
        if (cur.frag !== undefined && this.hiddenInStripe(cur.frag, e.seq, stripe)) this.counters.droppedByRangeTombstone++;
        else cur.kept.push(cur.detached ? detach(e) : e);
      }
      // A value read at the key's first version (move m) is valid while the input has made
      // fewer than m + valueLifetime moves; the next move is the key's `read`-th since m. The
      // kept values are copied before the move that would end one (a key with that many
      // versions is rare), and from then on every version kept.
      if (++cur.read >= this.valueLifetime && !cur.detached) {
        const kept = cur.kept;
        for (let i = 0; i < kept.length; i++) kept[i] = detach(kept[i]!);
        cur.detached = true;
      }
      input.next();
    }
    const kept = cur.kept;
    if (kept.length > 0 && kept[kept.length - 1]!.kind === EntryKind.Delete && !this.below.key(cur.key)) {
      while (kept.length > 0 && kept[kept.length - 1]!.kind === EntryKind.Delete) {
        kept.pop();
        this.counters.droppedDeletes++;
      }
    }
    this.pending = kept;
    this.pendingAt = 0;
    this.collapsing = false;
    return budget;
  }

  /** Is there a tombstone seq `s > seq` in the same stripe as `seq`? (The smallest `s > seq` decides.) */
  private hiddenInStripe(frag: TombstoneSpan, seq: number, stripe: number): boolean {
    let smallestAbove = -1;
    for (const s of frag.seqs) {
      // seqs are newest first: the last one above `seq` is the smallest above it.
      if (s > seq) smallestAbove = s;
      else break;
    }
    return smallestAbove !== -1 && this.stripes.stripeOf(smallestAbove) === stripe;
  }
}

/** `e` with a value of its own (a copy: the input may overwrite the bytes its view shows). */
function detach(e: PointEntry): PointEntry {
  return { key: e.key, seq: e.seq, kind: e.kind, value: new Uint8Array(e.value) };
}

/**
 * Keep, per span, the newest seq of each stripe (an older tombstone in the same stripe hides a
 * subset of what the newer one hides, for exactly the same readers); drop a stripe-0 seq when
 * `olderDataBelow(start, end)` says nothing older can exist beneath the output level. Spans left
 * with no seq are removed.
 */
function collapseSpans(
  spans: readonly TombstoneSpan[],
  stripes: SnapshotStripes,
  olderDataBelow: (start: Uint8Array, end: Uint8Array) => boolean,
): FragmentedRangeTombstones {
  const out: TombstoneSpan[] = [];
  for (const f of spans) {
    const seqs: number[] = [];
    let last = -1;
    for (const s of f.seqs) {
      const st = stripes.stripeOf(s);
      if (st === last) continue;
      last = st;
      seqs.push(s);
    }
    if (seqs.length > 0 && stripes.stripeOf(seqs[seqs.length - 1]!) === 0 && !olderDataBelow(f.start, f.end)) seqs.pop();
    if (seqs.length > 0) out.push({ start: f.start, end: f.end, seqs });
  }
  return new FragmentedRangeTombstones(out);
}
