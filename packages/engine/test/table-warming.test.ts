/**
 * Idle warming of table metadata (warmTables, version/table-warmer.ts): once no write has come
 * for a quiet period and no flush or compaction runs, the current version's tables are opened
 * and their filter and index partitions loaded, in small slices, filters and upper levels first,
 * within the table cache's room; writes stop it, close ends it. Assertions are on states, counts
 * and slice sizes, never on how long anything took.
 */
import { readdirSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Table } from '@strata-db/sstable-core';
import { Database, StrataError, type DatabaseOptions } from '../src/index.js';
import { OPEN_BYTES, QUIET_MS, SLICE_BYTES } from '../src/version/table-warmer.js';
import { testDir } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = testDir('strata-table-warming-');
});
afterEach(() => {
  vi.restoreAllMocks();
});

const key = (i: number): Uint8Array => new TextEncoder().encode(`key${String(i).padStart(6, '0')}`);
const value = (i: number): Uint8Array => new TextEncoder().encode(`value-${i}-`.repeat(4));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Small blocks and partitions and tables, so that a few thousand keys make many tables of several partitions each. */
const SMALL: DatabaseOptions = { backgroundThreads: 0, blockSize: 256, metadataBlockSize: 128, memtableSize: 32 * 1024, targetFileSize: 32 * 1024 };
/** A partition of these tables, as stored, is far below this (a few hundred bytes). */
const PARTITION_AT_MOST = 1024;

async function load(db: Database, n: number): Promise<void> {
  for (let i = 0; i < n; i += 100) {
    const b = db.batch();
    for (let j = i; j < Math.min(n, i + 100); j++) b.put(key(j), value(j));
    await b.write();
  }
}

/** A database of `n` keys, compacted, closed: what a restart opens. */
async function build(n: number, opts: DatabaseOptions = SMALL): Promise<void> {
  const db = await Database.open(dir, opts);
  await load(db, n);
  await db.compact();
  await db.close();
}

/** Polls `cond` between turns of the event loop (timers of 5 ms); fails after `ms`. */
async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const warmerOf = (db: Database): { largestSlice: number } => (db as unknown as { core: { warmer: { largestSlice: number } } }).core.warmer;
const fileCount = (db: Database): number => db.stats().levels.reduce((n, l) => n + l.files, 0);

describe('idle warming of table metadata', () => {
  it('after a bulk load, once idle: every table open with every partition, filters and upper levels first, in small slices; the gets after it open and load nothing', async () => {
    const db = await Database.open(dir, SMALL);
    try {
      await load(db, 12_000);
      await db.compact();
      // One more table in L0, above the compacted levels.
      for (let i = 12_000; i < 12_400; i++) await db.put(key(i), value(i));
      await db.flush();
      const l0 = new Set(db.stats().levels[0]!.fileList.map((f) => f.fileNumber));
      expect(l0.size).toBeGreaterThan(0);
      expect(fileCount(db)).toBeGreaterThan(l0.size + 8);
      expect(db.stats().warming.state).not.toBe('done');

      // Which partitions warming loads, in order: (table, filter or index).
      const order: { file: number; filter: boolean }[] = [];
      const original = Object.getOwnPropertyDescriptor(Table.prototype, 'warmPartition')!.value as (this: Table, p: number, filter: boolean) => number;
      vi.spyOn(Table.prototype, 'warmPartition').mockImplementation(function (this: Table, p: number, filter: boolean) {
        const read = original.call(this, p, filter);
        if (read > 0) order.push({ file: this.fileNumber, filter });
        return read;
      });
      const before = db.stats().tableCache;
      await until(() => db.stats().warming.state === 'done', 'warming to finish');
      const st = db.stats();
      expect(st.tableCache.tables).toBe(fileCount(db));
      expect(st.warming.tablesOpened).toBe(st.tableCache.tableOpens - before.tableOpens);
      expect(st.warming.partitionsLoaded).toBe(st.tableCache.partitionLoads - before.partitionLoads);
      expect(st.warming.partitionsLoaded).toBe(order.length);
      // Several partitions a table, an index and a filter each.
      expect(st.tableCache.partitions).toBeGreaterThan(4 * fileCount(db));
      // Filters first, L0's first among them; then the index partitions, L0's first again.
      const firstIndex = order.findIndex((o) => !o.filter);
      expect(firstIndex).toBeGreaterThan(0);
      expect(order.slice(firstIndex).every((o) => !o.filter)).toBe(true);
      expect(l0.has(order[0]!.file)).toBe(true);
      expect(l0.has(order[firstIndex]!.file)).toBe(true);
      expect(l0.has(order[firstIndex - 1]!.file)).toBe(false);
      // Small slices: never much past SLICE_BYTES (one partition), so many turns of the event loop.
      expect(warmerOf(db).largestSlice).toBeLessThan(SLICE_BYTES + PARTITION_AT_MOST);
      expect(st.warming.slices).toBeGreaterThanOrEqual(Math.ceil((fileCount(db) * OPEN_BYTES) / (SLICE_BYTES + PARTITION_AT_MOST)));

      for (let i = 0; i < 12_400; i++) expect(db.getSync(key(i))).toEqual(value(i));
      const after = db.stats().tableCache;
      expect(after.partitionLoads).toBe(st.tableCache.partitionLoads);
      expect(after.tableOpens).toBe(st.tableCache.tableOpens);
      expect(after.partitionHits).toBeGreaterThan(0);
      // Done: no timer left for a warm idle database.
      expect(db.stats().warming.state).toBe('done');
    } finally {
      await db.close();
    }
  }, 60_000);

  it('after a restart: the tables are warmed once the reopened database is idle', async () => {
    await build(4000);
    const db = await Database.open(dir, SMALL);
    try {
      expect(db.stats().tableCache.tables).toBe(0);
      await until(() => db.stats().warming.state === 'done', 'warming after the open');
      const st = db.stats();
      expect(st.tableCache.tables).toBe(fileCount(db));
      for (let i = 0; i < 4000; i += 3) expect(db.getSync(key(i))).toEqual(value(i));
      expect(db.stats().tableCache.partitionLoads).toBe(st.tableCache.partitionLoads);
      expect(db.stats().tableCache.tableOpens).toBe(st.tableCache.tableOpens);
    } finally {
      await db.close();
    }
  }, 60_000);

  it('in a process that is otherwise idle (nothing wakes the event loop but one long timer), warming runs to the end', async () => {
    // The slices must not wait for something else to wake the loop: until session 31 they were
    // unref'd immediates, which Node runs only when the loop wakes for another reason, so a server
    // between requests warmed one slice per wake-up. Here the only wake-ups are this test's own
    // 1 s sleeps: warming must take many slices for each of them.
    await build(6000);
    const db = await Database.open(dir, SMALL);
    try {
      let wakeUps = 0;
      while (db.stats().warming.state !== 'done' && wakeUps < 60) {
        await sleep(1000);
        wakeUps++;
      }
      const st = db.stats();
      expect(st.warming.state).toBe('done');
      expect(st.tableCache.tables).toBe(fileCount(db));
      expect(st.warming.slices).toBeGreaterThan(4 * wakeUps);
    } finally {
      await db.close();
    }
  }, 90_000);

  it('writes flowing keep it waiting; it starts once they stop, and the first write after that stops it at once', async () => {
    const db = await Database.open(dir, SMALL);
    try {
      await load(db, 6000);
      await db.compact();
      // A write every few ms for four quiet periods: never idle, so not one slice.
      const stopAt = performance.now() + 4 * QUIET_MS;
      let i = 0;
      while (performance.now() < stopAt) {
        await db.put(key(100_000 + i), value(i));
        i++;
        await sleep(5);
      }
      expect(db.stats().warming.slices).toBe(0);
      expect(db.stats().warming.state).toBe('waiting');
      expect(db.stats().tableCache.partitionLoads).toBe(0);

      // Writes stop: it starts. One write in the middle of it: no slice runs after that write.
      await until(() => db.stats().warming.state === 'warming', 'warming to start');
      await turn();
      const slices = db.stats().warming.slices;
      expect(slices).toBeGreaterThan(0);
      await db.put(key(200_000), value(0));
      for (let t = 0; t < 20; t++) await sleep(1);
      expect(db.stats().warming.state).toBe('waiting');
      expect(db.stats().warming.slices).toBe(slices);
      // And once idle again it goes on to the end.
      await until(() => db.stats().warming.state === 'done', 'warming to resume and finish');
      expect(db.stats().warming.slices).toBeGreaterThan(slices);
      expect(db.stats().tableCache.tables).toBe(fileCount(db));
    } finally {
      await db.close();
    }
  }, 60_000);

  it('close while warming: it stops, leaving no timer, no immediate and no descriptor behind', async () => {
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate').length;
    await build(6000);
    const before = { fds: fds(), timers: timers() };
    const db = await Database.open(dir, SMALL);
    await until(() => db.stats().warming.state === 'warming', 'warming to start');
    await turn();
    expect(db.stats().tableCache.openFiles).toBeGreaterThan(0);
    await db.close();
    for (let t = 0; t < 5; t++) await turn();
    expect({ fds: fds(), timers: timers() }).toEqual(before);
  }, 60_000);

  it('within a small table cache: fills only the free room, never past the budget or the descriptors, and what lookups loaded stays', async () => {
    // Room for the metadata of the three tables the lookups open (~8.5 KB pinned each) and part of
    // their partitions, and four table descriptors (maxOpenFiles 14, no worker).
    const opts: DatabaseOptions = { ...SMALL, tableCacheSize: 64 * 1024, maxOpenFiles: 14 };
    await build(6000, opts);
    let db = await Database.open(dir, { ...opts, warmTables: 'off' });
    // Lookups first, with warming off: the tables and partitions they load.
    const probe = [17, 2999, 5001];
    for (const i of probe) expect(db.getSync(key(i))).toEqual(value(i));
    const looked = db.stats().tableCache;
    await db.close();
    db = await Database.open(dir, opts);
    try {
      for (const i of probe) expect(db.getSync(key(i))).toEqual(value(i));
      expect(db.stats().tableCache.partitionLoads).toBe(looked.partitionLoads);
      await until(() => db.stats().warming.state === 'done', 'warming to fill the room');
      const st = db.stats().tableCache;
      expect(db.stats().warming.partitionsLoaded).toBeGreaterThan(0);
      // It stopped short of the whole database, within the budget and the descriptors.
      expect(st.tables).toBeLessThan(fileCount(db));
      expect(st.residentBytes).toBeLessThanOrEqual(st.residentBudget);
      expect(st.openFiles).toBeLessThanOrEqual(st.maxOpenFiles);
      // The same lookups again: nothing they loaded was pushed out (no load, no open, no reopen).
      for (const i of probe) expect(db.getSync(key(i))).toEqual(value(i));
      const again = db.stats().tableCache;
      expect(again.partitionLoads).toBe(st.partitionLoads);
      expect(again.tableOpens).toBe(st.tableOpens);
      expect(again.fileOpens).toBe(st.fileOpens);
      // And everything reads right.
      for (let i = 0; i < 6000; i += 7) expect(db.getSync(key(i))).toEqual(value(i));
    } finally {
      await db.close();
    }
  }, 60_000);

  it("warmTables 'off': nothing is opened or loaded while idle; a bad value is INVALID_ARGUMENT", async () => {
    await build(2000);
    const db = await Database.open(dir, { ...SMALL, warmTables: 'off' });
    try {
      await sleep(3 * QUIET_MS);
      expect(db.stats().warming).toEqual({ state: 'off', tablesOpened: 0, partitionsLoaded: 0, slices: 0 });
      expect(db.stats().tableCache.tables).toBe(0);
    } finally {
      await db.close();
    }
    for (const bad of ['eager', true, 1]) {
      const err = await Database.open(dir, { warmTables: bad as never }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StrataError);
      expect((err as StrataError).code).toBe('INVALID_ARGUMENT');
      expect((err as StrataError).message).toContain('warmTables');
    }
  }, 60_000);

  it('a table that fails to open is survived: a warning, the others warmed', async () => {
    const warnings: string[] = [];
    await build(4000);
    const db = await Database.open(dir, { ...SMALL, onEvent: (e) => e.type === 'warning' && warnings.push(e.message) });
    try {
      const victim = db.stats().levels.flatMap((l) => l.fileList)[1]!.fileNumber;
      const original = Object.getOwnPropertyDescriptor(Table.prototype, 'warmPartition')!.value as (this: Table, p: number, filter: boolean) => number;
      vi.spyOn(Table.prototype, 'warmPartition').mockImplementation(function (this: Table, p: number, filter: boolean) {
        if (this.fileNumber === victim) throw new Error('injected: a damaged partition');
        return original.call(this, p, filter);
      });
      await until(() => db.stats().warming.state === 'done', 'warming to finish');
      expect(warnings).toEqual([expect.stringContaining(`warming the table ${victim} failed`)]);
      expect(db.stats().warming.partitionsLoaded).toBeGreaterThan(0);
    } finally {
      await db.close();
    }
  }, 60_000);
});
