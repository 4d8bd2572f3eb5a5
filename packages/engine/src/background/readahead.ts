/**
 * Sequential reads for compaction: a file layer that serves table reads from one large window
 * per descriptor instead of one `pread` per 4 KiB block.
 *
 * A compaction reads each input table front to back, block after block. Through the table
 * reader alone that is one synchronous `readSync` per block (~78k calls in a 1M-entry fill's
 * compactions). Here a table no larger than a window is read whole when it is opened (one
 * open, fstat, read and close: the table reader's footer, index, filter and data reads are then
 * all copies), and in a larger one a read outside the descriptor's window refills the window
 * with one read of WINDOW bytes from the requested offset — or ending at the file's end, so that
 * the footer read also brings the index and filter. A read larger than the window goes straight
 * through. The window is not a cache: it holds one stretch of one file,
 * and is dropped with the descriptor, so compaction never fills the read path's block cache
 * (the tables it opens through this layer have no block cache at all).
 *
 * Only reads are wrapped; every other call goes to the layer underneath unchanged, so the
 * fault-injecting layer of the tests still sees (and can fail) every real read.
 *
 * Memory: a window is refilled in place, and a closed file's window goes to the next file this
 * layer opens (every read is a copy out of the window, so nothing outside refers to it). A job
 * takes one window per file it holds open at once (its L0 inputs, one table per sorted level),
 * not one per refill, from the thread's window pool (window-pool.ts: outside malloc, kept from
 * job to job; `release` gives them back at the job's end), and allocates one of its own only when
 * the pool has none to give: each allocation is garbage the thread's collector must find, and
 * V8 lets ~64 MiB of dead ArrayBuffers pile up before it looks (a 1M fill's compactions read
 * ~200 MB). What the table reader copies out (its blocks) is counted in `bytesCopied`, and every
 * `collectEvery` bytes `collect` runs: in a worker, its pacer's check (garbage-pace.ts), which
 * collects once the thread's ArrayBuffers have grown by 1 MiB since its last collection.
 */
import type { TableFileSystem } from '@strata-db/sstable-core';
import { readAt } from '@strata-db/vfs';
import { threadWindowPool, type WindowPool } from './window-pool.js';

/** Bytes read ahead at once: large enough that the syscall cost vanishes, small next to a 2 MiB table. */
export const READAHEAD_BYTES = 512 * 1024;
/**
 * Most bytes of windows one compaction holds at once: 4 full windows (2 MiB). A merge of more
 * tables (an L0→L1 compaction takes every L0 table, up to l0StopWritesTrigger of them) gets
 * smaller windows instead of more memory (readaheadWindowBytes): the fill's peak RSS stayed
 * where it was when L0 stopped at 12 tables (README, "Write path, stalls and flush").
 */
export const READAHEAD_BUDGET_BYTES = 4 * READAHEAD_BYTES;
/** The smallest window: 16 blocks of 4 KiB, still one syscall per 64 KiB. */
export const MIN_READAHEAD_BYTES = 64 * 1024;

/**
 * The window for a job that holds `filesOpenAtOnce` input tables open together (its L0 inputs
 * and one table per sorted level): READAHEAD_BYTES, or less so that the windows together stay
 * within READAHEAD_BUDGET_BYTES, but never below MIN_READAHEAD_BYTES. A wide L0→L1 merge (up
 * to l0StopWritesTrigger tables) thus costs little more memory than a narrow one: past 32
 * tables, 64 KiB a table (72 tables: ~4.6 MiB). A power of two (64, 128, 256 or 512 KiB): the
 * sizes of the thread's window pool (window-pool.ts), whose blocks of one size split into and
 * merge from the others.
 */
export function readaheadWindowBytes(filesOpenAtOnce: number): number {
  const share = Math.floor(READAHEAD_BUDGET_BYTES / Math.max(1, filesOpenAtOnce));
  let w = READAHEAD_BYTES;
  while (w > MIN_READAHEAD_BYTES && w > share) w /= 2;
  return w;
}
/** Bytes copied out between two calls of `collect` (a cheap check of the worker's pacer, garbage-pace.ts). */
export const COLLECT_EVERY_BYTES = 1024 * 1024;

/** Far above any real descriptor number, so a virtual one passed to the real layer fails loudly. */
const FIRST_VIRTUAL_FD = 0x5000_0000;

interface File {
  readonly path: string;
  size: number;
  /** The window: bytes of the file from offset `start` (fewer than a window at the file's end); a view of `buffer`. */
  window: Uint8Array | undefined;
  start: number;
  /** The window's storage (`windowBytes` long), refilled in place; back to the layer at close. */
  buffer: Uint8Array | undefined;
}

/**
 * Descriptors: the tables a compaction reads get VIRTUAL descriptors. The real one is opened
 * for each window fill and closed right after, so a compaction holds no input descriptor
 * between reads — however many L0 inputs it merges — and `maxOpenFiles` (the table cache's
 * bound, db/open.ts) stays the process's bound: a worker thread's compaction adds at most one
 * descriptor at a time. (One open and close per 512 KiB read is noise next to the read.)
 */
export class ReadaheadFileSystem implements TableFileSystem {
  private readonly files = new Map<number, File>();
  private nextFd = FIRST_VIRTUAL_FD;
  /** Real reads issued (for stats and tests). */
  reads = 0;
  /** Window buffers allocated or taken from the pool (for tests: one per file open at once, not one per refill). */
  windowsAllocated = 0;
  /** Bytes copied out to the table reader (its block buffers: what its reads allocate). */
  bytesCopied = 0;
  /** The layer underneath, its reads counted. */
  private readonly counted: Pick<TableFileSystem, 'readSync'>;
  /** Windows of closed files, for the next ones. */
  private readonly spare: Uint8Array[] = [];
  private sinceCollect = 0;

  /**
   * `collect`: run after every `collectEvery` bytes copied out (default: never), so that the
   * blocks the table reader allocated and dropped are freed at that pace (garbage-pace.ts).
   */
  constructor(
    private readonly base: TableFileSystem,
    private readonly windowBytes = READAHEAD_BYTES,
    private readonly collect?: () => void,
    private readonly collectEvery = COLLECT_EVERY_BYTES,
    private readonly pool: WindowPool = threadWindowPool,
  ) {
    this.counted = {
      readSync: (fd, buf, off, len, position) => {
        this.reads++;
        return base.readSync(fd, buf, off, len, position);
      },
    };
  }

  openSync(path: string, flags: 'r' | 'r+' | 'w' | 'wx' | 'a'): number {
    if (flags !== 'r') throw new Error(`internal error: the readahead layer only reads (open ${path} with ${flags})`);
    const fd = this.base.openSync(path, 'r');
    const f: File = { path, size: 0, window: undefined, start: 0, buffer: undefined };
    try {
      f.size = this.base.fstatSync(fd).size;
      // A table no larger than a window (most L0 tables, every small one) is read whole now,
      // while the descriptor is open: the footer, index and data reads that follow are copies.
      if (f.size <= this.windowBytes) f.window = readAt(this.counted, fd, 0, f.size, this.windowOf(f));
    } catch (err) {
      this.giveBack(f);
      throw err;
    } finally {
      this.base.closeSync(fd);
    }
    const v = this.nextFd++;
    this.files.set(v, f);
    return v;
  }

  closeSync(fd: number): void {
    const f = this.files.get(fd);
    this.files.delete(fd);
    if (f !== undefined) this.giveBack(f);
  }

  fstatSync(fd: number): { size: number } {
    return { size: this.file(fd).size };
  }

  readSync(fd: number, buf: Uint8Array, off: number, len: number, position: number): number {
    const f = this.file(fd);
    let w = f.window;
    if (w === undefined || position < f.start || position + len > f.start + w.length) {
      if (len >= this.windowBytes) {
        // Straight into the caller's buffer: no window, no copy.
        const n = this.readReal(f, position, len, buf.subarray(off, off + len)).length;
        this.copiedOut(n);
        return n;
      }
      // The window ends at the file's end at most: the footer read at open then also brings
      // the index and filter before it, and the last window of the data is full.
      const start = Math.max(0, Math.min(position, f.size - this.windowBytes));
      f.window = undefined; // unset until the read succeeds: the buffer is being overwritten
      w = this.readReal(f, start, Math.min(this.windowBytes, Math.max(position + len, f.size) - start), this.windowOf(f));
      f.window = w;
      f.start = start;
    }
    const from = Math.min(w.length, position - f.start);
    const copied = Math.max(0, Math.min(len, w.length - from));
    buf.set(w.subarray(from, from + copied), off);
    this.copiedOut(copied);
    return copied;
  }

  writeSync(): number {
    throw new Error('internal error: the readahead layer only reads');
  }

  fsync(): Promise<void> {
    return Promise.reject(new Error('internal error: the readahead layer only reads'));
  }

  unlinkSync(path: string): void {
    this.base.unlinkSync(path);
  }

  /**
   * The job is over: every window goes back to the pool it came from (or to the collector), and
   * a descriptor still open is closed. Nothing this layer read may be used afterwards — nothing
   * is: every read was a copy.
   */
  release(): void {
    for (const f of this.files.values()) this.giveBack(f);
    this.files.clear();
    for (const b of this.spare) if (this.pool.owns(b)) this.pool.give(b);
    this.spare.length = 0;
  }

  private file(fd: number): File {
    const f = this.files.get(fd);
    if (f === undefined) throw new Error(`internal error: readahead descriptor ${fd} is not open`);
    return f;
  }

  /** `f`'s window buffer: its own, a closed file's, or a new one. */
  private windowOf(f: File): Uint8Array {
    if (f.buffer === undefined) {
      f.buffer = this.spare.pop();
      if (f.buffer === undefined) {
        f.buffer = this.pool.take(this.windowBytes) ?? new Uint8Array(this.windowBytes);
        this.windowsAllocated++;
      }
    }
    return f.buffer;
  }

  private giveBack(f: File): void {
    if (f.buffer !== undefined) this.spare.push(f.buffer);
    f.buffer = undefined;
    f.window = undefined;
  }

  private copiedOut(n: number): void {
    this.bytesCopied += n;
    if (this.collect === undefined) return;
    this.sinceCollect += n;
    if (this.sinceCollect >= this.collectEvery) {
      this.sinceCollect = 0;
      this.collect();
    }
  }

  /** Opens the file, reads [position, position + len) (fewer bytes at its end) into `into`, closes it. */
  private readReal(f: File, position: number, len: number, into: Uint8Array): Uint8Array {
    const fd = this.base.openSync(f.path, 'r');
    try {
      return readAt(this.counted, fd, position, len, into);
    } finally {
      this.base.closeSync(fd);
    }
  }
}
