import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FileSystem } from '../file-system.js';
import { nodeFileSystem } from '../node-file-system.js';
import { MemoryFileSystem } from './memory-file-system.js';
import { POWER_CUT_MODES } from './power-cut.js';

const te = new TextEncoder();
const td = new TextDecoder();
const bytes = (s: string): Uint8Array => te.encode(s);
const text = (b: Uint8Array): string => td.decode(b);

function write(fs: FileSystem, fd: number, s: string, position: number | null = null): void {
  const b = bytes(s);
  fs.writeSync(fd, b, 0, b.length, position);
}

function readAll(fs: FileSystem, path: string): string {
  return text(fs.readFileSync(path));
}

/** The real disk (readdir sorted: its order is the directory's), to check that the in-memory layer behaves the same. */
const realFs: FileSystem = { ...nodeFileSystem, readdirSync: (d) => nodeFileSystem.readdirSync(d).sort() };

/** A script of calls whose observable results must be the same on both layers. */
async function script(fs: FileSystem, root: string): Promise<unknown[]> {
  const out: unknown[] = [];
  const attempt = (f: () => unknown): void => {
    try {
      out.push(f());
    } catch (err) {
      out.push(`error ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  };
  const p = (n: string): string => join(root, n);
  fs.mkdirSync(p('a/b'), { recursive: true });
  fs.mkdirSync(p('a/b'), { recursive: true }); // again: no error
  attempt(() => fs.openSync(p('missing'), 'r'));
  attempt(() => fs.openSync(p('nodir/x'), 'w'));
  const fd = fs.openSync(p('a/f'), 'wx');
  attempt(() => fs.openSync(p('a/f'), 'wx'));
  write(fs, fd, 'hello');
  write(fs, fd, ' world');
  write(fs, fd, 'J', 6);
  write(fs, fd, '!', 20); // past the end: a hole of zeros
  out.push(fs.fstatSync(fd).size);
  attempt(() => fs.readSync(fd, new Uint8Array(4), 0, 4, 0)); // 'w' is write-only
  await fs.fsync(fd);
  await fs.fdatasync(fd);
  fs.closeSync(fd);
  attempt(() => {
    fs.closeSync(fd);
  });
  out.push(Array.from(fs.readFileSync(p('a/f'))));
  const r = fs.openSync(p('a/f'), 'r');
  const buf = new Uint8Array(8);
  out.push(fs.readSync(r, buf, 2, 5, 6), text(buf.subarray(2, 7)));
  out.push(fs.readSync(r, buf, 0, 8, 100));
  attempt(() => fs.writeSync(r, bytes('x'), 0, 1, 0));
  fs.closeSync(r);
  const a = fs.openSync(p('a/log'), 'a');
  write(fs, a, 'one');
  write(fs, a, 'two', 0); // append mode ignores the position
  fs.closeSync(a);
  const a2 = fs.openSync(p('a/log'), 'a');
  write(fs, a2, 'three');
  fs.closeSync(a2);
  out.push(readAll(fs, p('a/log')));
  const rw = fs.openSync(p('a/log'), 'r+');
  write(fs, rw, 'ONE', 0);
  fs.ftruncateSync(rw, 8);
  out.push(fs.fstatSync(rw).size);
  fs.closeSync(rw);
  out.push(readAll(fs, p('a/log')));
  const w = fs.openSync(p('a/log'), 'w'); // truncates
  out.push(fs.fstatSync(w).size);
  // An fd follows the inode through a rename and an unlink.
  fs.renameSync(p('a/log'), p('a/b/moved'));
  write(fs, w, 'after-rename');
  out.push(readAll(fs, p('a/b/moved')));
  fs.unlinkSync(p('a/b/moved'));
  write(fs, w, '+');
  out.push(fs.fstatSync(w).size);
  fs.closeSync(w);
  attempt(() => {
    fs.unlinkSync(p('a/b/moved'));
  });
  attempt(() => {
    fs.renameSync(p('a/none'), p('a/x'));
  });
  // rename replaces an existing target
  const t = fs.openSync(p('a/tmp'), 'w');
  write(fs, t, 'new');
  fs.closeSync(t);
  fs.renameSync(p('a/tmp'), p('a/f'));
  out.push(readAll(fs, p('a/f')));
  await fs.fsyncDir(p('a'));
  out.push(fs.readdirSync(p('a')), fs.readdirSync(p('a/b')));
  attempt(() => fs.readdirSync(p('zzz')));
  out.push(fs.existsSync(p('a')), fs.existsSync(p('a/f')), fs.existsSync(p('a/tmp')));
  attempt(() => fs.readFileSync(p('a/tmp')));
  attempt(() => fs.readFileSync(p('a')));
  return out;
}

describe('MemoryFileSystem behaves like node:fs', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('gives the same results, errors and contents for one script of calls', async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-memfs-'));
    const real = await script(realFs, dir);
    const mem = await script(new MemoryFileSystem(), '/root');
    expect(mem).toEqual(real);
  });
});

describe('MemoryFileSystem power cuts', () => {
  async function fresh(): Promise<MemoryFileSystem> {
    const fs = new MemoryFileSystem();
    fs.mkdirSync('/db', { recursive: true });
    return fs;
  }

  it('cuts a file back to its last completed fsync', async () => {
    const fs = await fresh();
    const fd = fs.openSync('/db/f', 'w');
    write(fs, fd, 'synced');
    await fs.fdatasync(fd);
    write(fs, fd, '+lost');
    await fs.fsyncDir('/db');
    expect(readAll(fs.powerCut(), '/db/f')).toBe('synced');
    expect(readAll(fs, '/db/f')).toBe('synced+lost'); // the running system is untouched
  });

  it('forgets a file whose directory was never fsynced, even if its bytes were', async () => {
    const fs = await fresh();
    const fd = fs.openSync('/db/f', 'w');
    write(fs, fd, 'data');
    await fs.fsync(fd);
    expect(fs.powerCut().existsSync('/db/f')).toBe(false);
    await fs.fsyncDir('/db');
    expect(readAll(fs.powerCut(), '/db/f')).toBe('data');
  });

  it('keeps an empty file when the name is durable but the bytes are not', async () => {
    const fs = await fresh();
    const fd = fs.openSync('/db/f', 'w');
    await fs.fsyncDir('/db');
    write(fs, fd, 'never synced');
    expect(readAll(fs.powerCut(), '/db/f')).toBe('');
  });

  it('reverts a rename that was not made durable, and keeps one that was', async () => {
    const fs = await fresh();
    for (const [name, body] of [
      ['CURRENT', 'old'],
      ['CURRENT.tmp', 'new'],
    ] as const) {
      const fd = fs.openSync(`/db/${name}`, 'w');
      write(fs, fd, body);
      await fs.fsync(fd);
      fs.closeSync(fd);
    }
    await fs.fsyncDir('/db');
    fs.renameSync('/db/CURRENT.tmp', '/db/CURRENT');
    const before = fs.powerCut();
    expect(readAll(before, '/db/CURRENT')).toBe('old');
    expect(readAll(before, '/db/CURRENT.tmp')).toBe('new');
    await fs.fsyncDir('/db');
    const after = fs.powerCut();
    expect(readAll(after, '/db/CURRENT')).toBe('new');
    expect(after.existsSync('/db/CURRENT.tmp')).toBe(false);
  });

  it('undoes an unlink that was not made durable', async () => {
    const fs = await fresh();
    const fd = fs.openSync('/db/old.sst', 'w');
    write(fs, fd, 'table');
    await fs.fsync(fd);
    fs.closeSync(fd);
    await fs.fsyncDir('/db');
    fs.unlinkSync('/db/old.sst');
    expect(fs.existsSync('/db/old.sst')).toBe(false);
    expect(readAll(fs.powerCut(), '/db/old.sst')).toBe('table');
    await fs.fsyncDir('/db');
    expect(fs.powerCut().existsSync('/db/old.sst')).toBe(false);
  });

  it('keeps the synced bytes when they are overwritten or truncated later', async () => {
    const fs = await fresh();
    const fd = fs.openSync('/db/f', 'w');
    write(fs, fd, 'abcdef');
    await fs.fsync(fd);
    await fs.fsyncDir('/db');
    write(fs, fd, 'XY', 1);
    expect(readAll(fs.powerCut(), '/db/f')).toBe('abcdef');
    fs.ftruncateSync(fd, 2);
    expect(readAll(fs.powerCut(), '/db/f')).toBe('abcdef');
    await fs.fsync(fd);
    expect(readAll(fs.powerCut(), '/db/f')).toBe('aX');
  });

  it('makes nothing durable for a sync still in flight at the cut', async () => {
    const fs = await fresh();
    const fd = fs.openSync('/db/f', 'w');
    await fs.fsyncDir('/db');
    write(fs, fd, 'data');
    const sync = fs.fdatasync(fd);
    expect(readAll(fs.powerCut(), '/db/f')).toBe('');
    await sync;
    expect(readAll(fs.powerCut(), '/db/f')).toBe('data');
  });

  it('makes durable what the file held when the sync started, not what came after', async () => {
    const fs = await fresh();
    const fd = fs.openSync('/db/f', 'w');
    await fs.fsyncDir('/db');
    write(fs, fd, 'abcd');
    const sync = fs.fsync(fd);
    write(fs, fd, 'ef'); // appended during the sync
    write(fs, fd, 'Z', 0); // overwritten during the sync
    await sync;
    expect(readAll(fs.powerCut(), '/db/f')).toBe('abcd');
    expect(readAll(fs, '/db/f')).toBe('Zbcdef');
  });

  it('applies a directory sync to the names as they were when it started', async () => {
    const fs = await fresh();
    fs.closeSync(fs.openSync('/db/a', 'w'));
    const sync = fs.fsyncDir('/db');
    fs.closeSync(fs.openSync('/db/b', 'w'));
    await sync;
    expect(fs.powerCut().readdirSync('/db')).toEqual(['a']);
  });

  it('gives an image that is entirely durable', async () => {
    const fs = await fresh();
    const fd = fs.openSync('/db/f', 'w');
    write(fs, fd, 'abc');
    await fs.fsync(fd);
    await fs.fsyncDir('/db');
    const image = fs.powerCut();
    expect(image.durability()).toEqual([{ path: '/db/f', size: 3, durableSize: 3, nameDurable: true }]);
    expect(readAll(image.powerCut(), '/db/f')).toBe('abc');
  });

  it.each(POWER_CUT_MODES)('mode %s keeps the synced prefix and is a function of the seed', async (mode) => {
    const fs = await fresh();
    const fd = fs.openSync('/db/f', 'w');
    write(fs, fd, 'SYNCED');
    await fs.fsync(fd);
    await fs.fsyncDir('/db');
    write(fs, fd, 'tail-of-twenty-bytes');
    const lengths = new Set<number>();
    for (let seed = 0; seed < 200; seed++) {
      const got = fs.powerCut({ mode, seed }).readFileSync('/db/f');
      expect(Array.from(fs.powerCut({ mode, seed }).readFileSync('/db/f'))).toEqual(Array.from(got));
      expect(text(got.subarray(0, 6))).toBe('SYNCED');
      expect(got.length).toBeLessThanOrEqual(26);
      const tail = got.subarray(6);
      if (mode === 'keep-random-prefix') expect(text(tail)).toBe('tail-of-twenty-bytes'.slice(0, tail.length));
      if (mode === 'zeros') expect(tail.every((b) => b === 0)).toBe(true);
      lengths.add(got.length);
    }
    if (mode === 'drop') expect([...lengths]).toEqual([6]);
    else {
      // The random choices reach both ends: nothing kept and everything kept.
      expect(lengths.has(6)).toBe(true);
      expect(lengths.has(26)).toBe(true);
    }
  });

  it('clones everything, independently', async () => {
    const fs = await fresh();
    const fd = fs.openSync('/db/f', 'w');
    write(fs, fd, 'abc');
    await fs.fsync(fd);
    await fs.fsyncDir('/db');
    write(fs, fd, 'def');
    const c = fs.clone();
    write(fs, fd, 'ghi');
    expect(readAll(c, '/db/f')).toBe('abcdef');
    expect(readAll(c.powerCut(), '/db/f')).toBe('abc');
    expect(c.openFiles()).toEqual([]);
  });

  it('edits a file durably, as bit rot would', async () => {
    const fs = await fresh();
    fs.writeFileDurably('/db/f', bytes('abc'));
    fs.editDurably('/db/f', (b) => {
      b[1] = 0x5a;
      return b;
    });
    expect(readAll(fs.powerCut(), '/db/f')).toBe('aZc');
  });

  it('tracks open descriptors', () => {
    const fs = new MemoryFileSystem();
    const a = fs.openSync('/x', 'w');
    const b = fs.openSync('/x', 'r');
    expect(fs.openFiles().map((f) => f.fd)).toEqual([a, b]);
    fs.closeSync(a);
    expect(fs.openFiles()).toEqual([{ fd: b, path: '/x', flags: 'r' }]);
  });
});
