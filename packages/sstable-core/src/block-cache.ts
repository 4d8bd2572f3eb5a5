/**
 * A cache of parsed, checksum-verified blocks, bounded in bytes and shared by every table of a
 * database. Keyed by (file number, data block number): file numbers are never reused, so an entry
 * can never name the wrong bytes — a deleted table's blocks simply age out (or the engine calls
 * `evictFile`).
 *
 * The index is one array of slots per file (`FileSlots`, slot i = data block i, the block itself,
 * with the slot's bookkeeping in flat arrays beside it), which the table readers of that file
 * hold: a hit is an array read, and a miss, its insert and an eviction touch no hash map. (The cache used to keep a Map per file keyed by block offset, with
 * the tables' own handle arrays in front for hits; on random gets over a database ~8× the cache,
 * ~85% of them misses, its lookups, inserts, deletes and evictions were ~3 µs of a ~16 µs get, 11%
 * of the profile; with the slots, 2%.) A file's slots are registered in `files` while at least
 * one of its blocks is cached, so a second reader of the same file (the engine may open a table
 * twice) finds them, and an unused file costs nothing; a reader that opens a file whose slots
 * are not registered starts from fresh slots, and its first insert registers them. (Two readers
 * with different slots of one file may then cache a block twice: harmless, blocks are immutable
 * and each copy is charged.)
 *
 * Replacement is CLOCK (second chance), the usual constant-time approximation of LRU: a hit only
 * sets the slot's `referenced` byte, and eviction sweeps a hand over the entries, sparing (and
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

/**
 * The cache's slots for one table file, shared by the readers of that file: `blocks[i]` is data
 * block i while it is cached, else undefined; the rest is the cache's bookkeeping of each slot,
 * in one flat array rather than an object per cached block. A hit reads `blocks[i]` and sets
 * the slot's `referenced` field: the block is reached in one step. (There used to be a handle
 * object per cached block between the slot and the block: on random gets every hop was a cache
 * miss of its own, ~4% of a cached get each, and an object per miss for the collector.) Only
 * the BlockCache writes them.
 *
 * The bookkeeping of slot i is `state[4i .. 4i + 4)`, side by side, because an insert writes
 * all four fields and an eviction (of a random other slot, on random gets) reads them all: kept
 * in four arrays they were four CPU cache misses each time, in one they are one (16 bytes):
 *   [4i]      REFERENCED: 1 when hit since the clock hand last passed (second chance)
 *   [4i + 1]  RECYCLABLE: 1 when only the cache can reach the block's bytes, so its buffer is
 *             recycled at eviction; cleared (for good) when the block is handed to a reader
 *             that may keep views into it
 *   [4i + 2]  CHARGE: bytes charged for the block (a block charged 4 GiB or more is not cached)
 *   [4i + 3]  RING_SLOT: the block's position in the clock ring
 */
export class FileSlots {
  readonly blocks: (Block | undefined)[];
  /** Per slot, the four fields above. */
  readonly state: Uint32Array;
  /** Cached blocks of the file; the slots are registered in the cache while > 0. */
  live = 0;
  constructor(
    readonly fileNumber: number,
    blocks: number,
  ) {
    this.blocks = new Array<Block | undefined>(blocks).fill(undefined);
    this.state = new Uint32Array(4 * blocks);
  }

  /** Bytes of bookkeeping per block (for the owner's memory accounting). */
  static readonly BYTES_PER_BLOCK = 8 + 4 * 4;

  /** Bytes of these slots (the arrays; the object itself is small). */
  get byteLength(): number {
    return FileSlots.BYTES_PER_BLOCK * this.blocks.length;
  }
}

/** Fields of a slot's bookkeeping in `FileSlots.state` (offsets from 4·slot). */
const REFERENCED = 0;
const RECYCLABLE = 1;
const CHARGE = 2;
const RING_SLOT = 3;

export class BlockCache {
  readonly capacity: number;
  private used = 0;
  /** Bytes charged by others (`charge`), within the capacity: blocks get what is left. */
  private chargedBytes = 0;
  /** Slots of the files with at least one cached block. */
  private readonly files = new Map<number, FileSlots>();
  /** Bytes of the slots in `files`. */
  private registeredSlotBytes = 0;
  /** The clock: (file, block number) of the cached blocks; a block's position is its RING_SLOT. */
  private readonly ring = new ClockRing<FileSlots>((file, index, position) => {
    file.state[4 * index + RING_SLOT] = position;
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

  /** Files with at least one cached block (whose slots the cache keeps registered). */
  get fileCount(): number {
    return this.files.size;
  }

  /**
   * Bytes of those files' slots (`FileSlots`, 24 per data block of the file): not charged to
   * the capacity — the tables holding the slots charge them (Table.residentBytes); the owner
   * keeps this within its own bound by evicting a file's blocks when it lets the file's table go.
   */
  get slotBytes(): number {
    return this.registeredSlotBytes;
  }

  /**
   * The slots of table file `fileNumber` holding `blocks` data blocks, for a reader of the file to
   * keep: the registered ones if any block of the file is cached, else fresh ones.
   */
  slotsOf(fileNumber: number, blocks: number): FileSlots {
    const known = this.files.get(fileNumber);
    return known !== undefined && known.blocks.length === blocks ? known : new FileSlots(fileNumber, blocks);
  }

  /** Data block `index` of file `fileNumber` if cached (counted as a hit or a miss), else undefined. */
  get(fileNumber: number, index: number): Block | undefined {
    const file = this.files.get(fileNumber);
    const b = file?.blocks[index];
    if (b !== undefined) return this.hit(file!, index);
    this.misses++;
    return undefined;
  }

  /** Counts a miss: a reader found its slot empty. */
  miss(): void {
    this.misses++;
  }

  /**
   * The block in `file`'s slot `index` (which the caller found filled), marked referenced and
   * counted as a hit.
   */
  hit(file: FileSlots, index: number): Block {
    this.hits++;
    file.state[4 * index + REFERENCED] = 1;
    return file.blocks[index]!;
  }

  /**
   * The block in `file`'s slot `index` (filled), as `hit`, for a reader that may keep views into
   * it: its buffer is never recycled.
   */
  expose(file: FileSlots, index: number): Block {
    file.state[4 * index + RECYCLABLE] = 0;
    return this.hit(file, index);
  }

  /**
   * Adds data block `index` of `file` (replacing a block in the slot); a block larger than what
   * others leave of the cache (`charge`) is not kept (false) — so the eviction it makes room by
   * never reaches the block itself, which the caller is using. `recyclable`: a block from
   * `spareBlock` that only the cache will reach (see the top of the file), charged its whole buffer.
   */
  insert(file: FileSlots, index: number, block: Block, recyclable = false): boolean {
    const charge = block.charge;
    if (charge > this.capacity - this.chargedBytes || charge > 0xffff_ffff) return false;
    if (file.blocks[index] !== undefined) this.remove(file, index);
    file.blocks[index] = block;
    const st = file.state;
    const at = 4 * index;
    st[at + REFERENCED] = 0;
    st[at + RECYCLABLE] = recyclable ? 1 : 0;
    st[at + CHARGE] = charge;
    st[at + RING_SLOT] = this.ring.push(file, index);
    if (file.live++ === 0 && !this.files.has(file.fileNumber)) {
      this.files.set(file.fileNumber, file);
      this.registeredSlotBytes += file.byteLength;
    }
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
   * Drops every block of one table (e.g. after the file is deleted): those in its registered
   * slots; a second reader's unregistered slots (see the top of the file) age out.
   */
  evictFile(fileNumber: number): void {
    const file = this.files.get(fileNumber);
    if (file === undefined) return;
    // The last removal unregisters the slots.
    for (let i = 0; i < file.blocks.length; i++) if (file.blocks[i] !== undefined) this.remove(file, i);
  }

  clear(): void {
    const ring = this.ring;
    for (let s = 0; s < ring.length; s++) {
      const f = ring.owners[s];
      if (f !== undefined) this.remove(f, ring.slots[s]!);
    }
  }

  private evictToCapacity(): void {
    const ring = this.ring;
    while (this.used + this.chargedBytes > this.capacity && ring.size > 0) {
      ring.wrapHand();
      const f = ring.owners[ring.hand];
      if (f !== undefined) {
        const i = ring.slots[ring.hand]!;
        const at = 4 * i + REFERENCED;
        if (f.state[at] === 1) f.state[at] = 0;
        else this.remove(f, i);
      }
      ring.hand++;
    }
  }

  private remove(file: FileSlots, index: number): void {
    const block = file.blocks[index];
    if (block === undefined) return;
    file.blocks[index] = undefined;
    const st = file.state;
    const at = 4 * index;
    if (st[at + RECYCLABLE] === 1) this.recycle(block);
    this.ring.remove(st[at + RING_SLOT]!);
    if (--file.live === 0 && this.files.get(file.fileNumber) === file) {
      this.files.delete(file.fileNumber);
      this.registeredSlotBytes -= file.byteLength;
    }
    this.used -= st[at + CHARGE]!;
  }
}
