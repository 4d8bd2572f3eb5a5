/**
 * Compaction's readahead windows (readahead.ts) come from here: memory that is not malloc's,
 * kept from one job to the next, and given back to the system when the thread ends.
 *
 * Why: a background worker's buffers are malloc'd in its thread's glibc arena, and glibc keeps
 * what a worker freed there resident — it trims an arena only from its top, and a few small
 * chunks still in use high up pin everything below them — where the main thread cannot reuse it
 * (docs/performance/session-25.md; session-26.md measured it with gdb: after a 1M fill a
 * worker that had ended left a 9.8 MB arena with 0.2 MB in use, 9.6 MB free and resident). Each
 * compaction allocated its windows afresh (up to READAHEAD_BUDGET_BYTES, zero-filled) and dropped
 * them at its end, so a worker's arena had to hold one job's windows plus the last job's, not yet
 * collected. Here the windows live in one WebAssembly.Memory per thread instead: V8 maps it with
 * mmap, outside malloc, and unmaps it with the thread's isolate, so an ended worker's windows
 * leave nothing behind; and a job takes the windows the previous one gave back.
 *
 * Layout: the Memory is reserved at `maxBytes` up front (growing one detaches every view of it)
 * — reserved, not resident: a page becomes resident when first written and stays so until the
 * thread ends. A buddy allocator hands out blocks of POOL_UNIT × 2^k bytes (64 to 512 KiB, the
 * window sizes readaheadWindowBytes gives); superblocks of POOL_SUPERBLOCK bytes are carved in
 * address order and a block merges with its free buddy when given back, so what is resident is
 * about the most bytes of windows in use at once. When the pool is full, or the runtime has no
 * WebAssembly.Memory, `take` answers undefined and the caller allocates a buffer of its own.
 *
 * A block handed out is the taker's alone until given back (a window is refilled in place and
 * read only through copies: readahead.ts); giving back a block twice, or one the pool did not
 * hand out, is an internal error.
 */
import { invariant } from '@strata-db/errors';

/** The smallest block, bytes (a WebAssembly page). */
export const POOL_UNIT = 64 * 1024;
/** Block sizes: POOL_UNIT << 0 … POOL_UNIT << (ORDERS - 1). */
const ORDERS = 4;
/** The largest block, bytes: 512 KiB, the largest readahead window. */
export const POOL_SUPERBLOCK = POOL_UNIT << (ORDERS - 1);
/**
 * The most a thread's pool holds, bytes (reserved address space; resident only as used): 8 full
 * windows — a worker running two ranges of a subcompaction side by side, each at its budget —
 * or 128 of the smallest (a wide L0 merge takes more windows than that only past 128 inputs).
 */
export const MAX_POOL_BYTES = 8 * 1024 * 1024;

/** The part of WebAssembly.Memory used here (the engine's TypeScript library has no WebAssembly types). */
type WasmMemory = new (descriptor: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer };

/** k such that bytes = POOL_UNIT << k, or -1. */
function orderOf(bytes: number): number {
  for (let k = 0; k < ORDERS; k++) if (bytes === POOL_UNIT << k) return k;
  return -1;
}

export class WindowPool {
  /** The Memory's buffer; undefined before the first take, null where it could not be made. */
  private memory: ArrayBuffer | null | undefined;
  /** Free blocks' offsets, by order. */
  private readonly free: Set<number>[] = Array.from({ length: ORDERS }, () => new Set<number>());
  /** Blocks handed out: offset → order. */
  private readonly taken = new Map<number, number>();
  private superblocks = 0;
  /** Bytes handed out and not given back. */
  inUseBytes = 0;

  constructor(private readonly maxBytes = MAX_POOL_BYTES) {}

  /** Bytes of the pool ever handed out (its resident part, until the thread ends): what stats report. */
  get residentBytes(): number {
    return this.superblocks * POOL_SUPERBLOCK;
  }

  /** A block of `bytes` (a power of two from POOL_UNIT to POOL_SUPERBLOCK), or undefined: the pool is full, has no memory, or has no block of that size. */
  take(bytes: number): Uint8Array | undefined {
    const order = orderOf(bytes);
    if (order < 0) return undefined;
    const mem = this.buffer();
    if (mem === null) return undefined;
    let o = order;
    while (o < ORDERS && this.free[o]!.size === 0) o++;
    let off: number;
    if (o === ORDERS) {
      if ((this.superblocks + 1) * POOL_SUPERBLOCK > Math.min(this.maxBytes, mem.byteLength)) return undefined;
      off = this.superblocks++ * POOL_SUPERBLOCK;
      o = ORDERS - 1;
    } else {
      // The lowest free block of that size: what is resident stays packed at the start.
      off = Infinity;
      for (const f of this.free[o]!) off = Math.min(off, f);
      this.free[o]!.delete(off);
    }
    // Split down to the size asked for; the upper halves become free.
    while (o > order) {
      o--;
      this.free[o]!.add(off + (POOL_UNIT << o));
    }
    this.taken.set(off, order);
    this.inUseBytes += bytes;
    return new Uint8Array(mem, off, bytes);
  }

  /** True when `buf` is a block this pool handed out (and not yet given back). */
  owns(buf: Uint8Array): boolean {
    return this.memory != null && buf.buffer === this.memory && this.taken.get(buf.byteOffset) === orderOf(buf.byteLength);
  }

  /** Gives back a block `take` handed out: nothing may use it afterwards. */
  give(buf: Uint8Array): void {
    invariant(this.owns(buf), 'a window given back to the pool that did not hand it out (or given back twice)');
    let off = buf.byteOffset;
    let order = this.taken.get(off)!;
    this.taken.delete(off);
    this.inUseBytes -= POOL_UNIT << order;
    while (order < ORDERS - 1) {
      const buddy = off ^ (POOL_UNIT << order);
      if (!this.free[order]!.delete(buddy)) break;
      off = Math.min(off, buddy);
      order++;
    }
    this.free[order]!.add(off);
  }

  private buffer(): ArrayBuffer | null {
    if (this.memory === undefined) {
      try {
        const pages = Math.floor(this.maxBytes / POOL_UNIT);
        const Memory = (globalThis as { WebAssembly?: { Memory: WasmMemory } }).WebAssembly?.Memory;
        this.memory = pages > 0 && Memory !== undefined ? new Memory({ initial: pages, maximum: pages }).buffer : null;
      } catch {
        this.memory = null; // no address space for it: windows of their own
      }
    }
    return this.memory;
  }
}

/** This thread's pool: every compaction run on the thread takes its windows from it. */
export const threadWindowPool = new WindowPool();
