/**
 * The point-entry skiplist: every version of every key, ordered (key ASC, seq DESC).
 *
 * Layout. Everything is int32 slots in typed arrays — no object per entry — in two parts:
 *
 *  `nodes`: one fixed 10-slot record per entry; its address is the index of its first slot.
 *    PREFIX     first four key bytes, big-endian, sign bit flipped (see `keyPrefix`)
 *    CHUNK/POS  where the key (then the value) sits in the arena
 *    KEY_LEN, VALUE_LEN
 *    SEQ_HI/LO  the sequence number split into two 32-bit halves (seqs go up to 2^53)
 *    META       kind | height << 1
 *    PREV       level-0 backward pointer (O(1) `prev`, used by reverse scans)
 *    NEXT       level-0 forward pointer
 *
 *  `towers`: for the quarter of entries taller than one level, a record of the levels above 0:
 *    T_PREFIX   a copy of the node's PREFIX
 *    T_NODE     the node's address in `nodes`
 *    T_NEXT + i forward pointer (a tower address) at level i, for 1 ≤ i < height
 *
 * Why split: a search walks the upper levels first, and at a million entries `nodes` is ~40 MB
 * while `towers` is ~3 MB. Measured on this class of VM, a dependent load costs ~50 ns within
 * a few MB and 200–550 ns beyond, so keeping every upper-level step (with the prefix that
 * usually decides it) in the small array leaves only the last few steps, at level 0, in the
 * large one. (Measured and rejected: one dense array per level — each descent becomes another
 * dependent load, ~15% slower; a copy of the next node's prefix at level 0, and p = 1/2 for
 * level 1 — both slower and larger.)
 *
 * Address 0 is the head in both arrays (the head tower has MAX_HEIGHT levels and T_NODE = the
 * head node). It doubles as NIL: no forward pointer ever targets a head, and the first node's
 * PREV is the head, so "0" reads as "nothing there" in both directions.
 *
 * Key and value bytes live contiguously in a `ByteArena` (key first, value right after).
 *
 * Invariants relied on:
 *  - Nodes and towers are never removed or moved within their address spaces; addresses stay
 *    valid for the life of the list. The arrays themselves ARE replaced when they grow, so
 *    readers re-read `list.nodes` after any insert and never cache it across calls.
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
const NODE_SLOTS = 10;

const T_PREFIX = 0;
const T_NODE = 1;
/** Level i's pointer is at T_NEXT + i (i ≥ 1), so a tower of height h has 1 + h slots. */
const T_NEXT = 1;

/** The head's address (in both arrays), and the "no node" value of every pointer. */
export const NIL = 0;

const TWO_32 = 4294967296;
/**
 * Key bytes compared in a JS loop before handing over to the native `Buffer#compare`: the
 * loop wins while keys differ early (most do), the native call once 16+ bytes are shared.
 */
const LOOP_BYTES = 16;
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
  /** Entry records; replaced (grown) by `insert` — re-read after every insert. */
  nodes: Int32Array;
  /** Upper levels of the taller entries; replaced (grown) by `insert`. */
  private towers: Int32Array;
  readonly arena = new ByteArena();
  /** Key → node of its newest version: point reads and rewrites of a key skip the search. */
  readonly index = new KeyIndex();
  /** Number of entries (versions). */
  count = 0;
  private nodesUsed = NODE_SLOTS;
  private towersUsed = T_NEXT + MAX_HEIGHT;
  /** Highest level in use by any node, 1..MAX_HEIGHT. */
  private height = 1;
  /** The last node in order, or NIL when empty. Kept so `seekToLast` is O(1). */
  private tail = NIL;
  /** xorshift32 state: a fixed seed makes node heights, and so memory use, reproducible. */
  private rng = 0x9e3779b9 | 0;
  /** Scratch for `insert`: the last tower (levels ≥ 1) or node (level 0) before the new entry. */
  private readonly splice = new Int32Array(MAX_HEIGHT);

  constructor() {
    this.nodes = new Int32Array(NODE_SLOTS * 16);
    this.towers = new Int32Array(64);
  }

  /** Int32 slots in use in both arrays, heads included. */
  get slotsUsed(): number {
    return this.nodesUsed + this.towersUsed;
  }

  /**
   * Inserts one version. The caller guarantees `seq` is above every seq already in the list;
   * the key and value bytes are copied, so the caller may reuse its buffers.
   */
  insert(key: Uint8Array, seq: number, kind: EntryKind, value: Uint8Array): void {
    const height = this.randomHeight();
    const prefix = keyPrefix(key);
    const hash = hashKey(key);
    const previous = this.index.find(this, key, hash);

    const node = this.nodesUsed;
    if (node + NODE_SLOTS > this.nodes.length) this.nodes = grown(this.nodes, node + NODE_SLOTS);
    this.nodesUsed = node + NODE_SLOTS;
    let tower = NIL;
    if (height > 1) {
      tower = this.towersUsed;
      if (tower + T_NEXT + height > this.towers.length) this.towers = grown(this.towers, tower + T_NEXT + height);
      this.towersUsed = tower + T_NEXT + height;
    }
    const nodes = this.nodes;
    const towers = this.towers;

    const splice = this.splice;
    if (previous !== NIL && height === 1) {
      // A newer version of a known key with a one-level node (3 inserts in 4): it goes right
      // before the key's newest version, so only the level-0 predecessor is needed.
      splice[0] = nodes[previous + PREV]!;
    } else {
      this.search(key, prefix, seq, splice);
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
    const before = splice[0]!;
    const after = nodes[before + NEXT]!;
    nodes[node + NEXT] = after;
    nodes[before + NEXT] = node;
    nodes[node + PREV] = before;
    if (after === NIL) this.tail = node;
    else nodes[after + PREV] = node;
    if (tower !== NIL) {
      towers[tower + T_PREFIX] = prefix;
      towers[tower + T_NODE] = node;
      for (let level = 1; level < height; level++) {
        const t = splice[level]!;
        towers[tower + T_NEXT + level] = towers[t + T_NEXT + level]!;
        towers[t + T_NEXT + level] = tower;
      }
    }
    this.index.set(hash, node, previous);
    this.count++;
  }

  /**
   * First node at or after (key, seq) in (key ASC, seq DESC) order: with `seq` = a snapshot,
   * that is the newest version of `key` visible at the snapshot if there is one, else the
   * first node past it. NIL if none.
   */
  seekGE(key: Uint8Array, seq: number): number {
    const splice = this.splice;
    this.search(key, keyPrefix(key), seq, splice);
    return this.nodes[splice[0]! + NEXT]!;
  }

  /** Last node whose key is ≤ `key` (that key's oldest version), or NIL if none. */
  seekLE(key: Uint8Array): number {
    const splice = this.splice;
    // (key, -1) sorts after every version of `key` (seqs are ≥ 0), so its predecessor is the answer.
    this.search(key, keyPrefix(key), -1, splice);
    return splice[0]!;
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

  /**
   * A view of the node's key in the arena; read-only by contract. A plain `Uint8Array` made
   * with the constructor: about twice as fast as `subarray`, which goes through @@species.
   */
  keyOf(node: number): Uint8Array {
    const nodes = this.nodes;
    return new Uint8Array(this.arena.chunks[nodes[node + CHUNK]!]!.buffer, nodes[node + POS], nodes[node + KEY_LEN]);
  }

  /** A view of the node's value in the arena (empty for a Delete); read-only by contract. */
  valueOf(node: number): Uint8Array {
    const nodes = this.nodes;
    const length = nodes[node + VALUE_LEN]!;
    if (length === 0) return EMPTY;
    return new Uint8Array(this.arena.chunks[nodes[node + CHUNK]!]!.buffer, nodes[node + POS]! + nodes[node + KEY_LEN]!, length);
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
    if (length > LOOP_BYTES) return chunk.compare(key, 0, length, pos, pos + length) === 0;
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
    if (length > LOOP_BYTES) return ca.compare(cb, pb, pb + length, pa, pa + length) === 0;
    // Equal prefixes: the first four bytes (or all of a shorter key) are already known equal.
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
    const m = n < LOOP_BYTES ? n : LOOP_BYTES;
    for (let i = n < 4 ? n : 4; i < m; i++) {
      const d = chunk[pos + i]! - key[i]!;
      if (d !== 0) return d;
    }
    if (n > LOOP_BYTES) return chunk.compare(key, 0, keyLength, pos, pos + length);
    return length - keyLength;
  }

  /**
   * Fills `splice[level]` with the last entry before (key, seq) at each level in use: a tower
   * address for levels ≥ 1, a node address for level 0 (NIL = the head).
   */
  private search(key: Uint8Array, prefix: number, seq: number, splice: Int32Array): void {
    const nodes = this.nodes;
    const towers = this.towers;
    let t = NIL;
    // A node rejected one level up is rejected again below: remember it, skip the comparison.
    let rejected = -1;
    for (let level = this.height - 1; level >= 1; level--) {
      for (;;) {
        const nt = towers[t + T_NEXT + level]!;
        if (nt === NIL) break;
        const p = towers[nt + T_PREFIX]!;
        const node = towers[nt + T_NODE]!;
        // The prefix copy decides almost every step without touching the large node array.
        if (p > prefix || node === rejected || (p === prefix && !this.precedes(nodes, node, key, prefix, seq))) {
          rejected = node;
          break;
        }
        t = nt;
      }
      splice[level] = t;
    }
    let x = towers[t + T_NODE]!;
    for (;;) {
      const nx = nodes[x + NEXT]!;
      if (nx === NIL || nx === rejected || !this.precedes(nodes, nx, key, prefix, seq)) break;
      x = nx;
    }
    splice[0] = x;
  }

  /** Whether the node sorts strictly before (key, seq) in (key ASC, seq DESC) order. */
  private precedes(nodes: Int32Array, node: number, key: Uint8Array, prefix: number, seq: number): boolean {
    const c = this.compareNodeKey(nodes, node, key, prefix);
    if (c !== 0) return c < 0;
    return nodes[node + SEQ_HI]! * TWO_32 + (nodes[node + SEQ_LO]! >>> 0) > seq;
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

/**
 * A copy of `array` with room for at least `needed` slots. Doubles while small; grows by a
 * quarter once large, so the unused tail (which is real memory) stays under ~20%.
 */
function grown(array: Int32Array, needed: number): Int32Array {
  const length = array.length;
  const bigger = new Int32Array(Math.max(needed, length < 1 << 20 ? length * 2 : length + (length >>> 2)));
  bigger.set(array);
  return bigger;
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
