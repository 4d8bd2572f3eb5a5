import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fsError, nodeFileSystem, type FileSystem } from '@strata-db/vfs';
import { DESCRIPTOR_BYTES, TableDescriptors } from './table-descriptors.js';

const FILES = 12;
let dir: string;
const contents: Buffer[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-descriptors-'));
  for (let i = 0; i < FILES; i++) {
    const b = Buffer.alloc(256 + i, i + 1);
    b.writeUInt32LE(i * 7919, 0);
    contents.push(b);
    writeFileSync(join(dir, `f${i}`), b);
  }
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/**
 * node:fs, counting the descriptors open now and the most ever open at once; with `processLimit`,
 * an open past that many live descriptors fails with EMFILE, as a process out of descriptors does.
 */
function countingFs(processLimit = Infinity): { fs: FileSystem; open: () => number; peak: () => number } {
  const live = new Set<number>();
  let peak = 0;
  const fs: FileSystem = {
    ...nodeFileSystem,
    openSync: (p, flags) => {
      if (live.size >= processLimit) throw fsError('EMFILE', 'open', p);
      const fd = nodeFileSystem.openSync(p, flags);
      live.add(fd);
      peak = Math.max(peak, live.size);
      return fd;
    },
    closeSync: (fd) => {
      live.delete(fd);
      nodeFileSystem.closeSync(fd);
    },
  };
  return { fs, open: () => live.size, peak: () => peak };
}

function read(pool: TableDescriptors, vfd: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  expect(pool.readSync(vfd, buf, 0, length, 0)).toBe(length);
  return buf;
}

describe('TableDescriptors', () => {
  it('never holds more real descriptors than its capacity, every read returns the right bytes, and the least recently read file is the one closed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.record({ op: fc.constantFrom('open', 'read', 'read', 'read', 'forget', 'stat'), file: fc.nat(FILES - 1) }), { maxLength: 120 }),
        (capacity, ops) => {
          const counting = countingFs();
          const pool = new TableDescriptors(counting.fs, capacity);
          const vfds = new Map<number, number>();
          // The model: files whose descriptor is open, least recently used first, and the opens.
          const model: number[] = [];
          let opens = 0;
          const use = (file: number, recent: boolean): void => {
            const at = model.indexOf(file);
            if (at >= 0 && !recent) return; // an open of an open file changes nothing
            if (at >= 0) model.splice(at, 1);
            else {
              if (model.length === capacity) model.shift();
              opens++;
            }
            model.push(file);
          };
          for (const { op, file } of ops) {
            const path = join(dir, `f${file}`);
            const vfd = vfds.get(file);
            if (op === 'forget' && vfd !== undefined) {
              const at = model.indexOf(file);
              if (at >= 0) model.splice(at, 1);
            } else use(file, op === 'read' && vfd !== undefined);
            if (op === 'open' || vfd === undefined) {
              const v = pool.openSync(path, 'r');
              if (vfd !== undefined) expect(v).toBe(vfd); // one virtual descriptor per live path
              vfds.set(file, v);
            } else if (op === 'read') {
              expect(read(pool, vfd, contents[file]!.length).equals(contents[file]!)).toBe(true);
            } else if (op === 'stat') {
              expect(pool.fstatSync(vfd).size).toBe(contents[file]!.length);
            } else {
              pool.forget(path);
              vfds.delete(file);
              expect(() => read(pool, vfd, 1)).toThrow(/EBADF/);
            }
            expect(counting.open()).toBe(pool.openCount);
            expect(pool.openCount).toBeLessThanOrEqual(capacity);
            // A record per live path, open or not (stats().memory.tableRecords).
            expect(pool.bytes).toBe([...vfds.keys()].reduce((n, f) => n + DESCRIPTOR_BYTES + join(dir, `f${f}`).length, 0));
            expect(pool.openCount).toBe(model.length);
            expect(pool.openCalls).toBe(opens);
          }
          expect(counting.peak()).toBeLessThanOrEqual(capacity);
          pool.closeAll();
          expect(counting.open()).toBe(0);
        },
      ),
    );
  });

  it('keeps a hot file open while cold ones take turns (least recently read goes first)', () => {
    const counting = countingFs();
    const pool = new TableDescriptors(counting.fs, 2);
    const hot = pool.openSync(join(dir, 'f0'), 'r');
    for (let i = 1; i < FILES; i++) {
      read(pool, hot, 4);
      const cold = pool.openSync(join(dir, `f${i}`), 'r');
      read(pool, cold, 4);
    }
    // f0 was opened once, each cold file once: the hot one was never evicted.
    expect(pool.openCalls).toBe(FILES);
    pool.closeAll();
  });

  it('when the process runs out of descriptors first, gives some back and keeps the smaller capacity; every read is served', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 8 }), fc.array(fc.nat(FILES - 1), { minLength: 1, maxLength: 60 }), (processLimit, capacity, files) => {
        const counting = countingFs(processLimit);
        const shrinks: number[] = [];
        const pool = new TableDescriptors(counting.fs, capacity, undefined, (c, err) => {
          expect(err).toMatchObject({ code: 'EMFILE' });
          shrinks.push(c);
        });
        const vfds = new Map<number, number>();
        for (const file of files) {
          const vfd = vfds.get(file) ?? pool.openSync(join(dir, `f${file}`), 'r');
          vfds.set(file, vfd);
          expect(read(pool, vfd, contents[file]!.length).equals(contents[file]!)).toBe(true);
          expect(pool.openCount).toBeLessThanOrEqual(Math.min(processLimit, capacity));
          expect(pool.openCount).toBeLessThanOrEqual(pool.capacity);
        }
        // It shrank only when the process limit was below its own, and to exactly that limit.
        const distinct = new Set(files).size;
        if (processLimit < capacity && distinct > processLimit) {
          expect(shrinks).toEqual([processLimit]);
          expect(pool.capacity).toBe(processLimit);
        } else {
          expect(shrinks).toEqual([]);
          expect(pool.capacity).toBe(capacity);
        }
        expect(counting.peak()).toBeLessThanOrEqual(processLimit);
        pool.closeAll();
        expect(counting.open()).toBe(0);
      }),
    );
  });

  it('with no descriptor of its own to give back, reports EMFILE and records nothing', () => {
    const pool = new TableDescriptors(countingFs(0).fs, 4);
    expect(() => pool.openSync(join(dir, 'f1'), 'r')).toThrow(/EMFILE/);
    expect(pool.openCount).toBe(0);
    expect(pool.capacity).toBe(4);
  });

  it('reports a failed open as the file layer does and records nothing', () => {
    const pool = new TableDescriptors(nodeFileSystem, 2);
    expect(() => pool.openSync(join(dir, 'missing'), 'r')).toThrow(/ENOENT/);
    expect(pool.openCount).toBe(0);
  });
});
