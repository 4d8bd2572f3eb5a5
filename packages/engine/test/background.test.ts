/**
 * The worker-thread background executor (src/background/): the same tables as the in-thread
 * one, byte for byte; a worker that dies mid-flush or mid-compaction loses nothing
 * acknowledged, turns the database read-only and leaves no orphan after the next open; errors
 * cross the thread boundary typed; close() leaves no thread, descriptor or timer behind; and
 * an idle open database does not keep its process alive.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readdirSync, readFileSync, readSync, openSync, closeSync, writeSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { Table } from '@strata-db/sstable-core';
import { Database, StrataError, type DatabaseOptions, type StrataEvent } from '../src/index.js';
import type { WorkerExecutor } from '../src/background/worker-executor.js';
import { compactionsSettled, dec, testDir } from './helpers.js';

const fresh = (): string => testDir('strata-bg-');

const executorOf = (db: Database): WorkerExecutor => (db as unknown as { core: { executor: WorkerExecutor } }).core.executor;
const tables = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.sst')).sort();
const listed = (db: Database): string[] =>
  db
    .stats()
    .levels.flatMap((l) => l.fileList.map((f) => `${String(f.fileNumber).padStart(6, '0')}.sst`))
    .sort();
/** The codecs the live tables of a closed or quiet database were written with. */
const codecsOf = (dir: string): Set<string> =>
  new Set(
    tables(dir).map((f) => {
      const t = Table.open(join(dir, f));
      try {
        return t.readProperties().compression;
      } finally {
        t.close();
      }
    }),
  );
const key = (i: number): string => `key-${String((i * 7919) % 100_000).padStart(6, '0')}`;

async function fill(db: Database, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += 500) {
    const b = db.batch();
    for (let j = i; j < Math.min(to, i + 500); j++) b.put(key(j), `value-${j}-`.repeat(4));
    // A range tombstone (over exactly one key, written just before) in every tenth batch.
    if (i % 5000 === 0) b.deleteRange(key(i + 1), key(i + 1) + '\0');
    await b.write();
  }
}

/** Tables record their creation time (taken on the main thread, an input of the job): pinned for this test. */
function pinClock(): void {
  const now = vi.spyOn(Date, 'now').mockReturnValue(1_800_000_000_000);
  onTestFinished(() => {
    now.mockRestore();
  });
}

/** Every table file of `dir`: name → contents (base64). */
function tableBytes(dir: string): Map<string, string> {
  return new Map(tables(dir).map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));
}

/** Two runs made the same tables under the same names, byte for byte (a difference is named by table and offset). */
function expectSameTables(expected: Map<string, string>, actual: Map<string, string>): void {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [f, b] of expected) {
    const other = Buffer.from(actual.get(f)!, 'base64');
    const mine = Buffer.from(b, 'base64');
    let at = 0;
    while (at < mine.length && mine[at] === other[at]) at++;
    expect({ f, length: other.length, firstDifference: at === mine.length && other.length === mine.length ? -1 : at }).toEqual({ f, length: mine.length, firstDifference: -1 });
  }
}

/** Runs `script` (an ES module importing the engine's sources) in a child node, to its natural end. */
function runModule(script: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000, cwd: join(import.meta.dirname, '..') });
}

describe('worker executor', () => {
  it('writes byte-identical tables to the in-thread executor (flush and compaction)', async () => {
    const bytes: Map<string, string>[] = [];
    pinClock();
    for (const backgroundThreads of [0, 1]) {
      const dir = fresh();
      // No automatic compaction: the two runs then make the same tables under the same numbers.
      // Codecs cross in the job: L0 tables in one, the bottommost outputs in another.
      const db = await Database.open(dir, {
        backgroundThreads,
        memtableSize: 64 * 1024,
        targetFileSize: 8 * 1024,
        l0CompactionTrigger: 1000,
        l0SlowdownWritesTrigger: 1000,
        l0StopWritesTrigger: 1000,
        compression: ['lz4', 'snappy'],
        bottommostCompression: 'deflate',
      });
      const snap = db.snapshot(); // keeps some old versions through the compaction
      await fill(db, 0, 3000);
      await db.flush();
      await fill(db, 1000, 4000);
      await db.flush();
      expect(codecsOf(dir)).toEqual(new Set(['lz4']));
      await db.compact();
      expect(codecsOf(dir)).toEqual(new Set(['deflate']));
      snap.release();
      expect(db.stats().backgroundError).toBeUndefined();
      if (backgroundThreads === 1) expect(executorOf(db).threads).toBe(1);
      await db.close();
      bytes.push(tableBytes(dir));
    }
    expect(bytes[0]!.size).toBeGreaterThan(2);
    expectSameTables(bytes[0]!, bytes[1]!);
  }, 120_000);

  it('cuts a large compaction into key ranges merged side by side: the same tables from two worker threads as from the in-thread executor', async () => {
    const bytes: Map<string, string>[] = [];
    pinClock();
    for (const backgroundThreads of [0, 2]) {
      const dir = fresh();
      const db = await Database.open(dir, {
        backgroundThreads,
        maxSubcompactions: 3,
        memtableSize: 64 * 1024,
        targetFileSize: 8 * 1024,
        l0CompactionTrigger: 1000,
        l0SlowdownWritesTrigger: 1000,
        l0StopWritesTrigger: 1000,
      });
      // No range tombstones in these writes (fill adds one only where i % 5000 === 0).
      await fill(db, 1000, 4000);
      await db.flush();
      await db.compact(); // one sorted level of many tables
      await fill(db, 1500, 4500);
      await db.flush();
      await db.compact(); // L0 over that level: cut at its tables' boundaries
      const c = db.stats().compaction!;
      expect(c.splitCompactions).toBeGreaterThan(0);
      expect(c.subcompactions).toBeGreaterThanOrEqual(2 * c.splitCompactions);
      for (const i of [1000, 1499, 1500, 2777, 4499]) expect(dec(await db.get(key(i)))).toBe(`value-${i}-`.repeat(4));
      let n = 0;
      for await (const _ of db.iterate()) n++;
      expect(n).toBe(3500);
      expect(db.stats().backgroundError).toBeUndefined();
      if (backgroundThreads === 2) expect(executorOf(db).liveWorkers).toBe(2); // the ranges went to both
      await db.close();
      bytes.push(tableBytes(dir));
    }
    expectSameTables(bytes[0]!, bytes[1]!);
  }, 120_000);

  it('a second worker joins only while compaction is behind (L0 at the slowdown trigger, or parallelCompactionBytes), at a lower CPU priority', async () => {
    /** Nice values of this process's threads (Linux keeps one per thread: /proc/self/task/<tid>/stat, field 19). */
    const niceValues = (): number[] =>
      readdirSync('/proc/self/task').map((t) => {
        const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      });
    const base = niceValues();
    // 10 above the main thread's own (10 when the suite runs under `nice -n 10`), at most Linux's 19.
    const low = Math.min(19, Math.min(...base) + 10);
    // No range tombstone in these writes (fill adds one only where i % 5000 === 0), so compactions can be cut.
    // Writes never held back for L0 (slowdown at 1000) unless a case lowers it.
    const opts = { backgroundThreads: 2, memtableSize: 64 * 1024, targetFileSize: 8 * 1024, l0CompactionTrigger: 2, l0SlowdownWritesTrigger: 1000, l0StopWritesTrigger: 1000 };
    const seen: { workers: number; split: number; niced: number }[] = [];
    const cases: Partial<DatabaseOptions>[] = [{}, { parallelCompactionBytes: 0 }, { l0SlowdownWritesTrigger: 3 }];
    for (const extra of cases) {
      const db = await Database.open(fresh(), { ...opts, ...extra });
      let workers = 0;
      for (let i = 1; i < 30_001; i += 1500) {
        await fill(db, i, i + 1500);
        workers = Math.max(workers, db.stats().background.workers);
      }
      await compactionsSettled(db, 60_000);
      workers = Math.max(workers, db.stats().background.workers);
      const niced = niceValues().filter((n) => n >= low).length - base.filter((n) => n >= low).length;
      seen.push({ workers, split: db.stats().compaction!.splitCompactions, niced });
      for (const i of [1, 777, 29_999]) expect(dec(await db.get(key(i)))).toBe(`value-${i}-`.repeat(4));
      await db.close();
    }
    // Never behind (256 MiB of debt, never reached by 3 MB; L0 never at 1000): one worker, compactions never cut.
    expect(seen[0]).toEqual({ workers: 1, split: 0, niced: 0 });
    // Any debt: compactions cut into ranges, the second worker started, at nice +10.
    expect(seen[1]!.workers).toBe(2);
    expect(seen[1]!.split).toBeGreaterThan(0);
    expect(seen[1]!.niced).toBe(1);
    // Writes delayed for L0 (3 tables, l0CompactionTrigger 2): behind, so the second worker joins.
    expect(seen[2]!.workers).toBe(2);
    expect(seen[2]!.split).toBeGreaterThan(0);
  }, 120_000);

  it('a worker killed mid-flush: read-only with a clear error, reads go on, reopen recovers everything, no orphans', async () => {
    const dir = fresh();
    let db = await Database.open(dir, { backgroundThreads: 1, memtableSize: 8 << 20 });
    await fill(db, 0, 30_000);
    await db.flush(); // the worker is running
    await fill(db, 30_000, 60_000);
    const flushing = db.flush();
    const executor = executorOf(db);
    // Kill it as soon as the flush was handed over.
    while (executor.jobsInFlight === 0) await new Promise((r) => setImmediate(r));
    await executor.terminateWorkersForTesting();
    await expect(flushing).rejects.toThrow(/background worker thread/);
    await expect(db.put('x', 'y')).rejects.toMatchObject({ code: 'READ_ONLY', message: expect.stringMatching(/background worker thread/) });
    expect(dec(await db.get(key(45_000)))).toBe('value-45000-'.repeat(4)); // from the frozen memtable
    await db.close();
    db = await Database.open(dir, { backgroundThreads: 1 });
    try {
      for (const i of [0, 29_999, 30_000, 59_999]) expect(dec(await db.get(key(i))), key(i)).toBe(`value-${i}-`.repeat(4));
      expect(tables(dir)).toEqual(listed(db));
      await db.put('x', 'y');
    } finally {
      await db.close();
    }
  }, 120_000);

  it('a worker killed mid-compaction: read-only, nothing lost, reopen recovers, no orphans', async () => {
    const dir = fresh();
    const opts = { backgroundThreads: 1, memtableSize: 256 * 1024, targetFileSize: 256 * 1024, l0CompactionTrigger: 1000, l0SlowdownWritesTrigger: 1000, l0StopWritesTrigger: 1000 };
    let db = await Database.open(dir, opts);
    for (let r = 0; r < 4; r++) {
      await fill(db, r * 10_000, (r + 1) * 10_000);
      await db.flush();
    }
    const compacting = db.compact();
    const executor = executorOf(db);
    while (executor.jobsInFlight === 0) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 20)); // let it write some output
    await executor.terminateWorkersForTesting();
    await compacting.catch(() => undefined);
    expect(db.stats().backgroundError).toMatch(/background worker thread/);
    await expect(db.put('x', 'y')).rejects.toMatchObject({ code: 'READ_ONLY' });
    expect(dec(await db.get(key(12_345)))).toBe('value-12345-'.repeat(4));
    await db.close();
    db = await Database.open(dir, opts);
    try {
      for (const i of [0, 9_999, 20_000, 39_999]) expect(dec(await db.get(key(i))), key(i)).toBe(`value-${i}-`.repeat(4));
      expect(tables(dir)).toEqual(listed(db));
      await db.compact();
      expect(db.stats().backgroundError).toBeUndefined();
      expect(tables(dir)).toEqual(listed(db));
    } finally {
      await db.close();
    }
  }, 120_000);

  it('a worker that reaches its heap limit: the flush fails typed (IO_ERROR, "ran out of memory"), no hang; read-only; reopen recovers', async () => {
    const dir = fresh();
    let db = await Database.open(dir, { backgroundThreads: 1, memtableSize: 64 * 1024 * 1024 });
    // A small old generation (the default bound is V8's), reached by a flush that holds 60k
    // range tombstones in the builder: the same death as a worker over its heap in production.
    executorOf(db).limitWorkersForTesting({ maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1 });
    await fill(db, 0, 5_000);
    for (let i = 0; i < 60_000; i += 1000) {
      const b = db.batch();
      for (let j = i; j < i + 1000; j++) b.deleteRange(`r-${String(j).padStart(8, '0')}-a`, `r-${String(j).padStart(8, '0')}-b`);
      await b.write();
    }
    const err = await db.flush().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StrataError);
    expect(err).toMatchObject({ code: 'IO_ERROR', message: expect.stringMatching(/background worker thread ran out of memory/) });
    await expect(db.put('x', 'y')).rejects.toMatchObject({ code: 'READ_ONLY' });
    expect(dec(await db.get(key(4_321)))).toBe('value-4321-'.repeat(4));
    await db.close();
    db = await Database.open(dir, { backgroundThreads: 1 });
    try {
      expect(dec(await db.get(key(4_321)))).toBe('value-4321-'.repeat(4));
      await db.flush();
      expect(tables(dir)).toEqual(listed(db));
      expect(db.stats().backgroundError).toBeUndefined();
    } finally {
      await db.close();
    }
  }, 120_000);

  it('flush and compaction events fire from worker jobs as from in-thread ones, failures included', async () => {
    const dir = fresh();
    const events: StrataEvent[] = [];
    const opts = { backgroundThreads: 1, memtableSize: 64 * 1024, l0CompactionTrigger: 1000, l0SlowdownWritesTrigger: 1000, l0StopWritesTrigger: 1000, onEvent: (e: StrataEvent) => events.push(e) };
    const db = await Database.open(dir, opts);
    try {
      await fill(db, 0, 3000);
      await db.flush();
      await fill(db, 3000, 6000);
      await db.flush();
      await db.compact();
      expect(executorOf(db).liveWorkers).toBe(1);
      const types = events.map((e) => e.type);
      expect(types).toContain('flush-begin');
      expect(types).toContain('compaction-begin');
      const flushEnds = events.flatMap((e) => (e.type === 'flush-end' ? [e] : []));
      for (const e of flushEnds) expect(e.error).toBeUndefined();
      expect(flushEnds.filter((e) => e.fileNumber !== undefined && e.bytes > 0).length).toBeGreaterThanOrEqual(2);
      const compactionEnd = events.find((e) => e.type === 'compaction-end' && !e.trivialMove);
      expect(compactionEnd).toMatchObject({ outputs: expect.arrayContaining([expect.any(Number)]), bytesWritten: expect.any(Number) });
      expect(compactionEnd && 'error' in compactionEnd ? compactionEnd.error : undefined).toBeUndefined();
      const created = events.filter((e) => e.type === 'table-created').map((e) => (e as { reason: string }).reason);
      expect(created).toContain('flush');
      expect(created).toContain('compaction');

      // The worker dies in the middle of a flush: flush-end carries the error, background-error fires once.
      events.length = 0;
      await fill(db, 6000, 9000);
      const flushing = db.flush();
      const executor = executorOf(db);
      while (executor.jobsInFlight === 0) await new Promise((r) => setImmediate(r));
      await executor.terminateWorkersForTesting();
      await flushing.catch(() => undefined);
      const failed = events.find((e) => e.type === 'flush-end' && e.error !== undefined);
      expect(failed).toMatchObject({ error: { code: 'IO_ERROR', message: expect.stringMatching(/background worker thread/) } });
      const bg = events.filter((e) => e.type === 'background-error');
      expect(bg).toHaveLength(1);
      expect(bg[0]).toMatchObject({ error: { message: expect.stringMatching(/background worker thread/) } });
    } finally {
      await db.close();
    }
  }, 60_000);

  it('a corrupt input reaches the main thread as CORRUPTION naming the file and offset', async () => {
    const dir = fresh();
    const opts = { backgroundThreads: 1, memtableSize: 64 * 1024, l0CompactionTrigger: 1000, l0SlowdownWritesTrigger: 1000, l0StopWritesTrigger: 1000 };
    let db = await Database.open(dir, opts);
    await fill(db, 0, 3000);
    await db.flush();
    await db.close();
    // Flip a byte inside the first data block of the first table.
    const victim = tables(dir)[0]!;
    const fd = openSync(join(dir, victim), 'r+');
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, 100);
    b[0] = b[0]! ^ 0xff;
    writeSync(fd, b, 0, 1, 100);
    expect(fstatSync(fd).size).toBeGreaterThan(100);
    closeSync(fd);
    db = await Database.open(dir, { ...opts, blockCacheSize: 0 });
    try {
      const err = await db.compact().then(
        () => undefined,
        (e: unknown) => e,
      );
      const bg = err instanceof StrataError ? err : (db as unknown as { core: { bgError: StrataError } }).core.bgError;
      expect(bg).toBeInstanceOf(StrataError);
      expect(bg.code).toBe('CORRUPTION');
      expect(bg.file).toContain(victim);
      expect(typeof bg.offset).toBe('number');
    } finally {
      await db.close();
    }
  }, 60_000);

  it('close() leaves no thread, file descriptor or timer behind', async () => {
    const threads = (): number => readdirSync('/proc/self/task').length;
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate').length;
    const dir = fresh();
    // Warm up once (the first start builds the worker bundle of the sources; libuv's pool starts).
    let db = await Database.open(dir, { backgroundThreads: 2, memtableSize: 64 * 1024 });
    await fill(db, 0, 2000);
    await db.flush();
    await db.close();
    await new Promise((r) => setTimeout(r, 200));
    const before = { threads: threads(), fds: fds(), timers: timers() };
    db = await Database.open(dir, { backgroundThreads: 2, memtableSize: 64 * 1024, l0CompactionTrigger: 2 });
    await fill(db, 0, 8000);
    await db.flush();
    await db.compact();
    expect(executorOf(db).liveWorkers).toBeGreaterThan(0);
    expect(threads()).toBeGreaterThan(before.threads);
    // Each worker ends on its own after the stop message (exit code 0), never by terminate()
    // (exit code 1): see "Close ends a worker" in worker-executor.ts.
    const workers = (executorOf(db) as unknown as { slots: { worker: Worker }[] }).slots.map((s) => s.worker);
    const exitCodes: number[] = [];
    const terminations = workers.map((w) => {
      w.once('exit', (code) => exitCodes.push(code));
      return vi.spyOn(w, 'terminate');
    });
    await db.close();
    expect(exitCodes).toEqual(workers.map(() => 0));
    for (const t of terminations) expect(t).not.toHaveBeenCalled();
    await new Promise((r) => setTimeout(r, 200));
    expect(executorOf(db).liveWorkers).toBe(0);
    expect({ threads: threads(), fds: fds(), timers: timers() }).toEqual(before);
  }, 60_000);

  it('a worker idle for backgroundThreadIdleMs ends by itself (exit code 0), its thread and memory go, and the next flush starts another', async () => {
    const threads = (): number => readdirSync('/proc/self/task').length;
    const dir = fresh();
    const db = await Database.open(dir, { backgroundThreads: 1, memtableSize: 64 * 1024, backgroundThreadIdleMs: 300 });
    try {
      await fill(db, 0, 2000);
      await db.flush();
      const executor = executorOf(db);
      expect(executor.liveWorkers).toBe(1);
      const worker = (executor as unknown as { slots: { worker: Worker }[] }).slots[0]!.worker;
      const exitCode = new Promise<number>((resolve) => worker.once('exit', resolve));
      const terminate = vi.spyOn(worker, 'terminate');
      const withWorker = threads();
      const idleSince = performance.now();
      expect(await exitCode).toBe(0); // it ended on its own, not terminated
      expect(performance.now() - idleSince).toBeGreaterThanOrEqual(250);
      expect(terminate).not.toHaveBeenCalled();
      expect(executor.liveWorkers).toBe(0);
      expect(db.stats().background).toMatchObject({ workers: 0, idleEnded: 1 });
      await vi.waitFor(() => {
        expect(threads()).toBeLessThan(withWorker);
      });
      expect(db.stats().memory.workers.peakHeapTotal).toBeGreaterThan(0); // the most seen outlives the worker
      // Not read-only: the next flush starts a new worker, and everything reads back.
      await fill(db, 2000, 4000);
      await db.flush();
      expect(executor.liveWorkers).toBe(1);
      for (const i of [0, 1999, 2000, 3999]) expect(dec(await db.get(key(i)))).toBe(`value-${i}-`.repeat(4));
      // A compaction the flushes started may still be writing an output the Version does not list yet.
      await compactionsSettled(db);
      expect(listed(db)).toEqual(tables(dir));
    } finally {
      await db.close();
    }
  }, 60_000);

  it('a half-full memtable starts the worker its flush will need, before the flush; with no flush it ends after backgroundThreadIdleMs', async () => {
    const dir = fresh();
    const memtableSize = 64 * 1024;
    const db = await Database.open(dir, { backgroundThreads: 1, memtableSize, backgroundThreadIdleMs: 300 });
    try {
      const executor = executorOf(db);
      const active = (): number => (db as unknown as { core: { activeMemtable: { approximateBytes(): number } } }).core.activeMemtable.approximateBytes();
      const flushesAtOpen = db.stats().counters.flushes; // recovery's, of the WAL it found
      let i = 0;
      // Below half: no thread yet (a database that only reads, or writes little, never starts one).
      while (active() < memtableSize / 4) await db.put(key(i), `value-${i++}`);
      expect(executor.liveWorkers).toBe(0);
      while (active() < memtableSize / 2) await db.put(key(i), `value-${i++}`);
      expect(executor.liveWorkers).toBe(1); // started while the memtable fills, not when it is frozen
      expect(db.stats().counters.flushes).toBe(flushesAtOpen);
      expect(tables(dir)).toEqual([]);
      const worker = (executor as unknown as { slots: { worker: Worker }[] }).slots[0]!.worker;
      // No flush comes: the worker is idle like any other, and ends by itself.
      expect(await new Promise<number>((resolve) => worker.once('exit', resolve))).toBe(0);
      expect(db.stats().background).toMatchObject({ workers: 0, idleEnded: 1 });
      // Once a memtable: a later write of the same (still half-full) memtable starts none again.
      await db.put(key(i), `value-${i++}`);
      expect(executor.liveWorkers).toBe(0);
      for (let j = 0; j < i; j += 97) expect(dec(await db.get(key(j)))).toBe(`value-${j}`);
    } finally {
      await db.close();
    }
  }, 60_000);

  it('an idle worker ends on time while a loop of awaited gets keeps the event loop from its timers', async () => {
    const dir = fresh();
    const db = await Database.open(dir, { backgroundThreads: 1, memtableSize: 64 * 1024, backgroundThreadIdleMs: 200 });
    try {
      await fill(db, 0, 2000);
      await db.flush();
      const executor = executorOf(db);
      expect(executor.liveWorkers).toBe(1);
      // Each `await db.get` settles in a microtask: this loop never lets the idle timer fire.
      const started = performance.now();
      let gets = 0;
      while (executor.liveWorkers > 0 && performance.now() - started < 20_000) await db.get(key(gets++ % 2000));
      expect(executor.liveWorkers).toBe(0);
      expect(performance.now() - started).toBeLessThan(20_000);
      expect(db.stats().background.idleEnded).toBe(1);
    } finally {
      await db.close(); // and close waits for the thread it asked to stop
    }
    expect(executorOf(db).liveWorkers).toBe(0);
  }, 60_000);

  it('close() right after an idle worker was asked to end still settles: a process whose last act is await db.close() exits 0', () => {
    const dir = fresh();
    // backgroundThreadIdleMs 1: the worker is asked to end (unreferenced, so that it keeps no
    // process alive) right after the flush, and is still exiting when close() begins.
    const script = `
      import { Database } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
      for (let round = 0; round < 3; round++) {
        const db = await Database.open(${JSON.stringify(dir)} + '/' + round, { backgroundThreads: 1, memtableSize: 64 * 1024, backgroundThreadIdleMs: 1 });
        for (let i = 0; i < 20; i++) { const b = db.batch(); for (let j = 0; j < 100; j++) b.put('k' + i + '-' + j, 'x'.repeat(100)); await b.write(); }
        await db.flush();
        let n = 0;
        while (db.stats().background.idleEnded === 0 && n < 100000) await db.get('k0-' + (n++ % 100));
        const ended = db.stats().background.idleEnded;
        await db.close();
        console.log('closed ' + round + ', idle workers ended: ' + ended);
      }`;
    const r = runModule(script);
    expect(r.stderr).toBe(''); // no "unsettled top-level await" warning
    expect(r.stdout).toMatch(/closed 2, idle workers ended: [1-9]/);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0); // 13: close() never settled, the event loop emptied first
  }, 70_000);

  it('an open, idle database does not keep its process from exiting', () => {
    const dir = fresh();
    const script = `
      import { Database } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
      const db = await Database.open(${JSON.stringify(dir)}, { backgroundThreads: 1, memtableSize: 64 * 1024 });
      for (let i = 0; i < 50; i++) { const b = db.batch(); for (let j = 0; j < 100; j++) b.put('k' + i + '-' + j, 'x'.repeat(100)); await b.write(); }
      await db.flush();
      console.log('flushed, not closing');`;
    const r = runModule(script);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('flushed, not closing');
    expect(r.signal).toBeNull(); // not killed by the timeout: it exited by itself
    expect(r.status).toBe(0);
  }, 70_000);
});
