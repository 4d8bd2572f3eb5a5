/**
 * Sequential reads for compaction: a file layer that serves table reads from one large window
 * per descriptor instead of one `pread` per 4 KiB block.
 *
 * A compaction reads each input table front to back, block after block. Through the table
 * reader alone that is one synchronous `readSync` per block (~78k calls in a 1M-entry fill's
 * compactions). Here a read outside the descriptor's window refills the window with one read of
 * WINDOW bytes starting at the requested offset; the following blocks are then copies out of
 * memory. Reads past the window's end (open's footer/index reads, or a block larger than the
 * window) go straight through. The window is not a cache: it holds one stretch of one file,
 * and is dropped with the descriptor, so compaction never fills the read path's block cache
 * (the tables it opens through this layer have no block cache at all).
 *
 * Only reads are wrapped; every other call goes to the layer underneath unchanged, so the
 * fault-injecting layer of the tests still sees (and can fail) every real read.
 */
import type { TableFileSystem } from '@strata-db/sstable-core';

/** Bytes read ahead at once: large enough that the syscall cost vanishes, small next to a 2 MiB table. */
export const READAHEAD_BYTES = 512 * 1024;

/** Far above any real descriptor number, so a virtual one passed to the real layer fails loudly. */
const FIRST_VIRTUAL_FD = 0x5000_0000;

interface File {
  readonly path: string;
  readonly size: number;
  /** The window: `length` valid bytes of the file from offset `start` (allocated on first read, at most the file's size). */
  buf: Uint8Array | undefined;
  start: number;
  length: number;
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

  constructor(
    private readonly base: TableFileSystem,
    private readonly windowBytes = READAHEAD_BYTES,
  ) {}

  openSync(path: string, flags: 'r' | 'r+' | 'w' | 'wx' | 'a'): number {
    if (flags !== 'r') throw new Error(`internal error: the readahead layer only reads (open ${path} with ${flags})`);
    const fd = this.base.openSync(path, 'r');
    let size: number;
    try {
      size = this.base.fstatSync(fd).size;
    } finally {
      this.base.closeSync(fd);
    }
    const v = this.nextFd++;
    this.files.set(v, { path, size, buf: undefined, start: 0, length: 0 });
    return v;
  }

  closeSync(fd: number): void {
    this.files.delete(fd);
  }

  fstatSync(fd: number): { size: number } {
    return { size: this.file(fd).size };
  }

  readSync(fd: number, buf: Uint8Array, off: number, len: number, position: number): number {
    const f = this.file(fd);
    if (f.buf !== undefined && position >= f.start && position + len <= f.start + f.length) {
      buf.set(f.buf.subarray(position - f.start, position - f.start + len), off);
      return len;
    }
    if (len >= this.windowBytes) return this.readReal(f, buf, off, len, position);
    f.buf ??= new Uint8Array(Math.min(this.windowBytes, Math.max(f.size, len)));
    const want = Math.min(f.buf.length, Math.max(len, f.size - position));
    f.start = position;
    f.length = 0;
    const n = this.readReal(f, f.buf, 0, want, position);
    f.length = n;
    const copied = Math.min(len, n);
    buf.set(f.buf.subarray(0, copied), off);
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

  private file(fd: number): File {
    const f = this.files.get(fd);
    if (f === undefined) throw new Error(`internal error: readahead descriptor ${fd} is not open`);
    return f;
  }

  /** Opens the file, reads [position, position + len) (fewer bytes at its end), closes it. */
  private readReal(f: File, buf: Uint8Array, off: number, len: number, position: number): number {
    const fd = this.base.openSync(f.path, 'r');
    try {
      let n = 0;
      while (n < len) {
        this.reads++;
        const got = this.base.readSync(fd, buf, off + n, len - n, position + n);
        if (got === 0) break;
        n += got;
      }
      return n;
    } finally {
      this.base.closeSync(fd);
    }
  }
}
