/**
 * The common prefix of the table builder's last key and the next one, compared four bytes at a
 * time where it can be.
 *
 * The builder compares every key with the last one — the order check and the data block's
 * prefix compression are one computation (table-builder.ts) — and neighbouring keys share nearly
 * all their bytes: a compaction of 16-byte decimal keys compared ~15 equal bytes per version one
 * at a time, ~36 instructions a byte (callgrind, docs/performance/session-30.md, merge30), the
 * largest line of the builder. Through DataViews the equal run is compared as little-endian
 * 32-bit words, and the first unequal word gives the first unequal byte (its lowest set bit
 * after XOR); only a tail shorter than a word is compared by bytes. The length found is the same
 * whichever way it was computed.
 *
 * A word view needs the key's buffer, and `buffer` moves the bytes of a small array that lives on
 * V8's heap off it — a cost no caller should pay per key. So an input key gets a DataView only
 * the second time the same key *object* is seen: compaction's table iterators hand out one key
 * view per input table and rewrite its bytes in place (`reuseEntry`), so a few objects carry
 * every key of a merge; a flush's keys are a new view each, never seen twice, and are compared by
 * bytes as before (the cost added to such an `add`: SLOTS identity checks). The last SLOTS
 * objects seen are remembered, replaced in turn; a merge of more inputs than that compares some
 * keys by bytes.
 */

/** Key objects remembered: a compaction's inputs (one per table being read; L0 tables and one per level). */
const SLOTS = 8;

export class KeyWords {
  private readonly keys: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(SLOTS).fill(undefined);
  private readonly views: (DataView | undefined)[] = new Array<DataView | undefined>(SLOTS).fill(undefined);
  private nextSlot = 0;
  /** The object found last and its view: a compaction's keys come in runs from one input. */
  private hitKey: Uint8Array | undefined;
  private hitView: DataView | undefined;

  /**
   * The length of the longest common prefix of `last` and `key`. `lastWords`: a DataView of the
   * buffer `last` views, from `last`'s first byte.
   */
  commonPrefix(last: Uint8Array, lastWords: DataView, key: Uint8Array): number {
    const n = last.length < key.length ? last.length : key.length;
    let i = 0;
    if (n >= 8) {
      const w = key === this.hitKey ? this.hitView : this.viewOf(key);
      if (w !== undefined) {
        for (; i + 4 <= n; i += 4) {
          const x = lastWords.getInt32(i, true) ^ w.getInt32(i, true);
          if (x !== 0) return i + ((31 - Math.clz32(x & -x)) >> 3);
        }
      }
    }
    while (i < n && last[i] === key[i]) i++;
    return i;
  }

  /** Forgets the keys seen (they may be views into large buffers the caller is done with). */
  forget(): void {
    this.keys.fill(undefined);
    this.views.fill(undefined);
    this.hitKey = undefined;
    this.hitView = undefined;
  }

  /** `key`'s DataView from its first byte, if `key` (this object) was seen before; else remembers it. */
  private viewOf(key: Uint8Array): DataView | undefined {
    const keys = this.keys;
    for (let s = 0; s < SLOTS; s++) {
      if (keys[s] === key) {
        const view = (this.views[s] ??= new DataView(key.buffer, key.byteOffset));
        this.hitKey = key;
        this.hitView = view;
        return view;
      }
    }
    const s = this.nextSlot;
    keys[s] = key;
    this.views[s] = undefined;
    this.nextSlot = s + 1 === SLOTS ? 0 : s + 1;
    return undefined;
  }
}
