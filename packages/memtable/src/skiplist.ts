/**
 * The point-entry skiplist: every version of every key, ordered (key ASC, seq DESC).
 *
 * Layout. Everything is int32 slots in typed arrays — no object per entry — in three parts.
 * An entry (a "node") is numbered 1, 2, … in arrival order; its record is split in two:
 *
 *  `hot`: 3 slots per entry at node × 3, what a search reads at each level-0 step:
 *    PREFIX     key bytes [shared, shared + 4) as an order-preserving int32 (see `keyWord`)
 *    PREFIX2    key bytes [shared + 4, shared + 8), likewise
 *    NEXT       level-0 forward pointer
 *
 *  `nodes`: 7 slots per entry at node × 7, the rest:
 *    CHUNK/POS  where the key (then the value) sits in the arena
 *    KEY_LEN, VALUE_LEN
 *    SEQ_HI     the high 21 bits of the seq (seqs go up to 2^53), with the kind at bit 21
 *    SEQ_LO     the low 32 bits of the seq
 *    PREV       level-0 backward pointer (O(1) `prev`, used by reverse scans)
 *
 *  `towers`: for the quarter of entries taller than one level, a record of the levels above 0:
 *    T_PREFIX   a copy of the node's PREFIX
 *    T_PREFIX2  a copy of the node's PREFIX2
 *    T_NODE     the node's number
 *    T_NEXT + i forward pointer (a tower address) at level i, for 1 ≤ i < height
 *
 * The cached prefix starts after `shared`: a number of leading bytes every key in the list has
 * in common (at most MAX_SHARED, lowered — and every cached prefix recomputed — when a key
 * without them arrives). Keys often share a long head (a table or tenant prefix; db_bench's
 * zero-padded decimals share 10 of 16 bytes), and a prefix of those bytes would decide nothing.
 * With the shared head skipped, the 8 cached bytes decide almost every comparison of a search
 * without touching the arena or the rest of the entry's record.
 *
 * Why split: a search walks the upper levels first, and at a million entries `nodes` is ~28 MB,
 * `hot` 12 MB and `towers` ~4 MB. Measured on this class of VM, a dependent load costs ~10–60 ns
 * up to ~12 MB and 170–250 ns at 16–64 MB (TLB reach), so keeping every upper-level step (with
 * the prefix that usually decides it) in the small tower array, and the level-0 steps in the
 * 12-byte hot records, leaves the large array to the final link (PREV) and to reads of the
 * entry itself. (Splitting hot from cold: +10% random inserts at 1M decimal keys, +15% at the
 * engine's ~22k-entry memtables; full iteration at 1M is ~20% slower, two records per entry.)
 * (Measured and rejected: one dense array per level — each descent becomes another
 * dependent load, ~15% slower; a copy of the next node's prefix at level 0, and p = 1/2 for
 * level 1 — both slower and larger.)
 *
 * Node 0 and tower address 0 are the heads (the head tower has MAX_HEIGHT levels and T_NODE =
 * the head node). It doubles as NIL: no forward pointer ever targets a head, and the first node's
 * PREV is the head, so "0" reads as "nothing there" in both directions.
 *
 * Key and value bytes live contiguously in a `ByteArena` (key first, value right after).
 *
 * Every array (and the arena's chunks, and the key index) is backed by a SharedArrayBuffer
 * (unless the list is made with `shared: false`, see shared-memory.ts): `image()` of a list that takes no more inserts hands all of it to another thread without a
 * copy, and `new PointSkiplist(image)` there is a read-only view of the same memory.
 *
 * Invariants relied on:
 *  - Nodes and towers are never removed or moved within their address spaces; addresses stay
 *    valid for the life of the list. The arrays themselves ARE replaced when they grow, so
 *    no reader caches them across an insert.
 *  - The list is single-writer and JavaScript is single-threaded, so an insert is complete
 *    before any reader runs; no memory-ordering care is needed (unlike LevelDB's C++ list).
 *  - Every insert carries a seq above every seq already in the list (the memtable enforces
 *    strictly increasing seqs). So (key, seq) pairs are unique, the order is total, and a new
 *    version of a key always lands immediately before that key's previous newest version —
 *    which `index` (a hash from key to that node) finds without a search.
 */
import { StrataAssertionError } from '@strata-db/errors';
import { ByteArena } from './arena.js';
import { KeyIndex, hashKey, type KeyIndexImage } from './key-index.js';
import { int32Array } from './shared-memory.js';
import type { ReleasedBuffers } from './memtable-memory.js';
import { EntryKind, type PointEntry } from './types.js';

/** Enough for 4^16 ≈ 4·10^9 entries at p = 1/4 before searches start to degrade. */
export const MAX_HEIGHT = 16;

// `hot`: what a search reads at every level-0 step.
const PREFIX = 0;
const PREFIX2 = 1;
const NEXT = 2;
const HOT_SLOTS = 3;
// `nodes`: the rest of the record.
const CHUNK = 0;
const POS = 1;
const KEY_LEN = 2;
const VALUE_LEN = 3;
const SEQ_HI = 4;
const SEQ_LO = 5;
const PREV = 6;
const NODE_SLOTS = 7;
/** SEQ_HI holds seq / 2^32 (< 2^21 for a safe integer) in its low bits and the kind above. */
const SEQ_HI_MASK = 0x1fffff;
const KIND_SHIFT = 21;

const T_PREFIX = 0;
const T_PREFIX2 = 1;
const T_NODE = 2;
/** Level i's pointer is at T_NEXT + i (i ≥ 1), so a tower of height h has 2 + h slots. */
const T_NEXT = 2;

/** At most this many leading bytes are skipped as shared (bounds the per-insert check). */
export const MAX_SHARED = 32;

/** The head (node 0, tower address 0), and the "no node" value of every pointer. */
export const NIL = 0;

const TWO_32 = 4294967296;
/**
 * Key bytes compared in a JS loop before handing over to the native `Buffer#compare`: the
 * loop wins while keys differ early (most do), the native call once 16+ bytes are shared.
 */
const LOOP_BYTES = 16;
const EMPTY = new Uint8Array(0);
/** The arrays of a surrendered list. */
const EMPTY_I32 = new Int32Array(HOT_SLOTS + NODE_SLOTS + T_NEXT + MAX_HEIGHT);

/**
 * Bytes [at, at + 4) of the key `bytes[start, start + length)` as one int32 whose SIGNED order
 * is the bytewise order of those bytes (big-endian, sign bit flipped); bytes past the key's end
 * read as zero. For two keys equal before `at`, if word(a) < word(b) then a < b: the first
 * differing padded byte is either a real byte of both keys, or a padding zero of `a` facing a
 * byte of `b` — and then `a` is a proper prefix of `b`. Equal words mean bytes
 * [at, min(at + 4, shorter length)) are equal, nothing more.
 */
export function keyWord(bytes: Uint8Array, start: number, length: number, at: number): number {
  const p = start + at;
  if (at + 4 <= length) return ((bytes[p]! << 24) | (bytes[p + 1]! << 16) | (bytes[p + 2]! << 8) | bytes[p + 3]!) ^ 0x80000000;
  const b0 = at < length ? bytes[p]! : 0;
  const b1 = at + 1 < length ? bytes[p + 1]! : 0;
  const b2 = at + 2 < length ? bytes[p + 2]! : 0;
  return ((b0 << 24) | (b1 << 16) | (b2 << 8)) ^ 0x80000000;
}

/** The first four bytes of a key as an order-preserving int32 (`keyWord` at 0). */
export function keyPrefix(key: Uint8Array): number {
  return keyWord(key, 0, key.length, 0);
}

/**
 * Everything a reader in another thread needs to read a list that takes no more inserts:
 * structured-cloneable, and the typed arrays are over SharedArrayBuffers, so `postMessage`
 * shares them rather than copying. Valid only while the source list takes no inserts (a
 * growing list replaces its arrays).
 */
export interface SkiplistImage {
  readonly hot: Int32Array;
  readonly nodes: Int32Array;
  readonly towers: Int32Array;
  readonly chunks: readonly Uint8Array[];
  readonly bytesUsed: number;
  readonly index: KeyIndexImage;
  readonly count: number;
  readonly towersUsed: number;
  readonly height: number;
  readonly tail: number;
  readonly lastTowers: Int32Array;
  readonly shared: number;
  readonly sharedBytes: Uint8Array;
}

/** How large a list grew: what sizes the next one (`new PointSkiplist(undefined, { like })`). */
export interface SkiplistSize {
  readonly entries: number;
  readonly towerSlots: number;
  readonly arenaBytes: number;
  readonly keys: number;
}

export class PointSkiplist {
  /** The search fields of each entry (cached prefix, level-0 next); replaced (grown) by `insert`. */
  private hot: Int32Array;
  /** The rest of each entry's record; replaced (grown) by `insert`. */
  private nodes: Int32Array;
  /** Upper levels of the taller entries; replaced (grown) by `insert`. */
  private towers: Int32Array;
  readonly arena: ByteArena;
  /** Key → node of its newest version: point reads and rewrites of a key skip the search. */
  readonly index: KeyIndex;
  /** Number of entries (versions). */
  count = 0;
  private towersUsed = T_NEXT + MAX_HEIGHT;
  /** Highest level in use by any node, 1..MAX_HEIGHT. */
  private height = 1;
  /** The last node in order, or NIL when empty. Kept so `seekToLast` is O(1). */
  private tail = NIL;
  /** The last tower at each level ≥ 1 (NIL: the head): where an entry after all others links in. */
  private readonly lastTowers = new Int32Array(MAX_HEIGHT);
  /**
   * Leading bytes that every key in the list has in common, at most MAX_SHARED: the cached
   * prefixes (PREFIX, PREFIX2) are the 8 bytes after them. Only ever lowered.
   */
  private shared = 0;
  /** The first key's first `shared` bytes (what every key starts with). */
  private sharedBytes: Uint8Array = EMPTY;
  /** xorshift32 state: a fixed seed makes node heights, and so memory use, reproducible. */
  private rng = 0x9e3779b9 | 0;
  /** Scratch for `insert`: the last tower (levels ≥ 1) or node (level 0) before the new entry. */
  private readonly splice = new Int32Array(MAX_HEIGHT);

  /**
   * Set by `surrender`: the memory now belongs to another list. Every read path checks it
   * (seeks, steps, lookups), so a reader that outlived its pin fails loudly instead of reading
   * another memtable's entries.
   */
  surrendered = false;
  /** Where `gatherRun` leaves what it loaded (never read: it only keeps the loads alive). */
  private touched = 0;
  /**
   * Whether every buffer is a SharedArrayBuffer (shared-memory.ts): only then can `image()` hand
   * the list to another thread.
   */
  private readonly sharedMemory: boolean;

  /**
   * A read-only view of another list's `image()` (e.g. from another thread), or an empty list:
   * on the buffers of a released list (`start.reuse`: the arrays are zeroed, the arena chunks
   * filled again), or with arrays sized for about `start.like`'s entries and bytes, so that a
   * list as large as the last one grows by no copies.
   */
  constructor(image?: SkiplistImage, start?: { readonly reuse?: ReleasedBuffers; readonly like?: SkiplistSize; readonly shared?: boolean }) {
    const shared = (this.sharedMemory = image !== undefined || (start?.shared ?? true));
    if (image === undefined) {
      const reuse = start?.reuse;
      const like = start?.like;
      if (reuse !== undefined) {
        this.hot = reuse.hot.fill(0);
        this.nodes = reuse.nodes.fill(0);
        this.towers = reuse.towers.fill(0);
        this.arena = new ByteArena([], 0, reuse.chunks, undefined, shared);
        this.index = new KeyIndex(undefined, { slots: reuse.indexSlots, shared });
      } else if (like !== undefined && like.entries > 0) {
        // A little more than the last list: entry counts vary a few percent between memtables.
        const entries = Math.ceil(like.entries * 1.1) + 16;
        this.hot = int32Array(HOT_SLOTS * entries, shared);
        this.nodes = int32Array(NODE_SLOTS * entries, shared);
        this.towers = int32Array(Math.ceil(like.towerSlots * 1.1) + 64, shared);
        let first = 4096;
        while (first < like.arenaBytes / 4) first *= 2;
        this.arena = new ByteArena([], 0, [], first, shared);
        this.index = new KeyIndex(undefined, { expectedKeys: Math.ceil(like.keys * 1.1), shared });
      } else {
        this.hot = int32Array(HOT_SLOTS * 16, shared);
        this.nodes = int32Array(NODE_SLOTS * 16, shared);
        this.towers = int32Array(64, shared);
        this.arena = new ByteArena([], 0, [], undefined, shared);
        this.index = new KeyIndex(undefined, { shared });
      }
      return;
    }
    this.hot = image.hot;
    this.nodes = image.nodes;
    this.towers = image.towers;
    this.arena = new ByteArena(image.chunks, image.bytesUsed);
    this.index = new KeyIndex(image.index);
    this.count = image.count;
    this.towersUsed = image.towersUsed;
    this.height = image.height;
    this.tail = image.tail;
    this.lastTowers.set(image.lastTowers);
    this.shared = image.shared;
    this.sharedBytes = image.sharedBytes;
  }

  /**
   * The list's memory and bookkeeping, for a reader in another thread; see `SkiplistImage`.
   * The caller guarantees no insert follows (the memtable is frozen).
   */
  image(): SkiplistImage {
    if (this.surrendered) throw readAfterRelease();
    if (!this.sharedMemory) throw new StrataAssertionError('image() of a memtable in plain memory: only a memtable made with shared memory can cross threads');
    return {
      hot: this.hot,
      nodes: this.nodes,
      towers: this.towers,
      chunks: this.arena.chunks,
      bytesUsed: this.arena.bytesUsed,
      index: this.index.image(),
      count: this.count,
      towersUsed: this.towersUsed,
      height: this.height,
      tail: this.tail,
      lastTowers: this.lastTowers.slice(),
      shared: this.shared,
      sharedBytes: this.sharedBytes,
    };
  }

  /** What a list sized like this one needs (see the constructor). */
  size(): SkiplistSize {
    return { entries: this.count, towerSlots: this.towersUsed, arenaBytes: this.arena.bytesUsed, keys: this.index.size };
  }

  /**
   * Hands every buffer over for another list (memtable-memory.ts). Afterwards this list reads
   * nothing: its arrays are empty and every read path throws. The caller guarantees that no
   * reader of this list remains, in this thread or another (memtable-reader.ts, `release`).
   */
  surrender(): ReleasedBuffers {
    const buffers: ReleasedBuffers = { hot: this.hot, nodes: this.nodes, towers: this.towers, indexSlots: this.index.surrender(), chunks: this.arena.surrender() };
    this.surrendered = true;
    this.hot = EMPTY_I32;
    this.nodes = EMPTY_I32;
    this.towers = EMPTY_I32;
    this.count = 0;
    this.tail = NIL;
    this.height = 1;
    return buffers;
  }

  /** Int32 slots in use in both arrays, heads included. */
  get slotsUsed(): number {
    return (this.count + 1) * (HOT_SLOTS + NODE_SLOTS) + this.towersUsed;
  }

  /**
   * Inserts one version. The caller guarantees `seq` is above every seq already in the list;
   * the key and value bytes are copied, so the caller may reuse its buffers.
   */
  insert(key: Uint8Array, seq: number, kind: EntryKind, value: Uint8Array): void {
    // The list's first key runs once per list, in a fresh process before V8 collects feedback
    // for this function: inline here, it had none in the optimized `insert`, which deopted at
    // the next memtable's first insert and was compiled again — the largest job on a cold
    // process's durable-put path (engine README). Out of line, only this small function deopts;
    // `link` is too large to be inlined into it and stays compiled.
    if (this.count === 0) this.startShared(key);
    else if (this.sharedOrder(key) !== 0) this.lowerShared(key);
    this.link(key, seq, kind, value);
  }

  /** The shared bytes of a list whose first key is `key`. */
  private startShared(key: Uint8Array): void {
    this.shared = Math.min(key.length, MAX_SHARED);
    this.sharedBytes = new Uint8Array(key.subarray(0, this.shared)); // a copy: `Buffer#slice` is a view
  }

  /** `insert`, for a key that has the shared bytes. */
  private link(key: Uint8Array, seq: number, kind: EntryKind, value: Uint8Array): void {
    const height = this.randomHeight();
    const keyLen = key.length;
    const p1 = keyWord(key, 0, keyLen, this.shared);
    const p2 = keyWord(key, 0, keyLen, this.shared + 4);
    const hash = hashKey(key);
    // After the last key (sequential inserts): a key past every key in the list has no version
    // in it, so the index's probe for it — a miss, the whole probe run walked — is skipped, and
    // so is the search (the last node and towers are the splice).
    const tail = this.tail;
    const appending = tail !== NIL && this.compareNodeKey(this.hot, this.nodes, tail, key, p1, p2) < 0;
    const previous = appending ? NIL : this.index.find(this, key, hash);

    const node = this.count + 1;
    if ((node + 1) * NODE_SLOTS > this.nodes.length) this.growEntries();
    let tower = NIL;
    if (height > 1) {
      tower = this.towersUsed;
      if (tower + T_NEXT + height > this.towers.length) this.towers = grown(this.towers, tower + T_NEXT + height, this.sharedMemory);
      this.towersUsed = tower + T_NEXT + height;
    }
    const hot = this.hot;
    const nodes = this.nodes;
    const towers = this.towers;

    const splice = this.splice;
    if (previous !== NIL && height === 1) {
      // A newer version of a known key with a one-level node (3 inserts in 4): it goes right
      // before the key's newest version, so only the level-0 predecessor is needed.
      splice[0] = nodes[previous * NODE_SLOTS + PREV]!;
    } else {
      if (appending) {
        splice[0] = tail;
        const lastTowers = this.lastTowers;
        for (let level = 1; level < this.height; level++) splice[level] = lastTowers[level]!;
      } else {
        this.search(key, p1, p2, seq, splice);
      }
      for (let level = this.height; level < height; level++) splice[level] = NIL;
      if (height > this.height) this.height = height;
    }

    const valueLen = value.length;
    const arena = this.arena;
    const pos = arena.reserve(keyLen + valueLen);
    const chunk = arena.chunks[arena.lastChunk]!;
    copyInto(chunk, pos, key);
    copyInto(chunk, pos + keyLen, value);

    hot[node * HOT_SLOTS + PREFIX] = p1;
    hot[node * HOT_SLOTS + PREFIX2] = p2;
    nodes[node * NODE_SLOTS + CHUNK] = arena.lastChunk;
    nodes[node * NODE_SLOTS + POS] = pos;
    nodes[node * NODE_SLOTS + KEY_LEN] = keyLen;
    nodes[node * NODE_SLOTS + VALUE_LEN] = valueLen;
    nodes[node * NODE_SLOTS + SEQ_HI] = Math.floor(seq / TWO_32) | (kind << KIND_SHIFT);
    nodes[node * NODE_SLOTS + SEQ_LO] = seq % TWO_32 | 0;
    const before = splice[0]!;
    const after = hot[before * HOT_SLOTS + NEXT]!;
    hot[node * HOT_SLOTS + NEXT] = after;
    hot[before * HOT_SLOTS + NEXT] = node;
    nodes[node * NODE_SLOTS + PREV] = before;
    if (after === NIL) this.tail = node;
    else nodes[after * NODE_SLOTS + PREV] = node;
    if (tower !== NIL) {
      towers[tower + T_PREFIX] = p1;
      towers[tower + T_PREFIX2] = p2;
      towers[tower + T_NODE] = node;
      for (let level = 1; level < height; level++) {
        const t = splice[level]!;
        const next = towers[t + T_NEXT + level]!;
        towers[tower + T_NEXT + level] = next;
        towers[t + T_NEXT + level] = tower;
        if (next === NIL) this.lastTowers[level] = tower;
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
    if (this.surrendered) throw readAfterRelease();
    const order = this.sharedOrder(key);
    if (order !== 0) return order < 0 ? this.hot[NEXT]! : NIL;
    const splice = this.splice;
    this.search(key, keyWord(key, 0, key.length, this.shared), keyWord(key, 0, key.length, this.shared + 4), seq, splice);
    return this.hot[splice[0]! * HOT_SLOTS + NEXT]!;
  }

  /** Last node whose key is ≤ `key` (that key's oldest version), or NIL if none. */
  seekLE(key: Uint8Array): number {
    if (this.surrendered) throw readAfterRelease();
    const order = this.sharedOrder(key);
    if (order !== 0) return order < 0 ? NIL : this.tail;
    const splice = this.splice;
    // (key, -1) sorts after every version of `key` (seqs are ≥ 0), so its predecessor is the answer.
    this.search(key, keyWord(key, 0, key.length, this.shared), keyWord(key, 0, key.length, this.shared + 4), -1, splice);
    return splice[0]!;
  }

  /**
   * The newest version of `key` with seq ≤ `snapshotSeq`, or NIL if there is none. Through
   * the hash index, then down the key's versions (newest first); an old snapshot under many
   * newer versions falls back to a skiplist search rather than walk them all.
   */
  findVisible(key: Uint8Array, snapshotSeq: number): number {
    if (this.surrendered) throw readAfterRelease();
    let node = this.index.find(this, key, hashKey(key));
    for (let steps = 0; node !== NIL; steps++) {
      if (this.seqOf(node) <= snapshotSeq) return node;
      if (steps === 8) {
        node = this.seekGE(key, snapshotSeq);
        return node !== NIL && this.keyEquals(node, key) ? node : NIL;
      }
      const after = this.hot[node * HOT_SLOTS + NEXT]!;
      node = after !== NIL && this.sameKey(after, node) ? after : NIL;
    }
    return NIL;
  }

  first(): number {
    if (this.surrendered) throw readAfterRelease();
    return this.hot[NEXT]!;
  }

  last(): number {
    if (this.surrendered) throw readAfterRelease();
    return this.tail;
  }

  next(node: number): number {
    if (this.surrendered) throw readAfterRelease();
    return this.hot[node * HOT_SLOTS + NEXT]!;
  }

  /** The node before `node`, or NIL when `node` is the first. */
  prev(node: number): number {
    if (this.surrendered) throw readAfterRelease();
    return this.nodes[node * NODE_SLOTS + PREV]!;
  }

  seqOf(node: number): number {
    const nodes = this.nodes;
    return (nodes[node * NODE_SLOTS + SEQ_HI]! & SEQ_HI_MASK) * TWO_32 + (nodes[node * NODE_SLOTS + SEQ_LO]! >>> 0);
  }

  kindOf(node: number): EntryKind {
    return ((this.nodes[node * NODE_SLOTS + SEQ_HI]! >>> KIND_SHIFT) & 1) as EntryKind;
  }

  /**
   * A view of the node's key in the arena; read-only by contract. A plain `Uint8Array` made
   * with the constructor: about twice as fast as `subarray`, which goes through @@species.
   */
  keyOf(node: number): Uint8Array {
    const nodes = this.nodes;
    return new Uint8Array(this.arena.chunks[nodes[node * NODE_SLOTS + CHUNK]!]!.buffer, nodes[node * NODE_SLOTS + POS], nodes[node * NODE_SLOTS + KEY_LEN]);
  }

  /** A view of the node's value in the arena (empty for a Delete); read-only by contract. */
  valueOf(node: number): Uint8Array {
    const nodes = this.nodes;
    const length = nodes[node * NODE_SLOTS + VALUE_LEN]!;
    if (length === 0) return EMPTY;
    return new Uint8Array(this.arena.chunks[nodes[node * NODE_SLOTS + CHUNK]!]!.buffer, nodes[node * NODE_SLOTS + POS]! + nodes[node * NODE_SLOTS + KEY_LEN]!, length);
  }

  /**
   * Fills `out` with the nodes from `node` (inclusive) in list order, up to `out.length` of them
   * or the end of the list, and returns how many. Then it loads a word of each one's record and
   * each cache line of its key and value, one node after another: the loads do not depend on
   * each other, so their cache misses overlap — a memtable filled in random key order keeps
   * neighbouring entries far apart, and walking it in order, where each entry's misses come one
   * at a time between a consumer's work on the previous entry, cost a flush ~1 µs per entry.
   */
  gatherRun(node: number, out: Int32Array): number {
    if (this.surrendered) throw readAfterRelease();
    const hot = this.hot;
    const nodes = this.nodes;
    const chunks = this.arena.chunks;
    let n = 0;
    while (n < out.length && node !== NIL) {
      out[n++] = node;
      node = hot[node * HOT_SLOTS + NEXT]!;
    }
    let sink = 0;
    for (let i = 0; i < n; i++) sink ^= nodes[out[i]! * NODE_SLOTS + POS]!;
    for (let i = 0; i < n; i++) {
      const r = out[i]! * NODE_SLOTS;
      const chunk = chunks[nodes[r + CHUNK]!]!;
      const pos = nodes[r + POS]!;
      const end = pos + nodes[r + KEY_LEN]! + nodes[r + VALUE_LEN]!;
      for (let p = pos; p < end; p += 64) sink ^= chunk[p]!;
      if (end > pos) sink ^= chunk[end - 1]!;
    }
    this.touched = sink; // kept, so that the compiler cannot drop the loads
    return n;
  }

  /** A fresh `PointEntry` for the node; always built with the same property order (one shape). */
  entryOf(node: number): PointEntry {
    if (this.surrendered) throw readAfterRelease();
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
    const length = nodes[node * NODE_SLOTS + KEY_LEN]!;
    if (length !== key.length) return false;
    const chunk = this.arena.chunks[nodes[node * NODE_SLOTS + CHUNK]!]!;
    const pos = nodes[node * NODE_SLOTS + POS]!;
    if (length > LOOP_BYTES) return chunk.compare(key, 0, length, pos, pos + length) === 0;
    for (let i = 0; i < length; i++) if (chunk[pos + i] !== key[i]) return false;
    return true;
  }

  /** True when nodes `a` and `b` hold the same user key. */
  sameKey(a: number, b: number): boolean {
    const hot = this.hot;
    const nodes = this.nodes;
    if (hot[a * HOT_SLOTS + PREFIX] !== hot[b * HOT_SLOTS + PREFIX] || hot[a * HOT_SLOTS + PREFIX2] !== hot[b * HOT_SLOTS + PREFIX2]) return false;
    const length = nodes[a * NODE_SLOTS + KEY_LEN]!;
    if (nodes[b * NODE_SLOTS + KEY_LEN] !== length) return false;
    // Equal words: the shared bytes and the next 8 (or all of a shorter key) are known equal.
    const from = this.shared + 8;
    if (from >= length) return true;
    const chunks = this.arena.chunks;
    const ca = chunks[nodes[a * NODE_SLOTS + CHUNK]!]!;
    const cb = chunks[nodes[b * NODE_SLOTS + CHUNK]!]!;
    const pa = nodes[a * NODE_SLOTS + POS]!;
    const pb = nodes[b * NODE_SLOTS + POS]!;
    if (length - from > LOOP_BYTES) return ca.compare(cb, pb + from, pb + length, pa + from, pa + length) === 0;
    for (let i = from; i < length; i++) if (ca[pa + i] !== cb[pb + i]) return false;
    return true;
  }

  /**
   * The node's key compared with `key` (<0, 0, >0), for a `key` that has the shared bytes and
   * whose words after them are `p1`, `p2`.
   */
  compareNodeKey(hot: Int32Array, nodes: Int32Array, node: number, key: Uint8Array, p1: number, p2: number): number {
    let p = hot[node * HOT_SLOTS + PREFIX]!;
    if (p !== p1) return p < p1 ? -1 : 1;
    p = hot[node * HOT_SLOTS + PREFIX2]!;
    if (p !== p2) return p < p2 ? -1 : 1;
    const length = nodes[node * NODE_SLOTS + KEY_LEN]!;
    const keyLength = key.length;
    const n = length < keyLength ? length : keyLength;
    // Equal words: the first min(shared + 8, n) bytes are equal.
    const from = this.shared + 8;
    if (from < n) {
      const chunk = this.arena.chunks[nodes[node * NODE_SLOTS + CHUNK]!]!;
      const pos = nodes[node * NODE_SLOTS + POS]!;
      if (n - from > LOOP_BYTES) return chunk.compare(key, from, keyLength, pos + from, pos + length);
      for (let i = from; i < n; i++) {
        const d = chunk[pos + i]! - key[i]!;
        if (d !== 0) return d;
      }
    }
    return length - keyLength;
  }

  /**
   * Where `key` stands against the shared bytes: 0 if it starts with them (it can sit among
   * the keys), < 0 if it sorts before every key in the list, > 0 if after every key. The byte
   * difference itself, not its sign: in a fresh process the first list's keys all have the
   * shared bytes, so a comparison here that only a differing byte reaches has no type feedback
   * when V8 optimizes this, and the next list's second key threw that code away.
   */
  private sharedOrder(key: Uint8Array): number {
    const shared = this.shared;
    if (shared === 0) return 0;
    const bytes = this.sharedBytes;
    const n = key.length < shared ? key.length : shared;
    for (let i = 0; i < n; i++) {
      const d = key[i]! - bytes[i]!;
      if (d !== 0) return d;
    }
    return key.length < shared ? -1 : 0;
  }

  /**
   * A key without all the shared bytes is being inserted: share only what it has in common
   * with them, and recompute every cached prefix. O(entries), but `shared` only goes down,
   * at most MAX_SHARED times in a list's life, and in practice within its first few inserts.
   */
  private lowerShared(key: Uint8Array): void {
    const bytes = this.sharedBytes;
    let shared = 0;
    const n = Math.min(key.length, this.shared);
    while (shared < n && key[shared] === bytes[shared]) shared++;
    this.shared = shared;
    const hot = this.hot;
    const nodes = this.nodes;
    const chunks = this.arena.chunks;
    for (let node = 1; node <= this.count; node++) {
      const chunk = chunks[nodes[node * NODE_SLOTS + CHUNK]!]!;
      const pos = nodes[node * NODE_SLOTS + POS]!;
      const length = nodes[node * NODE_SLOTS + KEY_LEN]!;
      hot[node * HOT_SLOTS + PREFIX] = keyWord(chunk, pos, length, shared);
      hot[node * HOT_SLOTS + PREFIX2] = keyWord(chunk, pos, length, shared + 4);
    }
    // Every tower has a level 1, so walking that level visits them all.
    const towers = this.towers;
    for (let t = towers[T_NEXT + 1]!; t !== NIL; t = towers[t + T_NEXT + 1]!) {
      const node = towers[t + T_NODE]!;
      towers[t + T_PREFIX] = hot[node * HOT_SLOTS + PREFIX]!;
      towers[t + T_PREFIX2] = hot[node * HOT_SLOTS + PREFIX2]!;
    }
  }

  /**
   * Fills `splice[level]` with the last entry before (key, seq) at each level in use: a tower
   * address for levels ≥ 1, a node number for level 0 (NIL = the head). `key` must have the
   * shared bytes (see `sharedOrder`); `p1`, `p2` are its words after them.
   */
  private search(key: Uint8Array, p1: number, p2: number, seq: number, splice: Int32Array): void {
    const hot = this.hot;
    const nodes = this.nodes;
    const towers = this.towers;
    let t = NIL;
    // A node rejected one level up is rejected again below: remember it, skip the comparison.
    let rejected = -1;
    for (let level = this.height - 1; level >= 1; level--) {
      for (;;) {
        const nt = towers[t + T_NEXT + level]!;
        if (nt === NIL) break;
        const node = towers[nt + T_NODE]!;
        // The prefix copies decide almost every step without touching the entry records.
        const q = towers[nt + T_PREFIX]!;
        if (q > p1 || node === rejected) {
          rejected = node;
          break;
        }
        if (q === p1) {
          const q2 = towers[nt + T_PREFIX2]!;
          if (q2 > p2 || (q2 === p2 && !this.precedes(hot, nodes, node, key, p1, p2, seq))) {
            rejected = node;
            break;
          }
        }
        t = nt;
      }
      splice[level] = t;
    }
    let x = towers[t + T_NODE]!;
    for (;;) {
      const nx = hot[x * HOT_SLOTS + NEXT]!;
      if (nx === NIL || nx === rejected || !this.precedes(hot, nodes, nx, key, p1, p2, seq)) break;
      x = nx;
    }
    splice[0] = x;
  }

  /** Whether the node sorts strictly before (key, seq) in (key ASC, seq DESC) order. */
  private precedes(hot: Int32Array, nodes: Int32Array, node: number, key: Uint8Array, p1: number, p2: number, seq: number): boolean {
    const c = this.compareNodeKey(hot, nodes, node, key, p1, p2);
    if (c !== 0) return c < 0;
    return (nodes[node * NODE_SLOTS + SEQ_HI]! & SEQ_HI_MASK) * TWO_32 + (nodes[node * NODE_SLOTS + SEQ_LO]! >>> 0) > seq;
  }

  /**
   * Checks the structure (for tests): level 0 linked both ways, in order and ending at the tail;
   * every key starting with the shared bytes and its cached words right; every upper level a
   * subsequence of level 0 in order, ending at its last tower, empty above the height in use.
   * Throws a StrataAssertionError naming the first broken invariant.
   */
  checkInvariants(): void {
    const hot = this.hot;
    const nodes = this.nodes;
    const towers = this.towers;
    const fail = (what: string): never => {
      throw new StrataAssertionError(`skiplist: ${what}`);
    };
    const rank = new Map<number, number>();
    let prev = NIL;
    for (let n = hot[NEXT]!; n !== NIL; n = hot[n * HOT_SLOTS + NEXT]!) {
      const key = this.keyOf(n);
      if (nodes[n * NODE_SLOTS + PREV] !== prev) fail(`prev of node ${n}`);
      if (this.sharedOrder(key) !== 0) fail(`node ${n} lacks the ${this.shared} shared bytes`);
      const p1 = keyWord(key, 0, key.length, this.shared);
      const p2 = keyWord(key, 0, key.length, this.shared + 4);
      if (hot[n * HOT_SLOTS + PREFIX] !== p1 || hot[n * HOT_SLOTS + PREFIX2] !== p2) fail(`cached prefix of node ${n}`);
      if (prev !== NIL && !this.precedes(hot, nodes, prev, key, p1, p2, this.seqOf(n))) fail(`order at node ${n}`);
      rank.set(n, rank.size);
      prev = n;
    }
    if (prev !== this.tail) fail('tail');
    if (rank.size !== this.count) fail(`count ${this.count}, linked ${rank.size}`);
    for (let level = 1; level < MAX_HEIGHT; level++) {
      let last = NIL;
      let lastRank = -1;
      for (let t = towers[T_NEXT + level]!; t !== NIL; t = towers[t + T_NEXT + level]!) {
        if (level >= this.height) fail(`level ${level} used above height ${this.height}`);
        const node = towers[t + T_NODE]!;
        const r = rank.get(node);
        if (r === undefined || r <= lastRank) fail(`level ${level} out of order at tower ${t}`);
        if (towers[t + T_PREFIX] !== hot[node * HOT_SLOTS + PREFIX] || towers[t + T_PREFIX2] !== hot[node * HOT_SLOTS + PREFIX2]) fail(`prefix copy of tower ${t}`);
        lastRank = r!;
        last = t;
      }
      if (this.lastTowers[level] !== last) fail(`last tower of level ${level}`);
    }
  }

  /**
   * Room for more entries in both entry arrays: doubles while small; grows by a quarter once
   * large, so the unused tail (which is real memory) stays under ~20%.
   */
  private growEntries(): void {
    const capacity = this.nodes.length / NODE_SLOTS;
    const next = capacity < 1 << 17 ? capacity * 2 : capacity + (capacity >>> 2);
    const nodes = int32Array(next * NODE_SLOTS, this.sharedMemory);
    nodes.set(this.nodes);
    this.nodes = nodes;
    const hot = int32Array(next * HOT_SLOTS, this.sharedMemory);
    hot.set(this.hot);
    this.hot = hot;
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
function grown(array: Int32Array, needed: number, shared: boolean): Int32Array {
  const length = array.length;
  const bigger = int32Array(Math.max(needed, length < 1 << 20 ? length * 2 : length + (length >>> 2)), shared);
  bigger.set(array);
  return bigger;
}

/** What a read of a surrendered list throws (see `PointSkiplist.surrendered`). */
function readAfterRelease(): StrataAssertionError {
  return new StrataAssertionError('a released memtable was read: its memory belongs to another memtable now (a reader without a pin)');
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
