// What the benches wait for after a fill, before they measure reads (or the next phase): Strata's
// background work done with what the fill left due. One criterion for every bench: no compaction
// running, none due (every level's score below 1: level 0 under l0CompactionTrigger, the others
// under their target sizes), and writes not stalled (no frozen memtable waiting for its flush).
// Reads measured before that would share the CPU with compaction slices (dbbench's tight read
// loops never yield, so compaction on the JS thread would not even run during them; LevelDB's runs
// on its own thread meanwhile).
import type { Database } from '../../src/index.js';

/**
 * Resolves true once settled, false if `timeoutMs` passed first (the caller says so in its
 * output: its figures then include compaction).
 */
export async function compactionSettled(db: Database, timeoutMs = 600_000): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const st = db.stats();
    const c = st.compaction;
    if (st.writeStall === 'none' && (c === undefined || (!c.running && c.scores.every((s) => s.score < 1)))) return true;
    if (performance.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}
