/**
 * The pipelined write (write/write-path.ts): a group the WAL hands to the thread pool goes into
 * the active memtable while the pool writes, and is published (visible, acknowledged) only once
 * the write — and the fdatasync, with `sync` — returned. These tests hold the pool's write open
 * with a file layer whose `write` (the optional thread-pool write of vfs's FileSystem) the test
 * completes or fails, and check that the group is in the memtable meanwhile (the overlap is
 * real) but that no read path sees it; and that when the write or the fdatasync fails, the
 * group is never visible and never persisted: not by a flush, not at close, not in a
 * checkpoint, not after reopening or a power cut.
 */
import { describe, expect, it } from 'vitest';
import { Database, type DatabaseOptions } from '../src/index.js';
import { MemoryFileSystem, POWER_CUT_MODES } from '../src/testing/index.js';
import { dec } from './helpers.js';

const DIR = '/db';

/** A pool write of a WAL segment the test holds open: complete it, or fail it with EIO. */
interface HeldWrite {
  complete(): void;
  fail(): void;
}

/**
 * The in-memory file system with a thread-pool `write`. Other files' writes, and WAL writes
 * while nothing is armed, complete at once (in a later microtask, as a pool write would); the
 * next WAL write after `holdNextWalWrite` waits for the test. `failNextWalSync` makes the WAL's
 * next fdatasync fail.
 */
class GatedFileSystem extends MemoryFileSystem {
  private armed: ((held: HeldWrite) => void) | undefined;
  private syncFails = false;
  /** WAL writes that went through `write`. */
  walPoolWrites = 0;

  write(fd: number, buf: Uint8Array, off: number, len: number, position: number): Promise<number> {
    if (this.isWal(fd)) this.walPoolWrites++;
    const take = this.armed;
    if (take === undefined || !this.isWal(fd)) return Promise.resolve().then(() => this.writeSync(fd, buf, off, len, position));
    this.armed = undefined;
    return new Promise<number>((resolve, reject) => {
      take({
        complete: () => {
          resolve(this.writeSync(fd, buf, off, len, position));
        },
        fail: () => {
          reject(Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }));
        },
      });
    });
  }

  override fdatasync(fd: number): Promise<void> {
    if (this.syncFails && this.isWal(fd)) {
      this.syncFails = false;
      return Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    }
    return super.fdatasync(fd);
  }

  /** Resolves with the next WAL write handed to `write`, held until the test settles it. */
  holdNextWalWrite(): Promise<HeldWrite> {
    return new Promise((resolve) => {
      this.armed = resolve;
    });
  }

  failNextWalSync(): void {
    this.syncFails = true;
  }

  private isWal(fd: number): boolean {
    return this.pathOf(fd)?.endsWith('.wal') === true;
  }
}

function key(i: number): string {
  return `k${String(i).padStart(4, '0')}`;
}

/** 80 puts of 1 KiB: one WAL record past the 64 KiB that send a group to the thread pool. */
function bigBatch(db: Database, tag: string): ReturnType<Database['batch']> {
  const b = db.batch();
  for (let i = 0; i < 80; i++) b.put(key(i * 2), `${tag}${i}`.padEnd(1024, '.'));
  b.del(key(1)); // a delete of a key written before: still there until the group is published
  return b;
}

async function contents(db: Database, options?: Parameters<Database['iterate']>[0]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const [k, v] of db.iterate(options)) out.set(dec(k)!, dec(v)!);
  return out;
}

/** The baseline: keys 0 … 199 with small values, written one at a time (synchronous WAL writes). */
async function fillBaseline(db: Database): Promise<Map<string, string>> {
  const expected = new Map<string, string>();
  for (let i = 0; i < 200; i++) {
    await db.put(key(i), `v${i}`);
    expected.set(key(i), `v${i}`);
  }
  return expected;
}

const options = (fs: MemoryFileSystem): DatabaseOptions => ({ fs, backgroundThreads: 0, memtableSize: 1 << 20 });

describe('a pipelined write (the WAL writes through the thread pool)', () => {
  it('is in the memtable while the pool writes, but no read, iterator or snapshot sees it until the write returned', async () => {
    const fs = new GatedFileSystem();
    const db = await Database.open(DIR, options(fs));
    const atOpen = fs.walPoolWrites; // the preallocated zeros of the new segment (wal/writer.ts)
    const before = await fillBaseline(db);
    const st0 = db.stats();
    expect(fs.walPoolWrites).toBe(atOpen); // small WAL writes stay synchronous

    const held = fs.holdNextWalWrite();
    const write = bigBatch(db, 'new').write();
    let settled = false;
    void write.then(() => (settled = true));
    const w = await held;
    await new Promise<void>((r) => setImmediate(r)); // well past the WAL's submission

    // The overlap happened: the group is in the active memtable, not published.
    const st = db.stats();
    expect(st.memtables.activeEntries).toBe(st0.memtables.activeEntries + 81);
    expect(st.visibleSequence).toBe(st0.visibleSequence);
    expect(settled).toBe(false);

    // Every read path: the state before the group.
    expect(dec(db.getSync(key(0)))).toBe('v0');
    expect(dec(db.getSync(key(1)))).toBe('v1'); // deleted by the group, which is not visible
    expect(dec(await db.get(key(2)))).toBe('v2');
    expect((await db.getMany([key(0), key(1), key(158)])).map(dec)).toEqual(['v0', 'v1', 'v158']);
    expect(db.getManySync([key(4), key(1)]).map(dec)).toEqual(['v4', 'v1']);
    expect(await contents(db)).toEqual(before);
    expect(await contents(db, { reverse: true, gte: key(100) })).toEqual(new Map([...before].filter(([k]) => k >= key(100))));
    const snap = db.snapshot();
    const it = db.iterator({ limit: 3 });
    // A flush asked for now waits for the group: the memtable it freezes holds it published.
    const flushed = db.flush();

    w.complete();
    await write;
    // Published: new reads see it; the snapshot and the iterator taken while it was in flight do not.
    expect(db.stats().visibleSequence).toBe(st0.visibleSequence + 81);
    expect(dec(db.getSync(key(0)))?.startsWith('new0')).toBe(true);
    expect(db.getSync(key(1))).toBeUndefined();
    expect(dec(db.getSync(key(0), { snapshot: snap }))).toBe('v0');
    expect(dec(db.getSync(key(1), { snapshot: snap }))).toBe('v1');
    expect(await contents(db, { snapshot: snap })).toEqual(before);
    expect(it.nextv(10).map(([k, v]) => [dec(k), dec(v)])).toEqual([
      [key(0), 'v0'],
      [key(1), 'v1'],
      [key(2), 'v2'],
    ]);
    it.close();
    snap.release();
    await flushed;
    expect(db.stats().memtables.activeEntries).toBe(0);
    const after = new Map(before);
    for (let i = 0; i < 80; i++) after.set(key(i * 2), `new${i}`.padEnd(1024, '.'));
    after.delete(key(1));
    expect(await contents(db)).toEqual(after);
    await db.close();
    const reopened = await Database.open(DIR, options(fs));
    expect(await contents(reopened)).toEqual(after);
    await reopened.close();
  });

  for (const failure of ['the pool write fails', 'its fdatasync fails'] as const) {
    it(`${failure} after the memtable took the group: never visible, never persisted, READ_ONLY`, async () => {
      const fs = new GatedFileSystem();
      const db = await Database.open(DIR, options(fs));
      const before = await fillBaseline(db);
      const st0 = db.stats();

      const held = fs.holdNextWalWrite();
      const doomed = bigBatch(db, 'doomed').write({ sync: failure === 'its fdatasync fails' });
      const queued = db.put('queued', 'behind the doomed group'); // waits in the write path's queue
      const w = await held;
      await new Promise<void>((r) => setImmediate(r));
      expect(db.stats().memtables.activeEntries).toBe(st0.memtables.activeEntries + 81);
      if (failure === 'the pool write fails') w.fail();
      else {
        fs.failNextWalSync();
        w.complete();
      }
      await expect(doomed).rejects.toMatchObject({ code: 'IO_ERROR' });
      await expect(queued).rejects.toMatchObject({ code: 'READ_ONLY' });
      await expect(db.put('later', 'x')).rejects.toMatchObject({ code: 'READ_ONLY' });

      // Still in the memtable (it cannot take versions back), above the visible sequence forever.
      const st = db.stats();
      expect(st.memtables.activeEntries).toBe(st0.memtables.activeEntries + 81);
      expect(st.visibleSequence).toBe(st0.visibleSequence);
      expect(dec(db.getSync(key(0)))).toBe('v0');
      expect(dec(db.getSync(key(1)))).toBe('v1');
      expect(await contents(db)).toEqual(before);
      expect(await contents(db, { snapshot: db.snapshot() })).toEqual(before);
      // Nothing may write the memtable into a table.
      await expect(db.flush()).rejects.toMatchObject({ code: 'READ_ONLY' });
      await expect(db.compact()).rejects.toMatchObject({ code: 'READ_ONLY' });
      expect(db.stats().memtables.frozen).toBe(0);
      expect(db.stats().levels.every((l) => l.files === 0)).toBe(true);
      const cp = await db.checkpoint('/copy');
      expect(cp.tables).toBe(0);
      await db.close().catch(() => undefined);
      expect(fs.listFiles().filter((f) => f.startsWith(`${DIR}/`) && f.endsWith('.sst'))).toEqual([]);

      // What a reopen finds is only what was durable: the baseline, on the same files, after a
      // power cut of any kind, and in the checkpoint.
      for (const [name, image] of [
        ['same files', fs as MemoryFileSystem],
        ...POWER_CUT_MODES.map((mode) => [`power cut: ${mode}`, fs.powerCut({ mode, seed: 11 })] as const),
      ] as const) {
        if (image !== fs && image.existsSync(`${DIR}/LOCK`)) image.unlinkSync(`${DIR}/LOCK`);
        const reopened = await Database.open(DIR, options(image));
        const got = await contents(reopened);
        // Unsynced puts may be lost to a power cut, never the group's versions gained.
        if (image === fs) expect(got, name).toEqual(before);
        for (const [k, v] of got) expect(v, `${name}: ${k}`).toBe(before.get(k));
        expect(got.has('queued'), name).toBe(false);
        await reopened.put(key(0), 'after');
        expect(dec(reopened.getSync(key(0))), name).toBe('after');
        await reopened.close();
      }
      const copy = await Database.open('/copy', options(fs));
      expect(await contents(copy)).toEqual(before);
      await copy.close();
    });
  }
});
