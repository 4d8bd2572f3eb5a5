/**
 * Bounded file descriptors (`maxOpenFiles`, LevelDB's max_open_files): a database of hundreds of
 * tables runs in a process whose descriptor limit is far below its table count, and closing it
 * gives every descriptor back.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';
import { testDir } from './helpers.js';
import { typescriptChildArgs } from './support/typescript-child.js';

let dir: string;
beforeEach(() => {
  dir = testDir('strata-open-files-');
});

const descriptors = (): number => readdirSync('/proc/self/fd').length;

describe('maxOpenFiles', () => {
  it('hundreds of tables under `ulimit -n 64`: random reads, concurrent scans and a compaction never hit EMFILE', () => {
    const CAP = 64;
    const MAX_OPEN_FILES = 32;
    const fixture = join(import.meta.dirname, 'fixtures', 'few-descriptors.ts');
    const res = spawnSync(process.execPath, typescriptChildArgs(fixture, [dir, String(MAX_OPEN_FILES), String(CAP)]), {
      cwd: join(import.meta.dirname, '..'),
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect(res.stderr + (res.error?.message ?? ''), 'the child failed').toBe('');
    expect(res.status).toBe(0);
    const report = JSON.parse(res.stdout.trim().split('\n').pop()!) as {
      tables: number;
      checked: number;
      steps: number;
      peakDescriptors: number;
      descriptorsBefore: number;
      descriptorsAfter: number;
      limit: number;
    };
    expect(report.limit).toBe(CAP); // the database ran under the cap
    expect(report.tables).toBeGreaterThan(3 * CAP); // far more tables than the process may open
    expect(report.checked).toBe(5_000);
    expect(report.steps).toBeGreaterThan(40_000);
    // What the database adds to the process: at most maxOpenFiles descriptors. The fixture runs
    // with the default background threads (two on two cores or more), and maxOpenFiles keeps
    // DESCRIPTORS_PER_WORKER for each (its event loop's epoll, eventfd and the like, and the one
    // compaction input it opens per read and closes: src/background/readahead.ts) out of the
    // table cache's share, so the workers fit inside it, the second included.
    expect(report.peakDescriptors - report.descriptorsBefore).toBeLessThanOrEqual(MAX_OPEN_FILES);
    expect(report.descriptorsAfter).toBe(report.descriptorsBefore);
  }, 300_000);

  it('at most maxOpenFiles − 10 table files are open, the resident metadata stays in its budget, and close() gives back every descriptor', async () => {
    const before = descriptors();
    // backgroundThreads 0: this counts the process's descriptors exactly, and a worker thread's
    // own event loop holds ~3 (epoll, eventfd, its message port) beyond maxOpenFiles.
    const db = await Database.open(dir, { backgroundThreads: 0, maxOpenFiles: 14, tableCacheSize: 8 * 1024, memtableSize: 8 * 1024, targetFileSize: 4 * 1024, l0CompactionTrigger: 100, l0SlowdownWritesTrigger: 1000, l0StopWritesTrigger: 1000 });
    for (let i = 0; i < 60; i++) {
      const b = db.batch();
      for (let j = 0; j < 40; j++) b.put(`k${String(j * 60 + i).padStart(6, '0')}`, 'v'.repeat(100));
      await b.write();
    }
    await db.flush();
    const tables = db.stats().levels[0]!.files;
    expect(tables).toBeGreaterThan(20);
    // An iterator reads every L0 table (they overlap); gets probe them all.
    let n = 0;
    for await (const _ of db.iterate()) n++;
    expect(n).toBe(2400);
    for (let i = 0; i < 2400; i += 7) expect(db.getSync(`k${String(i).padStart(6, '0')}`)).toBeDefined();
    const cache = db.stats().tableCache;
    expect(cache.maxOpenFiles).toBe(4);
    expect(cache.openFiles).toBeLessThanOrEqual(4);
    expect(cache.fileOpens).toBeGreaterThan(tables); // files were closed and reopened
    expect(cache.residentBytes).toBeLessThanOrEqual(8 * 1024);
    expect(cache.tableOpens).toBeGreaterThan(tables); // metadata was dropped and re-read
    // The blocks of the tables it dropped stay cached (the block cache's index is its own, not
    // the tables'): the same gets again re-open tables but read no block from their files.
    const blocks = db.stats().blockCache;
    expect(blocks.usage).toBeGreaterThan(0);
    expect(blocks.indexBytes).toBeGreaterThan(0);
    for (let i = 0; i < 2400; i += 7) expect(db.getSync(`k${String(i).padStart(6, '0')}`)).toBeDefined();
    const again = db.stats();
    expect(again.tableCache.tableOpens).toBeGreaterThan(cache.tableOpens);
    expect(again.blockCache.misses).toBe(blocks.misses);
    expect(again.blockCache.hits).toBeGreaterThan(blocks.hits);
    expect(descriptors() - before).toBeLessThanOrEqual(14);
    await db.close();
    expect(descriptors()).toBe(before);
  }, 120_000);
});
