/**
 * The compaction readahead layer returns exactly the bytes of the file underneath, for any
 * window size and any sequence of reads, while reaching that file only a window at a time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryFileSystem } from '@strata-db/vfs/testing';
import { MIN_READAHEAD_BYTES, READAHEAD_BUDGET_BYTES, READAHEAD_BYTES, ReadaheadFileSystem, readaheadWindowBytes } from './readahead.js';
import { POOL_SUPERBLOCK, POOL_UNIT, WindowPool } from './window-pool.js';

function fileOf(bytes: Uint8Array): { fs: MemoryFileSystem; calls: string[] } {
  const fs = new MemoryFileSystem();
  fs.mkdirSync('/d', { recursive: true });
  const fd = fs.openSync('/d/t', 'w');
  fs.writeSync(fd, bytes, 0, bytes.length, 0);
  fs.closeSync(fd);
  const calls: string[] = [];
  const counted = new Proxy(fs, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { fs: counted, calls };
}

describe('ReadaheadFileSystem', () => {
  it('reads the same bytes as the file, for any window and reads', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 3000 }),
        fc.integer({ min: 16, max: 1024 }),
        fc.array(fc.tuple(fc.nat(3200), fc.integer({ min: 1, max: 1500 })), { maxLength: 30 }),
        (bytes, window, reads) => {
          const { fs } = fileOf(bytes);
          const ra = new ReadaheadFileSystem(fs, window);
          const fd = ra.openSync('/d/t', 'r');
          expect(ra.fstatSync(fd).size).toBe(bytes.length);
          for (const [position, len] of reads) {
            const out = new Uint8Array(len);
            const n = ra.readSync(fd, out, 0, len, position);
            const want = bytes.subarray(Math.min(position, bytes.length), Math.min(position + len, bytes.length));
            expect(n).toBe(want.length);
            expect(out.subarray(0, n)).toEqual(want);
          }
          ra.closeSync(fd);
        },
      ),
    );
  });

  it('a table no larger than a window: open, fstat, one read, close — then every read is a copy; no descriptor held', () => {
    const bytes = new Uint8Array(5000).map((_, i) => i & 0xff);
    const { fs, calls } = fileOf(bytes);
    calls.length = 0;
    const ra = new ReadaheadFileSystem(fs, 8192);
    const fd = ra.openSync('/d/t', 'r');
    for (const [p, l] of [[4952, 48], [4000, 900], [0, 4096], [4096, 904]] as const) ra.readSync(fd, new Uint8Array(l), 0, l, p);
    ra.closeSync(fd);
    expect(calls).toEqual(['openSync', 'fstatSync', 'readSync', 'closeSync']);
  });

  it('a larger table: the footer read fills the window ending at the file end; data reads refill it front to back', () => {
    const bytes = new Uint8Array(10_000).map((_, i) => (i * 7) & 0xff);
    const { fs, calls } = fileOf(bytes);
    calls.length = 0;
    const ra = new ReadaheadFileSystem(fs, 4096);
    const fd = ra.openSync('/d/t', 'r');
    ra.readSync(fd, new Uint8Array(48), 0, 48, 10_000 - 48); // footer
    ra.readSync(fd, new Uint8Array(2000), 0, 2000, 7000); // index and filter, in the same window
    for (let p = 0; p < 7000; p += 1000) ra.readSync(fd, new Uint8Array(1000), 0, 1000, p);
    ra.closeSync(fd);
    // open/fstat/close, then one window at the end and two for the data [0, 7000).
    expect(calls.filter((c) => c === 'readSync')).toHaveLength(3);
    expect(ra.reads).toBe(3);
  });

  it('refills a window in place and hands a closed file\'s window to the next file: one window per file open at once', () => {
    const a = new Uint8Array(10_000).map((_, i) => (i * 7) & 0xff);
    const b = new Uint8Array(9_000).map((_, i) => (i * 13 + 5) & 0xff);
    const { fs } = fileOf(a);
    const fd0 = fs.openSync('/d/u', 'w');
    fs.writeSync(fd0, b, 0, b.length, 0);
    fs.closeSync(fd0);
    const ra = new ReadaheadFileSystem(fs, 1024);
    const check = (fd: number, bytes: Uint8Array, p: number, l: number): void => {
      const out = new Uint8Array(l);
      const n = ra.readSync(fd, out, 0, l, p);
      expect(out.subarray(0, n)).toEqual(bytes.subarray(p, Math.min(bytes.length, p + l)));
    };
    // Two files open at once, read front to back in turns: many refills, two windows.
    const fa = ra.openSync('/d/t', 'r');
    const fb = ra.openSync('/d/u', 'r');
    for (let p = 0; p < 10_000; p += 700) {
      check(fa, a, p, 700);
      if (p < 9_000) check(fb, b, p, 700);
    }
    expect(ra.reads).toBeGreaterThan(15);
    expect(ra.windowsAllocated).toBe(2);
    // Closed files' windows go to the next ones; what they read is the new file's bytes.
    ra.closeSync(fa);
    ra.closeSync(fb);
    for (let round = 0; round < 3; round++) {
      const fd = ra.openSync(round % 2 === 0 ? '/d/u' : '/d/t', 'r');
      const bytes = round % 2 === 0 ? b : a;
      for (let p = bytes.length - 1; p >= 0; p -= 1500) check(fd, bytes, Math.max(0, p - 100), 100);
      ra.closeSync(fd);
    }
    expect(ra.windowsAllocated).toBe(2);
  });

  it('runs collect once per collectEvery bytes copied out', () => {
    const bytes = new Uint8Array(50_000).map((_, i) => i & 0xff);
    const { fs } = fileOf(bytes);
    let collections = 0;
    const ra = new ReadaheadFileSystem(fs, 4096, () => collections++, 10_000);
    const fd = ra.openSync('/d/t', 'r');
    for (let p = 0; p < 50_000; p += 1000) ra.readSync(fd, new Uint8Array(1000), 0, 1000, p);
    ra.closeSync(fd);
    expect(ra.bytesCopied).toBe(50_000);
    expect(collections).toBe(5);
  });

  it('sizes windows so a wide merge holds no more than the budget, down to the minimum window', () => {
    expect(readaheadWindowBytes(1)).toBe(READAHEAD_BYTES);
    expect(readaheadWindowBytes(4)).toBe(READAHEAD_BYTES);
    for (const files of [5, 13, 20, 32]) {
      const w = readaheadWindowBytes(files);
      expect(w).toBeLessThan(READAHEAD_BYTES);
      expect(w * files).toBeLessThanOrEqual(READAHEAD_BUDGET_BYTES);
      expect(w * 2 * files).toBeGreaterThan(READAHEAD_BUDGET_BYTES); // the largest that fits
      expect(Number.isInteger(Math.log2(w))).toBe(true); // a size of the window pool's blocks
    }
    expect(readaheadWindowBytes(1000)).toBe(MIN_READAHEAD_BYTES);
  });

  it("takes its windows from the pool, gives them back at release, and the next job reuses them", () => {
    const size = 3 * POOL_UNIT + 12_345; // several windows' worth
    const bytes = new Uint8Array(size).map((_, i) => (i * 7) & 0xff);
    const { fs } = fileOf(bytes);
    const pool = new WindowPool(POOL_SUPERBLOCK);
    const job = (): void => {
      const ra = new ReadaheadFileSystem(fs, POOL_UNIT, undefined, undefined, pool);
      const a = ra.openSync('/d/t', 'r');
      const b = ra.openSync('/d/t', 'r');
      expect(pool.inUseBytes).toBe(0); // larger than a window: no read yet
      for (let p = 0; p < size; p += 5000) {
        for (const fd of [a, b]) {
          const out = new Uint8Array(100);
          const n = ra.readSync(fd, out, 0, 100, p);
          expect(out.subarray(0, n)).toEqual(bytes.subarray(p, p + n));
          // What a caller does with what it read never reaches the window (a copy).
          out.fill(0xee);
          const again = new Uint8Array(100);
          ra.readSync(fd, again, 0, 100, p);
          expect(again.subarray(0, n)).toEqual(bytes.subarray(p, p + n));
        }
      }
      expect(pool.inUseBytes).toBe(2 * POOL_UNIT); // one window per open file, from the pool
      ra.closeSync(a);
      ra.release(); // b still open: its window goes back too
      expect(pool.inUseBytes).toBe(0);
    };
    job();
    const resident = pool.residentBytes;
    job();
    expect(pool.residentBytes).toBe(resident); // the second job took the first one's windows
  });

  it('allocates windows of its own when the pool has none to give, and still reads right', () => {
    const bytes = new Uint8Array(4 * POOL_UNIT).map((_, i) => i & 0xff);
    const { fs } = fileOf(bytes);
    const pool = new WindowPool(POOL_SUPERBLOCK);
    const held = Array.from({ length: POOL_SUPERBLOCK / POOL_UNIT - 1 }, () => pool.take(POOL_UNIT)!); // room for one window left
    const ra = new ReadaheadFileSystem(fs, POOL_UNIT, undefined, undefined, pool);
    const fds = [ra.openSync('/d/t', 'r'), ra.openSync('/d/t', 'r'), ra.openSync('/d/t', 'r')];
    for (const [i, fd] of fds.entries()) {
      const out = new Uint8Array(64);
      ra.readSync(fd, out, 0, 64, i * POOL_UNIT + 3);
      expect(out).toEqual(bytes.subarray(i * POOL_UNIT + 3, i * POOL_UNIT + 67));
    }
    expect(pool.inUseBytes).toBe(POOL_SUPERBLOCK);
    ra.release();
    expect(pool.inUseBytes).toBe(POOL_SUPERBLOCK - POOL_UNIT);
    for (const h of held) pool.give(h);
  });
});
