/**
 * Power loss at every file operation. The test that catches a missing fsync: after each cut the
 * database must open, hold every write acknowledged with sync: true, and show the state after a
 * prefix of the issued writes — never a hole. (A kill -9 loop cannot catch a missing fsync: the
 * page cache survives a process crash.)
 */
import { describe, expect, it } from 'vitest';
import type { StrataEvent } from '../../src/index.js';
import { POWER_CUT_MODES } from '../../src/testing/index.js';
import { TINY } from './support/db-driver.js';
import { captureCuts, checkCrashDuringRecovery, powerLossSweep } from './support/power-loss.js';
import { History } from './support/model.js';
import { seeds } from './support/seeds.js';
import { makeWorkload } from './support/workload.js';

const STEPS = 120;
const makeSteps = (seed: number) => makeWorkload(seed, { steps: STEPS });

describe('power loss', () => {
  it('the workload rotates the WAL, flushes, compacts and rolls the manifest over', async () => {
    const r = await powerLossSweep({ seed: 1, steps: STEPS, mode: 'drop', stride: 1_000_000, dbOptions: TINY }, makeSteps);
    const created = [...r.created];
    const unlinked = [...r.unlinked];
    expect(created.filter((n) => n.endsWith('.wal')).length, 'WAL segments').toBeGreaterThan(3);
    expect(created.filter((n) => n.endsWith('.sst')).length, 'tables written').toBeGreaterThan(5);
    expect(unlinked.filter((n) => n.endsWith('.sst')).length, 'tables compacted away').toBeGreaterThan(0);
    expect(created.filter((n) => n.startsWith('MANIFEST-')).length, 'manifests').toBeGreaterThan(1);
  });

  // The sweep must be able to fail: on a disk that lies about one kind of sync, it finds the loss.
  it.each([
    ['the WAL fdatasync', { op: 'fdatasync', path: /\.wal$/ }],
    ['every directory fsync', { op: 'fsyncDir' }],
    ['the table fsync', { op: 'sync', path: /\.sst$/ }],
    ['the manifest and CURRENT syncs', { op: 'sync', path: /MANIFEST|CURRENT/ }],
  ] as const)('notices when the disk lies about %s', async (_what, rule) => {
    const r = await powerLossSweep(
      { seed: 1, steps: STEPS, mode: 'drop', stride: 1, dbOptions: TINY, rules: [{ ...rule, nth: 1, lie: true }], maxFailures: 2 },
      makeSteps,
    );
    expect(r.failures.length, 'failures found on a lying disk').toBeGreaterThan(0);
  });

  it('a second power cut during recovery, at each of its operations, keeps the first cut\'s guarantees', async () => {
    const steps = makeSteps(3);
    const history = new History(steps);
    const capture = await captureCuts({ steps, dbOptions: TINY, mode: 'drop', seed: 3, stride: 1 });
    // First cuts spread over the run, each recovered with a cut before every recovery operation.
    const firsts = capture.cuts.filter((_, i) => i % Math.ceil(capture.cuts.length / 12) === 5);
    let seconds = 0;
    for (const first of firsts) seconds += await checkCrashDuringRecovery(first, capture.path, steps, history, TINY, 'drop');
    expect(firsts.length).toBeGreaterThan(8);
    expect(seconds).toBeGreaterThan(firsts.length * 5);
  });

  // The other WAL recovery modes make the same promise after a power cut (absolute-consistency
  // refuses a torn tail by design, so it is not swept).
  it.each(['point-in-time', 'skip-any-corrupted'] as const)('walRecovery %s: every cut point (garbage tails) reopens with a prefix state', async (walRecovery) => {
    const r = await powerLossSweep({ seed: 5, steps: STEPS, mode: 'garbage', stride: 3, dbOptions: { ...TINY, walRecovery }, maxFailures: 5 }, makeSteps);
    expect(r.failures, r.failures.join('\n\n')).toEqual([]);
    expect(r.checked).toBeGreaterThan(r.cutPoints / 3 - 2);
  });

  // Compactions side by side (picker.ts): over 1000 keys a few compactions run beside another
  // between the cuts; each cut must still reopen with every sync write and a prefix state.
  it('compactions side by side (maxBackgroundCompactions 3): every cut point reopens with all sync writes and a prefix state', async () => {
    let compacting = 0;
    let sideBySide = 0;
    const onEvent = (e: StrataEvent): void => {
      if (e.type === 'compaction-begin' && compacting++ > 0) sideBySide++;
      if (e.type === 'compaction-end') compacting--;
    };
    const dbOptions = { ...TINY, maxBackgroundCompactions: 3, onEvent };
    const r = await powerLossSweep({ seed: 2, steps: 300, mode: 'drop', stride: 1, dbOptions, maxFailures: 5 }, (seed) => makeWorkload(seed, { steps: 300, keySpace: 1000 }));
    expect(r.failures, r.failures.join('\n\n')).toEqual([]);
    expect(r.checked).toBeGreaterThan(50);
    expect(sideBySide).toBeGreaterThan(0);
  });

  // Merged flushes (flush/flush-loop.ts, background/memtable-merge.ts): a flush waits for a second
  // frozen memtable and writes both into one table, recording the newer one's logNumber and
  // retiring both in the manifest edit's step; a cut anywhere in it (the table half written, the
  // edit not durable, the WAL segments of both being deleted) must reopen with every sync write and a prefix state.
  it('merged flushes (minMemtablesToMerge 2): every cut point reopens with all sync writes and a prefix state', async () => {
    let merged = 0;
    const onEvent = (e: StrataEvent): void => {
      if (e.type === 'flush-begin' && e.memtables > 1) merged++;
    };
    const dbOptions = { ...TINY, minMemtablesToMerge: 2, onEvent };
    const r = await powerLossSweep({ seed: 4, steps: STEPS, mode: 'drop', stride: 1, dbOptions, maxFailures: 5 }, makeSteps);
    expect(r.failures, r.failures.join('\n\n')).toEqual([]);
    expect(r.checked).toBeGreaterThan(50);
    expect(merged).toBeGreaterThan(0);
  });

  // Durable writes leave zeros preallocated after the newest segment's last record (wal/writer.ts):
  // with nothing torn ('drop' images), even absolute-consistency must take them for the end of
  // the log at every cut point, never for damage, and never read a record out of them.
  it('walRecovery absolute-consistency: every cut point of a "drop" image reopens — preallocated WAL space is not damage', async () => {
    const r = await powerLossSweep({ seed: 7, steps: STEPS, mode: 'drop', stride: 1, dbOptions: { ...TINY, walRecovery: 'absolute-consistency' }, maxFailures: 5 }, makeSteps);
    expect(r.failures, r.failures.join('\n\n')).toEqual([]);
    expect(r.checked).toBeGreaterThan(50);
  });

  for (const seed of seeds('power-loss', [1])) {
    for (const mode of POWER_CUT_MODES) {
      // 'drop' images repeat between syncs and are checked once each, so it affords every point.
      const stride = mode === 'drop' ? 1 : 2;
      it(`seed ${seed}, ${mode}: every cut point reopens with all sync writes and a prefix state`, async () => {
        const r = await powerLossSweep({ seed, steps: STEPS, mode, stride, dbOptions: TINY, maxFailures: 5 }, makeSteps);
        expect(r.failures, r.failures.join('\n\n')).toEqual([]);
        expect(r.checked).toBeGreaterThan(mode === 'drop' ? 50 : r.cutPoints / stride - 2);
      });
    }
  }
});
