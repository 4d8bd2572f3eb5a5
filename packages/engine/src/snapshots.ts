/**
 * Snapshots: a snapshot is a sequence number. Reads at a snapshot see exactly the writes with
 * seq ≤ it. The live ones (explicit snapshots, and the implicit snapshot of every open
 * iterator) are what compaction must respect: for each live snapshot it keeps the newest
 * version visible to it. `SnapshotList.sequences()` is that list, ascending.
 *
 * Snapshots must be released explicitly. As a safety net, a snapshot object that is garbage
 * collected without `release()` is released by a FinalizationRegistry (late, but it does not
 * pin old versions forever).
 */
import { StrataError } from './errors.js';

export class SnapshotList {
  /** seq → number of holders. */
  private readonly counts = new Map<number, number>();
  private sorted: number[] | undefined = [];
  private readonly registry = new FinalizationRegistry<number>((seq) => {
    this.remove(seq);
  });

  add(seq: number): void {
    this.counts.set(seq, (this.counts.get(seq) ?? 0) + 1);
    this.sorted = undefined;
  }

  remove(seq: number): void {
    const n = this.counts.get(seq);
    if (n === undefined) return;
    if (n > 1) this.counts.set(seq, n - 1);
    else {
      this.counts.delete(seq);
      this.sorted = undefined;
    }
  }

  /** Live snapshot sequence numbers, ascending, without duplicates. */
  sequences(): readonly number[] {
    this.sorted ??= [...this.counts.keys()].sort((a, b) => a - b);
    return this.sorted;
  }

  /** The oldest live snapshot, or undefined. */
  oldest(): number | undefined {
    return this.sequences()[0];
  }

  get size(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  track(snapshot: Snapshot, seq: number): void {
    this.registry.register(snapshot, seq, snapshot);
  }

  untrack(snapshot: Snapshot): void {
    this.registry.unregister(snapshot);
  }
}

/** A pinned point in time. Pass it as `{ snapshot }` to get/iterate; call `release()` when done. */
export class Snapshot {
  private released = false;

  /** @internal */
  constructor(
    /** Reads at this snapshot see the writes with seq ≤ sequence. */
    readonly sequence: number,
    private readonly list: SnapshotList,
    /** @internal the database that made it */
    readonly owner: object,
  ) {
    list.add(sequence);
    list.track(this, sequence);
  }

  get isReleased(): boolean {
    return this.released;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.list.untrack(this);
    this.list.remove(this.sequence);
  }

  /** @internal */
  check(owner: object): number {
    if (this.owner !== owner) throw new StrataError('INVALID_ARGUMENT', 'the snapshot belongs to another database');
    if (this.released) throw new StrataError('INVALID_ARGUMENT', 'the snapshot was released; take a new one');
    return this.sequence;
  }
}
