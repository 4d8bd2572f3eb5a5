/**
 * A batch whose WAL write failed must leave nothing behind: not in the memtable, not in a table
 * a flush writes, not after a reopen (a process restart on the same files, and a power cut).
 * The write path logs first and applies to the memtable only once the log write (and its
 * fdatasync, with `sync`) succeeded — LevelDB's order (write/write-path.ts). Before that order,
 * a batch was applied first, stayed invisible after its WAL write failed, and was flushed into
 * an L0 table with the rest of its memtable: visible after reopen, and its sequence numbers
 * recorded nowhere the next session looked (io-errors.test.ts, STRATA_SEED=3431955137).
 * (A small write alone is the exception: it goes into the memtable as it is issued; what keeps
 * it invisible and out of every table is the last describe block below.)
 */
import { describe, expect, it } from 'vitest';
import { Database, type DatabaseOptions } from '../src/index.js';
import { FaultInjectingFileSystem, MemoryFileSystem, POWER_CUT_MODES, type FaultRule } from '../src/testing/index.js';
import { dec } from './helpers.js';

const DIR = '/db';
const WAL = /\.wal$/;

function key(i: number): string {
  return `k${String(i).padStart(5, '0')}`;
}

/** A value large enough that the write carrying it fills the memtable (memtableSize below). */
const BIG = 'x'.repeat(3000);

interface Case {
  readonly name: string;
  readonly rule: FaultRule;
  readonly sync: boolean;
}

const CASES: readonly Case[] = [
  { name: 'write(2) fails with ENOSPC, nothing written', rule: { op: 'write', nth: 2, path: WAL, code: 'ENOSPC' }, sync: false },
  { name: 'write(2) fails with EIO after writing part of the record', rule: { op: 'write', nth: 2, path: WAL, code: 'EIO', torn: true }, sync: false },
  { name: 'write(2) fails after writing the whole record', rule: { op: 'write', nth: 2, path: WAL, code: 'ENOSPC', tornBytes: 1 << 30 }, sync: true },
  { name: 'fdatasync fails', rule: { op: 'fdatasync', nth: 2, path: WAL }, sync: true },
];

/** Everything in the database, as key → value strings. */
async function contents(db: Database): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const [k, v] of db.iterate()) out.set(dec(k) ?? '', dec(v) ?? '');
  return out;
}

describe('a failed WAL write', () => {
  for (const c of CASES) {
    it(`${c.name}: the batch is never visible — not before, not after a flush, not after reopen or a power cut`, async () => {
      const mem = new MemoryFileSystem();
      const fs = new FaultInjectingFileSystem(mem);
      const opts: DatabaseOptions = { fs, memtableSize: 4096, backgroundThreads: 0 };
      const db = await Database.open(DIR, opts);
      for (let i = 0; i < 20; i++) await db.put(key(i), `v${i}`, { sync: true });
      fs.addRule(c.rule);
      // Three writes issued together: the first is logged alone (its WAL write is the rule's
      // first), the two batches that arrive meanwhile form the next group — one WAL record, the
      // rule's second call — and the second of them fills the memtable.
      const first = db.put('first', '1', { sync: true });
      const doomed = [
        db.batch().put('doomed-a', 'a').put(key(3), 'overwritten').write({ sync: c.sync }),
        db.batch().put('doomed-b', BIG).del(key(4)).write({ sync: c.sync }),
      ];
      await first;
      const settled = await Promise.allSettled(doomed);
      for (const s of settled) {
        expect(s.status).toBe('rejected');
        expect((s as PromiseRejectedResult).reason).toMatchObject({ code: 'IO_ERROR' });
      }
      await expect(db.put('later', 'x')).rejects.toMatchObject({ code: 'READ_ONLY' });
      const expected = new Map<string, string>();
      for (let i = 0; i < 20; i++) expected.set(key(i), `v${i}`);
      expected.set('first', '1');
      expect(await contents(db)).toEqual(expected);
      expect(db.getSync('doomed-b')).toBeUndefined();
      // Nothing of it in the memtable either: invisible there, it would still go into a table.
      const st = db.stats();
      expect(st.memtables.activeEntries).toBe(21);
      expect(st.memtables.frozen).toBe(0);
      expect(st.visibleSequence).toBe(21);
      // The group's numbers were handed out and are spent: nothing will carry them.
      expect(st.lastSequence).toBe(25);
      await expect(db.flush()).rejects.toMatchObject({ code: 'READ_ONLY' });
      await db.close().catch(() => undefined);
      fs.clearRules();
      const cuts = POWER_CUT_MODES.map((mode) => ({ mode, image: mem.powerCut({ mode, seed: 7 }) }));

      // A process restart: the same files.
      const reopened = await Database.open(DIR, opts);
      expect(await contents(reopened)).toEqual(expected);
      // Later writes get new sequence numbers and win over everything older.
      await reopened.put(key(3), 'after');
      await reopened.put('doomed-a', 'after');
      await reopened.flush();
      await reopened.compact();
      expect(dec(reopened.getSync(key(3)))).toBe('after');
      expect(dec(reopened.getSync('doomed-a'))).toBe('after');
      expect(reopened.getSync('doomed-b')).toBeUndefined();
      expect(dec(reopened.getSync(key(4)))).toBe('v4');
      await reopened.close();

      // A power cut right after the failure (every way a disk keeps unsynced bytes): every
      // acknowledged write — all were sync — and nothing of the group.
      for (const { mode, image } of cuts) {
        if (image.existsSync(`${DIR}/LOCK`)) image.unlinkSync(`${DIR}/LOCK`);
        const afterCut = await Database.open(DIR, { ...opts, fs: image });
        expect(await contents(afterCut), mode).toEqual(expected);
        await afterCut.put(key(3), 'after the cut');
        await afterCut.flush();
        expect(dec(afterCut.getSync(key(3))), mode).toBe('after the cut');
        await afterCut.close();
      }
    });
  }
});

/*
 * A small write alone in the write path (a lone writer's put) goes into the active memtable as it
 * is issued, from the caller's buffers, and is published only once the WAL write (and its
 * fdatasync) returned (write/write-path.ts). When that fails, it stays in the memtable above the
 * visible sequence — memtables cannot take versions back out — and the rule that keeps it
 * invisible is the pipelined write's: after a WAL failure the active memtable is never
 * published past, frozen or flushed.
 */
const LONE_CASES: readonly Case[] = [
  { name: 'write(2) fails with ENOSPC, nothing written', rule: { op: 'write', nth: 1, path: WAL, code: 'ENOSPC' }, sync: false },
  { name: 'write(2) fails after writing the whole record', rule: { op: 'write', nth: 1, path: WAL, code: 'ENOSPC', tornBytes: 1 << 30 }, sync: true },
  { name: 'fdatasync fails', rule: { op: 'fdatasync', nth: 1, path: WAL }, sync: true },
];

describe('a failed WAL write of a put alone', () => {
  for (const c of LONE_CASES) {
    it(`${c.name}: in the memtable but never visible — not before, not after a flush, not after reopen or a power cut`, async () => {
      const mem = new MemoryFileSystem();
      const fs = new FaultInjectingFileSystem(mem);
      const opts: DatabaseOptions = { fs, memtableSize: 1 << 20, backgroundThreads: 0 };
      const db = await Database.open(DIR, opts);
      for (let i = 0; i < 20; i++) await db.put(key(i), `v${i}`, { sync: true });
      fs.addRule(c.rule);
      const doomedKey = Buffer.from(key(3));
      const doomed = db.put(doomedKey, Buffer.from('overwritten'), { sync: c.sync });
      doomedKey.fill(0); // the caller's buffer, reused at once: the memtable took its own copy
      await expect(doomed).rejects.toMatchObject({ code: 'IO_ERROR' });
      await expect(db.put('later', 'x')).rejects.toMatchObject({ code: 'READ_ONLY' });
      const expected = new Map<string, string>();
      for (let i = 0; i < 20; i++) expected.set(key(i), `v${i}`);
      expect(await contents(db)).toEqual(expected);
      expect(dec(db.getSync(key(3)))).toBe('v3');
      // In the memtable (inserted as issued), above the visible sequence for good.
      const st = db.stats();
      expect(st.memtables.activeEntries).toBe(21);
      expect(st.visibleSequence).toBe(20);
      expect(st.lastSequence).toBe(21);
      await expect(db.flush()).rejects.toMatchObject({ code: 'READ_ONLY' });
      expect(db.stats().memtables.frozen).toBe(0);
      expect(db.stats().levels.every((l) => l.files === 0)).toBe(true);
      await db.close().catch(() => undefined);
      fs.clearRules();
      const cuts = POWER_CUT_MODES.map((mode) => ({ mode, image: mem.powerCut({ mode, seed: 7 }) }));
      const reopened = await Database.open(DIR, opts);
      expect(await contents(reopened)).toEqual(expected);
      await reopened.close();
      for (const { mode, image } of cuts) {
        if (image.existsSync(`${DIR}/LOCK`)) image.unlinkSync(`${DIR}/LOCK`);
        const afterCut = await Database.open(DIR, { ...opts, fs: image });
        expect(await contents(afterCut), mode).toEqual(expected);
        await afterCut.close();
      }
    });
  }

  it('a put alone may reuse its buffers as soon as the call returns', async () => {
    const db = await Database.open(DIR, { fs: new MemoryFileSystem(), backgroundThreads: 0 });
    const k = Buffer.from('key-1');
    const v = Buffer.from('value-1');
    const done = db.put(k, v, { sync: true });
    k.write('key-2');
    v.write('value-2');
    await done;
    expect(dec(db.getSync('key-1'))).toBe('value-1');
    expect(db.getSync('key-2')).toBeUndefined();
    await db.close();
  });
});
