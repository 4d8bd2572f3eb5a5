/**
 * The ring of a CLOCK (second-chance) cache: its entries in the order the hand visits them (a
 * new one just behind the hand, `push`), each an (owner, slot) pair — the owner holds the
 * entry's bookkeeping (a file's slots), the slot says which of its entries — and the hand, the
 * next entry the clock looks at. The block cache and the
 * partition cache each keep one; the sweep itself (which entry is referenced, what removing one
 * means) stays with them, on their own bookkeeping.
 *
 * An entry removed out of order (evicted, replaced, its file deleted) leaves a hole (owner
 * undefined) rather than shifting the ring. Holes are squeezed out in place when they exceed
 * `MIN_SQUEEZE_HOLES` and half the ring — at a push, or when the hand wraps — keeping the order
 * and the hand's place in it, so the clock evicts exactly as it would over a ring without holes.
 * (Squeezed out only when the hand wrapped, the block cache's ring under 200k random gets at 10M
 * keys had grown to ~250k entries for 31k blocks: the hand, evicting about one entry per insert,
 * gains on the ring's end only slowly. That was 4 MB of arrays, each growth a large-object copy
 * for the old generation to collect.)
 *
 * Owners are told where their entries moved (`moved`), as they keep each entry's position to
 * punch its hole when it is removed.
 *
 * The arrays keep their room after a squeeze: entries sit in `owners[0..length)` and
 * `slots[0..length)`, and what lies past `length` is spare room (owners undefined), written over
 * by the next pushes. Truncating them instead (`owners.length = to`, as before) had V8 trim
 * their backing stores, so every squeeze was followed by the pushes regrowing them by copies
 * (×1.5 each): with the block cache's ~31k blocks two arrays of ~45–70k elements, large objects
 * of 0.4–0.6 MB, one cycle per ~31k misses — old-generation garbage that inflated the old
 * spaces between full collections (issue 14: session 31's heap31 measured ~10 MB of
 * large-object garbage at the end of 600k random gets over 3,963 tables). The room kept is at
 * most what the ring last grew to (≤ 2 × entries + MIN_SQUEEZE_HOLES), which it held anyway.
 */
export class ClockRing<T> {
  /** Entry i's owner; undefined for a hole. Read by the owner's sweep; written only here. */
  readonly owners: (T | undefined)[] = [];
  /** Entry i's slot in its owner. */
  readonly slots: number[] = [];
  /** The next entry the clock looks at; the owner's sweep advances it (`advance`). */
  hand = 0;
  private holes = 0;
  /** Entries, holes included: `owners[0..end)`; past it, spare room. */
  private end = 0;

  constructor(private readonly moved: (owner: T, slot: number, position: number) => void) {}

  /** Entries, holes included. */
  get length(): number {
    return this.end;
  }

  /** Entries that are not holes. */
  get size(): number {
    return this.end - this.holes;
  }

  /** Bytes of the two arrays' elements, spare room included (8 bytes an element). */
  get byteLength(): number {
    return 16 * this.owners.length;
  }

  /**
   * Adds an entry behind the hand, where CLOCK puts a new entry (its sweep comes to it last, a
   * whole turn later); its position. That is the hole just behind the hand when there is one —
   * there is after every eviction, the sweep having just made it — else the end (behind the hand
   * only when the hand is at the start). Appending always (before session 32) put a new entry
   * only end − hand entries ahead of the hand: once the hand neared the end — a full cache whose
   * older entries were referenced — it evicted each new entry after a few more inserts, a FIFO of
   * those few, and the older ones, passed over, stayed for good. At 10M keys a 20k-key hot set
   * read after random gets stayed at 0.22 misses a get, a 200k-key range after it at 0.90
   * (docs/performance/session-32.md).
   */
  push(owner: T, slot: number): number {
    const behind = this.hand - 1;
    if (behind >= 0 && behind < this.end && this.owners[behind] === undefined) {
      this.owners[behind] = owner;
      this.slots[behind] = slot;
      this.holes--;
      return behind;
    }
    if (this.holes > MIN_SQUEEZE_HOLES && this.holes * 2 > this.end) this.squeeze();
    const at = this.end++;
    if (at < this.owners.length) {
      this.owners[at] = owner;
      this.slots[at] = slot;
    } else {
      this.owners.push(owner);
      this.slots.push(slot);
    }
    return at;
  }

  /** Makes the entry at `position` a hole. */
  remove(position: number): void {
    this.owners[position] = undefined;
    this.holes++;
  }

  /** Puts the hand on an entry to look at (back at the start when it went past the end). */
  wrapHand(): void {
    if (this.hand < this.end) return;
    this.hand = 0;
    if (this.holes * 2 > this.end) this.squeeze();
  }

  /** Squeezes the holes out, in place, keeping the order and the hand's place in it. */
  private squeeze(): void {
    const owners = this.owners;
    const slots = this.slots;
    const hand = this.hand;
    let to = 0;
    let newHand = 0;
    const end = this.end;
    for (let s = 0; s < end; s++) {
      const owner = owners[s];
      if (owner === undefined) continue;
      if (s < hand) newHand++;
      const slot = slots[s]!;
      if (to !== s) {
        owners[to] = owner;
        slots[to] = slot;
        this.moved(owner, slot, to);
      }
      to++;
    }
    // Past `to`, spare room: no owner kept alive, the pushes write over it.
    owners.fill(undefined, to, end);
    this.end = to;
    this.hand = newHand;
    this.holes = 0;
  }
}

/** Holes a ring may hold before a push squeezes them out (when they are also the majority). */
const MIN_SQUEEZE_HOLES = 1024;
