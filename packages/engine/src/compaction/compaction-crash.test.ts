/**
 * Crash during compaction: a child process writes with tiny tables (compactions run nearly all
 * the time) and SIGKILLs itself at a random point while a compaction runs. Reopening must
 * succeed, lose no acknowledged batch, hold each batch whole or not at all, leave no table file
 * that the manifest does not name, and compact on. Half the rounds' children compact in the
 * universal style (crash-child.ts); the parent reopens with leveled, so each style also meets a
 * tree the other one shaped.
 */
import { spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Database } from '../db/database.js';
import { compactionsSettled, dec, tempDir } from '../../test/helpers.js';
import { readKillReport } from '../../test/support/kill-report.js';
import { applyBatch, CRASH_DB_OPTIONS } from './test-support/crash-workload.js';

function runChild(dir: string, seed: number): Promise<{ acked: number; signal: NodeJS.Signals | null }> {
  // Beside the database: a file of its own in it makes Strata refuse the directory.
  const report = `${dir}.report`;
  rmSync(report, { force: true });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', join(import.meta.dirname, 'test-support', 'crash-child.ts'), dir, String(seed), report], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // SIGTERM (not SIGKILL) if the child never killed itself: the test then fails, as it should.
    const timer = setTimeout(() => child.kill('SIGTERM'), 20_000);
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      const acks = readKillReport(report).filter((l) => l.startsWith('acked '));
      rmSync(report, { force: true });
      if (signal !== 'SIGKILL') reject(new Error(`the child did not kill itself during a compaction (signal ${String(signal)}): ${err}`));
      else resolve({ acked: acks.length === 0 ? -1 : Number(acks[acks.length - 1]!.slice(6)), signal });
    });
  });
}

async function contents(db: Database): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  for await (const [k, v] of db.iterate()) m.set(dec(k)!, dec(v)!);
  return m;
}

const same = (a: Map<string, string>, b: Map<string, string>): boolean => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

describe('crash during compaction', () => {
  it('reopens consistent after SIGKILL at random points of running compactions, losing nothing acknowledged', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const model = new Map<string, string>();
      let applied = -1; // batches of this round's child in `model`
      let baseSeq = 0; // last sequence before this round
      for (let round = 0; round < 6; round++) {
        const { acked } = await runChild(dir, 1000 + round * 7919);
        expect(acked).toBeGreaterThan(0);
        // The database holds every batch up to `acked` (acknowledged), and maybe the next one
        // (logged, its promise not yet resolved when the kill came: the child awaits each batch
        // and reports it synchronously, kill-report.ts); each batch whole or absent.
        const db = await Database.open(dir, CRASH_DB_OPTIONS);
        const got = await contents(db);
        const last = db.stats().lastSequence;
        while (applied < acked) applyBatch(model, ++applied);
        let matched = same(got, model);
        const probe = new Map(model);
        for (let extra = applied + 1; !matched && extra <= applied + 1; extra++) {
          applyBatch(probe, extra);
          if (same(got, probe)) {
            matched = true;
            applied = extra;
            model.clear();
            for (const [k, v] of probe) model.set(k, v);
          }
        }
        expect(matched, `round ${round}: state after reopen matches no batch prefix ≥ ${acked}`).toBe(true);
        // Manifest edits record the last sequence written to the WAL, never numbers handed to a
        // batch still in flight (VersionSet.visibleSequence): the reopened sequence is exactly
        // the last batch held — less would reuse numbers, more would leave a gap.
        expect(last, `round ${round}: sequence after reopen`).toBe(baseSeq + (applied + 1) * 20);
        // No table the manifest does not name survives (checked once the compactions that the
        // open schedules have settled: their outputs in progress are legitimately unnamed).
        await compactionsSettled(db);
        const live = new Set(db.stats().levels.flatMap((l) => l.fileList.map((f) => f.fileNumber)));
        const onDisk = readdirSync(dir).filter((n) => n.endsWith('.sst')).map((n) => Number(n.slice(0, -4)));
        expect(onDisk.sort()).toEqual([...live].sort());
        expect(same(await contents(db), model)).toBe(true);
        await db.close();
        // The next child writes batches from 0 again: keep the numbering going in the model by
        // letting the next round's batches replay the same deterministic ops on top.
        applied = -1;
        const reopened = await Database.open(dir, CRASH_DB_OPTIONS);
        await reopened.compact();
        expect(same(await contents(reopened), model)).toBe(true);
        baseSeq = reopened.stats().lastSequence;
        await reopened.close();
      }
    } finally {
      cleanup();
    }
  }, 110_000);
});
