/**
 * A forward scan reads its tables' runs into buffers it recycles (sstable-iterators' RunBuffers,
 * read/db-iterator-builder.ts): a run's buffer is refilled while values from it may still be in
 * hand. What a scan returns must stay the caller's copy: a caller mutating it corrupts nothing,
 * and scans interleaved with each other, with reverse scans and with gets read what the model says.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';
import { dec, testDir } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = testDir('strata-scan-runs-');
});

const key = (i: number): string => `k${String(i).padStart(5, '0')}`;

describe('forward scans over recycled run buffers', () => {
  it('returned keys and values are copies: mutating them changes nothing; interleaved scans agree with the model', async () => {
    // No block cache: every block a scan reads past its third comes from a run. Small blocks
    // and tables: a run spans many blocks, a level many tables, L0 several overlapping ones.
    const db = await Database.open(dir, { blockCacheSize: 0, blockSize: 256, memtableSize: 32 * 1024, targetFileSize: 8 * 1024, l0CompactionTrigger: 100, l0SlowdownWritesTrigger: 1000, l0StopWritesTrigger: 1000 });
    try {
      const model = new Map<string, string>();
      const write = async (round: number, from: number, to: number, step: number): Promise<void> => {
        const b = db.batch();
        for (let i = from; i < to; i += step) {
          const v = `r${round}-${i}-`.padEnd(40 + (i % 50), String.fromCharCode(97 + (i % 26)));
          b.put(key(i), v);
          model.set(key(i), v);
        }
        await b.write();
        await db.flush();
      };
      await write(1, 0, 3000, 1);
      await db.compact(); // a sorted level of many tables
      await write(2, 0, 3000, 3); // overlapping L0 tables on top, newer versions of some keys
      await write(3, 1, 3000, 7);
      await write(4, 500, 2500, 2);
      expect(db.stats().levels[0]!.files).toBeGreaterThan(1);
      expect(db.stats().levels.slice(1).reduce((n, l) => n + l.files, 0)).toBeGreaterThan(5);
      const want = [...model.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));

      // Three forward iterators and a reverse one, stepped in turn; every entry returned is
      // checked, then overwritten by the caller.
      const forward = [db.iterator(), db.iterator(), db.iterator({ gte: key(1234) })];
      const positions = [0, 0, want.findIndex(([k]) => k >= key(1234))];
      const reverse = db.iterator({ reverse: true });
      let back = want.length - 1;
      let step = 0;
      for (let done = false; !done; step++) {
        done = true;
        forward.forEach((it, n) => {
          for (let j = 0; j < 1 + ((step + n) % 5); j++) {
            const e = it.next();
            const w = want[positions[n]!];
            expect(e === undefined ? undefined : [dec(e[0]), dec(e[1])], `iterator ${n}, entry ${positions[n]}`).toEqual(w);
            if (e === undefined) return;
            done = false;
            positions[n]!++;
            e[0].fill(0x7a);
            e[1].fill(0x7a);
          }
        });
        const r = reverse.next();
        expect(r === undefined ? undefined : [dec(r[0]), dec(r[1])]).toEqual(want[back]);
        if (r !== undefined) {
          back--;
          r[1].fill(0);
          done = false;
        }
        if (step % 50 === 0) expect(dec(await db.get(key(step % 3000)))).toBe(model.get(key(step % 3000)));
      }
      for (const it of [...forward, reverse]) it.close();
      // Nothing the callers did reached the database.
      const again: [string, string][] = [];
      for await (const [k, v] of db.iterate()) again.push([dec(k)!, dec(v)!]);
      expect(again).toEqual(want);
    } finally {
      await db.close();
    }
  });
});
