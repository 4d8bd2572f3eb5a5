/**
 * A cache of the unpacked index and filter partitions of tables (format.ts, v2; a v1 table's
 * whole index and filter are its one partition), bounded in bytes and shared by every table of
 * a database. A table keeps only its top-level index resident; a partition is loaded when a
 * lookup needs it, checksum-verified, unpacked, and stays here until the clock evicts it.
 *
 * Why a cache of its own rather than charging partitions to the block cache: a partition is
 * an unpacked object (flat arrays, a filter) rather than a block, is worth ~170 data blocks of
 * lookups, and must not be pushed out by a scan streaming data blocks through the block cache
 * (RocksDB needs `cache_index_and_filter_blocks_with_high_priority` for that). One budget for
 * table metadata (the engine's `tableCacheSize`) keeps the bound easy to state: the tables'
 * pinned top-level indexes plus this cache's partitions.
 *
 * Slots are per table FILE (`PartitionSlots`, 2 per partition: index, filter), registered from
 * the first time one of them is filled (and, once none is, until idle files are dropped: see
 * `PartitionCache.files`), so a table reopened after the table cache dropped it finds its
 * partitions still here (file numbers are never reused, so a registered file number always
 * names the same bytes). Replacement is CLOCK (second chance), as in the block cache.
 *
 * Partition buffers are recycled. Over a database far larger than the budget partitions churn
 * (100M keys: ~5 loads a get), and an evicted partition's buffers are ArrayBuffers that V8 frees
 * only at a full collection — which external memory triggers after ~64 MiB of growth — so a
 * cache that dropped them held up to that much garbage beside its budget. An evicted filter's
 * buffer, and an evicted index partition's one buffer (its arrays are views into it:
 * IndexPartition), go to a free list by size class instead (as the block cache's blocks do),
 * and the next partition read from a file goes into one (`buffer`). Safe because no reader
 * holds a partition: the table reader uses one within a single synchronous call, done with it
 * before it loads another, and asks the cache again next time (Table.indexPartition,
 * filterPartition), so once a slot is emptied nothing reaches what it held.
 * Charged to the block cache (optional, `chargeTo`): the bytes of the cached partitions are
 * then also charged to a BlockCache (BlockCache.charge), which evicts data blocks to make room,
 * so partitions and data blocks share the block cache's one budget (RocksDB's
 * cache_index_and_filter_blocks). This cache's own bound still applies, and partitions are
 * still evicted only by partitions: a scan's data blocks cannot push them out.
 */
import { StrataError } from '@strata-db/errors';
import type { BlockCache } from './block-cache.js';
import type { BloomFilter } from './bloom.js';
import { ClockRing } from './clock-ring.js';
import type { IndexPartition } from './index-partition.js';
import { BufferPool } from './buffer-pool.js';

/**
 * The partition slots of one table file, 2 per partition: slot 2p is index partition p, slot
 * 2p + 1 its filter. Only the PartitionCache writes them; table readers of the file read
 * `index(p)` and `filter(p)`.
 *
 * Layout: one array, `cells`, of SLOT_CELLS (4) cells per slot i, at 4i: what the slot holds
 * (an IndexPartition at an even slot, a BloomFilter at an odd one, or undefined), then its
 * bookkeeping — REFERENCED (1 when hit since the clock hand last passed), RING_SLOT (its entry's
 * position in the clock ring), CHARGE (bytes charged for what it holds), small integers (V8
 * Smis: no boxing). One array, not three (a partitions array per kind and a state array, as
 * before): every open table holds one of these for its whole open life, and each array is ~48
 * bytes of V8 heap (the JSArray and its elements store's header) before its elements — with
 * the table's few slots more than the elements themselves. Measured per open table (one
 * partition: two slots): 272 bytes of heap as three arrays, 160 as one.
 */
export class PartitionSlots {
  readonly cells: (IndexPartition | BloomFilter | number | undefined)[];
  /** Filled slots (0: idle, see PartitionCache.files). */
  live = 0;
  constructor(
    readonly fileNumber: number,
    slots: number,
  ) {
    const cells = new Array<IndexPartition | BloomFilter | number | undefined>(SLOT_CELLS * slots);
    for (let i = 0; i < cells.length; i += SLOT_CELLS) {
      cells[i] = undefined;
      cells[i + REFERENCED] = 0;
      cells[i + RING_SLOT] = 0;
      cells[i + CHARGE] = 0;
    }
    this.cells = cells;
  }

  /** Slots: 2 per partition. */
  get slots(): number {
    return this.cells.length / SLOT_CELLS;
  }

  /** What slot `i` holds, if anything. */
  at(i: number): IndexPartition | BloomFilter | undefined {
    return this.cells[SLOT_CELLS * i] as IndexPartition | BloomFilter | undefined;
  }

  /** Index partition `p`, if cached. */
  index(p: number): IndexPartition | undefined {
    return this.cells[2 * SLOT_CELLS * p] as IndexPartition | undefined;
  }

  /** Filter partition `p`, if cached. */
  filter(p: number): BloomFilter | undefined {
    return this.cells[2 * SLOT_CELLS * p + SLOT_CELLS] as BloomFilter | undefined;
  }

  /** Bookkeeping field `field` (REFERENCED, RING_SLOT, CHARGE) of slot `i`. */
  get(i: number, field: number): number {
    return this.cells[SLOT_CELLS * i + field] as number;
  }

  set(i: number, field: number, value: number): void {
    this.cells[SLOT_CELLS * i + field] = value;
  }

  /** Puts `what` (an index partition at an even slot, a filter at an odd one) in slot `i`, or empties it. */
  fill(i: number, what: IndexPartition | BloomFilter | undefined): void {
    this.cells[SLOT_CELLS * i] = what;
  }

  /**
   * Bytes of this object (for its owner's accounting): the object (~48 bytes of V8 heap), its
   * array (~48 before its elements), and per slot four cells (8 bytes each).
   */
  get byteLength(): number {
    return 96 + 8 * SLOT_CELLS * this.slots;
  }
}

/** Cells per slot in `PartitionSlots.cells`, and where each sits (offsets from SLOT_CELLS·slot; 0 is what it holds). */
const SLOT_CELLS = 4;
const REFERENCED = 1;
const RING_SLOT = 2;
const CHARGE = 3;

export class PartitionCache {
  private cap: number;
  private used = 0;
  /**
   * The registered files' slots, by file number. A file is registered when a slot of it is
   * filled and stays registered when its last partition is evicted ("idle"): dropping it then
   * and adding it back at its next load, as before, made the Map's deleted entries pile up
   * until V8 rebuilt its whole table (OrderedHashMap: ~36 bytes a file, a large object past
   * ~3,600 files) every few thousand loads — old-generation garbage at the rate partitions churn
   * (100M keys: ~1 load a get over ~6,400 tables). Idle files are dropped all at once when they
   * are more than MIN_IDLE_FILES and half the map (`dropIdle`), so those kept past their
   * table's life are bounded by the files with cached partitions (or 1,024); an open table's
   * slots are held by the table anyway. Invariant: `idle` = registered files with `live` 0.
   */
  private readonly files = new Map<number, PartitionSlots>();
  private idle = 0;
  /** The clock: (file, slot) of the cached partitions; an entry's position is its RING_SLOT. */
  private readonly ring = new ClockRing<PartitionSlots>((file, i, position) => {
    file.set(i, RING_SLOT, position);
  });
  /** Partitions found cached, and loaded from a file (checksummed, unpacked). */
  hits = 0;
  loads = 0;
  /**
   * Evicted partitions' buffers (buffer-pool.ts). It takes back only buffers it allocated: a
   * partition's bytes need not be in one of them — a filter block stored compressed (our builder
   * never writes one, a damaged or foreign table may) decompresses into a buffer of the
   * decoder's, possibly a slice of Buffer's shared 8 KiB pool — and handing such a buffer out
   * again would overwrite bytes that other live objects view. Partitions' sizes spread over
   * dozens of 64-byte classes (with the scale bench's 16-byte keys, index partitions 8.4–10 KiB,
   * filters 5.3–6.3 KiB), so a load may take a free buffer up to 1/8 larger (`slackFraction`)
   * and nearly every load reuses an evicted partition's buffer.
   */
  private readonly pool = BufferPool.ofBytes(8);

  constructor(
    capacityBytes: number,
    /** A block cache that the cached partitions' bytes are charged to as well (see the top of the file). */
    private readonly chargeTo?: BlockCache,
  ) {
    this.cap = checkCapacity(capacityBytes);
  }

  /** Most bytes kept. */
  get capacity(): number {
    return this.cap;
  }

  /** Changes the bound (the table cache lends it what its tables do not pin); evicts down to it. */
  set capacity(bytes: number) {
    this.cap = checkCapacity(bytes);
    this.evictToCapacity();
  }

  /** Bytes of the cached partitions. */
  get usage(): number {
    return this.used;
  }

  /**
   * Bytes a partition may be charged and still fit without evicting anything: what the
   * capacity leaves, and when charged to a block cache, also what that cache has free (a
   * charge there evicts data blocks). What idle warming fills (Table.warmPartition).
   */
  get room(): number {
    const own = this.cap - this.used;
    const to = this.chargeTo;
    return to === undefined ? own : Math.min(own, to.capacity - to.usage - to.charged);
  }

  /**
   * Takes back the buffer of a partition that was loaded but not inserted (it did not fit:
   * Table.warmPartition), for the next partition read. Nothing else holds it.
   */
  discard(buffer: Uint8Array): void {
    this.pool.give(buffer);
  }

  /** Cached partitions. */
  get size(): number {
    return this.ring.size;
  }

  /** Registered files, idle ones included (see `files`; tests). */
  get registeredFiles(): number {
    return this.files.size;
  }

  /** The slots of table file `fileNumber` with `slots` slots: the registered ones, else fresh ones. */
  slotsOf(fileNumber: number, slots: number): PartitionSlots {
    const known = this.files.get(fileNumber);
    return known !== undefined && known.slots === slots ? known : new PartitionSlots(fileNumber, slots);
  }

  /** Marks filled slot `i` of `file` used (a reader found its partition there). */
  hit(file: PartitionSlots, i: number): void {
    this.hits++;
    file.set(i, REFERENCED, 1);
  }

  /** Puts index partition `p` (just loaded) in `file`'s slots; see `insert`. */
  insertIndex(file: PartitionSlots, p: number, part: IndexPartition): void {
    this.insert(file, 2 * p, part.charge);
    file.fill(2 * p, part);
  }

  /** Puts filter partition `p` (just loaded) in `file`'s slots; see `insert`. */
  insertFilter(file: PartitionSlots, p: number, filter: BloomFilter): void {
    this.insert(file, 2 * p + 1, filter.charge);
    file.fill(2 * p + 1, filter);
  }

  /**
   * Makes room for, and books, `charge` bytes in slot `i` of `file` (the caller fills it). A
   * partition is kept even when larger than the whole capacity — the caller is about to use it
   * — and evicted by the next insert.
   */
  private insert(file: PartitionSlots, i: number, charge: number): void {
    this.loads++;
    if (file.at(i) !== undefined) this.remove(file, i);
    this.evictToCapacity(charge);
    file.set(i, REFERENCED, 0);
    file.set(i, CHARGE, charge);
    file.set(i, RING_SLOT, this.ring.push(file, i));
    if (file.live++ === 0) this.register(file);
    this.used += charge;
    this.chargeTo?.charge(charge);
  }

  /**
   * A buffer of at least `length` bytes (not zeroed) for a partition being loaded (a filter's
   * read, an index partition's arrays): an evicted partition's when the pool has one of its
   * size class, else a new one of a whole class. A whole ArrayBuffer (offset 0).
   */
  readonly buffer = (length: number): Uint8Array => this.pool.take(length);

  /** Bytes of evicted partitions' buffers kept for reuse (not charged to the capacity; ≤ 1 MiB). */
  get freeBufferBytes(): number {
    return this.pool.freeBufferBytes;
  }

  /** Buffers handed out by `buffer` that came from the free list (stats and tests). */
  get recycled(): number {
    return this.pool.recycled;
  }

  /** Drops every partition of one table file (its file is deleted). */
  evictFile(fileNumber: number): void {
    const file = this.files.get(fileNumber);
    if (file === undefined) return;
    for (let i = 0; i < file.slots; i++) this.remove(file, i);
    if (this.files.get(fileNumber) === file) {
      this.files.delete(fileNumber);
      if (file.live === 0) this.idle--;
    }
  }

  /** Registers `file`, which has just got its first filled slot (its `live` went 0 → 1). */
  private register(file: PartitionSlots): void {
    const known = this.files.get(file.fileNumber);
    if (known === file) {
      this.idle--;
      return;
    }
    // Slots of another shape for the same file (a reader opened it with other partitions) replace them.
    if (known !== undefined && known.live === 0) this.idle--;
    this.files.set(file.fileNumber, file);
  }

  /** Drops every idle file from the map (see `files`). */
  private dropIdle(): void {
    for (const [n, f] of this.files) if (f.live === 0) this.files.delete(n);
    this.idle = 0;
  }

  /** Drops every partition of `file` (a table reader with slots of its own closes). */
  dropSlots(file: PartitionSlots): void {
    for (let i = 0; i < file.slots; i++) this.remove(file, i);
  }

  clear(): void {
    const ring = this.ring;
    for (let s = 0; s < ring.length; s++) {
      const f = ring.owners[s];
      if (f !== undefined) this.remove(f, ring.slots[s]!);
    }
  }

  /** Evicts until `incoming` more bytes fit (or nothing is left to evict). */
  private evictToCapacity(incoming = 0): void {
    const ring = this.ring;
    while (this.used + incoming > this.cap && ring.size > 0) {
      ring.wrapHand();
      const f = ring.owners[ring.hand];
      if (f !== undefined) {
        const i = ring.slots[ring.hand]!;
        if (f.get(i, REFERENCED) === 1) f.set(i, REFERENCED, 0);
        else this.remove(f, i);
      }
      ring.hand++;
    }
  }

  private remove(file: PartitionSlots, i: number): void {
    const held = file.at(i);
    if (held === undefined) return;
    // An even slot holds an index partition (one buffer, its arrays are views), an odd one a filter.
    this.pool.give((i & 1) === 0 ? (held as IndexPartition).buffer : new Uint8Array((held as BloomFilter).buffer));
    file.fill(i, undefined);
    this.ring.remove(file.get(i, RING_SLOT));
    const charge = file.get(i, CHARGE);
    this.used -= charge;
    this.chargeTo?.charge(-charge);
    if (--file.live === 0 && this.files.get(file.fileNumber) === file && ++this.idle > MIN_IDLE_FILES && 2 * this.idle > this.files.size) this.dropIdle();
  }
}

/** Idle files (see PartitionCache.files) the map may hold before they are dropped (when they are also half of it). */
const MIN_IDLE_FILES = 1024;

function checkCapacity(bytes: number): number {
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new StrataError('INVALID_ARGUMENT', `partition cache capacity must be a non-negative integer of bytes, got ${bytes}`);
  }
  return bytes;
}
