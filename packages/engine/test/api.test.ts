/**
 * The public contract: errors and their codes (LOCKED, NOT_OPEN, INVALID_ARGUMENT, EXISTS,
 * NOT_FOUND), createIfMissing/errorIfExists, strings as keys, iterator API, snapshots, stats.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';
import { dec, enc, errorCode, testDir } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = testDir();
});


describe('open', () => {
  it('creates the directory and the files of a new database', async () => {
    const path = join(dir, 'a', 'b');
    const db = await Database.open(path);
    expect(db.recovery.created).toBe(true);
    for (const f of ['LOCK', 'IDENTITY', 'CURRENT']) expect(existsSync(join(path, f))).toBe(true);
    await db.close();
    expect(existsSync(join(path, 'LOCK'))).toBe(false);
  });

  it('createIfMissing: false → NOT_FOUND; errorIfExists → EXISTS', async () => {
    expect(await errorCode(Database.open(join(dir, 'nope'), { createIfMissing: false }))).toBe('NOT_FOUND');
    expect(await errorCode(Database.open(dir, { createIfMissing: false }))).toBe('NOT_FOUND');
    const db = await Database.open(dir);
    await db.close();
    expect(await errorCode(Database.open(dir, { errorIfExists: true }))).toBe('EXISTS');
    const again = await Database.open(dir, { createIfMissing: false });
    expect(again.recovery.created).toBe(false);
    await again.close();
  });

  it('bad options → INVALID_ARGUMENT', async () => {
    expect(await errorCode(Database.open(dir, { memtableSize: -1 }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(Database.open(dir, { walRecovery: 'maybe' as never }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(Database.open(dir, { sync: 'yes' as never }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(Database.open(''))).toBe('INVALID_ARGUMENT');
  });
});

describe('LOCK', () => {
  it('a second open in the same process → LOCKED, and works again after close', async () => {
    const db = await Database.open(dir);
    expect(await errorCode(Database.open(dir))).toBe('LOCKED');
    // The failed open left the first one intact.
    await db.put('k', 'v');
    await db.close();
    const db2 = await Database.open(dir);
    expect(dec(await db2.get('k'))).toBe('v');
    await db2.close();
  });

  it('an open in another process → LOCKED while it lives; its lock is taken over once it is killed', async () => {
    const script = `
      const { Database } = await import('@strata-db/engine');
      const db = await Database.open(${JSON.stringify(dir)});
      await db.put('from-child', 'yes', { sync: true });
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: join(import.meta.dirname, '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) resolve();
      });
      child.on('exit', (c) => {
        reject(new Error(`child exited ${c}`));
      });
    });
    try {
      expect(await errorCode(Database.open(dir))).toBe('LOCKED');
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    // The LOCK file is still there, but its owner is dead: the next open takes it over.
    expect(existsSync(join(dir, 'LOCK'))).toBe(true);
    const db = await Database.open(dir);
    expect(dec(await db.get('from-child'))).toBe('yes');
    await db.close();
  }, 30_000);

  it('an open in a worker thread of this process → LOCKED (never taken over while the process lives)', async () => {
    const { Worker } = await import('node:worker_threads');
    const w = new Worker(new URL('./fixtures/lock-worker.mjs', import.meta.url), {
      execArgv: ['--conditions=source'],
      workerData: { dir },
    });
    const next = (): Promise<unknown> => new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    try {
      expect(await next()).toBe('ready');
      expect(await errorCode(Database.open(dir))).toBe('LOCKED');
      w.postMessage('close');
      expect(await next()).toBe('closed');
      const db = await Database.open(dir);
      await db.close();
    } finally {
      await w.terminate();
    }
  }, 30_000);

  it('a LOCK naming a dead process or holding garbage is stale', async () => {
    const db = await Database.open(dir);
    await db.close();
    writeFileSync(join(dir, 'LOCK'), JSON.stringify({ pid: 2 ** 22 + 12345, start: '1', token: 'x', host: '' }));
    const a = await Database.open(dir);
    await a.close();
    writeFileSync(join(dir, 'LOCK'), '');
    const b = await Database.open(dir);
    await b.close();
  });
});

describe('after close', () => {
  it('every call → NOT_OPEN; close is idempotent', async () => {
    const db = await Database.open(dir);
    const snap = db.snapshot();
    const it = db.iterator();
    await db.close();
    await db.close();
    expect(db.isOpen).toBe(false);
    expect(await errorCode(db.put('a', 'b'))).toBe('NOT_OPEN');
    expect(await errorCode(db.get('a'))).toBe('NOT_OPEN');
    expect(await errorCode(() => db.getSync('a'))).toBe('NOT_OPEN');
    expect(await errorCode(db.delete('a'))).toBe('NOT_OPEN');
    expect(await errorCode(db.deleteRange('a', 'b'))).toBe('NOT_OPEN');
    expect(await errorCode(db.batch().put('a', 'b').write())).toBe('NOT_OPEN');
    expect(await errorCode(() => db.snapshot())).toBe('NOT_OPEN');
    expect(await errorCode(() => db.iterator())).toBe('NOT_OPEN');
    expect(await errorCode(() => db.stats())).toBe('NOT_OPEN');
    expect(await errorCode(db.flush())).toBe('NOT_OPEN');
    expect(await errorCode(db.compact())).toBe('NOT_OPEN');
    expect(await errorCode(() => it.next())).toBe('NOT_OPEN'); // closed with the database
    snap.release();
  });
});

describe('arguments', () => {
  it('bad keys, values, ranges and options → INVALID_ARGUMENT; the database stays usable', async () => {
    const db = await Database.open(dir);
    expect(await errorCode(db.put(undefined as never, 'v'))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(db.put('k', null as never))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(db.put(42 as never, 'v'))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(db.put(new Uint8Array(64 * 1024 + 1), 'v'))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(db.get({} as never))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(db.deleteRange('b', 'a'))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(db.put('k', 'v', { sync: 1 as never }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(() => db.iterator({ gt: 'a', gte: 'b' }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(() => db.iterator({ limit: 1.5 }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(() => db.batch().put('k', 5 as never))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(db.get('k', { snapshot: {} as never }))).toBe('INVALID_ARGUMENT');
    const snap = db.snapshot();
    snap.release();
    expect(await errorCode(db.get('k', { snapshot: snap }))).toBe('INVALID_ARGUMENT');
    const b = db.batch().put('x', '1');
    await b.write();
    expect(await errorCode(b.write())).toBe('INVALID_ARGUMENT');
    await db.put('', 'empty key is allowed');
    expect(dec(await db.get(''))).toBe('empty key is allowed');
    await db.deleteRange('a', 'a'); // empty range: nothing
    expect(dec(await db.get('x'))).toBe('1');
    expect(db.stats().lastSequence).toBe(2);
    await db.close();
  });
});

describe('reads and writes', () => {
  it('strings and bytes are the same keys; values come back as bytes', async () => {
    const db = await Database.open(dir);
    await db.put('héllo', enc('wörld'));
    expect(dec(await db.get(enc('héllo')))).toBe('wörld');
    expect(db.getSync('héllo')).toBeInstanceOf(Uint8Array);
    await db.close();
  });

  it('the caller may reuse its buffers after a write', async () => {
    const db = await Database.open(dir);
    const k = enc('key');
    const v = enc('value');
    await db.put(k, v);
    k[0] = 0;
    v[0] = 0;
    expect(dec(await db.get('key'))).toBe('value');
    await db.close();
  });

  it('values and keys handed out are the caller\'s: writing into them changes nothing stored', async () => {
    const db = await Database.open(dir, { memtableSize: 4096 });
    for (let i = 0; i < 200; i++) await db.put(`k${String(i).padStart(3, '0')}`, `value-${i}`);
    await db.flush(); // half the reads come from a cached table block, half from the memtable
    for (let i = 200; i < 220; i++) await db.put(`k${String(i).padStart(3, '0')}`, `value-${i}`);
    for (const key of ['k005', 'k210']) {
      db.getSync(key)!.fill(0x21);
      (await db.get(key))!.fill(0x21);
    }
    const it = db.iterator();
    for (let e = it.next(); e !== undefined; e = it.next()) {
      e[0].fill(0x21);
      e[1].fill(0x21);
    }
    it.close();
    expect(dec(db.getSync('k005'))).toBe('value-5');
    expect(dec(db.getSync('k210'))).toBe('value-210');
    expect(db.iterator({ limit: 1 }).nextv(1).map(([k, v]) => [dec(k), dec(v)])).toEqual([['k000', 'value-0']]);
    await db.close();
  });

  it('values over 32 bytes (copied with set(), not byte by byte) handed out are the caller\'s too', async () => {
    const db = await Database.open(dir, { memtableSize: 16384 });
    const long = (i: number): string => `value-${i}-`.padEnd(100, String.fromCharCode(97 + (i % 26)));
    for (let i = 0; i < 200; i++) await db.put(`k${String(i).padStart(3, '0')}`, long(i));
    await db.flush();
    for (let i = 200; i < 220; i++) await db.put(`k${String(i).padStart(3, '0')}`, long(i));
    for (const key of ['k005', 'k123', 'k210']) {
      db.getSync(key)!.fill(0x21);
      (await db.get(key))!.fill(0x21);
      (await db.getMany([key]))[0]!.fill(0x21);
    }
    for (const i of [5, 123, 210]) expect(dec(db.getSync(`k${String(i).padStart(3, '0')}`))).toBe(long(i));
    await db.close();
  });

  it('iterator: next, nextv, seek, bounds, reverse, limit; one snapshot from its start', async () => {
    const db = await Database.open(dir, { memtableSize: 4096 });
    for (let i = 0; i < 200; i++) await db.put(`k${String(i).padStart(3, '0')}`, `v${i}`);
    const it = db.iterator({ gte: 'k050', lt: 'k150' });
    await db.deleteRange('k000', 'k999');
    await db.flush();
    expect(dec(it.next()![0])).toBe('k050');
    expect(it.nextv(3).map(([k]) => dec(k))).toEqual(['k051', 'k052', 'k053']);
    it.seek('k140');
    expect(dec(it.next()![0])).toBe('k140');
    it.seek('k000'); // clamped to the lower bound
    expect(dec(it.next()![0])).toBe('k050');
    it.seek('k149');
    expect(it.nextv(10).length).toBe(1);
    expect(it.next()).toBeUndefined();
    it.close();
    expect(db.stats().openIterators).toBe(0);
    let n = 0;
    for await (const _ of db.iterate()) n++;
    expect(n).toBe(0);
    await db.close();
  });

  it('reverse iterator with seek and limit', async () => {
    const db = await Database.open(dir, { memtableSize: 4096 });
    for (let i = 0; i < 100; i++) await db.put(`k${String(i).padStart(3, '0')}`, `v${i}`);
    await db.flush();
    for (let i = 0; i < 100; i += 2) await db.delete(`k${String(i).padStart(3, '0')}`);
    const it = db.iterator({ reverse: true, gt: 'k010', lte: 'k020', limit: 4 });
    expect(it.nextv(10).map(([k]) => dec(k))).toEqual(['k019', 'k017', 'k015', 'k013']);
    it.close();
    const it2 = db.iterator({ reverse: true });
    it2.seek('k050');
    expect(dec(it2.next()![0])).toBe('k049');
    it2.close();
    await db.close();
  });

  it('a snapshot sees exactly the writes before it, across flush and compaction', async () => {
    const db = await Database.open(dir, { memtableSize: 4096 });
    await db.put('a', '1');
    const s1 = db.snapshot();
    await db.put('a', '2');
    await db.deleteRange('a', 'b');
    const s2 = db.snapshot();
    await db.put('a', '3');
    await db.compact();
    expect(dec(await db.get('a', { snapshot: s1 }))).toBe('1');
    expect(await db.get('a', { snapshot: s2 })).toBeUndefined();
    expect(dec(await db.get('a'))).toBe('3');
    expect(db.stats().snapshots).toBe(2);
    s1.release();
    s2.release();
    expect(db.stats().snapshots).toBe(0);
    await db.close();
  });

  it('stats: levels, counters and write amplification', async () => {
    const db = await Database.open(dir, { memtableSize: 4096 });
    for (let i = 0; i < 500; i++) await db.put(`k${i}`, 'x'.repeat(50));
    await db.flush();
    const s = db.stats();
    expect(s.lastSequence).toBe(500);
    expect(s.counters.flushes).toBeGreaterThan(0);
    expect(s.counters.userBytesWritten).toBeGreaterThan(500 * 50);
    expect(s.counters.walBytesWritten).toBeGreaterThan(s.counters.userBytesWritten);
    expect(s.levels.reduce((n, l) => n + l.files, 0)).toBeGreaterThan(0);
    expect(s.writeAmplification).toBeGreaterThan(1);
    await db.close();
  });
});
