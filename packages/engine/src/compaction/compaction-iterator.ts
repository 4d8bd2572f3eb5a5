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
import { KeyCopy } from '@strata-db/sstable-core';
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
   * Bytes every input key is known to start with, all the same (default 0; compaction-merge.ts
   * gives the merge's `sharedPrefix`): the collapse's copy of each new key skips them. A
   * compaction of 16-byte keys under a 10-byte common prefix copied 16 bytes a key, a byte
   * loop that was the largest line of the collapse in a profile; it copies 6. A wrong claim
   * would corrupt the collapse as it misorders the merge: it is the inputs' key range.
   */
  readonly sharedPrefix?: number;
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

const NO_KEY = new Uint8Array(0);

/** Input versions read per `next()` call at most before it returns `null` to let the caller yield. */
const DEFAULT_INPUT_BUDGET = 512;

/**
 * Streams the collapse: a version is handed out while the input still sits on it, and the input
 * moves on only at the next call. So the entry returned is the input's own, valid until the next
 * `next()` — the input may rewrite one entry, its key and its value on every move (compaction's
 * table iterators do: `reuseEntry`), and the caller (OutputWriter → TableBuilder) copies what it
 * keeps before calling again. Nothing per version is allocated here: the collapse needs of a key
 * only its bytes (copied into one buffer, to see where the key ends) and a few numbers.
 *
 * Rules 1 and 2 decide a version when it is read; rule 3 is the only one that looks ahead: a
 * Delete kept while older data may not exist below (`olderDataBelow.key` false) is the oldest
 * version kept unless a later version of its key is kept. Such deletes are held back (copies:
 * rare — only at the bottom of the tree) until a later version is kept (then handed out before
 * it, in order) or the key ends (then dropped). The output is the same, version for version, as
 * collapsing each key whole and then dropping its trailing deletes.
 */
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
  private readonly sharedPrefix: number;
  private started = false;
  /**
   * Whether the version `next()` returned last is the first returned of its user key (the
   * survivors of a key are handed out together, newest first). The output writer cuts tables
   * only between user keys: it reads this instead of comparing every entry's key with the last.
   */
  firstOfKey = false;
  /** The entry returned last is the input's current one: move the input at the next call. */
  private handedInput = false;
  /** The key being collapsed (a copy held in `keyCopy`: the input rewrites its entry's key on every move). */
  private readonly keyCopy = new KeyCopy();
  private key: Uint8Array = NO_KEY;
  private inKey = false;
  private frag: TombstoneSpan | undefined;
  private lastStripe = -1;
  /** Versions of the key handed out so far. */
  private emitted = 0;
  /** `olderDataBelow.key(key)`: 0 not asked yet, 1 yes, 2 no. */
  private olderBelow = 0;
  /** Deletes of the key held back (rule 3), oldest last; `releasing`: being handed out before the version that kept them. */
  private readonly held: PointEntry[] = [];
  private heldAt = 0;
  private releasing = false;

  constructor(
    private readonly input: InternalIterator,
    tombstones: Iterable<RangeTombstone>,
    options: CompactionIteratorOptions,
  ) {
    this.stripes = new SnapshotStripes(options.snapshots);
    this.below = options.olderDataBelow;
    this.inputBudget = Math.max(1, options.inputBudget ?? DEFAULT_INPUT_BUDGET);
    this.sharedPrefix = options.sharedPrefix ?? 0;
    const all = fragmentTombstones(tombstones);
    this.cursor = new FragmentCursor(all);
    this.keptFragments = collapseSpans(all.spans, this.stripes, (s, e) => this.below.range(s, e));
    for (const f of all.spans) this.counters.tombstoneSeqsIn += f.seqs.length;
    for (const f of this.keptFragments.spans) this.counters.tombstoneSeqsKept += f.seqs.length;
  }

  /**
   * The next surviving version, in (key ASC, seq DESC) order, valid until the next call;
   * `undefined` at the end; `null` when `inputBudget` input versions were read without one
   * surviving (a range tombstone or a delete at the bottom can drop millions in a row) — call
   * again, after yielding if due.
   */
  next(): PointEntry | null | undefined {
    const input = this.input;
    if (!this.started) {
      this.started = true;
      input.seekToFirst();
    } else if (this.handedInput) {
      this.handedInput = false;
      input.next();
    }
    if (this.releasing) {
      const held = this.held;
      if (this.heldAt < held.length) return this.emit(held[this.heldAt++]!);
      this.releasing = false;
      this.dropHeld();
      this.handedInput = true;
      return this.emit(input.entry());
    }
    let budget = this.inputBudget;
    for (;;) {
      if (!input.valid()) {
        this.endKey();
        return undefined;
      }
      if (budget-- <= 0) return null;
      const e = input.entry();
      if (!this.inKey || !keysEqual(e.key, this.key)) this.startKey(e.key);
      this.counters.entriesIn++;
      const seq = e.seq;
      const stripe = this.stripes.stripeOf(seq);
      if (stripe === this.lastStripe) {
        this.counters.droppedShadowed++;
      } else {
        this.lastStripe = stripe;
        if (this.frag !== undefined && this.hiddenInStripe(this.frag, seq, stripe)) {
          this.counters.droppedByRangeTombstone++;
        } else if (e.kind === EntryKind.Delete && !this.olderDataBelowKey()) {
          // Perhaps the oldest version kept (rule 3): its fate waits for the key's later versions.
          this.held.push({ key: new Uint8Array(this.key), seq, kind: EntryKind.Delete, value: NO_KEY });
        } else if (this.held.length > 0) {
          // A later version is kept: the held deletes are not the oldest, they go out before it.
          this.releasing = true;
          this.heldAt = 1;
          return this.emit(this.held[0]!);
        } else {
          this.handedInput = true;
          return this.emit(e);
        }
      }
      input.next();
    }
  }

  private emit(e: PointEntry): PointEntry {
    this.firstOfKey = this.emitted++ === 0;
    this.counters.entriesOut++;
    return e;
  }

  /** A new user key: the last one's held deletes were its oldest versions kept — dropped (rule 3). */
  private startKey(key: Uint8Array): void {
    this.endKey();
    // The copy held (once there is one) already starts with the prefix every key shares.
    const k = (this.key = this.keyCopy.set(key, this.inKey ? this.sharedPrefix : 0));
    this.inKey = true;
    this.frag = this.cursor.covering(k);
    this.lastStripe = -1;
    this.emitted = 0;
    this.olderBelow = 0;
  }

  private endKey(): void {
    if (this.held.length > 0) {
      this.counters.droppedDeletes += this.held.length;
      this.dropHeld();
    }
  }

  private dropHeld(): void {
    // Emptied by pop, not `length = 0`: the length setter is a runtime call.
    const held = this.held;
    while (held.length > 0) held.pop();
    this.heldAt = 0;
  }

  /** May a version of the current key older than the inputs exist below the output level? Asked once per key, keys ascending. */
  private olderDataBelowKey(): boolean {
    if (this.olderBelow === 0) this.olderBelow = this.below.key(this.key) ? 1 : 2;
    return this.olderBelow === 1;
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
