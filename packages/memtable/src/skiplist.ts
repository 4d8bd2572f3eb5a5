/**
 * The point-entry skiplist: every version of every key, ordered (key ASC, seq DESC).
 *
 * Layout. A node is a run of int32 slots in one `Int32Array` (`nodes`); its address is the
 * index of its first slot. Keeping a node's fields and forward pointers side by side means a
 * search step touches one cache line, not one per parallel array. Key and value bytes live
 * contiguously in a `ByteArena` (key first, value right after it).
 *
 *   slot  PREFIX     first four key bytes, big-endian, sign bit flipped (see `keyPrefix`)
 *         CHUNK/POS  where the key (then the value) sits in the arena
 *         KEY_LEN, VALUE_LEN
 *         SEQ_HI/LO  the sequence number split into two 32-bit halves (seqs go up to 2^53)
 *         META       kind | height << 1
 *         PREV       level-0 backward pointer (O(1) `prev`, used by reverse scans)
 *         NEXT + i   forward pointer at level i, for i < height
 *
 * Address 0 is the head node (MAX_HEIGHT levels, no key). It doubles as NIL: no forward
 * pointer ever targets the head, and the first node's PREV is the head, so "0" reads as
 * "nothing there" in both directions.
 *
 * Invariants relied on:
 *  - Nodes are never removed or moved within the address space; a node address stays valid
 *    for the life of the list. The `nodes` array itself IS replaced when it grows, so callers
 *    re-read `list.nodes` after any insert and never cache it across calls that may insert.
 *  - The list is single-writer and JavaScript is single-threaded, so an insert is complete
 *    before any reader runs; no memory-ordering care is needed (unlike LevelDB's C++ list).
 *  - Every insert carries a seq above every seq already in the list (the memtable enforces
 *    strictly increasing seqs). So (key, seq) pairs are unique, the order is total, and a new
 *    version of a key always lands immediately before that key's previous newest version —
 *    which `index` (a hash from key to that node) finds without a search.
 */
import { ByteArena } from './arena.js';
import { KeyIndex, hashKey } from './key-index.js';
import { EntryKind, type PointEntry } from './types.js';

/** Enough for 4^16 ≈ 4·10^9 entries at p = 1/4 before searches start to degrade. */
export const MAX_HEIGHT = 16;

const PREFIX = 0;
const CHUNK = 1;
const POS = 2;
const KEY_LEN = 3;
const VALUE_LEN = 4;
const SEQ_HI = 5;
const SEQ_LO = 6;
const META = 7;
const PREV = 8;
const NEXT = 9;

/** The head node's address, and the "no node" value of every pointer. */
export const NIL = 0;

const TWO_32 = 4294967296;
const EMPTY = new Uint8Array(0);

/**
 * The first four bytes of a key as one int32 whose SIGNED order is the bytewise order of
 * those bytes (big-endian, sign bit flipped). Shorter keys are zero-padded. If prefix(a) <
 * prefix(b) then a < b: the first differing padded byte is either a real byte of both keys,
 * or a padding zero of `a` facing a non-zero byte of `b` — and then `a` is a proper prefix of
 * `b`. Equal prefixes prove nothing and fall back to comparing bytes.
 */
export function keyPrefix(key: Uint8Array): number {
  const n = key.length;
  if (n >= 4) return ((key[0]! << 24) | (key[1]! << 16) | (key[2]! << 8) | key[3]!) ^ 0x80000000;
  const b0 = n > 0 ? key[0]! : 0;
  const b1 = n > 1 ? key[1]! : 0;
  const b2 = n > 2 ? key[2]! : 0;
  return ((b0 << 24) | (b1 << 16) | (b2 << 8)) ^ 0x80000000;
}

export class PointSkiplist {
  /** Node storage; replaced (grown) by `insert` — re-read after every insert. */
  nodes: Int32Array;
  readonly arena = new ByteArena();
  /** Key → node of its newest version: point reads and rewrites of a key skip the search. */
  readonly index = new KeyIndex();
  /** Number of entries (versions). */
  count = 0;
  /** Int32 slots in use, head included. */
  slotsUsed: number;
  /** Highest level in use by any node, 1..MAX_HEIGHT. */
  private height = 1;
  /** The last node in order, or NIL when empty. Kept so `seekToLast` is O(1). */
  private tail = NIL;
  /** xorshift32 state: a fixed seed makes node heights, and so memory use, reproducible. */
  private rng = 0x9e3779b9 | 0;
  /** Scratch for `insert`: the rightmost node before the new one at each level. */
  private readonly splice = new Int32Array(MAX_HEIGHT);

  constructor() {
    this.nodes = new Int32Array(256);
    this.nodes[META] = MAX_HEIGHT << 1;
    this.slotsUsed = NEXT + MAX_HEIGHT;
  }

  /**
   * Inserts one version. The caller guarantees `seq` is above every seq already in the list;
   * the key and value bytes are copied, so the caller may reuse its buffers.
   */
  insert(key: Uint8Array, seq: number, kind: EntryKind, value: Uint8Array): void {
    const height = this.randomHeight();
    const node = this.allocate(NEXT + height);
    const nodes = this.nodes;
    const prefix = keyPrefix(key);
    const hash = hashKey(key);
    const previous = this.index.find(this, key, hash);

    const splice = this.splice;
    if (previous !== NIL && height === 1) {
      // A newer version of a known key with a one-level node (3 inserts in 4): it goes right
      // before the key's newest version, so only the level-0 predecessor is needed.
      splice[0] = nodes[previous + PREV]!;
    } else {
      // Search from the top, remembering the last node before the new one at each level.
      let x = NIL;
      let rejected = -1;
      for (let level = this.height - 1; level >= 0; level--) {
        for (;;) {
          const nx = nodes[x + NEXT + level]!;
          // A node rejected one level up is rejected here too: skip the second comparison.
          if (nx === NIL || nx === rejected || !this.precedes(nodes, nx, key, prefix, seq)) {
            rejected = nx;
            break;
          }
          x = nx;
        }
        splice[level] = x;
      }
      for (let level = this.height; level < height; level++) splice[level] = NIL;
      if (height > this.height) this.height = height;
    }

    const keyLen = key.length;
    const valueLen = value.length;
    const arena = this.arena;
    const pos = arena.reserve(keyLen + valueLen);
    const chunk = arena.chunks[arena.lastChunk]!;
    copyInto(chunk, pos, key);
    copyInto(chunk, pos + keyLen, value);

    nodes[node + PREFIX] = prefix;
    nodes[node + CHUNK] = arena.lastChunk;
    nodes[node + POS] = pos;
    nodes[node + KEY_LEN] = keyLen;
    nodes[node + VALUE_LEN] = valueLen;
    nodes[node + SEQ_HI] = Math.floor(seq / TWO_32);
    nodes[node + SEQ_LO] = seq % TWO_32 | 0;
    nodes[node + META] = kind | (height << 1);
    for (let level = 0; level < height; level++) {
      const before = splice[level]!;
      nodes[node + NEXT + level] = nodes[before + NEXT + level]!;
      nodes[before + NEXT + level] = node;
    }
    const before = splice[0]!;
    const after = nodes[node + NEXT]!;
    nodes[node + PREV] = before;
    if (after === NIL) this.tail = node;
    else nodes[after + PREV] = node;
    this.index.set(hash, node, previous);
    this.count++;
  }

  /**
   * First node at or after (key, seq) in (key ASC, seq DESC) order: with `seq` = a snapshot,
   * that is the newest version of `key` visible at the snapshot if there is one, else the
   * first node past it. NIL if none.
   */
  seekGE(key: Uint8Array, seq: number): number {
    const nodes = this.nodes;
    const prefix = keyPrefix(key);
    let x = NIL;
    let rejected = -1;
    for (let level = this.height - 1; level >= 0; level--) {
      for (;;) {
        const nx = nodes[x + NEXT + level]!;
        if (nx === NIL || nx === rejected || !this.precedes(nodes, nx, key, prefix, seq)) {
          rejected = nx;
          break;
        }
        x = nx;
      }
    }
    return nodes[x + NEXT]!;
  }

  /**
   * The newest version of `key` with seq ≤ `snapshotSeq`, or NIL if there is none. Through
   * the hash index, then down the key's versions (newest first); an old snapshot under many
   * newer versions falls back to a skiplist search rather than walk them all.
   */
  findVisible(key: Uint8Array, snapshotSeq: number): number {
    let node = this.index.find(this, key, hashKey(key));
    for (let steps = 0; node !== NIL; steps++) {
      if (this.seqOf(node) <= snapshotSeq) return node;
      if (steps === 8) {
        node = this.seekGE(key, snapshotSeq);
        return node !== NIL && this.keyEquals(node, key) ? node : NIL;
      }
      const after = this.nodes[node + NEXT]!;
      node = after !== NIL && this.sameKey(after, node) ? after : NIL;
    }
    return NIL;
  }

  /** Last node whose key is ≤ `key` (that key's oldest version), or NIL if none. */
  seekLE(key: Uint8Array): number {
    const nodes = this.nodes;
    const prefix = keyPrefix(key);
    let x = NIL;
    let rejected = -1;
    for (let level = this.height - 1; level >= 0; level--) {
      for (;;) {
        const nx = nodes[x + NEXT + level]!;
        if (nx === NIL || nx === rejected || this.compareNodeKey(nodes, nx, key, prefix) > 0) {
          rejected = nx;
          break;
        }
        x = nx;
      }
    }
    return x;
  }

  first(): number {
    return this.nodes[NEXT]!;
  }

  last(): number {
    return this.tail;
  }

  next(node: number): number {
    return this.nodes[node + NEXT]!;
  }

  /** The node before `node`, or NIL when `node` is the first. */
  prev(node: number): number {
    return this.nodes[node + PREV]!;
  }

  seqOf(node: number): number {
    const nodes = this.nodes;
    return nodes[node + SEQ_HI]! * TWO_32 + (nodes[node + SEQ_LO]! >>> 0);
  }

  kindOf(node: number): EntryKind {
    return (this.nodes[node + META]! & 1) as EntryKind;
  }

  /** A view of the node's key in the arena; read-only by contract. */
  keyOf(node: number): Uint8Array {
    const nodes = this.nodes;
    const pos = nodes[node + POS]!;
    return this.arena.chunks[nodes[node + CHUNK]!]!.subarray(pos, pos + nodes[node + KEY_LEN]!);
  }

  /** A view of the node's value in the arena (empty for a Delete); read-only by contract. */
  valueOf(node: number): Uint8Array {
    const nodes = this.nodes;
    const length = nodes[node + VALUE_LEN]!;
    if (length === 0) return EMPTY;
    const pos = nodes[node + POS]! + nodes[node + KEY_LEN]!;
    return this.arena.chunks[nodes[node + CHUNK]!]!.subarray(pos, pos + length);
  }

  /** A fresh `PointEntry` for the node; always built with the same property order (one shape). */
  entryOf(node: number): PointEntry {
    return {
      key: this.keyOf(node),
      seq: this.seqOf(node),
      kind: this.kindOf(node),
      value: this.valueOf(node),
    };
  }

  /** True when the node's key is exactly `key`. */
  keyEquals(node: number, key: Uint8Array): boolean {
    const nodes = this.nodes;
    const length = nodes[node + KEY_LEN]!;
    if (length !== key.length) return false;
    const chunk = this.arena.chunks[nodes[node + CHUNK]!]!;
    const pos = nodes[node + POS]!;
    for (let i = 0; i < length; i++) if (chunk[pos + i] !== key[i]) return false;
    return true;
  }

  /** True when nodes `a` and `b` hold the same user key. */
  sameKey(a: number, b: number): boolean {
    const nodes = this.nodes;
    if (nodes[a + PREFIX] !== nodes[b + PREFIX]) return false;
    const length = nodes[a + KEY_LEN]!;
    if (nodes[b + KEY_LEN] !== length) return false;
    const chunks = this.arena.chunks;
    const ca = chunks[nodes[a + CHUNK]!]!;
    const cb = chunks[nodes[b + CHUNK]!]!;
    const pa = nodes[a + POS]!;
    const pb = nodes[b + POS]!;
    for (let i = 4; i < length; i++) if (ca[pa + i] !== cb[pb + i]) return false;
    return true;
  }

  /** The node's key compared with `key` (whose `keyPrefix` is `prefix`): <0, 0, >0. */
  compareNodeKey(nodes: Int32Array, node: number, key: Uint8Array, prefix: number): number {
    const p = nodes[node + PREFIX]!;
    if (p !== prefix) return p < prefix ? -1 : 1;
    const chunk = this.arena.chunks[nodes[node + CHUNK]!]!;
    const pos = nodes[node + POS]!;
    const length = nodes[node + KEY_LEN]!;
    const keyLength = key.length;
    const n = length < keyLength ? length : keyLength;
    // Equal prefixes mean the first min(4, n) bytes are equal.
    for (let i = n < 4 ? n : 4; i < n; i++) {
      const d = chunk[pos + i]! - key[i]!;
      if (d !== 0) return d;
    }
    return length - keyLength;
  }

  /** Whether the node sorts strictly before (key, seq) in (key ASC, seq DESC) order. */
  private precedes(nodes: Int32Array, node: number, key: Uint8Array, prefix: number, seq: number): boolean {
    const c = this.compareNodeKey(nodes, node, key, prefix);
    if (c !== 0) return c < 0;
    return nodes[node + SEQ_HI]! * TWO_32 + (nodes[node + SEQ_LO]! >>> 0) > seq;
  }

  /** Reserves `slots` int32 slots and returns the new node's address. */
  private allocate(slots: number): number {
    const at = this.slotsUsed;
    const needed = at + slots;
    if (needed > this.nodes.length) {
      // Double while small; grow by a quarter once large, so that the unused tail (which
      // is real memory) stays under ~20% of the node storage.
      const length = this.nodes.length;
      const grown = length < 1 << 20 ? length * 2 : length + (length >>> 2);
      const nodes = new Int32Array(Math.max(grown, needed));
      nodes.set(this.nodes.subarray(0, at));
      this.nodes = nodes;
    }
    this.slotsUsed = needed;
    return at;
  }

  /** Height with P(h ≥ k) = 4^-(k-1): LevelDB's branching factor, ~1.33 pointers per node. */
  private randomHeight(): number {
    let r = this.rng;
    r ^= r << 13;
    r ^= r >>> 17;
    r ^= r << 5;
    this.rng = r;
    let height = 1;
    while (height < MAX_HEIGHT && (r & 3) === 0) {
      height++;
      r >>>= 2;
    }
    return height;
  }
}

/** `target.set(source, at)` with a loop for short inputs, where the call overhead dominates. */
function copyInto(target: Uint8Array, at: number, source: Uint8Array): void {
  const n = source.length;
  if (n > 64) {
    target.set(source, at);
    return;
  }
  for (let i = 0; i < n; i++) target[at + i] = source[i]!;
}
