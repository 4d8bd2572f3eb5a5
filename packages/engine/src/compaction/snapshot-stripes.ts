/**
 * Snapshot stripes. With live snapshots s1 < s2 < … < sk, the sequence space splits into stripes
 * (0, s1], (s1, s2], …, (sk, ∞). Every reader — a snapshot, or a future read at the latest
 * sequence — sees, for a key, the newest version whose seq is at most its own; so within one
 * stripe only the newest version of a key can ever be read, and compaction may drop the rest.
 * Stripe 0 is the earliest: only there may deletions be dropped, because no older reader exists
 * that could still see what they delete.
 */
export class SnapshotStripes {
  /** Sorted ascending, without duplicates. */
  private readonly snapshots: readonly number[];

  constructor(snapshots: Iterable<number>) {
    this.snapshots = [...new Set(snapshots)].sort((a, b) => a - b);
  }

  get count(): number {
    return this.snapshots.length + 1;
  }

  /** Index of the stripe holding `seq`: the number of snapshots strictly below `seq`. */
  stripeOf(seq: number): number {
    const s = this.snapshots;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
