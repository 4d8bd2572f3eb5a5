// Child process for compaction-crash.test.ts: writes a deterministic stream of batches into a
// database with tiny tables (so compactions run nearly all the time), reports "acked <n>" in a
// kill report (test/support/kill-report.ts) after batch n's promise resolves, and SIGKILLs itself
// at a random moment while a compaction is running (a timer fires between the compaction's
// slices and during its fsyncs).
//   argv: dir seed report-file (odd seed: compactions side by side on two workers; seed with
//   bit 1 set: universal compaction — the parent reopens with leveled, so styles switch too)
import { openKillReport } from '../../../test/support/kill-report.js';
import { Database } from '../../db/database.js';
import { batchOps, CRASH_DB_OPTIONS } from './crash-workload.js';

const [dir, seedArg, reportFile] = process.argv.slice(2);
const say = openKillReport(reportFile!);
let seed = Number(seedArg) >>> 0 || 1;
const rand = (): number => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
};

// Odd seeds: two workers and up to three compactions side by side (picker.ts).
const sideBySide = (Number(seedArg) & 1) === 1 ? { backgroundThreads: 2, maxBackgroundCompactions: 3, parallelCompactionBytes: 0 } : {};
const universal = ((Number(seedArg) >> 1) & 1) === 1 ? { compactionStyle: 'universal' as const } : {};
const db = await Database.open(dir!, { ...CRASH_DB_OPTIONS, ...sideBySide, ...universal });
// Kill after a random number of observations of a running compaction.
let countdown = 1 + Math.floor(rand() * 400);
setInterval(() => {
  if (db.stats().compaction?.running === true && --countdown <= 0) process.kill(process.pid, 'SIGKILL');
}, 0);
for (let n = 0; ; n++) {
  const b = db.batch();
  for (const op of batchOps(n)) {
    if (op.t === 'put') b.put(op.k, op.v);
    else if (op.t === 'del') b.delete(op.k);
    else b.deleteRange(op.s, op.e);
  }
  await b.write();
  say(`acked ${n}`);
}
