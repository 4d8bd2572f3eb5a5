/**
 * Events and logging (src/events.ts): every event fires, with the right fields, through a flush,
 * a compaction, a write stall and an injected background error; survived failures reach the
 * logger instead of an empty catch; a throwing listener breaks nothing.
 */
import { describe, expect, it } from 'vitest';
import { Database, type StrataEvent } from '../src/index.js';
import { FaultInjectingFileSystem, MemoryFileSystem } from '../src/testing/index.js';
import { dec } from './helpers.js';

type Of<T extends StrataEvent['type']> = Extract<StrataEvent, { type: T }>;

function recorder(): { events: StrataEvent[]; of<T extends StrataEvent['type']>(t: T): Of<T>[]; onEvent: (e: StrataEvent) => void } {
  const events: StrataEvent[] = [];
  return {
    events,
    of: <T extends StrataEvent['type']>(t: T) => events.filter((e): e is Of<T> => e.type === t),
    onEvent: (e) => {
      events.push(e);
    },
  };
}

function lines(): { info: string[]; warn: string[]; error: string[]; logger: { info(m: string): void; warn(m: string): void; error(m: string): void } } {
  const info: string[] = [];
  const warn: string[] = [];
  const error: string[] = [];
  return {
    info,
    warn,
    error,
    logger: {
      info: (m) => info.push(m),
      warn: (m) => warn.push(m),
      error: (m) => error.push(m),
    },
  };
}

const key = (i: number): string => `k${String(i).padStart(5, '0')}`;

describe('events', () => {
  it('a flush: flush-begin/end, table-created, wal-created/deleted, in order and with the right fields', async () => {
    const r = recorder();
    const log = lines();
    const fs = new MemoryFileSystem();
    const db = await Database.open('/db', { fs, onEvent: r.onEvent, logger: log.logger });
    expect(r.of('wal-created').map((e) => e.segment)).toEqual([1]);
    for (let i = 0; i < 100; i++) await db.put(key(i), 'v'.repeat(20));
    await db.deleteRange(key(10), key(20));
    r.events.length = 0;
    await db.flush();

    const [begin] = r.of('flush-begin');
    const [end] = r.of('flush-end');
    expect(begin).toMatchObject({ entries: 100, rangeTombstones: 1 });
    expect(begin!.memtableBytes).toBeGreaterThan(100 * 20);
    expect(end!.jobId).toBe(begin!.jobId);
    expect(end!.error).toBeUndefined();
    const table = db.stats().levels[0]!.fileList[0]!;
    expect(end).toMatchObject({ fileNumber: table.fileNumber, bytes: table.size });
    expect(end!.durationMs).toBeGreaterThanOrEqual(0);
    expect(r.of('table-created')).toEqual([{ type: 'table-created', fileNumber: table.fileNumber, level: 0, bytes: table.size, reason: 'flush' }]);
    expect(r.of('wal-created')).toEqual([{ type: 'wal-created', segment: 2 }]);
    expect(r.of('wal-deleted')).toEqual([{ type: 'wal-deleted', segment: 1 }]);
    expect(fs.existsSync('/db/000001.log')).toBe(false);
    // The order a listener sees: begin, the table, end, then the WAL lets go of the old segment.
    const order = r.events.map((e) => e.type).filter((t) => t !== 'wal-created');
    expect(order).toEqual(['flush-begin', 'table-created', 'flush-end', 'wal-deleted']);
    expect(log.info.some((l) => l.includes(`flush #${begin!.jobId} done`))).toBe(true);
    expect(log.warn).toEqual([]);
    expect(log.error).toEqual([]);
    await db.close();
  });

  it('a compaction: compaction-begin/end with level, inputs, outputs, bytes and duration; inputs deleted', async () => {
    const r = recorder();
    const fs = new MemoryFileSystem();
    const db = await Database.open('/db', { fs, onEvent: r.onEvent, l0CompactionTrigger: 1000 });
    for (let t = 0; t < 3; t++) {
      for (let i = 0; i < 200; i++) await db.put(key(i), `v${t}-${i}`);
      await db.flush();
    }
    const inputs = db.stats().levels[0]!.fileList.map((f) => f.fileNumber);
    const inputBytes = db.stats().levels[0]!.bytes;
    expect(inputs).toHaveLength(3);
    r.events.length = 0;
    await db.compact();

    const [begin] = r.of('compaction-begin');
    const [end] = r.of('compaction-end');
    expect(begin).toMatchObject({ reason: 'manual', level: 0, trivialMove: false, inputBytes });
    expect(begin!.inputs).toEqual([{ level: 0, fileNumbers: expect.arrayContaining(inputs) as number[] }]);
    const bottom = db.stats().levels.find((l) => l.files > 0)!;
    expect(end).toMatchObject({ jobId: begin!.jobId, level: 0, outputLevel: bottom.level, bytesRead: inputBytes, bytesWritten: bottom.bytes });
    expect(end!.outputs).toEqual(bottom.fileList.map((f) => f.fileNumber));
    expect(end!.durationMs).toBeGreaterThan(0);
    expect(end!.error).toBeUndefined();
    expect(r.of('table-created').map((e) => [e.fileNumber, e.level, e.reason])).toEqual(bottom.fileList.map((f) => [f.fileNumber, bottom.level, 'compaction']));
    expect(r.of('table-deleted').map((e) => e.fileNumber).sort((a, b) => a - b)).toEqual([...inputs].sort((a, b) => a - b));
    expect(r.of('table-deleted').every((e) => e.error === undefined)).toBe(true);
    for (let i = 0; i < 200; i++) expect(dec(db.getSync(key(i)))).toBe(`v2-${i}`);
    await db.close();
  });

  it('a write stall: write-stall-begin (state, cause) then write-stall-end (duration, writes delayed)', async () => {
    const r = recorder();
    // Tables sync slowly, the WAL quickly: memtables fill faster than flushes empty them.
    const fs = new MemoryFileSystem({ syncDelay: (path) => new Promise((res) => (path.endsWith('.sst') ? setTimeout(res, 20) : setImmediate(res))) });
    const db = await Database.open('/db', { fs, onEvent: r.onEvent, memtableSize: 1024, maxFrozenMemtables: 1, l0CompactionTrigger: 1000, l0SlowdownWritesTrigger: 1000, l0StopWritesTrigger: 1000 });
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 400; i++) {
      writes.push(db.put(key(i % 50), `v${i}`));
      // The pressure is checked between groups: let the memtables fill one after another.
      if (i % 20 === 19) await new Promise((res) => setImmediate(res));
    }
    await Promise.all(writes);
    const begins = r.of('write-stall-begin');
    const ends = r.of('write-stall-end');
    expect(begins.length).toBeGreaterThan(0);
    expect(ends.length).toBe(begins.length);
    expect(begins[0]).toEqual({ type: 'write-stall-begin', state: 'stop', cause: 'memtables' });
    // begin and end alternate
    const seq = r.events.filter((e) => e.type === 'write-stall-begin' || e.type === 'write-stall-end').map((e) => e.type);
    for (let i = 0; i < seq.length; i++) expect(seq[i]).toBe(i % 2 === 0 ? 'write-stall-begin' : 'write-stall-end');
    const delayed = ends.reduce((n, e) => n + e.writesDelayed, 0);
    expect(delayed).toBeGreaterThan(0);
    expect(delayed).toBeLessThanOrEqual(400);
    expect(ends.every((e) => e.durationMs >= 0)).toBe(true);
    expect(db.stats().counters.stalls).toBeGreaterThan(0);
    await db.close();
  });

  it('a slowdown from too many L0 files: state slowdown, cause l0-files', async () => {
    const r = recorder();
    const db = await Database.open('/db', { fs: new MemoryFileSystem(), onEvent: r.onEvent, memtableSize: 1024, maxFrozenMemtables: 64, l0CompactionTrigger: 1000, l0SlowdownWritesTrigger: 2, l0StopWritesTrigger: 1000 });
    for (let t = 0; t < 2; t++) {
      await db.put(key(t), 'x');
      await db.flush();
    }
    expect(r.of('write-stall-begin')).toEqual([]);
    await db.put(key(9), 'y'); // L0 holds 2 files: this write is slowed down
    expect(r.of('write-stall-begin')).toEqual([{ type: 'write-stall-begin', state: 'slowdown', cause: 'l0-files' }]);
    expect(r.of('write-stall-end')).toHaveLength(1);
    expect(r.of('write-stall-end')[0]!.writesDelayed).toBe(1);
    expect(r.of('write-stall-end')[0]!.durationMs).toBeGreaterThan(0);
    expect(db.stats().counters.slowdowns).toBe(1);
    await db.close();
  });

  it('an injected background error: flush-end with the error, background-error once, logger.error', async () => {
    const r = recorder();
    const log = lines();
    const fs = new FaultInjectingFileSystem(new MemoryFileSystem());
    const db = await Database.open('/db', { fs, onEvent: r.onEvent, logger: log.logger });
    r.events.length = 0;
    await db.put('a', '1');
    // The flush's table write fails (EIO on every write to a table file from now on).
    fs.addRule({ op: 'write', nth: 1, persistent: true, code: 'EIO', path: /\.sst$/ });
    await expect(db.flush()).rejects.toMatchObject({ code: 'IO_ERROR' });
    const [end] = r.of('flush-end');
    expect(end!.error?.code).toBe('IO_ERROR');
    expect(end!.fileNumber).toBeUndefined();
    // The flush loop stops at the first failure: no second attempt.
    expect(r.of('flush-begin')).toHaveLength(1);
    const bg = r.of('background-error');
    expect(bg).toHaveLength(1);
    expect(bg[0]!.operation).toBe('flush failed');
    expect(db.stats().backgroundError).toBe(bg[0]!.error.message);
    expect(bg[0]!.error.code).toBe('IO_ERROR');
    await expect(db.put('b', '2')).rejects.toMatchObject({ code: 'READ_ONLY' });
    expect(log.error.some((l) => l.includes('background error'))).toBe(true);
    expect(log.warn.some((l) => l.includes('flush #'))).toBe(true);
    await db.close();
    // Only one background error, however many later failures follow.
    expect(r.of('background-error')).toHaveLength(1);
  });

  it('a compaction failure: compaction-end with the error, then background-error', async () => {
    const r = recorder();
    const fs = new FaultInjectingFileSystem(new MemoryFileSystem());
    const db = await Database.open('/db', { fs, onEvent: r.onEvent, l0CompactionTrigger: 1000 });
    for (let t = 0; t < 2; t++) {
      for (let i = 0; i < 50; i++) await db.put(key(i), `v${t}`);
      await db.flush();
    }
    fs.addRule({ op: 'fsync', nth: 1, persistent: true, code: 'EIO', path: /\.sst$/ });
    await expect(db.compact()).rejects.toMatchObject({ code: 'IO_ERROR' });
    const [end] = r.of('compaction-end');
    expect(end!.error?.code).toBe('IO_ERROR');
    expect(end!.outputs).toEqual([]);
    expect(r.of('background-error')[0]!.operation).toBe('compaction failed');
    // The inputs stay and are readable.
    for (let i = 0; i < 50; i++) expect(dec(db.getSync(key(i)))).toBe('v1');
    await db.close();
  });

  it('a survived failure (an obsolete table that cannot be deleted) goes to the logger, not an empty catch', async () => {
    const r = recorder();
    const log = lines();
    const fs = new FaultInjectingFileSystem(new MemoryFileSystem());
    const db = await Database.open('/db', { fs, onEvent: r.onEvent, logger: log.logger, l0CompactionTrigger: 1000 });
    for (let t = 0; t < 2; t++) {
      await db.put('a', `v${t}`);
      await db.flush();
    }
    fs.addRule({ op: 'unlink', nth: 1, persistent: true, code: 'EIO', path: /\.sst$/ });
    await db.compact();
    const failed = r.of('table-deleted').filter((e) => e.error !== undefined);
    expect(failed).toHaveLength(2);
    expect(failed[0]!.error!.message).toContain('EIO');
    expect(log.warn.filter((l) => l.includes('could not delete obsolete table'))).toHaveLength(2);
    // Survived: the database still takes writes.
    await db.put('b', '1');
    expect(db.stats().backgroundError).toBeUndefined();
    await db.close();
    // The orphans are removed at the next open.
    fs.clearRules();
    const again = await Database.open('/db', { fs });
    expect(again.recovery.orphansRemoved.filter((n) => n.endsWith('.sst')).sort()).toEqual(failed.map((e) => `${String(e.fileNumber).padStart(6, '0')}.sst`).sort());
    await again.close();
  });

  it('a listener or logger that throws breaks nothing', async () => {
    const warned: string[] = [];
    const db = await Database.open('/db', {
      fs: new MemoryFileSystem(),
      onEvent: () => {
        throw new Error('listener bug');
      },
      logger: {
        info: () => {
          throw new Error('logger bug');
        },
        warn: (m: string) => warned.push(m),
        error: () => undefined,
      },
    });
    await db.put('a', '1');
    await db.flush();
    expect(dec(db.getSync('a'))).toBe('1');
    expect(warned.some((m) => m.includes('listener bug'))).toBe(true);
    await db.close();
  });

  it('bad onEvent / logger options are INVALID_ARGUMENT', async () => {
    await expect(Database.open('/db', { fs: new MemoryFileSystem(), onEvent: 1 as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(Database.open('/db', { fs: new MemoryFileSystem(), logger: { info: () => undefined } as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
