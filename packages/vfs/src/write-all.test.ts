import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crossesThreads, type FileSystem } from './file-system.js';
import { isFsError } from './fs-error.js';
import { nodeFileSystem } from './node-file-system.js';
import { MemoryFileSystem } from './testing/memory-file-system.js';
import { FaultInjectingFileSystem } from './testing/fault-injecting-file-system.js';
import { closeQuietly, writeAll, writeAllOffThread } from './write-all.js';

/** A layer whose writes hand over at most `chunk` bytes, then `stuckAfter` calls return `stuckWith`. */
function stingyWriter(chunk: number, stuckAfter = Infinity, stuckWith = 0) {
  const mem = new MemoryFileSystem();
  let calls = 0;
  const fs: Pick<FileSystem, 'writeSync'> = {
    writeSync: (fd, buf, off, len, position) => {
      if (++calls > stuckAfter) return stuckWith;
      return mem.writeSync(fd, buf, off, Math.min(len, chunk), position);
    },
  };
  return { mem, fs, calls: () => calls };
}

const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i & 0xff);

describe('writeAll', () => {
  it('loops over short writes until the whole buffer is at its position', () => {
    const { mem, fs, calls } = stingyWriter(3);
    const fd = mem.openSync('/f', 'w');
    mem.writeSync(fd, bytes(5), 0, 5, 0);
    writeAll(fs, fd, bytes(10), 5, '/f');
    expect(calls()).toBe(4); // 3 + 3 + 3 + 1
    expect([...mem.readFileSync('/f')]).toEqual([...bytes(5), ...bytes(10)]);
  });

  it('writes nothing and makes no call for an empty buffer', () => {
    const { mem, fs, calls } = stingyWriter(3);
    writeAll(fs, mem.openSync('/f', 'w'), new Uint8Array(0), 0);
    expect(calls()).toBe(0);
  });

  for (const stuckWith of [0, -1, Number.NaN]) {
    it(`throws EIO instead of spinning when a write returns ${stuckWith}`, () => {
      const { mem, fs, calls } = stingyWriter(4, 2, stuckWith);
      const fd = mem.openSync('/f', 'w');
      let caught: unknown;
      try {
        writeAll(fs, fd, bytes(20), 100, '/db/MANIFEST-000001');
      } catch (err) {
        caught = err;
      }
      expect(calls()).toBe(3); // two writes of 4 bytes, then the one that made no progress
      expect(isFsError(caught, 'EIO')).toBe(true);
      const err = caught as Error & { path?: string; syscall?: string };
      expect(err.syscall).toBe('write');
      expect(err.path).toBe('/db/MANIFEST-000001');
      expect(err.message).toContain(`write returned ${stuckWith} of 12 bytes at offset 108`);
      expect(mem.readFileSync('/f').length).toBe(108); // what was written stays
    });
  }

  it('passes the layer’s own error through unchanged', () => {
    const mem = new MemoryFileSystem();
    const fs = new FaultInjectingFileSystem(mem, { rules: [{ op: 'write', nth: 1, code: 'ENOSPC' }] });
    const fd = fs.openSync('/f', 'w');
    expect(() => {
      writeAll(fs, fd, bytes(8), 0);
    }).toThrow(expect.objectContaining({ code: 'ENOSPC', syscall: 'write' }));
  });

  it('writes a whole buffer to a real file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-vfs-'));
    try {
      const path = join(dir, 'f');
      const fd = nodeFileSystem.openSync(path, 'w');
      writeAll(nodeFileSystem, fd, bytes(70_000), 0, path);
      nodeFileSystem.closeSync(fd);
      expect(readFileSync(path).equals(Buffer.from(bytes(70_000)))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('writeAllOffThread', () => {
  /** A layer whose thread-pool writes hand over at most `chunk` bytes, then `stuckAfter` calls return `stuckWith`. */
  function stingyPool(chunk: number, stuckAfter = Infinity, stuckWith = 0) {
    const mem = new MemoryFileSystem();
    let calls = 0;
    const fs: Pick<FileSystem, 'writeSync' | 'write'> = {
      writeSync: () => {
        throw new Error('writeSync called although the layer has write');
      },
      write: async (fd, buf, off, len, position) => {
        await Promise.resolve();
        if (++calls > stuckAfter) return stuckWith;
        return mem.writeSync(fd, buf, off, Math.min(len, chunk), position);
      },
    };
    return { mem, fs, calls: () => calls };
  }

  it('loops over short writes of the layer’s write until the whole buffer is at its position', async () => {
    const { mem, fs, calls } = stingyPool(3);
    const fd = mem.openSync('/f', 'w');
    mem.writeSync(fd, bytes(5), 0, 5, 0);
    await writeAllOffThread(fs, fd, bytes(10), 5, '/f');
    expect(calls()).toBe(4);
    expect([...mem.readFileSync('/f')]).toEqual([...bytes(5), ...bytes(10)]);
  });

  it('rejects with EIO instead of spinning when a write returns 0', async () => {
    const { mem, fs, calls } = stingyPool(4, 2);
    const fd = mem.openSync('/f', 'w');
    const caught: unknown = await writeAllOffThread(fs, fd, bytes(20), 100, '/db/000007.wal').catch((err: unknown) => err);
    expect(calls()).toBe(3);
    expect(isFsError(caught, 'EIO')).toBe(true);
    expect((caught as Error).message).toContain('write returned 0 of 12 bytes at offset 108');
  });

  it('uses writeSync on a layer without write (the fault injector sees the write, in order)', async () => {
    const mem = new MemoryFileSystem();
    const fs = new FaultInjectingFileSystem(mem, { rules: [{ op: 'write', nth: 1, code: 'ENOSPC' }] });
    const fd = fs.openSync('/f', 'w');
    await expect(writeAllOffThread(fs, fd, bytes(8), 0)).rejects.toThrow(expect.objectContaining({ code: 'ENOSPC', syscall: 'write' }));
  });

  it('writes a whole buffer to a real file through the thread pool', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-vfs-'));
    try {
      const path = join(dir, 'f');
      const fd = nodeFileSystem.openSync(path, 'w');
      let sync = 0;
      await writeAllOffThread({ write: (...a) => nodeFileSystem.write!(...a), writeSync: (...a) => (sync++, nodeFileSystem.writeSync(...a)) }, fd, bytes(200_000), 3, path);
      nodeFileSystem.closeSync(fd);
      expect(sync).toBe(0);
      expect(readFileSync(path).equals(Buffer.concat([Buffer.alloc(3), Buffer.from(bytes(200_000))]))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('closeQuietly', () => {
  it('closes, and swallows the error of a close that fails', () => {
    const mem = new MemoryFileSystem();
    const fd = mem.openSync('/f', 'w');
    closeQuietly(mem, fd);
    expect(mem.openFiles()).toEqual([]);
    expect(() => {
      closeQuietly(mem, fd); // EBADF now
    }).not.toThrow();
  });
});

describe('crossesThreads', () => {
  it('is true for the real disk only, also for a copy carrying its brand', () => {
    expect(crossesThreads(nodeFileSystem)).toBe(true);
    expect(crossesThreads({ ...nodeFileSystem })).toBe(true);
    expect(crossesThreads(new MemoryFileSystem())).toBe(false);
    expect(crossesThreads(new FaultInjectingFileSystem(nodeFileSystem))).toBe(false);
  });
});
