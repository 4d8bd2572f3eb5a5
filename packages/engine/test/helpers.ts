import { afterEach, expect } from 'vitest';
import { StrataError, type Database, type Snapshot } from '../src/index.js';
import type { FilterSkipping } from '../src/read/filter-skipping.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Resolves once `done()` holds, polling every 10 ms; fails after `ms`. */
export async function until(done: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The StrataError that `p` (or the function, called) rejects with; fails the test if it resolves. */
export async function rejection(p: Promise<unknown> | (() => unknown)): Promise<StrataError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(StrataError);
    return err as StrataError;
  }
  throw new Error('expected a rejection with a StrataError; it resolved');
}

/** The code of the StrataError that `p` (or the function, called) rejects with; undefined if it resolves. */
export async function errorCode(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(StrataError);
    return (err as StrataError).code;
  }
  return undefined;
}

/** Directories made by `testDir` for the running test, removed when it ends. */
const testDirs: string[] = [];
afterEach(() => {
  for (const dir of testDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * A fresh temporary directory, removed after the test that made it — in the test itself or in
 * a `beforeEach` for it. (A directory that outlives one test — `beforeAll`, or a property test
 * that makes one per run — takes `tempDir` and its cleanup.)
 */
export function testDir(prefix = 'strata-engine-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  testDirs.push(dir);
  return dir;
}

/** A fresh temporary directory; removed by the returned cleanup. */
export function tempDir(prefix = 'strata-engine-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    cleanup: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const enc = (s: string): Uint8Array => Buffer.from(s, 'utf8');
export const dec = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString('utf8'));

/** Resolves once no compaction is running and none is due (or after `maxMs`). */
export async function compactionsSettled(db: { stats(): { compaction: { running: boolean; scores: readonly { score: number }[] } | undefined } }, maxMs = 10_000): Promise<void> {
  const until = Date.now() + maxMs;
  while (Date.now() < until) {
    const c = db.stats().compaction;
    if (c === undefined || (!c.running && c.scores.every((s) => s.score < 1))) return;
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** The writes of the model tests, and the sorted-map model they are checked against. */
export type ModelWrite = { t: 'put'; k: string; v: string } | { t: 'del'; k: string } | { t: 'range'; s: string; e: string };
export type Model = Map<string, string>;

export function applyToModel(m: Model, w: ModelWrite): void {
  if (w.t === 'put') m.set(w.k, w.v);
  else if (w.t === 'del') m.delete(w.k);
  else for (const k of [...m.keys()]) if (k >= w.s && k < w.e) m.delete(k);
}

/** Applies one write, or one atomic batch of them, to the database and then to the model. */
export async function writeBoth(db: Database, model: Model, op: ModelWrite | { t: 'batch'; ops: readonly ModelWrite[] }): Promise<void> {
  switch (op.t) {
    case 'put':
      await db.put(op.k, op.v);
      break;
    case 'del':
      await db.delete(op.k);
      break;
    case 'range':
      await db.deleteRange(op.s, op.e);
      break;
    case 'batch': {
      const b = db.batch();
      for (const w of op.ops) {
        if (w.t === 'put') b.put(w.k, w.v);
        else if (w.t === 'del') b.delete(w.k);
        else b.deleteRange(w.s, w.e);
      }
      await b.write();
      for (const w of op.ops) applyToModel(model, w);
      return;
    }
  }
  applyToModel(model, op);
}

/** Snapshots a model test holds, each with the model as it was when taken. */
export interface HeldSnapshot {
  readonly snap: Snapshot;
  readonly model: Model;
}

/** Takes a snapshot of `db` and of `model`; beyond `max` held, the oldest is released. */
export function holdSnapshot(held: HeldSnapshot[], db: Database, model: Model, max: number): void {
  held.push({ snap: db.snapshot(), model: new Map(model) });
  if (held.length > max) held.shift()!.snap.release();
}

/** Releases the `i`-th held snapshot, if there is one. */
export function releaseSnapshot(held: HeldSnapshot[], i: number): void {
  const s = held[i];
  if (s) {
    s.snap.release();
    held.splice(i, 1);
  }
}

/**
 * How a model run's point reads use the tables' bloom filters (read/filter-skipping.ts):
 * 'adaptive' (the default; in runs this short it rarely decides anything), 'always'
 * (skipUnhelpfulFilters false), 'never' (every probe skips the filter: the test hook) and
 * 'eager' (adaptive over windows of 4 probes sampling one in 2, so that levels skip and resume
 * many times a run, between gets of present and absent keys).
 */
export type FilterCase = 'adaptive' | 'always' | 'never' | 'eager';

/** Options for `c` (passed to Database.open). */
export function filterCaseOptions(c: FilterCase): { skipUnhelpfulFilters?: boolean } {
  return c === 'always' ? { skipUnhelpfulFilters: false } : {};
}

/** Applies the test hook of `c` to a database opened with `filterCaseOptions(c)`. */
export function applyFilterCase(db: Database, c: FilterCase): void {
  const f = (db as unknown as { core: { filters: FilterSkipping } }).core.filters;
  if (c === 'never') f.mode = 'never';
  else if (c === 'eager') f.tune(4, 2);
}

/** Table probes that skipped a filter, summed over the levels (db.stats().filters). */
export function skippedFilterProbes(db: Database): number {
  return db.stats().filters.reduce((n, l) => n + l.skipped, 0);
}
