/**
 * A hash index from user key to the node of that key's NEWEST version in the skiplist.
 *
 * Why: a skiplist lookup chases ~log(n)·(1/p) pointers through a node array far larger than
 * the CPU caches — about 37 dependent cache misses at a million entries. Point reads are the
 * hot path of every `get`, so they go through this index instead: a hash, one probe run in
 * a flat table, then the node. Writing a new version of an existing key also uses it to find
 * its place in O(1) (just before the key's previous newest version).
 *
 * Open addressing with linear probing over `slots`, two int32 per slot: the key's full
 * 32-bit hash (so probes and rehashing rarely touch a node), then the node number (0 =
 * empty slot; node 0 is the skiplist head, never a key's node). The table doubles when
 * more than 3/4 full. Nothing is ever removed — a memtable only grows. The table lives in a
 * SharedArrayBuffer, so a frozen memtable's index can be read from another thread.
 */
import { int32Array } from './shared-memory.js';

const INITIAL_SLOTS = 64;
/** What a surrendered index reads: nothing (every probe ends at once). */
const EMPTY_SLOTS = new Int32Array(2);

/**
 * "No node": an empty slot, and what `find` returns for a key not indexed. Node 0 is the
 * skiplist's head, never a key's node, so this equals the skiplist's NIL — by that invariant,
 * not by an import: the skiplist imports this file, never the other way round.
 */
const NIL = 0;

/** What the index needs of the structure owning the nodes (the skiplist): a node's key. */
export interface IndexedNodes {
  /** Whether the key of node `node` equals `key`. */
  keyEquals(node: number, key: Uint8Array): boolean;
}

/** What another thread needs to read a frozen KeyIndex (structured-cloneable; `slots` is shared, not copied). */
export interface KeyIndexImage {
  readonly slots: Int32Array;
  readonly size: number;
}

export class KeyIndex {
  /** [hash, node] pairs; capacity = slots.length / 2, a power of two. */
  private slots: Int32Array;
  private mask: number;
  /** Distinct keys indexed. */
  size: number;
  /** Whether the table is in shared memory (shared-memory.ts); a grown table is too. */
  private readonly sharedMemory: boolean;

  /**
   * A read-only view of another thread's index (`image`), or an empty index: over `slots` (a
   * released memtable's table, zeroed here; its length a power of two), or sized for
   * `expectedKeys` keys without growing.
   */
  constructor(image?: KeyIndexImage, start?: { readonly slots?: Int32Array; readonly expectedKeys?: number; readonly shared?: boolean }) {
    this.sharedMemory = start?.shared ?? true;
    if (image !== undefined) {
      this.slots = image.slots;
      this.size = image.size;
    } else if (start?.slots !== undefined) {
      this.slots = start.slots.fill(0);
      this.size = 0;
    } else {
      let capacity = INITIAL_SLOTS;
      while (capacity * 3 < (start?.expectedKeys ?? 0) * 4) capacity *= 2;
      this.slots = int32Array(capacity * 2, this.sharedMemory);
      this.size = 0;
    }
    this.mask = this.slots.length / 2 - 1;
  }

  /** The table, for the next memtable (memtable-memory.ts); the index is unusable afterwards. */
  surrender(): Int32Array {
    const slots = this.slots;
    this.slots = EMPTY_SLOTS;
    this.mask = 0;
    return slots;
  }

  image(): KeyIndexImage {
    return { slots: this.slots, size: this.size };
  }

  /** The node of the newest version of `key` (hash `hash`), or NIL. */
  find(list: IndexedNodes, key: Uint8Array, hash: number): number {
    const slots = this.slots;
    const mask = this.mask;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const node = slots[2 * i + 1]!;
      if (node === NIL) return NIL;
      if (slots[2 * i] === hash && list.keyEquals(node, key)) return node;
    }
  }

  /**
   * Points `key`'s entry at `node` (a newer version of a key already indexed) or adds it.
   * `existing` is what `find` returned for this key: the node to replace, or NIL to add.
   */
  set(hash: number, node: number, existing: number): void {
    const slots = this.slots;
    const mask = this.mask;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const at = slots[2 * i + 1]!;
      if (at === existing) {
        slots[2 * i] = hash;
        slots[2 * i + 1] = node;
        if (existing === NIL && ++this.size * 4 > (mask + 1) * 3) this.grow();
        return;
      }
    }
  }

  /** Bytes the table occupies. */
  get bytes(): number {
    return this.slots.byteLength;
  }

  /**
   * Bytes a table grown from empty occupies once it holds `size` keys. This, not `bytes`, is
   * what a memtable's size counts (memtable-reader.ts, approximateBytes): a table reused from
   * a released memtable or presized from the last one starts larger, and which of those a new
   * memtable gets depends on when a flush ended — timing, not the writes. Counting the table
   * as if grown keeps the freeze points, and so the tables a flush writes, a function of the
   * writes alone (the worker and the in-thread executor write byte-identical tables).
   */
  get grownBytes(): number {
    let capacity = INITIAL_SLOTS;
    while (this.size * 4 > capacity * 3) capacity *= 2;
    return capacity * 2 * Int32Array.BYTES_PER_ELEMENT;
  }

  private grow(): void {
    const old = this.slots;
    const capacity = (this.mask + 1) * 2;
    const slots = int32Array(capacity * 2, this.sharedMemory);
    const mask = capacity - 1;
    for (let j = 0; j < old.length; j += 2) {
      const node = old[j + 1]!;
      if (node === NIL) continue;
      const hash = old[j]!;
      let i = hash & mask;
      while (slots[2 * i + 1] !== NIL) i = (i + 1) & mask;
      slots[2 * i] = hash;
      slots[2 * i + 1] = node;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/**
 * 32-bit hash of a key: four bytes at a time, multiply-rotate mixing, murmur3's finaliser.
 * Not cryptographic; keys are not adversarial inside one process's memtable, and a bad
 * spread only costs probe length, never correctness.
 */
export function hashKey(key: Uint8Array): number {
  const n = key.length;
  let h = 0x2f1a7c35 ^ n;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    let k = key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let shift = 0; i < n; i++, shift += 8) k |= key[i]! << shift;
  h ^= Math.imul((Math.imul(k, 0xcc9e2d51) << 15) | (Math.imul(k, 0xcc9e2d51) >>> 17), 0x1b873593);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

