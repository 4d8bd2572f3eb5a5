/**
 * The ring of a CLOCK (second-chance) cache: its entries in insertion order, each an (owner,
 * slot) pair — the owner holds the entry's bookkeeping (a file's slots), the slot says which of
 * its entries — and the hand, the next entry the clock looks at. The block cache and the
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
 */
export class ClockRing<T> {
  /** Entry i's owner; undefined for a hole. Read by the owner's sweep; written only here. */
  readonly owners: (T | undefined)[] = [];
  /** Entry i's slot in its owner. */
  readonly slots: number[] = [];
  /** The next entry the clock looks at; the owner's sweep advances it (`advance`). */
  hand = 0;
  private holes = 0;

  constructor(private readonly moved: (owner: T, slot: number, position: number) => void) {}

  /** Entries, holes included. */
  get length(): number {
    return this.owners.length;
  }

  /** Entries that are not holes. */
  get size(): number {
    return this.owners.length - this.holes;
  }

  /** Appends an entry (behind the hand's sweep: the newest is looked at last); its position. */
  push(owner: T, slot: number): number {
    if (this.holes > MIN_SQUEEZE_HOLES && this.holes * 2 > this.owners.length) this.squeeze();
    this.owners.push(owner);
    this.slots.push(slot);
    return this.owners.length - 1;
  }

  /** Makes the entry at `position` a hole. */
  remove(position: number): void {
    this.owners[position] = undefined;
    this.holes++;
  }

  /** Puts the hand on an entry to look at (back at the start when it went past the end). */
  wrapHand(): void {
    if (this.hand < this.owners.length) return;
    this.hand = 0;
    if (this.holes * 2 > this.owners.length) this.squeeze();
  }

  /** Squeezes the holes out, in place, keeping the order and the hand's place in it. */
  private squeeze(): void {
    const owners = this.owners;
    const slots = this.slots;
    const hand = this.hand;
    let to = 0;
    let newHand = 0;
    for (let s = 0; s < owners.length; s++) {
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
    owners.length = to;
    slots.length = to;
    this.hand = newHand;
    this.holes = 0;
  }
}

/** Holes a ring may hold before a push squeezes them out (when they are also the majority). */
const MIN_SQUEEZE_HOLES = 1024;
