/**
 * The follower: a read-only database catching up with a writer (db/follower.ts).
 *
 * Across processes: one writer process writes (each write an atomic batch that also sets the
 * counter "n"), flushes and compacts with a tiny memtable and a manifest rolled over every few
 * KiB; two follower processes — one calling catchUp() on demand, one catching up on a timer —
 * observe the whole database through one iterator each time. Every observation must equal the
 * writer's state after exactly n writes (a prefix of its sequence: nothing missing below n,
 * nothing it never wrote), n must never go back, and after a catch-up n must cover every write
 * acknowledged before it.
 *
 * In one process: the same properties against a fast-check model, plus the edges — a table the
 * writer deleted while the follower's descriptor was gone, snapshots across a compaction, the
 * option's validation, closing with a timer running.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Database, StrataError } from '../src/index.js';
import { MemoryFileSystem } from '../src/testing/index.js';
import { dec, errorCode, writeBoth, type Model, type ModelWrite } from './helpers.js';
import { perTestCleanup, startLineChild, type LineChild } from './support/line-child.js';

const { defer, fresh } = perTestCleanup('strata-follower-');

function start(args: string[]): LineChild {
  const c = startLineChild(join(import.meta.dirname, 'fixtures', 'follower-child.ts'), args);
  defer(() => c.stop());
  return c;
}

const acked = (w: LineChild): number => w.lines.filter((l) => l.startsWith('ack ')).length;

/** The last observation line after `from` lines, once there is one. */
async function observe(f: LineChild, command: 'catch' | 'look'): Promise<number> {
  const from = f.lines.length;
  f.send(command);
  await f.waitFor((l) => l.slice(from).some((x) => x.startsWith('obs ') || x.startsWith('bad ')), `an observation after ${command}`);
  const line = f.lines.slice(from).find((x) => x.startsWith('obs ') || x.startsWith('bad '))!;
  expect(line, 'the follower saw the state after exactly n writes').toMatch(/^obs \d+$/);
  return Number(line.slice(4));
}

/** The in-memory file system, whose WAL syncs the test can hold: a WAL rotation (it seals the old segment first) then waits. */
class WalSyncGate extends MemoryFileSystem {
  private held: (() => void)[] | undefined;

  override fsync(fd: number): Promise<void> {
    return this.gate(fd).then(() => super.fsync(fd));
  }

  override fdatasync(fd: number): Promise<void> {
    return this.gate(fd).then(() => super.fdatasync(fd));
  }

  /** Holds every WAL sync from now on; the function returned lets them (and later ones) go. */
  holdWalSyncs(): () => void {
    this.held = [];
    return () => {
      const waiting = this.held ?? [];
      this.held = undefined;
      for (const go of waiting) go();
    };
  }

  private gate(fd: number): Promise<void> {
    const held = this.held;
    if (held === undefined || this.pathOf(fd)?.endsWith('.wal') !== true) return Promise.resolve();
    return new Promise((resolve) => held.push(resolve));
  }
}

describe('follower processes beside a writer process', () => {
  it('each observation is the writer state after exactly n writes, n never goes back, and a catch-up sees every write acknowledged before it', async () => {
    const dir = fresh();
    const writer = start(['writer', dir]);
    await writer.waitFor(() => acked(writer) >= 50, 'the first writes');
    const onDemand = start(['follower', dir]);
    const onTimer = start(['follower', dir, '25']);
    await onDemand.waitFor((l) => l.includes('ready'), 'follower ready');
    await onTimer.waitFor((l) => l.includes('ready'), 'follower ready');

    let lastDemand = 0;
    let lastTimer = 0;
    let catchUps = 0;
    const target = 4000; // several full compactions, dozens of flushes and manifests
    // At least six catch-ups while the writer works, however slow a loaded machine makes each
    // one (a count-only condition let a fast writer finish its target within five).
    while (acked(writer) < target || catchUps < 6) {
      const before = acked(writer);
      const n = await observe(onDemand, 'catch');
      catchUps++;
      expect(n, `catch-up ${catchUps}: the ${before} writes acknowledged before it`).toBeGreaterThanOrEqual(before);
      expect(n).toBeGreaterThanOrEqual(lastDemand);
      lastDemand = n;
      const t = await observe(onTimer, 'look');
      expect(t).toBeGreaterThanOrEqual(lastTimer);
      lastTimer = t;
      await new Promise((r) => setTimeout(r, 10));
    }
    // The timed follower gets there on its own, too.
    const reached = acked(writer);
    for (let i = 0; ; i++) {
      const t = await observe(onTimer, 'look');
      if (t >= reached) break;
      expect(i, 'the timer keeps catching up').toBeLessThan(2000);
      await new Promise((r) => setTimeout(r, 20));
    }
    // The writer closes (its last writes are in the WAL only): a last catch-up has them all.
    writer.child.stdin!.end();
    await writer.waitFor((l) => l.includes('closed'), 'the writer closing');
    const all = acked(writer);
    expect(await observe(onDemand, 'catch')).toBe(all);
  });
});

describe('follower in one process', () => {
  it('catchUp() sees new writes, flushes, compactions and manifest rollovers; nothing changes between catch-ups', async () => {
    const dir = fresh();
    const w = await Database.open(dir, { memtableSize: 4096, maxManifestFileSize: 1024, l0CompactionTrigger: 2 });
    defer(() => w.close());
    await w.put('a', '1');
    const f = await Database.open(dir, { readOnly: true });
    defer(() => f.close());
    expect(dec(await f.get('a'))).toBe('1');
    for (let i = 0; i < 500; i++) await w.put(`k${i}`, `v${i}`);
    expect(await f.get('k0')).toBeUndefined(); // until the next catch-up
    const r = await f.catchUp();
    expect(r.walBatches).toBeGreaterThan(0);
    expect(r.tablesChanged).toBe(true);
    expect(r.sequence).toBe(501);
    for (const i of [0, 250, 499]) expect(dec(await f.get(`k${i}`))).toBe(`v${i}`);
    await w.compact();
    await w.deleteRange('k1', 'k3');
    const r2 = await f.catchUp();
    expect(r2.manifestEdits).toBeGreaterThan(0);
    expect(await f.get('k200')).toBeUndefined();
    expect(dec(await f.get('k499'))).toBe('v499');
    // Nothing new: a catch-up that changes nothing.
    const r3 = await f.catchUp();
    expect(r3).toMatchObject({ manifestEdits: 0, walBatches: 0, tablesChanged: false, sequence: r2.sequence });
  });

  it('a flush that finishes before its WAL rotation waits for it: the manifest never names a segment not created yet (a follower opening meanwhile is no CORRUPTION)', async () => {
    const fs = new WalSyncGate();
    const w = await Database.open('/db', { fs });
    defer(() => w.close());
    await w.put('a', '1');
    // The rotation db.flush() queues seals segment 1 first (an fsync, held here); the table of
    // one key is written and synced meanwhile.
    const release = fs.holdWalSyncs();
    const flushed = w.flush();
    try {
      for (let waited = 0; !fs.readdirSync('/db').some((n) => n.endsWith('.sst')) && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100));
      const f = await Database.open('/db', { fs, readOnly: true });
      defer(() => f.close());
      expect(dec(await f.get('a'))).toBe('1');
    } finally {
      release();
    }
    await flushed;
    expect(fs.readdirSync('/db').filter((n) => n.endsWith('.wal'))).toEqual([expect.stringMatching(/2\.wal$/)]);
    await w.put('b', '2');
    const f = await Database.open('/db', { fs, readOnly: true });
    defer(() => f.close());
    expect([dec(await f.get('a')), dec(await f.get('b'))]).toEqual(['1', '2']);
  });

  it('follows a writer that closes and reopens (new manifest, WAL flushed into a table, old segments deleted)', async () => {
    const dir = fresh();
    let w = await Database.open(dir);
    await w.put('x', '1');
    const f = await Database.open(dir, { readOnly: true });
    defer(() => f.close());
    await w.put('y', '2');
    await w.close();
    w = await Database.open(dir);
    defer(() => w.close());
    await w.put('z', '3');
    await f.catchUp();
    expect([dec(await f.get('x')), dec(await f.get('y')), dec(await f.get('z'))]).toEqual(['1', '2', '3']);
  });

  it('a table the writer deleted after the follower let its descriptor go: NOT_FOUND saying to catch up, never other data; catchUp() mends it', async () => {
    const dir = fresh();
    const w = await Database.open(dir, { compression: 'none' });
    defer(() => w.close());
    for (let i = 0; i < 200; i++) await w.put(`a${String(i).padStart(3, '0')}`, 'x'.repeat(100));
    await w.flush();
    for (let i = 0; i < 200; i++) await w.put(`b${String(i).padStart(3, '0')}`, 'y'.repeat(100));
    await w.flush();
    // One table descriptor: opening the second table closed the first one's.
    const f = await Database.open(dir, { readOnly: true, maxOpenFiles: 11, blockCacheSize: 0 });
    defer(() => f.close());
    await w.compact(); // both tables deleted
    // The table whose descriptor is still open reads as before; the other one cannot be read.
    const outcomes = await Promise.all(
      (['a000', 'b199'] as const).map((k) =>
        f.get(k).then(
          (v) => ({ k, v: dec(v) }),
          (e: unknown) => ({ k, e }),
        ),
      ),
    );
    const failed = outcomes.filter((o) => 'e' in o);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.e).toBeInstanceOf(StrataError);
    expect(failed[0]!.e).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('catchUp()') });
    for (const o of outcomes) if ('v' in o) expect(o.v).toBe(o.k.startsWith('a') ? 'x'.repeat(100) : 'y'.repeat(100));
    // Every read path tells the same failure the same way: getMany, and an iterator over both tables.
    const explained = { code: 'NOT_FOUND', message: expect.stringContaining('catchUp()') };
    await expect(f.getMany(['a000', 'b199'])).rejects.toMatchObject(explained);
    const it = f.iterator();
    expect(() => it.nextv(1000)).toThrow(expect.objectContaining(explained));
    it.close();
    await f.catchUp();
    expect(dec(await f.get('a000'))).toBe('x'.repeat(100));
    expect(dec(await f.get('b199'))).toBe('y'.repeat(100));
  });

  it('an explicit snapshot works until a catch-up installs a compaction, then is refused; iterators keep their view', async () => {
    const dir = fresh();
    const w = await Database.open(dir);
    defer(() => w.close());
    await w.put('k', 'old');
    await w.flush();
    const f = await Database.open(dir, { readOnly: true });
    defer(() => f.close());
    const snap = f.snapshot();
    const it = f.iterator();
    await w.put('k', 'new');
    await f.catchUp(); // no tables dropped: the snapshot still reads
    expect(dec(await f.get('k', { snapshot: snap }))).toBe('old');
    expect(dec(await f.get('k'))).toBe('new');
    await w.compact();
    await f.catchUp();
    expect(await errorCode(f.get('k', { snapshot: snap }))).toBe('INVALID_ARGUMENT');
    expect(it.next()?.map((b) => dec(b))).toEqual(['k', 'old']);
    it.close();
    snap.release();
    const again = f.snapshot();
    expect(dec(await f.get('k', { snapshot: again }))).toBe('new');
    again.release();
  });

  it('followInterval catches up on its own (and stops at close); it needs readOnly; catchUp() on a writer is INVALID_ARGUMENT', async () => {
    const dir = fresh();
    const w = await Database.open(dir);
    defer(() => w.close());
    expect(await errorCode(Database.open(dir, { followInterval: 10 }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(Database.open(dir, { readOnly: true, followInterval: -1 }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(w.catchUp())).toBe('INVALID_ARGUMENT');
    const f = await Database.open(dir, { readOnly: true, followInterval: 5 });
    await w.put('later', 'yes');
    for (let i = 0; (await f.get('later')) === undefined; i++) {
      expect(i).toBeLessThan(1000);
      await new Promise((r) => setTimeout(r, 5));
    }
    await f.close();
    expect(await errorCode(f.catchUp())).toBe('NOT_OPEN');
  });

  it('model: after any writes, flushes and compactions, each catch-up shows exactly the model at that point, and the follower stays there until the next', async () => {
    const key = fc.integer({ min: 0, max: 40 }).map((i) => `k${String(i).padStart(2, '0')}`);
    const step: fc.Arbitrary<ModelWrite | { t: 'flush' } | { t: 'compact' } | { t: 'catchUp' }> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ t: fc.constant('put' as const), k: key, v: fc.string({ maxLength: 30 }) }) },
      { weight: 2, arbitrary: fc.record({ t: fc.constant('del' as const), k: key }) },
      { weight: 1, arbitrary: fc.tuple(key, key).map(([a, b]) => ({ t: 'range' as const, s: a < b ? a : b, e: a < b ? b : a })) },
      { weight: 1, arbitrary: fc.constant({ t: 'flush' as const }) },
      { weight: 1, arbitrary: fc.constant({ t: 'compact' as const }) },
      { weight: 3, arbitrary: fc.constant({ t: 'catchUp' as const }) },
    );
    const contents = (db: Database): [string, string][] => {
      const got: [string, string][] = [];
      const it = db.iterator();
      for (let e = it.next(); e !== undefined; e = it.next()) got.push([dec(e[0])!, dec(e[1])!]);
      it.close();
      return got;
    };
    const sorted = (m: Model): [string, string][] => [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 60 }), async (steps) => {
        const dir = fresh();
        const db = await Database.open(dir, { memtableSize: 2048, maxManifestFileSize: 1024, l0CompactionTrigger: 2 });
        const model: Model = new Map();
        const f = await Database.open(dir, { readOnly: true });
        let seen: [string, string][] = [];
        try {
          for (const s of steps) {
            if (s.t === 'flush') await db.flush();
            else if (s.t === 'compact') await db.compact();
            else if (s.t === 'catchUp') {
              await f.catchUp();
              seen = sorted(model);
            } else await writeBoth(db, model, s);
            expect(contents(f)).toEqual(seen);
            for (const [k, v] of seen) expect(dec(f.getSync(k))).toBe(v);
          }
          await f.catchUp();
          expect(contents(f)).toEqual(sorted(model));
        } finally {
          await f.close();
          await db.close();
        }
      }),
      { numRuns: 30 },
    );
  });
});
