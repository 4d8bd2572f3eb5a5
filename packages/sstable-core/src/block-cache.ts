/**
 * A cache of parsed, checksum-verified blocks, bounded in bytes and shared by every table of a
 * database. Keyed by (file number, data block number): file numbers are never reused, so an entry
 * can never name the wrong bytes — a deleted table's blocks simply age out (or the engine calls
 * `evictFile`).
 *
 * The index is one array of slots per file (`FileSlots`, slot i = data block i), which the
 * table readers of that file hold: a hit is an array read, and a miss, its insert and an
 * eviction touch no hash map. (The cache used to keep a Map per file keyed by block offset, with
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
 * sets the entry's `referenced` bit, and eviction sweeps a hand over the entries, sparing (and
 * clearing) referenced ones. Compared with an exact LRU list, a hit writes one field instead of
 * relinking three list nodes scattered in memory — on random point lookups over a large table
 * those pointer chases were cache misses. A newly inserted block starts unreferenced, so blocks
 * read once by a scan are the first to go (scan resistance).
 *
 * Cached blocks are immutable and values handed out are views into them: eviction only drops
 * the cache's reference, so a view held by a caller stays valid.
 *
 * Buffer recycling. A block read only by point lookups (`Table.find`, whose caller copies the
 * value before the next table read) is inserted *recyclable*: nobody but the cache can hold a
 * view into it, so when it is evicted its buffer goes to a small free list and the next block
 * read from a file is read into it, instead of a fresh allocation and, later, its garbage
 * collection (the two were ~12% of a getSync that misses the cache). A block handed to anyone
 * else (`Table.dataBlock`: iterators, `Table.get`) is marked *exposed* first and is never
 * recycled. Raw reads of compressed blocks (read, checksummed, decompressed, dropped) use the
 * same free list. Buffers come in size classes of `BUFFER_CLASS` bytes, and a block may take a
 * free buffer up to `MAX_SLACK_CLASSES` classes larger than it needs; a recyclable block is
 * charged its whole buffer. The free list holds at most `MAX_FREE_BYTES`, outside the capacity.
 *
 * Why 64-byte classes: data blocks are cut just past `blockSize`, so with the default 4 KiB
 * their raw reads cluster just above it (4,132–4,144 bytes for 99% of the blocks of the 1M-key
 * dbbench database). 512-byte classes gave each a 4,608-byte buffer, 11% of the cache spent on
 * slack; 64-byte classes give 4,160, and the cache holds ~10% more blocks. The slack allowance
 * keeps recycling working when an evicted block and the next one read differ in class.
 */
import type { Block } from './block-format.js';
import { StrataError } from '@strata-db/errors';

/** Buffers are allocated in multiples of this many bytes (so that evicted ones fit new blocks). */
const BUFFER_CLASS = 64;
/** A block may take a free buffer this many classes larger than its own (≤ 512 bytes of slack). */
const MAX_SLACK_CLASSES = 8;
/** Most bytes kept on the free list. */
const MAX_FREE_BYTES = 1024 * 1024;

/** One cached block. `block` is undefined once evicted (and the handle out of its slot). */
export class CacheHandle {
  referenced = false;
  /**
   * Only the cache can reach the block's bytes: its buffer is recycled at eviction. Cleared
   * (for good) when the block is handed to a reader that may keep views into it.
   */
  recyclable = false;
  constructor(
    readonly file: FileSlots,
    /** The data block's number in its file: its slot. */
    readonly index: number,
    public block: Block | undefined,
    readonly charge: number,
    /** Position in the clock ring. */
    public slot: number,
  ) {}
}

/**
 * The cache's slots for one table file, shared by the readers of that file: `handles[i]` is data
 * block i's handle while the block is cached, else undefined. Only the BlockCache writes them.
 */
export class FileSlots {
  readonly handles: (CacheHandle | undefined)[];
  /** Cached blocks of the file; the slots are registered in the cache while > 0. */
  live = 0;
  constructor(
    readonly fileNumber: number,
    blocks: number,
  ) {
    this.handles = new Array<CacheHandle | undefined>(blocks).fill(undefined);
  }
}

export class BlockCache {
  readonly capacity: number;
  private used = 0;
  /** Slots of the files with at least one cached block. */
  private readonly files = new Map<number, FileSlots>();
  /** The clock: live handles and holes left by evictions (compacted when half are holes). */
  private ring: (CacheHandle | undefined)[] = [];
  private hand = 0;
  private holes = 0;
  hits = 0;
  misses = 0;
  /** Free buffers by size class (class c holds buffers of c·BUFFER_CLASS bytes). */
  private readonly free = new Map<number, ArrayBuffer[]>();
  private freeBytes = 0;
  /** Buffers handed out by `allocate` that came from the free list (stats and tests). */
  recycled = 0;

  constructor(capacityBytes: number) {
    if (!Number.isSafeInteger(capacityBytes) || capacityBytes < 0) {
      throw new StrataError('INVALID_ARGUMENT', `block cache capacity must be a non-negative integer of bytes, got ${capacityBytes}`);
    }
    this.capacity = capacityBytes;
  }

  /** Bytes currently charged. */
  get usage(): number {
    return this.used;
  }

  /** Number of cached blocks. */
  get size(): number {
    return this.ring.length - this.holes;
  }

  /**
   * The slots of table file `fileNumber` holding `blocks` data blocks, for a reader of the file to
   * keep: the registered ones if any block of the file is cached, else fresh ones.
   */
  slotsOf(fileNumber: number, blocks: number): FileSlots {
    const known = this.files.get(fileNumber);
    return known !== undefined && known.handles.length === blocks ? known : new FileSlots(fileNumber, blocks);
  }

  /** Data block `index` of file `fileNumber` if cached (counted as a hit or a miss), else undefined. */
  get(fileNumber: number, index: number): Block | undefined {
    const h = this.files.get(fileNumber)?.handles[index];
    if (h !== undefined) return this.touch(h);
    this.misses++;
    return undefined;
  }

  /** Counts a miss: a reader found its slot empty. */
  miss(): void {
    this.misses++;
  }

  /** The block of a handle found in a slot (marking it referenced), counted as a hit. */
  touch(h: CacheHandle): Block | undefined {
    this.hits++;
    h.referenced = true;
    return h.block;
  }

  /**
   * Adds data block `index` of `file` (replacing a block in the slot) and returns its handle; a
   * block larger than the whole cache is not kept (undefined).
   */
  insert(file: FileSlots, index: number, block: Block, recyclable = false): CacheHandle | undefined {
    // A recyclable block's buffer came from `allocate` and is charged whole.
    const charge = recyclable ? block.data.buffer.byteLength + 160 : block.charge;
    if (charge > this.capacity) return undefined;
    const old = file.handles[index];
    if (old !== undefined) this.remove(old);
    const h = new CacheHandle(file, index, block, charge, this.ring.length);
    h.recyclable = recyclable;
    file.handles[index] = h;
    if (file.live++ === 0 && !this.files.has(file.fileNumber)) this.files.set(file.fileNumber, file);
    this.ring.push(h);
    this.used += charge;
    this.evictToCapacity();
    return h;
  }

  /**
   * A buffer of `length` bytes (not zeroed) for a block read from a file: a recycled one when the
   * free list has one of its size class.
   */
  allocate(length: number): Uint8Array {
    const c = Math.ceil(length / BUFFER_CLASS);
    if (this.freeBytes > 0) {
      for (let k = c; k <= c + MAX_SLACK_CLASSES; k++) {
        const buf = this.free.get(k)?.pop();
        if (buf !== undefined) {
          this.freeBytes -= buf.byteLength;
          this.recycled++;
          return new Uint8Array(buf, 0, length);
        }
      }
    }
    // Not zero-filled (the read overwrites every byte or fails) and not from Buffer's shared pool.
    return new Uint8Array(Buffer.allocUnsafeSlow(c * BUFFER_CLASS).buffer, 0, length);
  }

  /**
   * Gives back a buffer from `allocate` that nobody references any more (e.g. the raw bytes of a
   * block that was decompressed into another buffer).
   */
  release(bytes: Uint8Array): void {
    const buf = bytes.buffer as ArrayBuffer;
    const size = buf.byteLength;
    if (size % BUFFER_CLASS !== 0 || this.freeBytes + size > MAX_FREE_BYTES) return;
    const c = size / BUFFER_CLASS;
    let list = this.free.get(c);
    if (list === undefined) {
      list = [];
      this.free.set(c, list);
    }
    list.push(buf);
    this.freeBytes += size;
  }

  /**
   * Drops every block of one table (e.g. after the file is deleted): those in its registered
   * slots; a second reader's unregistered slots (see the top of the file) age out.
   */
  evictFile(fileNumber: number): void {
    const file = this.files.get(fileNumber);
    if (file === undefined) return;
    for (const h of file.handles) if (h !== undefined) this.remove(h);
    this.files.delete(fileNumber);
  }

  clear(): void {
    for (const h of this.ring) if (h !== undefined) this.remove(h);
  }

  private evictToCapacity(): void {
    while (this.used > this.capacity) {
      if (this.hand >= this.ring.length) this.wrap();
      const h = this.ring[this.hand];
      if (h !== undefined) {
        if (h.referenced) h.referenced = false;
        else this.remove(h);
      }
      this.hand++;
    }
  }

  /** The hand went round: compact the ring if it is mostly holes. */
  private wrap(): void {
    this.hand = 0;
    if (this.holes * 2 > this.ring.length) {
      const live = this.ring.filter((h): h is CacheHandle => h !== undefined);
      for (const [i, h] of live.entries()) h.slot = i;
      this.ring = live;
      this.holes = 0;
    }
  }

  private remove(h: CacheHandle): void {
    const block = h.block;
    if (block === undefined) return;
    h.block = undefined;
    if (h.recyclable) this.release(block.data);
    this.ring[h.slot] = undefined;
    this.holes++;
    const file = h.file;
    file.handles[h.index] = undefined;
    if (--file.live === 0 && this.files.get(file.fileNumber) === file) this.files.delete(file.fileNumber);
    this.used -= h.charge;
  }
}
