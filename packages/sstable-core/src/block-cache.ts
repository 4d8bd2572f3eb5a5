/**
 * A cache of parsed, checksum-verified blocks, bounded in bytes and shared by every table of a
 * database. Keyed by (file number, data block number): file numbers are never reused, so an entry
 * can never name the wrong bytes — a deleted table's blocks simply age out (or the engine calls
 * `evictFile`).
 *
 * The index is one open-addressing hash table for the whole cache, keyed by (file number, data
 * block number), with its entries' bookkeeping in flat typed arrays: its size follows the blocks
 * the cache holds — which the capacity bounds — not the tables. (It used to be one array of
 * slots per table file, held by the file's readers, 24 bytes per data block whether cached or
 * not: ~13 KB of a 2 MiB table's ~15 KB pinned in the table cache, which therefore had to drop a
 * table's blocks with the table; at 100M keys its pinned half held ~2,200 of ~5,800 tables and
 * most gets re-opened one. Before that, a Map per file keyed by block offset: its lookups,
 * inserts, deletes and evictions were ~3 µs of a ~16 µs get.)
 *   buckets   Int32 × 4 per bucket: KEY_FILE, KEY_BLOCK, ENTRY (entry + 1; 0: empty) and
 *             REFERENCED (1 when hit since the clock hand last passed: second chance) — a power
 *             of two of buckets, twice the entries (load ≤ 1/2), linear probing from the top bits
 *             of one multiply of the key (Fibonacci hashing), deletion by backward shift (no
 *             tombstones) — and beside them `blocks[b]`, bucket b's block. A hit reads one line
 *             of the index and writes its REFERENCED there, and loads the block from `blocks[b]`,
 *             which does not wait for the entry number: a cached get's only loads beyond the old
 *             per-file slots' are the bucket's line (1M keys, every block cached: the first
 *             version, with the block and REFERENCED kept by entry, cost ~+10% CPU per get).
 *   entries   the stable identity of a cached block, which the clock ring holds (buckets move
 *             when a deletion shifts them back); entry e's bookkeeping is `state[4e .. 4e + 4)`,
 *             side by side, because an insert writes all four fields and an eviction (of a
 *             random other entry, on random gets) reads them all — one CPU cache miss, not four:
 *               [4e]      BUCKET: the entry's bucket
 *               [4e + 1]  RECYCLABLE: 1 when only the cache can reach the block's bytes, so its
 *                         buffer is recycled at eviction; cleared (for good) when the block is
 *                         handed to a reader that may keep views into it
 *               [4e + 2]  CHARGE: bytes charged for the block (a block of 4 GiB or more is not cached)
 *               [4e + 3]  RING_SLOT: the entry's position in the clock ring
 *             Free entries are a stack.
 * It starts at an entry per 4 KiB of capacity (16 to 256) and doubles whenever the cache holds
 * more blocks at once than it has entries (it never shrinks): ~70 bytes per entry, ~100 with the
 * clock ring's arrays at their largest, so ~3 MB for the 128 MiB default full of 4 KiB blocks
 * (~30k blocks, 32k entries) — ~2.5% of the capacity, more with smaller blocks (a block is
 * charged its bytes + BLOCK_OVERHEAD, 352: block-format.ts; so at most capacity / 352 entries).
 * It is not charged to the capacity (a tiny cache would hold nothing) but reported
 * (`indexBytes`). File numbers are kept as Int32
 * (two would alias only 2^32 files apart).
 *
 * Because the index belongs to the cache, not to the readers, a table reader pins nothing of
 * it, and the engine's table cache may drop a table without its blocks: they stay reachable by
 * (file, block) for the next reader of the file, or age out by CLOCK. When a file is deleted the
 * engine calls `evictFile` all the same (a pass over the buckets, once per deleted file): its
 * blocks could never be hit again, and dropped at once they give their room — and recyclable
 * buffers — to live ones instead of waiting for the hand.
 *
 * Replacement is CLOCK (second chance), the usual constant-time approximation of LRU: a hit only
 * sets the bucket's REFERENCED field, and eviction sweeps a hand over the entries, sparing (and
 * clearing) referenced ones. Compared with an exact LRU list, a hit writes one field instead of
 * relinking three list nodes scattered in memory — on random point lookups over a large table
 * those pointer chases were cache misses. A newly inserted block starts unreferenced, so blocks
 * read once by a scan are the first to go (scan resistance).
 *
 * Cached blocks are immutable and values handed out are views into them: eviction only drops
 * the cache's reference, so a view held by a caller stays valid.
 *
 * Block recycling. A block read only by point lookups (`Table.find`, whose caller copies the
 * value before the next table read) is inserted *recyclable*: nobody but the cache can hold a
 * view into it, so when it is evicted the block itself — its buffer, the view over it and the
 * Block object — goes to a small free list, and the next block read from a file is read into
 * it and re-parsed in place (`Block.reparse`), instead of a fresh allocation and, later, its
 * garbage collection (the buffer's allocation and collection were ~12% of a getSync that misses
 * the cache). Recycling the objects too matters to the user's heap: on random gets over a
 * database larger than the cache nearly every get is a miss, and a new Block and view per miss
 * were objects that lived as long as the cache kept them — each survived the young generation's
 * collections, which made V8 grow it (to 3 × 16 MiB) and filled the old generation with
 * garbage between its collections. A block handed to anyone else (`Table.dataBlock`:
 * iterators, `Table.get`) is marked *exposed* first and is never recycled. Raw reads of
 * compressed blocks (read, checksummed, decompressed, dropped) use the same free list.
 * The free list is a BufferPool (buffer-pool.ts, shared with the partition cache): size classes
 * of 64 bytes, a block may take a free buffer up to 8 classes larger than it needs, at most 1
 * MiB kept outside the capacity. A spare block's `data` is its whole buffer and a recyclable
 * block is charged all of it. Only blocks whose buffer the pool allocated go back to it: a
 * decompressed block (the decoder's buffer), a compaction ring's or a caller's buffer given to
 * `recycle` or inserted recyclable is left to the collector, never handed out again.
 *
 * Admission of point reads' blocks (`admitPoint`). While the cache has room every block read is
 * kept. Once it is full, a block a point lookup missed is kept only on its second miss within a
 * while — the `ghost`, a direct-mapped table of the (file, block) hashes of recent point-read
 * misses (TinyLFU's "doorkeeper", RocksDB's secondary-cache admission on a second hit): a block
 * read once is served from a spare buffer that goes straight back to the free list
 * (`Table.cachedBlock`), and evicts nothing. On random gets over a database many times the cache
 * nearly every get misses and a block is rarely read twice while cached, so inserting every
 * block bought no hits and cost each miss an eviction (the clock sweep, the evicted block's
 * objects, cold lines all) and a cold buffer to read into: on a settled 10M-key database (1.1 GB
 * of tables, 128 MiB cache) admitting none of them cost ~12% less CPU per get than admitting all.
 * Blocks read again soon (a hot set, a skewed workload) get in on their second miss. Iterators'
 * and `Table.get`'s blocks are always kept. The ghost holds 4 bytes per 4 KiB of capacity
 * (a power of two of entries, 256 to 2^20): 128 KiB for the 128 MiB default, not charged.
 * Bytes charged by others (`charge`): the partition cache may charge its index and filter
 * partitions here (the engine's `cacheIndexAndFilterBlocks`; RocksDB's option of that name), so
 * that table metadata and data blocks share one budget. Charged bytes are not blocks of this
 * cache: they only make room — blocks are evicted until blocks + charged ≤ capacity — and the
 * charger keeps its own entries and its own clock (a partition is worth ~170 data blocks of
 * lookups and must not be pushed out by a scan, so it is never evicted for a block).
 */
import { Block } from './block-format.js';
import { BufferPool } from './buffer-pool.js';
import { ClockRing } from './clock-ring.js';
import { StrataError } from '@strata-db/errors';

/** Fields of a bucket of the hash index (offsets from 4·bucket); ENTRY is entry + 1, 0 when empty. */
const KEY_FILE = 0;
const KEY_BLOCK = 1;
const ENTRY = 2;
const REFERENCED = 3;

/** Fields of an entry's bookkeeping in `state` (offsets from 4·entry). */
const BUCKET = 0;
const RECYCLABLE = 1;
const CHARGE = 2;
const RING_SLOT = 3;

/** Entries the index starts with, at most (it doubles when the cache holds more blocks than ever). */
const INITIAL_ENTRIES = 256;

export class BlockCache {
  readonly capacity: number;
  private used = 0;
  /** Bytes charged by others (`charge`), within the capacity: blocks get what is left. */
  private chargedBytes = 0;
  /** The hash index: 2 buckets per entry, 4 Int32 each (see the top of the file); linear probing. */
  private buckets = new Int32Array(0);
  /** Bucket b's block; undefined when the bucket is empty. */
  private blocks: (Block | undefined)[] = [];
  /** Entry e's bookkeeping, `state[4e .. 4e + 4)` (see the top of the file). */
  private state = new Uint32Array(0);
  /** Free entries, a stack of `freeCount`. */
  private free = new Int32Array(0);
  private freeCount = 0;
  /** Buckets − 1 (a power of two). */
  private mask = 0;
  /** 32 − log2(buckets): a key's hash's top bits are its home bucket. */
  private shift = 32;
  /** The clock: the cached blocks' entries in insertion order; an entry's position is its RING_SLOT. */
  private readonly ring = new ClockRing<true>((_, entry, position) => {
    this.state[4 * entry + RING_SLOT] = position;
  });
  hits = 0;
  misses = 0;
  /** Point reads' blocks not kept because the cache was full and they were read once (`admitPoint`). */
  declined = 0;
  /** The admission ghost (see the top of the file): a hash per entry, 0 when empty. */
  private readonly ghost: Int32Array;
  /** 32 − log2(ghost entries): a hash's top bits pick its entry. */
  private readonly ghostShift: number;
  /** Spare blocks, each over a buffer of the pool's (see the top of the file). */
  private readonly pool = new BufferPool<Block>(
    (block) => block.data,
    (data) => Block.spare(data),
  );

  constructor(capacityBytes: number) {
    if (!Number.isSafeInteger(capacityBytes) || capacityBytes < 0) {
      throw new StrataError('INVALID_ARGUMENT', `block cache capacity must be a non-negative integer of bytes, got ${capacityBytes}`);
    }
    this.capacity = capacityBytes;
    let bits = 8;
    while (bits < 20 && 2 ** bits * 4096 < capacityBytes) bits++;
    this.ghost = new Int32Array(2 ** bits);
    this.ghostShift = 32 - bits;
    // Room for a 4 KiB block per 4 KiB of capacity, up to 256 (16 at least): a small cache's index is small.
    let entries = 16;
    while (entries < INITIAL_ENTRIES && entries * 4096 < capacityBytes) entries *= 2;
    this.grow(entries);
  }

  /**
   * Whether a point read's block of `charge` bytes, data block `index` of file `fileNumber` that
   * was just read from the file, is to be kept: yes while it fits without evicting; else only
   * if the ghost remembers a recent miss of the same block (see the top of the file).
   */
  admitPoint(fileNumber: number, index: number, charge: number): boolean {
    if (this.used + this.chargedBytes + charge <= this.capacity) return true;
    let h = Math.imul(index ^ Math.imul(fileNumber, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h = (h ^ (h >>> 16)) | 1;
    const at = h >>> this.ghostShift;
    if (this.ghost[at] === h) return true;
    this.ghost[at] = h;
    this.declined++;
    return false;
  }

  /** Bytes of the cached blocks (what others charged is `charged`). */
  get usage(): number {
    return this.used;
  }

  /** Bytes others charged to the capacity (`charge`). */
  get charged(): number {
    return this.chargedBytes;
  }

  /**
   * Charges `bytes` more (negative: gives them back) of the capacity to something that is not a
   * block of this cache (see the top of the file), evicting blocks until blocks + charged fit.
   * Charges may exceed the capacity: then no block is kept.
   */
  charge(bytes: number): void {
    this.chargedBytes += bytes;
    this.evictToCapacity();
  }

  /** Number of cached blocks. */
  get size(): number {
    return this.ring.size;
  }

  /** Entries of the clock ring, holes included (tests: it stays within ~2× `size`). */
  get ringLength(): number {
    return this.ring.length;
  }

  /** Entries the index has room for now (it doubles when more blocks are cached at once). */
  get entryCapacity(): number {
    return this.free.length;
  }

  /**
   * Bytes of the cache's own bookkeeping — the index, the entries' arrays and the clock ring —
   * beside the blocks (see the top of the file: ~2% of the capacity with 4 KiB blocks). Not
   * charged to the capacity; it depends on how many blocks the cache has held at once, which
   * the capacity bounds, not on the tables.
   */
  get indexBytes(): number {
    return this.buckets.byteLength + 8 * this.blocks.length + this.state.byteLength + this.free.byteLength + this.ring.byteLength;
  }

  /**
   * Data block `index` of file `fileNumber` if cached (a hit: marked referenced), else undefined
   * (a miss); each is counted. `expose`: for a reader that may keep views into the block, whose
   * buffer is then never recycled (see the top of the file).
   */
  get(fileNumber: number, index: number, expose = false): Block | undefined {
    // `find` (and `home`), by hand: this is every cached read's path, and V8 did not inline the call.
    const buckets = this.buckets;
    const file = fileNumber | 0;
    let b = Math.imul(index ^ Math.imul(file, 0x85ebca6b), 0x9e3779b1) >>> this.shift;
    for (;;) {
      const at = 4 * b;
      if (buckets[at + ENTRY] === 0) {
        this.misses++;
        return undefined;
      }
      if (buckets[at + KEY_BLOCK] === index && buckets[at + KEY_FILE] === file) break;
      b = (b + 1) & this.mask;
    }
    this.hits++;
    buckets[4 * b + REFERENCED] = 1;
    if (expose) this.state[4 * (buckets[4 * b + ENTRY]! - 1) + RECYCLABLE] = 0;
    return this.blocks[b];
  }

  /**
   * Adds data block `index` of file `fileNumber` (replacing a cached one); a block larger than
   * what others leave of the cache (`charge`) is not kept (false) — so the eviction it makes room
   * by never reaches the block itself, which the caller is using. `recyclable`: a block from
   * `spareBlock` that only the cache will reach (see the top of the file), charged its whole buffer.
   */
  insert(fileNumber: number, index: number, block: Block, recyclable = false): boolean {
    const charge = block.charge;
    if (charge > this.capacity - this.chargedBytes || charge > 0xffff_ffff) return false;
    const file = fileNumber | 0;
    const old = this.find(file, index);
    if (old >= 0) this.remove(this.buckets[4 * old + ENTRY]! - 1);
    if (this.freeCount === 0) this.grow(2 * this.free.length);
    const e = this.free[--this.freeCount]!;
    const st = this.state;
    const at = 4 * e;
    st[at + RECYCLABLE] = recyclable ? 1 : 0;
    st[at + CHARGE] = charge;
    st[at + RING_SLOT] = this.ring.push(true, e);
    this.place(file, index, e, 0, block);
    this.used += charge;
    this.evictToCapacity();
    return true;
  }

  /**
   * A block to read `length` bytes into (`Block.spare`: not parsed yet), its `data` a buffer of
   * at least that many bytes, not zeroed: a recycled one when the free list has one of its size
   * class. The caller reads into `data`, then `reparse`s it and inserts it recyclable, or gives
   * it back (`recycle`).
   */
  spareBlock(length: number): Block {
    return this.pool.take(length);
  }

  /**
   * Gives back a block from `spareBlock` that nobody references any more (e.g. one a compressed
   * block's raw bytes were read into, or an evicted recyclable one). A block over any other
   * buffer is ignored (buffer-pool.ts: only the pool's own buffers are handed out again).
   */
  recycle(block: Block): void {
    this.pool.give(block);
  }

  /** Spare blocks handed out by `spareBlock` that came from the free list (stats and tests). */
  get recycled(): number {
    return this.pool.recycled;
  }

  /** Bytes of spare blocks kept for reuse (not charged to the capacity; ≤ 1 MiB). */
  get freeBufferBytes(): number {
    return this.pool.freeBufferBytes;
  }

  /**
   * Drops every block of one table (its file is being deleted: see the top of the file). A pass
   * over the buckets — the index is keyed by block, not by file — made once per deleted file.
   */
  evictFile(fileNumber: number): void {
    const file = fileNumber | 0;
    const buckets = this.buckets;
    // A removal may shift a later bucket back into this one: look at it again.
    for (let b = 0; b < this.blocks.length; ) {
      if (buckets[4 * b + ENTRY] !== 0 && buckets[4 * b + KEY_FILE] === file) this.remove(buckets[4 * b + ENTRY]! - 1);
      else b++;
    }
  }

  clear(): void {
    const buckets = this.buckets;
    for (let b = 0; b < this.blocks.length; ) {
      if (buckets[4 * b + ENTRY] !== 0) this.remove(buckets[4 * b + ENTRY]! - 1);
      else b++;
    }
  }

  /** The bucket of (file, index), or -1. */
  private find(file: number, index: number): number {
    const buckets = this.buckets;
    let b = this.home(file, index);
    for (;;) {
      const at = 4 * b;
      if (buckets[at + ENTRY] === 0) return -1;
      if (buckets[at + KEY_BLOCK] === index && buckets[at + KEY_FILE] === file) return b;
      b = (b + 1) & this.mask;
    }
  }

  /** The home bucket of (file, index): the top bits of one multiply (Fibonacci hashing). */
  private home(file: number, index: number): number {
    return Math.imul(index ^ Math.imul(file, 0x85ebca6b), 0x9e3779b1) >>> this.shift;
  }

  /** Puts entry `e` — keyed (file, index), not in the index — in its bucket. */
  private place(file: number, index: number, e: number, referenced: number, block: Block): void {
    const buckets = this.buckets;
    let b = this.home(file, index);
    while (buckets[4 * b + ENTRY] !== 0) b = (b + 1) & this.mask;
    const at = 4 * b;
    buckets[at + KEY_FILE] = file;
    buckets[at + KEY_BLOCK] = index;
    buckets[at + ENTRY] = e + 1;
    buckets[at + REFERENCED] = referenced;
    this.blocks[b] = block;
    this.state[4 * e + BUCKET] = b;
  }

  /**
   * Room for `entries` entries (a power of two, more than now) and twice as many buckets: the
   * arrays are reallocated and the index rebuilt; entry numbers stay (the ring holds them).
   */
  private grow(entries: number): void {
    const was = this.free.length;
    const state = new Uint32Array(4 * entries);
    state.set(this.state);
    this.state = state;
    const free = new Int32Array(entries);
    free.set(this.free.subarray(0, this.freeCount));
    // The new entries go under the old free ones, lowest number on top.
    for (let e = entries - 1; e >= was; e--) free[this.freeCount++] = e;
    this.free = free;
    const buckets = this.buckets;
    const blocks = this.blocks;
    const bits = 31 - Math.clz32(2 * entries);
    this.buckets = new Int32Array(4 << bits);
    this.blocks = new Array<Block | undefined>(1 << bits).fill(undefined);
    this.mask = (1 << bits) - 1;
    this.shift = 32 - bits;
    for (let b = 0; b < blocks.length; b++) {
      const at = 4 * b;
      if (buckets[at + ENTRY] !== 0) this.place(buckets[at + KEY_FILE]!, buckets[at + KEY_BLOCK]!, buckets[at + ENTRY]! - 1, buckets[at + REFERENCED]!, blocks[b]!);
    }
  }

  private evictToCapacity(): void {
    const ring = this.ring;
    while (this.used + this.chargedBytes > this.capacity && ring.size > 0) {
      ring.wrapHand();
      if (ring.owners[ring.hand] !== undefined) {
        const e = ring.slots[ring.hand]!;
        const at = 4 * this.state[4 * e + BUCKET]! + REFERENCED;
        if (this.buckets[at] === 1) this.buckets[at] = 0;
        else this.remove(e);
      }
      ring.hand++;
    }
  }

  /** Drops entry `e` (cached): out of the index (backward-shift deletion), the ring and the accounting. */
  private remove(e: number): void {
    const st = this.state;
    const at = 4 * e;
    let hole = st[at + BUCKET]!;
    const blocks = this.blocks;
    const block = blocks[hole]!;
    if (st[at + RECYCLABLE] === 1) this.recycle(block);
    this.ring.remove(st[at + RING_SLOT]!);
    this.used -= st[at + CHARGE]!;
    this.free[this.freeCount++] = e;
    // Empty its bucket; then each later bucket of the run that may move back into the hole (its
    // home is not cyclically in (hole, bucket]) does, so that every probe still finds its key.
    const buckets = this.buckets;
    const mask = this.mask;
    let b = hole;
    for (;;) {
      b = (b + 1) & mask;
      const from = 4 * b;
      if (buckets[from + ENTRY] === 0) break;
      const h = this.home(buckets[from + KEY_FILE]!, buckets[from + KEY_BLOCK]!);
      if (hole <= b ? hole < h && h <= b : hole < h || h <= b) continue;
      buckets.copyWithin(4 * hole, from, from + 4);
      blocks[hole] = blocks[b];
      st[4 * (buckets[from + ENTRY]! - 1) + BUCKET] = hole;
      hole = b;
    }
    buckets[4 * hole + ENTRY] = 0;
    blocks[hole] = undefined;
  }
}
