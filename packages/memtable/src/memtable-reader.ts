/**
 * The read side shared by `Memtable` (active) and `FrozenMemtable`: both are views of one
 * `MemtableState`, so freezing copies nothing.
 *
 * Visibility rules (docs/design-rules.md#r6): a reader at snapshot S sees version k#u iff u ≤ S,
 * and a tombstone [s, e)#t with t ≤ S hides k#u iff s ≤ k < e and u < t.
 */
import { StrataAssertionError, StrataError } from '@strata-db/errors';
import type { FragmentedRangeTombstones } from './fragmenter.js';
import { MemtableIterator } from './memtable-iterator.js';
import { RangeTombstoneSet } from './range-tombstones.js';
import type { MemtableMemory } from './memtable-memory.js';
import { NIL, PointSkiplist, type SkiplistImage, type SkiplistSize } from './skiplist.js';
import { EntryKind, compareKeys, type InternalIterator, type PointEntry, type RangeTombstone } from './types.js';
import { VisibleIterator } from './visible-iterator.js';

/** Entries `flushEntries` brings into the cache at once. */
const FLUSH_RUN = 32;

/**
 * What `get` found in THIS memtable:
 *  - `{ kind: 'put', value, seq }`  the newest visible version is a Put no visible tombstone hides;
 *  - `{ kind: 'deleted', seq }`      the key is deleted as of the snapshot — by a point Delete
 *                                    (seq = its seq) or a range tombstone (seq = the tombstone's).
 *                                    Older sources (frozen memtables, tables) must NOT be consulted:
 *                                    everything in them is older than this deletion;
 *  - `undefined`                     this memtable says nothing about the key; ask older sources.
 */
export type MemtableGetResult =
  | { readonly kind: 'put'; readonly value: Uint8Array; readonly seq: number }
  | { readonly kind: 'deleted'; readonly seq: number }
  | undefined;

/** A key as a reader at some snapshot sees it (see `VisibleIterator`). */
export interface VisibleEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly seq: number;
}

/** Bounds and direction of `scan`. At most one lower and one upper bound. */
export interface ScanOptions {
  readonly gt?: Uint8Array;
  readonly gte?: Uint8Array;
  readonly lt?: Uint8Array;
  readonly lte?: Uint8Array;
  readonly reverse?: boolean;
  /** Stop after this many entries (default: no limit). */
  readonly limit?: number;
}

/** How a new memtable gets its memory (see `Memtable`'s constructor). */
export interface MemtableOptions {
  /** Where its memory comes from and goes back to once released (see `MemtableReader.release`). */
  readonly memory?: MemtableMemory;
  /** Size the arrays for about as many entries as that memtable held (its `size()`). */
  readonly like?: SkiplistSize;
  /**
   * Shared memory (default), which another thread can read (`FrozenMemtable.image`), or plain
   * memory for a memtable that never leaves its thread (shared-memory.ts says why it matters).
   * A `memory` given should only ever hold memtables of one kind.
   */
  readonly shared?: boolean;
}

/** Everything a memtable holds. One instance is shared by a `Memtable` and its `FrozenMemtable`. */
export class MemtableState {
  readonly points: PointSkiplist;
  readonly tombstones = new RangeTombstoneSet();
  /** Largest seq written or injected (`maxLsn()`). */
  maxLsn = 0;
  frozen = false;
  /** The creator's reference plus one per `retain()` not yet released; see `release`. */
  pins = 1;
  /** Where the memory goes when the last pin is released (none: to the garbage collector). */
  readonly memory: MemtableMemory | undefined;
  /** Started on a released memtable's buffers (`MemtableReader.onReleasedMemory`). */
  readonly onReleasedMemory: boolean;

  /**
   * Over the shared memory of a skiplist image (see shared-image.ts), or empty: then on the
   * buffers of a released memtable from `memory` if it holds any, else sized like `like`.
   */
  constructor(points?: SkiplistImage, options: MemtableOptions = {}) {
    const { memory, like, shared = true } = options;
    this.memory = memory;
    if (points === undefined) {
      const reuse = memory?.take();
      this.points = new PointSkiplist(undefined, reuse !== undefined ? { reuse, shared } : like !== undefined ? { like, shared } : { shared });
      this.onReleasedMemory = reuse !== undefined;
      return;
    }
    this.points = new PointSkiplist(points);
    this.onReleasedMemory = false;
  }
}

export abstract class MemtableReader {
  constructor(protected readonly state: MemtableState) {}

  /**
   * The newest version of `key` visible at `snapshotSeq`, with this memtable's range
   * tombstones applied. See `MemtableGetResult` for what each answer obliges the caller to do.
   */
  get(key: Uint8Array, snapshotSeq: number): MemtableGetResult {
    checkReadArgs(key, snapshotSeq);
    const points = this.state.points;
    const node = points.findVisible(key, snapshotSeq);
    const tombstones = this.state.tombstones;
    const covering = tombstones.count === 0 ? 0 : tombstones.maxCoveringSeq(key, snapshotSeq);
    if (node !== NIL) {
      const seq = points.seqOf(node);
      if (seq > covering) {
        return points.kindOf(node) === EntryKind.Put ? { kind: 'put', value: points.valueOf(node), seq } : { kind: 'deleted', seq };
      }
    }
    return covering === 0 ? undefined : { kind: 'deleted', seq: covering };
  }

  /** The newest point version of `key` with seq ≤ `snapshotSeq`, tombstones NOT applied. */
  newestVisible(key: Uint8Array, snapshotSeq: number): PointEntry | undefined {
    checkReadArgs(key, snapshotSeq);
    const points = this.state.points;
    const node = points.findVisible(key, snapshotSeq);
    return node === NIL ? undefined : points.entryOf(node);
  }

  /** Largest seq ≤ `snapshotSeq` of a range tombstone covering `key`; 0 if none. O(log n). */
  maxCoveringTombstoneSeq(key: Uint8Array, snapshotSeq: number): number {
    checkReadArgs(key, snapshotSeq);
    return this.state.tombstones.maxCoveringSeq(key, snapshotSeq);
  }

  /** Raw iterator over every point version, (key ASC, seq DESC). Starts unpositioned. */
  iterator(): InternalIterator {
    return new MemtableIterator(this.state.points);
  }

  /** A cursor over what a reader at `snapshotSeq` sees in this memtable. Starts unpositioned. */
  visibleIterator(snapshotSeq: number): VisibleIterator {
    checkSnapshot(snapshotSeq);
    return new VisibleIterator(this.state.points, this.state.tombstones.fragments, snapshotSeq);
  }

  /** The visible entries within bounds, ascending (or descending with `reverse`). */
  *scan(snapshotSeq: number, options: ScanOptions = {}): Generator<VisibleEntry, void, undefined> {
    const { gt, gte, lt, lte, reverse = false, limit = Infinity } = options;
    for (const [name, bound] of [
      ['gt', gt],
      ['gte', gte],
      ['lt', lt],
      ['lte', lte],
    ] as const) {
      if (bound !== undefined && !(bound instanceof Uint8Array)) invalid(`scan option ${name} must be a Uint8Array`);
    }
    const cursor = this.visibleIterator(snapshotSeq);
    // Whether `key` lies past the far bound in the direction of travel.
    const beyond = reverse
      ? (key: Uint8Array) => (gte !== undefined ? compareKeys(key, gte) < 0 : gt !== undefined && compareKeys(key, gt) <= 0)
      : (key: Uint8Array) => (lte !== undefined ? compareKeys(key, lte) > 0 : lt !== undefined && compareKeys(key, lt) >= 0);
    if (reverse) {
      const from = lte ?? lt;
      if (from === undefined) cursor.seekToLast();
      else cursor.seekForPrev(from);
      if (lte === undefined && lt !== undefined && cursor.valid() && compareKeys(cursor.key(), lt) === 0) cursor.prev();
    } else {
      const from = gte ?? gt;
      if (from === undefined) cursor.seekToFirst();
      else cursor.seek(from);
      if (gte === undefined && gt !== undefined && cursor.valid() && compareKeys(cursor.key(), gt) === 0) cursor.next();
    }
    for (let n = 0; n < limit && cursor.valid(); n++) {
      const key = cursor.key();
      if (beyond(key)) return;
      yield { key, value: cursor.value(), seq: cursor.seq() };
      if (reverse) cursor.prev();
      else cursor.next();
    }
  }

  /** Every range tombstone as written, (start ASC, seq DESC). The array is never mutated later. */
  rangeTombstones(): readonly RangeTombstone[] {
    return this.state.tombstones.all();
  }

  /**
   * This memtable's tombstones fragmented (fragmenter.ts): spans carrying every covering seq, for
   * readers at any snapshot — what a merging reader consults to hide older versions. The same
   * object on every call, never rebuilt: the active memtable grows it in place as range
   * deletions arrive (answers at snapshots below a new tombstone's seq do not change; see
   * `FragmentCursor`); a frozen memtable's is fixed.
   */
  fragmentedTombstones(): FragmentedRangeTombstones {
    return this.state.tombstones.fragments;
  }

  /** Every point version, (key ASC, seq DESC), nothing collapsed: what flush writes. */
  *flushEntries(): Generator<PointEntry, void, undefined> {
    const points = this.state.points;
    // In runs (gatherRun): the entries of a run are brought into the cache together.
    const run = new Int32Array(FLUSH_RUN);
    let node = points.first();
    while (node !== NIL) {
      const n = points.gatherRun(node, run);
      node = points.next(run[n - 1]!);
      for (let i = 0; i < n; i++) yield points.entryOf(run[i]!);
    }
  }

  /** Every range tombstone exactly as written, (start ASC, seq DESC), unfragmented. */
  *flushTombstones(): Generator<RangeTombstone, void, undefined> {
    yield* this.state.tombstones.all();
  }

  /**
   * Whether this memtable was started on a released memtable's buffers (`MemtableOptions.memory`):
   * then it holds all of them from its first entry on — its arrays zeroed (written, so resident)
   * and the released arena's chunks as spares — whatever it uses, which `approximateBytes` counts.
   */
  get onReleasedMemory(): boolean {
    return this.state.onReleasedMemory;
  }

  /** Largest seq this memtable has been written with or given by `injectMaxLsn`; 0 if none. */
  maxLsn(): number {
    return this.state.maxLsn;
  }

  /**
   * Bytes held, approximately: key and value bytes, each entry's node (~41 B on average), the
   * key index table (as grown for its keys: KeyIndex.grownBytes), tombstone bytes plus a fixed
   * overhead each. Deterministic for a given sequence of writes, whatever buffers the memtable
   * started on (reused, presized or new); excludes allocation slack (at most ~20% of the node
   * storage, plus one arena chunk) and a reused or presized index's extra capacity.
   */
  approximateBytes(): number {
    const points = this.state.points;
    return points.arena.bytesUsed + points.slotsUsed * 4 + points.index.grownBytes + this.state.tombstones.bytes;
  }

  /**
   * Pins the memtable's memory for a reader that outlives the synchronous step it started in
   * (an iterator); undo with `release()`. Pins are counted on the memtable, shared by its
   * `Memtable` and `FrozenMemtable` views.
   */
  retain(): void {
    if (this.state.pins === 0) throw new StrataAssertionError('retain() of a released memtable');
    this.state.pins++;
  }

  /**
   * Drops one pin (the creator's reference counts as one); returns true when it was the last.
   * Then the memtable is released: a memtable made with `{ memory }` hands its point memory to
   * the next memtable made from that `MemtableMemory`, and any read of it throws.
   *
   * Invariant the caller guarantees: when the last pin goes, nothing can read the memtable any
   * more — no iterator, no entry or key view still to be read, no other thread (a worker
   * reading its `image()` must have finished). Only a frozen memtable may lose its last pin.
   */
  release(): boolean {
    const state = this.state;
    if (state.pins === 0) throw new StrataAssertionError('release() of a memtable already released');
    if (state.pins === 1 && !state.frozen) throw new StrataAssertionError('release() of the last pin of a writable memtable: freeze it first');
    if (--state.pins > 0) return false;
    const buffers = state.points.surrender();
    state.memory?.give(buffers);
    return true;
  }

  /** True once the last pin was released (see `release`). */
  get released(): boolean {
    return this.state.pins === 0;
  }

  /** How large this memtable grew: `new Memtable({ like })` sizes a new one from it. */
  size(): SkiplistSize {
    return this.state.points.size();
  }

  /** Number of point versions. */
  get entryCount(): number {
    return this.state.points.count;
  }

  get rangeTombstoneCount(): number {
    return this.state.tombstones.count;
  }

  /** True once `freeze()` has been called on the memtable (always true for a FrozenMemtable). */
  get frozen(): boolean {
    return this.state.frozen;
  }
}

function checkReadArgs(key: Uint8Array, snapshotSeq: number): void {
  if (!(key instanceof Uint8Array)) invalid('key must be a Uint8Array');
  checkSnapshot(snapshotSeq);
}

function checkSnapshot(snapshotSeq: number): void {
  if (typeof snapshotSeq !== 'number' || !(snapshotSeq >= 0)) invalid(`snapshot seq must be a number ≥ 0, got ${String(snapshotSeq)}`);
}

export function invalid(message: string): never {
  throw new StrataError('INVALID_ARGUMENT', message);
}
