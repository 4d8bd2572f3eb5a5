// What the benches wait for after a fill: background compaction done with what the fill left due.
import type { Database } from '../../src/index.js';

/** Resolves once no compaction runs and none is due (every level's score below 1). */
export async function compactionSettled(db: Database): Promise<void> {
  for (;;) {
    const c = db.stats().compaction;
    if (c === undefined || (!c.running && c.scores.every((s) => s.score < 1))) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}
