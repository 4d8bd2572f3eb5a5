/**
 * A cache of parsed, checksum-verified blocks, bounded in bytes and shared by every table of a
 * database. Keyed by (file number, block offset): file numbers are never reused, so an entry can
 * never name the wrong bytes — a deleted table's blocks simply age out (or the engine calls
 * `evictFile`).
 *
 * Replacement is CLOCK (second chance), the usual constant-time approximation of LRU: a hit only
 * sets the entry's `referenced` bit, and eviction sweeps a hand over the entries, sparing (and
 * clearing) referenced ones. Compared with an exact LRU list, a hit writes one field instead of
 * relinking three list nodes scattered in memory — on random point lookups over a large table
 * those pointer chases were cache misses. A newly inserted block starts unreferenced, so blocks
 * read once by a scan are the first to go (scan resistance).
 *
 * Tables keep the handle of each block they inserted or found (`CacheHandle`) and re-validate it
 * with `touch`, skipping the map lookups on the hot path.
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

/** One cached block. `block` is undefined once evicted. */
export class CacheHandle {
  referenced = false;
  /**
   * Only the cache can reach the block's bytes: its buffer is recycled at eviction. Cleared
   * (for good) when the block is handed to a reader that may keep views into it.
   */
  recyclable = false;
  constructor(
    readonly fileNumber: number,
    readonly offset: number,
    public block: Block | undefined,
    readonly charge: number,
    public slot: number,
  ) {}
}

export class BlockCache {
  readonly capacity: number;
  private used = 0;
  private readonly files = new Map<number, Map<number, CacheHandle>>();
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

  get(fileNumber: number, offset: number): Block | undefined {
    return this.lookup(fileNumber, offset)?.block;
  }

  /** The handle of a cached block (marking it referenced), or undefined. */
  lookup(fileNumber: number, offset: number): CacheHandle | undefined {
    const h = this.files.get(fileNumber)?.get(offset);
    if (h === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    h.referenced = true;
    return h;
  }

  /**
   * The block of a handle obtained earlier, if it is still cached. A handle whose block was
   * evicted counts nothing: the caller goes on to `lookup`, which counts the miss.
   */
  touch(h: CacheHandle): Block | undefined {
    const block = h.block;
    if (block === undefined) return undefined;
    this.hits++;
    h.referenced = true;
    return block;
  }

  /**
   * Adds a block (replacing any at the same key) and returns its handle; a block larger than the
   * whole cache is not kept (undefined).
   */
  insert(fileNumber: number, offset: number, block: Block, recyclable = false): CacheHandle | undefined {
    // A recyclable block's buffer came from `allocate` and is charged whole.
    const charge = recyclable ? block.data.buffer.byteLength + 160 : block.charge;
    if (charge > this.capacity) return undefined;
    let shard = this.files.get(fileNumber);
    if (shard === undefined) {
      shard = new Map();
      this.files.set(fileNumber, shard);
    }
    const old = shard.get(offset);
    if (old !== undefined) this.remove(old);
    const h = new CacheHandle(fileNumber, offset, block, charge, this.ring.length);
    h.recyclable = recyclable;
    shard.set(offset, h);
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

  /** Drops every block of one table (e.g. after the file is deleted). */
  evictFile(fileNumber: number): void {
    const shard = this.files.get(fileNumber);
    if (shard === undefined) return;
    for (const h of [...shard.values()]) this.remove(h);
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
    const shard = this.files.get(h.fileNumber);
    shard?.delete(h.offset);
    if (shard?.size === 0) this.files.delete(h.fileNumber);
    this.used -= h.charge;
  }
}
