/**
 * Recovery (docs/design-rules.md#r4 and #r7): after a reopen — clean, or after a crash — the last sequence
 * never goes back, the next write gets last + 1, and all data is there; WAL damage is handled
 * per the recovery mode; a segment of another database is refused.
 *
 * A "crash" here is `MemoryFileSystem.clone()` taken while the database runs: exactly what the
 * disk holds at that instant when the process dies (the page cache survives a process crash).
 * `powerCut()` keeps only what was fsynced.
 */
import { describe, expect, it } from 'vitest';
import { Database, StrataError, type DatabaseOptions } from '../src/index.js';
import { FaultInjectingFileSystem, MemoryFileSystem } from '../src/testing/index.js';
import { dec } from './helpers.js';

const DIR = '/db';

async function fill(db: Database, from: number, to: number, prefix = 'k'): Promise<void> {
  for (let i = from; i < to; i++) await db.put(`${prefix}${String(i).padStart(5, '0')}`, `v${i}`);
}

async function count(db: Database): Promise<number> {
  let n = 0;
  for await (const _ of db.iterate()) n++;
  return n;
}

function walFiles(fs: MemoryFileSystem): string[] {
  return fs.readdirSync(DIR).filter((n) => n.endsWith('.wal')).sort();
}

/** Where a segment's records end: before the zeros preallocated after them (an open database's active segment has them). */
function recordsEnd(b: Uint8Array): number {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  return end;
}

describe('recovery', () => {
  it('clean reopen: data, last sequence and the next sequence number', async () => {
    const fs = new MemoryFileSystem();
    const opts: DatabaseOptions = { fs, memtableSize: 4096 };
    let db = await Database.open(DIR, opts);
    await fill(db, 0, 500);
    await db.deleteRange('k00100', 'k00200');
    const last = db.stats().lastSequence;
    expect(last).toBe(501);
    await db.close();
    db = await Database.open(DIR, opts);
    expect(db.stats().lastSequence).toBe(last);
    expect(await count(db)).toBe(400);
    await db.put('next', 'x');
    expect(db.stats().lastSequence).toBe(last + 1);
    await db.close();
  });

  it('the last sequence never goes back, even when everything was flushed and the WAL is empty', async () => {
    const fs = new MemoryFileSystem();
    let db = await Database.open(DIR, { fs });
    await fill(db, 0, 50);
    await db.flush();
    await db.close();
    for (let round = 0; round < 3; round++) {
      db = await Database.open(DIR, { fs });
      expect(db.stats().lastSequence).toBe(50);
      await db.close();
    }
  });

  it('crash (process death) at any point: every resolved write is there; sequence numbers continue', async () => {
    const fs = new MemoryFileSystem();
    const db = await Database.open(DIR, { fs, memtableSize: 4096 });
    const images: { fs: MemoryFileSystem; acked: number; last: number }[] = [];
    for (let i = 0; i < 600; i++) {
      await db.put(`k${String(i).padStart(5, '0')}`, `v${i}`);
      if (i % 97 === 0) images.push({ fs: fs.clone(), acked: i + 1, last: db.stats().lastSequence });
    }
    for (const img of images) {
      const r = await Database.open(DIR, { fs: img.fs });
      expect(r.stats().lastSequence).toBeGreaterThanOrEqual(img.last);
      for (let i = 0; i < img.acked; i++) expect(dec(r.getSync(`k${String(i).padStart(5, '0')}`))).toBe(`v${i}`);
      const before = r.stats().lastSequence;
      await r.put('x', 'y');
      expect(r.stats().lastSequence).toBe(before + 1);
      await r.close();
    }
    await db.close();
  });

  it('power loss: sync writes survive; the database opens', async () => {
    const fs = new MemoryFileSystem();
    const db = await Database.open(DIR, { fs, memtableSize: 4096 });
    await fill(db, 0, 300);
    await db.put('durable', 'yes', { sync: true });
    await fill(db, 300, 320); // not synced: may be lost
    const after = fs.powerCut();
    const r = await Database.open(DIR, { fs: after });
    expect(dec(r.getSync('durable'))).toBe('yes');
    for (let i = 0; i < 300; i++) expect(dec(r.getSync(`k${String(i).padStart(5, '0')}`))).toBe(`v${i}`);
    expect(r.stats().lastSequence).toBeGreaterThanOrEqual(301);
    await r.close();
    await db.close();
  });

  it('a torn WAL tail: dropped by default, refused by absolute-consistency', async () => {
    const fs = new MemoryFileSystem();
    const db = await Database.open(DIR, { fs });
    await fill(db, 0, 100);
    const img = fs.clone();
    await db.close();
    const seg = walFiles(img).at(-1)!;
    // The image of a database still open: its segment ends in preallocated zeros (wal/writer.ts); the last record is torn.
    img.editDurably(`${DIR}/${seg}`, (b) => b.subarray(0, recordsEnd(b) - 7));
    const strict = img.clone();
    const r = await Database.open(DIR, { fs: img });
    expect(await count(r)).toBe(99);
    expect(r.recovery.walDropped.length).toBe(1);
    await r.close();
    await expect(Database.open(DIR, { fs: strict, walRecovery: 'absolute-consistency' })).rejects.toMatchObject({ code: 'CORRUPTION' });
  });

  it('damage before the tail: CORRUPTION by default; point-in-time keeps the prefix; skip-any-corrupted the rest', async () => {
    const fs = new MemoryFileSystem();
    const db = await Database.open(DIR, { fs });
    for (let i = 0; i < 200; i++) await db.put(`k${String(i).padStart(5, '0')}`, 'x'.repeat(100));
    const img = fs.clone();
    await db.close();
    const seg = walFiles(img).at(-1)!;
    img.editDurably(`${DIR}/${seg}`, (b) => {
      const c = Uint8Array.from(b);
      c[Math.floor(recordsEnd(c) / 2)]! ^= 0xff; // inside the records, not the preallocated zeros after them
      return c;
    });
    const pit = img.clone();
    const skip = img.clone();
    const err = await Database.open(DIR, { fs: img }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StrataError);
    expect((err as StrataError).code).toBe('CORRUPTION');
    expect((err as StrataError).file).toContain('.wal');
    const p = await Database.open(DIR, { fs: pit, walRecovery: 'point-in-time' });
    const np = await count(p);
    expect(np).toBeGreaterThan(0);
    expect(np).toBeLessThan(200);
    // The prefix is contiguous: k00000 … k(np-1).
    expect(dec(p.getSync(`k${String(np - 1).padStart(5, '0')}`))).toBeDefined();
    const before = p.stats().lastSequence;
    await p.put('after', 'recovery');
    expect(p.stats().lastSequence).toBe(before + 1);
    await p.close();
    // The damage is gone for good: a plain reopen works and keeps the write made after recovery.
    const p2 = await Database.open(DIR, { fs: pit });
    expect(dec(p2.getSync('after'))).toBe('recovery');
    await p2.close();
    const s = await Database.open(DIR, { fs: skip, walRecovery: 'skip-any-corrupted' });
    const ns = await count(s);
    expect(ns).toBeGreaterThanOrEqual(np); // a damaged block may take its neighbours with it
    expect(ns).toBeLessThan(200);
    await s.close();
  });

  it('a WAL segment of another database → FOREIGN_FILE', async () => {
    const a = new MemoryFileSystem();
    const b = new MemoryFileSystem();
    const da = await Database.open(DIR, { fs: a });
    await fill(da, 0, 10);
    const imgA = a.clone();
    await da.close();
    const dbB = await Database.open(DIR, { fs: b });
    await fill(dbB, 0, 10, 'b');
    await dbB.close();
    // Put B's live segment where A expects its own.
    const segA = walFiles(imgA).at(-1)!;
    const segB = walFiles(b).at(-1)!;
    imgA.editDurably(`${DIR}/${segA}`, () => b.readFileSync(`${DIR}/${segB}`));
    await expect(Database.open(DIR, { fs: imgA })).rejects.toMatchObject({ code: 'FOREIGN_FILE' });
  });

  it('a damaged manifest or CURRENT → CORRUPTION naming the file', async () => {
    const fs = new MemoryFileSystem();
    const db = await Database.open(DIR, { fs, memtableSize: 4096 });
    await fill(db, 0, 300);
    await db.flush();
    await db.close();
    const bad = fs.clone();
    bad.editDurably(`${DIR}/CURRENT`, () => Buffer.from('garbage\n'));
    await expect(Database.open(DIR, { fs: bad })).rejects.toMatchObject({ code: 'CORRUPTION', file: `${DIR}/CURRENT` });
    const manifest = fs.readdirSync(DIR).find((n) => n.startsWith('MANIFEST-'))!;
    const bad2 = fs.clone();
    bad2.editDurably(`${DIR}/${manifest}`, (b) => {
      const c = Uint8Array.from(b);
      c[20]! ^= 0x55; // inside the first record, which is followed by nothing: still not a torn tail
      return c;
    });
    const e = await Database.open(DIR, { fs: bad2 }).catch((x: unknown) => x);
    expect((e as StrataError).code).toBe('CORRUPTION');
  });

  it('the manifest rolls over when large; old manifests are deleted', async () => {
    const fs = new MemoryFileSystem();
    const db = await Database.open(DIR, { fs, memtableSize: 1024, maxManifestFileSize: 1024, l0CompactionTrigger: 100, l0SlowdownWritesTrigger: 1000, l0StopWritesTrigger: 1000 });
    for (let i = 0; i < 40; i++) {
      await fill(db, i * 20, i * 20 + 20);
      await db.flush();
    }
    expect(db.stats().manifest.fileNumber).toBeGreaterThan(2);
    await db.close(); // lets a roll-over started by background work finish
    const manifests = fs.readdirSync(DIR).filter((n) => n.startsWith('MANIFEST-'));
    expect(manifests.length, manifests.join(' ')).toBe(1);
    expect(Buffer.from(fs.readFileSync(`${DIR}/CURRENT`)).toString()).toBe(`${manifests[0]!}\n`);
    const r = await Database.open(DIR, { fs });
    expect(await count(r)).toBe(800);
    await r.close();
  });

  it('a failed WAL fsync makes the database read-only; reads go on; reopening recovers', async () => {
    const mem = new MemoryFileSystem();
    const fs = new FaultInjectingFileSystem(mem);
    const db = await Database.open(DIR, { fs });
    await fill(db, 0, 20);
    fs.addRule({ op: 'fdatasync', nth: 1, path: /\.wal$/ });
    await expect(db.put('doomed', 'x', { sync: true })).rejects.toMatchObject({ code: 'IO_ERROR' });
    await expect(db.put('later', 'x')).rejects.toMatchObject({ code: 'READ_ONLY' });
    expect(dec(await db.get('k00005'))).toBe('v5');
    expect(db.stats().backgroundError).toBeDefined();
    await db.close();
    fs.clearRules();
    const r = await Database.open(DIR, { fs });
    expect(dec(r.getSync('k00019'))).toBe('v19');
    await r.put('works', 'again');
    await r.close();
  });

  it('orphan tables (a flush that crashed before its manifest edit) are deleted at open', async () => {
    const fs = new MemoryFileSystem();
    const db = await Database.open(DIR, { fs });
    await fill(db, 0, 10);
    await db.close();
    fs.writeFileDurably(`${DIR}/000999.sst`, new Uint8Array(100));
    fs.writeFileDurably(`${DIR}/IDENTITY.tmp`, new Uint8Array(3));
    const r = await Database.open(DIR, { fs });
    // The previous session's manifest is replaced at open, too.
    expect(r.recovery.orphansRemoved).toEqual(expect.arrayContaining(['000999.sst', 'IDENTITY.tmp']));
    expect(fs.existsSync(`${DIR}/000999.sst`)).toBe(false);
    await r.close();
  });
});
